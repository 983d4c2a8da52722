# Figures per recording.  Each rule reads arrays and calls one function of
# sparsefield.plots; saving is deterministic (same inputs, same bytes).


rule figure_overview:
    input:
        recording="results/{recording}/recording.npz",
        counts="results/{recording}/counts.npz",
        fit="results/{recording}/ml_fit.npz",
    output:
        figure_output("overview"),
    log:
        "logs/figure_overview/{recording}.log",
    params:
        dpi=config["figures"]["dpi"],
        window=config["figures"]["overview_window"],
    threads: 1
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
        figure_output("rf_lags"),
    log:
        "logs/figure_rf_lags/{recording}.log",
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
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
        figure_output("ml_separation"),
    log:
        "logs/figure_ml_separation/{recording}.log",
    params:
        dpi=config["figures"]["dpi"],
        label="ML RF",
    threads: 1
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_separation.py"


rule figure_sta:
    input:
        recording="results/{recording}/recording.npz",
        sta="results/{recording}/sta.npz",
    output:
        figure_output("sta"),
    log:
        "logs/figure_sta/{recording}.log",
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
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
        figure_output("truth"),
    log:
        "logs/figure_truth/{recording}.log",
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
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
        figure_output("lasso_grid"),
    log:
        "logs/figure_lasso_grid/{recording}.log",
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_lasso_grid.py"


rule figure_lasso_cv:
    input:
        recording="results/{recording}/recording.npz",
        fit="results/{recording}/lasso_fit.npz",
    output:
        figure_output("lasso_cv"),
    log:
        "logs/figure_lasso_cv/{recording}.log",
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
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
        figure_output("ml_vs_lasso"),
    log:
        "logs/figure_ml_vs_lasso/{recording}.log",
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
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
        figure_output("lasso_separation"),
    log:
        "logs/figure_lasso_separation/{recording}.log",
    params:
        dpi=config["figures"]["dpi"],
        label="lasso RF at the chosen λ",
    threads: 1
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_separation.py"
