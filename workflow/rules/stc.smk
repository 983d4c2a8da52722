# Spike-triggered covariance of every fitted unit (issue 12, item 4): a nested shift null
# over a window of lags x pixels (a patch around the unit's lasso RF centre on a 2-D
# stimulus), and the energy model on its significant filters scored on held-out blocks;
# per chunk of units (sessions.units_per_job), then gathered.


rule stc_units:
    input:
        recording="results/{recording}/session.npz",
        counts="results/{recording}/counts.npz",
        ml="results/{recording}/ml_fit.npz",
        lasso="results/{recording}/lasso_fit.npz",
        lasso_separation="results/{recording}/lasso_separation.npz",
    output:
        temp("results/{recording}/chunks/{chunk}/stc.npz"),
    log:
        "logs/stc_units/{recording}/{chunk}.log",
    benchmark:
        "benchmarks/stc_units/{recording}/{chunk}.tsv"
    params:
        units_per_job=config["sessions"]["units_per_job"],
        stc=config["stc"],
        n_folds=config["models"]["n_folds"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../scripts/stc_units.py"


rule gather_stc:
    input:
        stc_chunk_files,
    output:
        "results/{recording}/stc.npz",
    log:
        "logs/gather_stc/{recording}.log",
    benchmark:
        "benchmarks/gather_stc/{recording}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/gather_stc.py"


rule figure_stc:
    input:
        recording="results/{recording}/session.npz",
        stc="results/{recording}/stc.npz",
    output:
        unit_figure("stc"),
    log:
        "logs/figure_stc/{recording}/unit-{unit}.log",
    benchmark:
        "benchmarks/figure_stc/{recording}/unit-{unit}.tsv"
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_stc.py"
