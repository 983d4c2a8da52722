"""Output nonlinearity of one unit's best linear estimate: held-out generator vs observed
rate with confidence intervals, exponential and softplus links with held-out scores."""
from _common import load, load_unit, start

start(snakemake, keys={"n_folds": "models.n_folds"})

import numpy as np

from sparsefield.plots import nonlinearity_figure, save_figure
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.unit_nonlinearity import best_linear, unit_nonlinearity
from sparsefield.rf.units_lasso import UnitsLasso
from sparsefield.rf.units_ml import UnitsML
from sparsefield.rf.units_scores import UnitsScores

session, index, _ = load_unit(snakemake)
binned = load(UnitCounts, snakemake.input.counts)
models = load(UnitsScores, snakemake.input.models)
estimate = best_linear(models.estimates, models.bits_per_spike[index])
weights, lag = None, 0
if estimate == "ml":
    lag = int(models.ml_lag[index])
    ml = load(UnitsML, snakemake.input.ml).unit(index)
    weights = ml.weights[ml.lag_position(lag)]
elif estimate == "lasso":
    lasso = load(UnitsLasso, snakemake.input.lasso)
    lag = int(models.lasso_lag[index])
    position = int(np.flatnonzero(lasso.lags == lag)[0])
    weights = lasso.weights[index, lasso.index_chosen[index], position]
result = unit_nonlinearity(session.stimulus, binned.counts[:, index], binned.durations, estimate,
                           models.n_lags, weights=weights, lag=lag,
                           n_folds=snakemake.params.n_folds, trial_starts=session.trial_starts)
figure = nonlinearity_figure(
    result.bin_edges, result.generator, result.rate, result.rate_low, result.rate_high,
    result.exp_params, result.softplus_params, result.exp_bits_per_spike,
    result.softplus_bits_per_spike, estimate, confidence=result.confidence,
    title=f"unit {snakemake.wildcards.unit}")
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
