# Lasso (L1) receptive fields: every lag over one penalty grid, the penalty chosen
# by cross-validation over contiguous blocks of frames, then the rank-1 separation
# of the receptive field at the chosen penalty.


rule fit_lasso:
    input:
        recording="results/{recording}/recording.npz",
        counts="results/{recording}/counts.npz",
    output:
        fit="results/{recording}/lasso_fit.npz",
        separation="results/{recording}/lasso_separation.npz",
    log:
        "logs/fit_lasso/{recording}.log",
    benchmark:
        "benchmarks/fit_lasso/{recording}.tsv"
    params:
        lags=config["lasso"]["lags"],
        n_lambdas=config["lasso"]["n_lambdas"],
        lambda_min_ratio=config["lasso"]["lambda_min_ratio"],
        n_folds=config["lasso"]["n_folds"],
        rule=config["lasso"]["rule"],
        tol=config["lasso"]["tol"],
        backend=config["lasso"]["backend"],
        centering=config["lasso"]["separation_centering"],
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        CONDA_ENV
    script:
        "../scripts/fit_lasso.py"
