# Embedded default data: model neurons with known receptive fields, written as
# raw files in the real recording's layout, with their ground truth beside them.


rule simulate_recording:
    output:
        raw="results/simulated/{neuron}/raw.mat",
        truth="results/simulated/{neuron}/truth.npz",
    log:
        "logs/simulate_recording/{neuron}.log",
    benchmark:
        "benchmarks/simulate_recording/{neuron}.tsv"
    params:
        model=lambda wildcards: config["simulation"]["neurons"][wildcards.neuron],
        stimulus={
            key: value
            for key, value in config["simulation"].items()
            if key not in ("neurons", "sessions")
        },
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/simulate_recording.py"


rule simulate_session:
    output:
        nwb="results/simulated/{simulated_session}/session.nwb",
        truth="results/simulated/{simulated_session}/truth.npz",
    log:
        "logs/simulate_session/{simulated_session}.log",
    benchmark:
        "benchmarks/simulate_session/{simulated_session}.tsv"
    params:
        session=lambda wildcards: config["simulation"]["sessions"][wildcards.simulated_session],
        stimulus={
            key: value
            for key, value in config["simulation"].items()
            if key not in ("neurons", "sessions")
        },
    threads: 1
    resources:
        mem_mb=2000,
        runtime=20,
    conda:
        CONDA_ENV
    script:
        "../scripts/simulate_session.py"
