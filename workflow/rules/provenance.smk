# Provenance: every results folder records what produced it, in <folder>/provenance/:
# config.yaml (the config as used, defaults filled in), recordings.tsv (the sheet rows)
# and versions.tsv (Python and the packages that ran the jobs).  A folder's record is
# rewritten whenever its results are (it depends on the folder's last table) or the
# config changes; it holds no dates, so a rerun gives the same bytes.


rule provenance:
    input:
        "results/summary.tsv",
    output:
        config="results/provenance/config.yaml",
        recordings="results/provenance/recordings.tsv",
        versions="results/provenance/versions.tsv",
    log:
        "logs/provenance.log",
    benchmark:
        "benchmarks/provenance.tsv"
    params:
        config=config,
        recordings=sheet_rows(RECORDINGS.index),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../scripts/provenance.py"


rule provenance_recording:
    input:
        "results/{recording}/units.tsv",
    output:
        config="results/{recording}/provenance/config.yaml",
        recordings="results/{recording}/provenance/recordings.tsv",
        versions="results/{recording}/provenance/versions.tsv",
    log:
        "logs/provenance_recording/{recording}.log",
    benchmark:
        "benchmarks/provenance_recording/{recording}.tsv"
    params:
        config=config,
        recordings=lambda wildcards: sheet_rows([wildcards.recording]),
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../scripts/provenance.py"
