# Receptive fields from spikes: check and load the raw files, count spikes per
# frame, fit Poisson ML receptive fields per lag, separate space from time,
# and compute the sub-frame spike-triggered average.


rule load_recording:
    input:
        raw_files,
    output:
        "results/{recording}/recording.npz",
    log:
        "logs/load_recording/{recording}.log",
    benchmark:
        "benchmarks/load_recording/{recording}.tsv"
    params:
        row=lambda wildcards: recording_row(wildcards.recording),
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
        "results/{recording}/recording.npz",
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
        recording="results/{recording}/recording.npz",
        counts="results/{recording}/counts.npz",
    output:
        fit="results/{recording}/ml_fit.npz",
        separation="results/{recording}/ml_separation.npz",
    log:
        "logs/fit_ml/{recording}.log",
    benchmark:
        "benchmarks/fit_ml/{recording}.tsv"
    params:
        lags=config["rf"]["lags"],
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
        recording="results/{recording}/recording.npz",
        counts="results/{recording}/counts.npz",
    output:
        sta="results/{recording}/sta.npz",
        separation="results/{recording}/sta_separation.npz",
    log:
        "logs/spike_triggered_average/{recording}.log",
    benchmark:
        "benchmarks/spike_triggered_average/{recording}.tsv"
    params:
        tau_max=config["sta"]["tau_max"],
        tau_step=config["sta"]["tau_step"],
        n_shifts=config["sta"]["n_shifts"],
        seed=config["sta"]["seed"],
        centering=config["sta"]["separation_centering"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        CONDA_ENV
    script:
        "../scripts/spike_triggered_average.py"


rule summarise_recording:
    input:
        unpack(truth_files),
        recording="results/{recording}/recording.npz",
        counts="results/{recording}/counts.npz",
        fit="results/{recording}/ml_fit.npz",
        ml_separation="results/{recording}/ml_separation.npz",
        sta="results/{recording}/sta.npz",
        sta_separation="results/{recording}/sta_separation.npz",
        lasso="results/{recording}/lasso_fit.npz",
        lasso_separation="results/{recording}/lasso_separation.npz",
    output:
        "results/{recording}/metrics.tsv",
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
        expand("results/{recording}/metrics.tsv", recording=RECORDINGS.index),
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
