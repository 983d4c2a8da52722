# Receptive fields from spikes, per session (one sheet row: one stimulus, many units):
# check and load the raw files once, count every unit's spikes per frame in one pass,
# fit Poisson ML receptive fields per lag for every unit on the shared design, separate
# space from time, and compute the sub-frame spike-triggered averages of all units.


checkpoint load_recording:
    input:
        # The truth of a simulated session is checked here, before any fit.
        unpack(truth_files),
        raw=raw_files,
    output:
        "results/{recording}/session.npz",
    log:
        "logs/load_recording/{recording}.log",
    benchmark:
        "benchmarks/load_recording/{recording}.tsv"
    params:
        row=lambda wildcards: recording_row(wildcards.recording),
        defaults=config["sessions"],
        # checked against the session before anything is written
        fits={"rf": config["rf"], "lasso": config["lasso"], "sta": config["sta"]},
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/load_recording.py"


rule bin_spikes:
    input:
        "results/{recording}/session.npz",
    output:
        "results/{recording}/counts.npz",
    log:
        "logs/bin_spikes/{recording}.log",
    benchmark:
        "benchmarks/bin_spikes/{recording}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/bin_spikes.py"


rule fit_ml:
    input:
        recording="results/{recording}/session.npz",
        counts="results/{recording}/counts.npz",
    output:
        fit=temp("results/{recording}/chunks/{chunk}/ml_fit.npz"),
        separation=temp("results/{recording}/chunks/{chunk}/ml_separation.npz"),
    log:
        "logs/fit_ml/{recording}/{chunk}.log",
    benchmark:
        "benchmarks/fit_ml/{recording}/{chunk}.tsv"
    params:
        units_per_job=config["sessions"]["units_per_job"],
        lags=config["rf"]["lags"],
        window=config["rf"]["window"],
        min_lags=config["rf"]["min_lags"],
        max_iter=config["rf"]["max_iter"],
        tol=config["rf"]["tol"],
        centering=config["rf"]["separation_centering"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../scripts/fit_ml.py"


rule spike_triggered_average:
    input:
        recording="results/{recording}/session.npz",
        counts="results/{recording}/counts.npz",
    output:
        sta=temp("results/{recording}/chunks/{chunk}/sta.npz"),
        separation=temp("results/{recording}/chunks/{chunk}/sta_separation.npz"),
    log:
        "logs/spike_triggered_average/{recording}/{chunk}.log",
    benchmark:
        "benchmarks/spike_triggered_average/{recording}/{chunk}.tsv"
    params:
        units_per_job=config["sessions"]["units_per_job"],
        tau_max=config["sta"]["tau_max"],
        tau_step=config["sta"]["tau_step"],
        n_shifts=config["sta"]["n_shifts"],
        seed=config["sta"]["seed"],
        null=config["sta"]["null_model"],
        centering=config["sta"]["separation_centering"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../scripts/spike_triggered_average.py"


rule gather_units:
    input:
        unpack(unit_chunk_files),
    output:
        ml="results/{recording}/ml_fit.npz",
        ml_separation="results/{recording}/ml_separation.npz",
        lasso="results/{recording}/lasso_fit.npz",
        lasso_separation="results/{recording}/lasso_separation.npz",
        sta="results/{recording}/sta.npz",
        sta_separation="results/{recording}/sta_separation.npz",
    log:
        "logs/gather_units/{recording}.log",
    benchmark:
        "benchmarks/gather_units/{recording}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/gather_units.py"


# Chunks left by a run killed after gather_units but before Snakemake removed them.
onsuccess:
    remove_gathered_chunks()


checkpoint summarise_recording:
    input:
        unpack(truth_files),
        unpack(models_file),
        unpack(stc_file),
        recording="results/{recording}/session.npz",
        counts="results/{recording}/counts.npz",
        fit="results/{recording}/ml_fit.npz",
        ml_separation="results/{recording}/ml_separation.npz",
        sta="results/{recording}/sta.npz",
        sta_separation="results/{recording}/sta_separation.npz",
        lasso="results/{recording}/lasso_fit.npz",
        lasso_separation="results/{recording}/lasso_separation.npz",
        gabor="results/{recording}/gabor.npz",
    output:
        "results/{recording}/units.tsv",
    log:
        "logs/summarise_recording/{recording}.log",
    benchmark:
        "benchmarks/summarise_recording/{recording}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/summarise_recording.py"


rule summarise_all:
    input:
        expand("results/{recording}/units.tsv", recording=RECORDINGS.index),
    output:
        report(
            "results/summary.tsv",
            caption="../report/summary.rst",
            category="Summary",
        ),
    log:
        "logs/summarise_all.log",
    benchmark:
        "benchmarks/summarise_all.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/summarise_all.py"
