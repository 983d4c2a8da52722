# Lasso (L1) receptive fields: every lag over one penalty grid, the penalty chosen
# by cross-validation over contiguous blocks of frames, then the rank-1 separation
# of the receptive field at the chosen penalty.


rule fit_lasso:
    input:
        recording="results/{recording}/session.npz",
        counts="results/{recording}/counts.npz",
    output:
        fit=temp("results/{recording}/chunks/{chunk}/lasso_fit.npz"),
        separation=temp("results/{recording}/chunks/{chunk}/lasso_separation.npz"),
    log:
        "logs/fit_lasso/{recording}/{chunk}.log",
    benchmark:
        "benchmarks/fit_lasso/{recording}/{chunk}.tsv"
    params:
        units_per_job=config["sessions"]["units_per_job"],
        lags=config["lasso"]["lags"],
        window=config["lasso"]["window"],
        min_lags=config["lasso"]["min_lags"],
        n_lambdas=config["lasso"]["n_lambdas"],
        lambda_min_ratio=config["lasso"]["lambda_min_ratio"],
        n_folds=config["lasso"]["n_folds"],
        rule=config["lasso"]["rule"],
        tol=config["lasso"]["tol"],
        backend=config["lasso"]["backend"],
        solver=config["lasso"]["units_solver"],
        centering=config["lasso"]["separation_centering"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../scripts/fit_lasso.py"
