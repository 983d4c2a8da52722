# Figures per unit, in results/figures/rf/{recording}/unit-{unit}/ (unit_figure in
# common.smk; which units: figures.per_unit), and per session in
# results/figures/rf/{recording}/ (rf_figure).  Each rule reads arrays and calls one function of sparsefield.plots;
# saving is deterministic (same inputs, same bytes).  Figure rules only read
# results: deleting results/figures redraws them without refitting anything.


rule figure_overview:
    input:
        recording="results/{recording}/session.npz",
        counts="results/{recording}/counts.npz",
        fit="results/{recording}/ml_fit.npz",
    output:
        unit_figure("overview"),
    log:
        "logs/figure_overview/{recording}/unit-{unit}.log",
    benchmark:
        "benchmarks/figure_overview/{recording}/unit-{unit}.tsv"
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
        recording="results/{recording}/session.npz",
        counts="results/{recording}/counts.npz",
        fit="results/{recording}/ml_fit.npz",
    output:
        unit_figure("rf_lags"),
    log:
        "logs/figure_rf_lags/{recording}/unit-{unit}.log",
    benchmark:
        "benchmarks/figure_rf_lags/{recording}/unit-{unit}.tsv"
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
        recording="results/{recording}/session.npz",
        counts="results/{recording}/counts.npz",
        fit="results/{recording}/ml_fit.npz",
        separation="results/{recording}/ml_separation.npz",
    output:
        unit_figure("ml_separation"),
    log:
        "logs/figure_ml_separation/{recording}/unit-{unit}.log",
    benchmark:
        "benchmarks/figure_ml_separation/{recording}/unit-{unit}.tsv"
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
        recording="results/{recording}/session.npz",
        sta="results/{recording}/sta.npz",
    output:
        unit_figure("sta"),
    log:
        "logs/figure_sta/{recording}/unit-{unit}.log",
    benchmark:
        "benchmarks/figure_sta/{recording}/unit-{unit}.tsv"
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
        recording="results/{recording}/session.npz",
        counts="results/{recording}/counts.npz",
        fit="results/{recording}/ml_fit.npz",
        separation="results/{recording}/ml_separation.npz",
        units="results/{recording}/units.tsv",
    output:
        unit_figure("truth"),
    log:
        "logs/figure_truth/{recording}/unit-{unit}.log",
    benchmark:
        "benchmarks/figure_truth/{recording}/unit-{unit}.tsv"
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
        recording="results/{recording}/session.npz",
        counts="results/{recording}/counts.npz",
        fit="results/{recording}/lasso_fit.npz",
    output:
        unit_figure("lasso_grid"),
    log:
        "logs/figure_lasso_grid/{recording}/unit-{unit}.log",
    benchmark:
        "benchmarks/figure_lasso_grid/{recording}/unit-{unit}.tsv"
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
        recording="results/{recording}/session.npz",
        fit="results/{recording}/lasso_fit.npz",
    output:
        unit_figure("lasso_cv"),
    log:
        "logs/figure_lasso_cv/{recording}/unit-{unit}.log",
    benchmark:
        "benchmarks/figure_lasso_cv/{recording}/unit-{unit}.tsv"
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
        recording="results/{recording}/session.npz",
        counts="results/{recording}/counts.npz",
        ml="results/{recording}/ml_fit.npz",
        lasso="results/{recording}/lasso_fit.npz",
    output:
        unit_figure("ml_vs_lasso"),
    log:
        "logs/figure_ml_vs_lasso/{recording}/unit-{unit}.log",
    benchmark:
        "benchmarks/figure_ml_vs_lasso/{recording}/unit-{unit}.tsv"
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
        recording="results/{recording}/session.npz",
        counts="results/{recording}/counts.npz",
        fit="results/{recording}/lasso_fit.npz",
        separation="results/{recording}/lasso_separation.npz",
    output:
        unit_figure("lasso_separation"),
    log:
        "logs/figure_lasso_separation/{recording}/unit-{unit}.log",
    benchmark:
        "benchmarks/figure_lasso_separation/{recording}/unit-{unit}.tsv"
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


# Session figures: every unit of a session on one page.


rule figure_rf_atlas:
    input:
        recording="results/{recording}/session.npz",
        counts="results/{recording}/counts.npz",
        lasso="results/{recording}/lasso_fit.npz",
        separation="results/{recording}/lasso_separation.npz",
        units="results/{recording}/units.tsv",
    output:
        rf_figure("rf_atlas"),
    log:
        "logs/figure_rf_atlas/{recording}.log",
    benchmark:
        "benchmarks/figure_rf_atlas/{recording}.tsv"
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_rf_atlas.py"


rule figure_kernel_heatmap:
    input:
        recording="results/{recording}/session.npz",
        sta="results/{recording}/sta.npz",
        separation="results/{recording}/sta_separation.npz",
        units="results/{recording}/units.tsv",
    output:
        rf_figure("kernel_heatmap"),
    log:
        "logs/figure_kernel_heatmap/{recording}.log",
    benchmark:
        "benchmarks/figure_kernel_heatmap/{recording}.tsv"
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_kernel_heatmap.py"


rule figure_mosaic:
    input:
        recording="results/{recording}/session.npz",
        units="results/{recording}/units.tsv",
        separation="results/{recording}/lasso_separation.npz",
    output:
        rf_figure("mosaic"),
    log:
        "logs/figure_mosaic/{recording}.log",
    benchmark:
        "benchmarks/figure_mosaic/{recording}.tsv"
    params:
        dpi=config["figures"]["dpi"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_mosaic.py"


# The figures of one session, listed once its units are known (figures.per_unit decides
# after the fits which units get per-unit figures: the checkpoint summarise_recording).


rule figure_index:
    input:
        figure_index,
    output:
        "results/figures/rf/{recording}/index.tsv",
    log:
        "logs/figure_index/{recording}.log",
    benchmark:
        "benchmarks/figure_index/{recording}.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        CONDA_ENV
    script:
        "../scripts/figure_index.py"
