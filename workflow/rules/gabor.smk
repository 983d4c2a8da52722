# Gabor fits where the two branches meet (config/README.md, `gabor`): every unit's
# lasso spatial map per session, every atom of each sparse-coding run, and per session
# with a 2-D stimulus the comparison of the two (a table, and a figure drawn from it;
# session_figures in common.smk asks for the figure).

GABOR = config["gabor"]


rule fit_gabor_units:
    input:
        recording="results/{recording}/session.npz",
        separation="results/{recording}/lasso_separation.npz",
    output:
        "results/{recording}/gabor.npz",
    log:
        "logs/fit_gabor_units/{recording}.log",
    benchmark:
        "benchmarks/fit_gabor_units/{recording}.tsv"
    params:
        gabor=GABOR,
        pixel_size_deg=lambda wildcards: recording_row(wildcards.recording).get("pixel_size_deg"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/fit_gabor_units.py"


rule fit_gabor_atoms:
    input:
        "results/sparse/{scheme}-J{J}-{solver}/dictionary.npz",
    output:
        "results/sparse/{scheme}-J{J}-{solver}/gabor.npz",
    log:
        "logs/fit_gabor_atoms/{scheme}-J{J}-{solver}.log",
    benchmark:
        "benchmarks/fit_gabor_atoms/{scheme}-J{J}-{solver}.tsv"
    params:
        gabor=GABOR,
        patch_size=SPARSE["patches"]["size"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        CONDA_ENV
    script:
        "../scripts/fit_gabor_atoms.py"


rule gabor_comparison:
    input:
        measured="results/{recording}/gabor.npz",
        learned=expand("results/sparse/{run}/gabor.npz", run=SPARSE_RUNS),
    output:
        "results/{recording}/gabor_comparison.tsv",
    log:
        "logs/gabor_comparison/{recording}.log",
    benchmark:
        "benchmarks/gabor_comparison/{recording}.tsv"
    params:
        runs=SPARSE_RUNS,
        n_bootstrap=GABOR["n_bootstrap"],
        seed=GABOR["seed"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/gabor_comparison.py"


# The page reads the table: deleting results/figures redraws it without refitting.
rule figure_gabor_comparison:
    input:
        measured="results/{recording}/gabor.npz",
        learned=expand("results/sparse/{run}/gabor.npz", run=SPARSE_RUNS),
        table="results/{recording}/gabor_comparison.tsv",
    output:
        rf_figure("gabor_comparison"),
    log:
        "logs/figure_gabor_comparison/{recording}.log",
    benchmark:
        "benchmarks/figure_gabor_comparison/{recording}.tsv"
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
        "../scripts/figure_gabor_comparison.py"
