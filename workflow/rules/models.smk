# Held-out scores of every estimate (issue 12): each fitted unit's per-lag ML fit, lasso,
# STA-based LN model, joint space-time GLM and its sub-frame form (sub-bins of each frame
# from the spike times), refitted without each contiguous block of frames and scored on it (bits per spike, pseudo-R2), with the true model's score for
# simulated units; per chunk of units (sessions.units_per_job), then gathered.


rule score_models:
    input:
        unpack(truth_files),
        recording="results/{recording}/session.npz",
        counts="results/{recording}/counts.npz",
        ml="results/{recording}/ml_fit.npz",
        lasso="results/{recording}/lasso_fit.npz",
    output:
        temp("results/{recording}/chunks/{chunk}/models.npz"),
    log:
        "logs/score_models/{recording}/{chunk}.log",
    benchmark:
        "benchmarks/score_models/{recording}/{chunk}.tsv"
    params:
        units_per_job=config["sessions"]["units_per_job"],
        n_folds=config["models"]["n_folds"],
        joint=config["models"]["joint"],
        subframe=config["models"]["subframe"],
        ml_max_iter=config["rf"]["max_iter"],
        ml_tol=config["rf"]["tol"],
        lasso_tol=config["lasso"]["tol"],
    threads: 1
    resources:
        mem_mb=3000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../scripts/score_models.py"


rule gather_models:
    input:
        model_chunk_files,
    output:
        "results/{recording}/models.npz",
    log:
        "logs/gather_models/{recording}.log",
    benchmark:
        "benchmarks/gather_models/{recording}.tsv"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/gather_models.py"


rule figure_models:
    input:
        recording="results/{recording}/session.npz",
        models="results/{recording}/models.npz",
    output:
        rf_figure("models"),
    log:
        "logs/figure_models/{recording}.log",
    benchmark:
        "benchmarks/figure_models/{recording}.tsv"
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_models.py"


rule figure_nonlinearity:
    input:
        recording="results/{recording}/session.npz",
        counts="results/{recording}/counts.npz",
        ml="results/{recording}/ml_fit.npz",
        lasso="results/{recording}/lasso_fit.npz",
        models="results/{recording}/models.npz",
    output:
        unit_figure("nonlinearity"),
    log:
        "logs/figure_nonlinearity/{recording}/unit-{unit}.log",
    benchmark:
        "benchmarks/figure_nonlinearity/{recording}/unit-{unit}.tsv"
    params:
        dpi=config["figures"]["dpi"],
        n_folds=config["models"]["n_folds"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_nonlinearity.py"
