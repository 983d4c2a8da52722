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
            if key != "neurons"
        },
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/simulate_recording.py"
