"""Lasso receptive field over lags and penalties, and its separation at the chosen penalty."""
from _common import load, start

start(snakemake)

import logging

import numpy as np

from sparsefield.io import Recording, save_npz
from sparsefield.rf.binning import BinnedCounts
from sparsefield.rf.lasso_lags import fit_lasso_lags
from sparsefield.rf.separation import separate

recording = load(Recording, snakemake.input.recording)
binned = load(BinnedCounts, snakemake.input.counts)
fit = fit_lasso_lags(
    recording.stimulus,
    binned.counts,
    binned.durations,
    snakemake.params.lags,
    n_lambdas=snakemake.params.n_lambdas,
    lambda_min_ratio=snakemake.params.lambda_min_ratio,
    n_folds=snakemake.params.n_folds,
    rule=snakemake.params.rule,
    tol=snakemake.params.tol,
    backend=snakemake.params.backend,
)
logging.info(
    "penalty %.4g chosen (rule %s; lambda_min %.4g, lambda_1se %.4g); %d non-zero weights",
    fit.lambda_chosen,
    fit.rule,
    fit.lambdas[fit.index_min],
    fit.lambdas[fit.index_1se],
    np.count_nonzero(fit.chosen_weights),
)
# How far the full-data fits are from the objective's optimum, relative to the
# largest penalty: ~1e-7 for sparsefield; a peer backend can be far off.
off = float(fit.kkt_violation.max() / fit.lambdas[0])
report = logging.warning if off > 1e-3 else logging.info
report("%s fits: largest KKT violation %.2g x lambda_max", fit.backend, off)
separation = separate(fit.chosen_weights, centering=snakemake.params.centering)
save_npz(snakemake.output.fit, fit.to_npz_dict())
save_npz(snakemake.output.separation, separation.to_npz_dict())
