# Receptive fields from sparse coding: natural images -> patches (whitened) ->
# compression matrices -> compressed dictionary learning, one run per
# scheme x localization J x solver -> pixel-space atoms, tables and figures.
# Config: the `sparse` section (config/README.md); runs are named
# <scheme>-J<J>-<solver>, e.g. bdm-J4-fista.  Helpers and checks: common_sparse.smk.


rule sparse_patches:
    input:
        image_inputs,
    output:
        "results/sparse/patches.npz",
    log:
        "logs/sparse_patches.log",
    benchmark:
        "benchmarks/sparse_patches.tsv"
    params:
        images=SPARSE["images"],
        patches=SPARSE["patches"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/sparse_patches.py"


rule compression_matrix:
    output:
        "results/sparse/compression/{scheme}-J{J}.npz",
    log:
        "logs/compression_matrix/{scheme}-J{J}.log",
    benchmark:
        "benchmarks/compression_matrix/{scheme}-J{J}.tsv"
    params:
        n_pixels=N_PIXELS,
        patch_size=SPARSE["patches"]["size"],
        compression=SPARSE["compression"],
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../scripts/compression_matrix.py"


rule learn_dictionary:
    input:
        patches="results/sparse/patches.npz",
        compression="results/sparse/compression/{scheme}-J{J}.npz",
    output:
        run="results/sparse/{scheme}-J{J}-{solver}/dictionary.npz",
        epochs="results/sparse/{scheme}-J{J}-{solver}/epochs.tsv",
    log:
        "logs/learn_dictionary/{scheme}-J{J}-{solver}.log",
    benchmark:
        "benchmarks/learn_dictionary/{scheme}-J{J}-{solver}.tsv"
    params:
        learning=SPARSE["learning"],
    threads: SPARSE["learning"]["threads"]
    resources:
        mem_mb=4000,
        runtime=240,
    conda:
        CONDA_ENV
    script:
        "../scripts/learn_dictionary.py"


rule summarise_sparse:
    input:
        runs=expand("results/sparse/{run}/dictionary.npz", run=SPARSE_RUNS),
        gabor=expand("results/sparse/{run}/gabor.npz", run=SPARSE_RUNS),
    output:
        "results/sparse/summary.tsv",
    log:
        "logs/summarise_sparse.log",
    benchmark:
        "benchmarks/summarise_sparse.tsv"
    params:
        runs=SPARSE_RUNS,
        patch_size=SPARSE["patches"]["size"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/summarise_sparse.py"


rule figure_sparse_atoms:
    input:
        "results/sparse/{scheme}-J{J}-{solver}/dictionary.npz",
    output:
        sparse_figure_output("{scheme}-J{J}-{solver}", "atoms"),
    log:
        "logs/figure_sparse_atoms/{scheme}-J{J}-{solver}.log",
    benchmark:
        "benchmarks/figure_sparse_atoms/{scheme}-J{J}-{solver}.tsv"
    params:
        patch_size=SPARSE["patches"]["size"],
        dpi=config["figures"]["dpi"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_sparse_atoms.py"


rule figure_sparse_animation:
    input:
        "results/sparse/{scheme}-J{J}-{solver}/dictionary.npz",
    output:
        sparse_figure_output("{scheme}-J{J}-{solver}", "animation", "gif"),
    log:
        "logs/figure_sparse_animation/{scheme}-J{J}-{solver}.log",
    benchmark:
        "benchmarks/figure_sparse_animation/{scheme}-J{J}-{solver}.tsv"
    params:
        patch_size=SPARSE["patches"]["size"],
        fps=SPARSE["figures"]["animation_fps"],
        max_atoms=SPARSE["figures"]["animation_atoms"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_sparse_animation.py"


rule figure_sparse_losses:
    input:
        expand("results/sparse/{run}/dictionary.npz", run=SPARSE_RUNS),
    output:
        val=sparse_figure_output("comparison", "val_loss"),
        train=sparse_figure_output("comparison", "train_loss"),
    log:
        "logs/figure_sparse_losses.log",
    benchmark:
        "benchmarks/figure_sparse_losses.tsv"
    params:
        runs=SPARSE_RUNS,
        dpi=config["figures"]["dpi"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_sparse_losses.py"


rule figure_sparse_wiring:
    input:
        expand("results/sparse/compression/{matrix}.npz", matrix=SPARSE_MATRICES),
    output:
        sparse_figure_output("comparison", "wiring"),
    log:
        "logs/figure_sparse_wiring.log",
    benchmark:
        "benchmarks/figure_sparse_wiring.tsv"
    params:
        matrices=SPARSE_MATRICES,
        patch_size=SPARSE["patches"]["size"],
        dpi=config["figures"]["dpi"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_sparse_wiring.py"


rule figure_sparse_sparsity:
    input:
        expand("results/sparse/{run}/dictionary.npz", run=SPARSE_RUNS),
    output:
        sparse_figure_output("comparison", "sparsity"),
    log:
        "logs/figure_sparse_sparsity.log",
    benchmark:
        "benchmarks/figure_sparse_sparsity.tsv"
    params:
        runs=SPARSE_RUNS,
        dpi=config["figures"]["dpi"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_sparse_sparsity.py"


rule provenance_sparse:
    input:
        "results/sparse/summary.tsv",
    output:
        config="results/sparse/provenance/config.yaml",
        versions="results/sparse/provenance/versions.tsv",
    log:
        "logs/provenance_sparse.log",
    benchmark:
        "benchmarks/provenance_sparse.tsv"
    params:
        config=config,
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../scripts/provenance.py"
