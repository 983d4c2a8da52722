# Figures per recording, in results/figures/rf/{recording}/ (rf_figure in
# common.smk).  Each rule reads arrays and calls one function of sparsefield.plots;
# saving is deterministic (same inputs, same bytes).  Figure rules only read
# results: deleting results/figures redraws them without refitting anything.


rule figure_overview:
    input:
        recording="results/{recording}/recording.npz",
        counts="results/{recording}/counts.npz",
        fit="results/{recording}/ml_fit.npz",
    output:
        rf_figure("overview"),
    log:
        "logs/figure_overview/{recording}.log",
    benchmark:
        "benchmarks/figure_overview/{recording}.tsv"
    params:
        dpi=config["figures"]["dpi"],
        window=config["figures"]["overview_window"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_overview.py"


rule figure_rf_lags:
    input:
        recording="results/{recording}/recording.npz",
        counts="results/{recording}/counts.npz",
        fit="results/{recording}/ml_fit.npz",
    output:
        rf_figure("rf_lags"),
    log:
        "logs/figure_rf_lags/{recording}.log",
    benchmark:
        "benchmarks/figure_rf_lags/{recording}.tsv"
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_rf_lags.py"


rule figure_ml_separation:
    input:
        recording="results/{recording}/recording.npz",
        counts="results/{recording}/counts.npz",
        fit="results/{recording}/ml_fit.npz",
        separation="results/{recording}/ml_separation.npz",
    output:
        rf_figure("ml_separation"),
    log:
        "logs/figure_ml_separation/{recording}.log",
    benchmark:
        "benchmarks/figure_ml_separation/{recording}.tsv"
    params:
        dpi=config["figures"]["dpi"],
        label="ML RF",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_separation.py"


rule figure_sta:
    input:
        recording="results/{recording}/recording.npz",
        sta="results/{recording}/sta.npz",
    output:
        rf_figure("sta"),
    log:
        "logs/figure_sta/{recording}.log",
    benchmark:
        "benchmarks/figure_sta/{recording}.tsv"
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_sta.py"


rule figure_truth:
    input:
        unpack(truth_files),
        recording="results/{recording}/recording.npz",
        counts="results/{recording}/counts.npz",
        fit="results/{recording}/ml_fit.npz",
        separation="results/{recording}/ml_separation.npz",
        metrics="results/{recording}/metrics.tsv",
    output:
        rf_figure("truth"),
    log:
        "logs/figure_truth/{recording}.log",
    benchmark:
        "benchmarks/figure_truth/{recording}.tsv"
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_truth.py"


rule figure_lasso_grid:
    input:
        recording="results/{recording}/recording.npz",
        counts="results/{recording}/counts.npz",
        fit="results/{recording}/lasso_fit.npz",
    output:
        rf_figure("lasso_grid"),
    log:
        "logs/figure_lasso_grid/{recording}.log",
    benchmark:
        "benchmarks/figure_lasso_grid/{recording}.tsv"
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_lasso_grid.py"


rule figure_lasso_cv:
    input:
        recording="results/{recording}/recording.npz",
        fit="results/{recording}/lasso_fit.npz",
    output:
        rf_figure("lasso_cv"),
    log:
        "logs/figure_lasso_cv/{recording}.log",
    benchmark:
        "benchmarks/figure_lasso_cv/{recording}.tsv"
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_lasso_cv.py"


rule figure_ml_vs_lasso:
    input:
        recording="results/{recording}/recording.npz",
        counts="results/{recording}/counts.npz",
        ml="results/{recording}/ml_fit.npz",
        lasso="results/{recording}/lasso_fit.npz",
    output:
        rf_figure("ml_vs_lasso"),
    log:
        "logs/figure_ml_vs_lasso/{recording}.log",
    benchmark:
        "benchmarks/figure_ml_vs_lasso/{recording}.tsv"
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_ml_vs_lasso.py"


rule figure_lasso_separation:
    input:
        recording="results/{recording}/recording.npz",
        counts="results/{recording}/counts.npz",
        fit="results/{recording}/lasso_fit.npz",
        separation="results/{recording}/lasso_separation.npz",
    output:
        rf_figure("lasso_separation"),
    log:
        "logs/figure_lasso_separation/{recording}.log",
    benchmark:
        "benchmarks/figure_lasso_separation/{recording}.tsv"
    params:
        dpi=config["figures"]["dpi"],
        label="lasso RF at the chosen λ",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_separation.py"
