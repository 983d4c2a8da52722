"""Lasso receptive fields of one chunk of a session's units over lags and penalties
(all of them unless sessions.units_per_job is set), the penalty chosen per unit by
cross-validation on shared folds, and the separation at that penalty."""
from _common import load, start, unit_chunk

start(snakemake)

import logging

import numpy as np

from sparsefield.io import save_npz
from sparsefield.io.session import Session
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.separation import separate_units
from sparsefield.rf.summary import fitted_units, session_lags
from sparsefield.rf.units import fit_lasso_lags_units

session = load(Session, snakemake.input.recording)
binned = load(UnitCounts, snakemake.input.counts)
units = unit_chunk(snakemake, session.n_units)
counts = binned.counts[:, units]
fitted, _ = fitted_units(counts, session.min_spikes)
lags = session_lags(snakemake.params.lags, snakemake.params.window, snakemake.params.min_lags,
                    binned.durations, "config lasso")
fit = fit_lasso_lags_units(
    session.stimulus,
    counts,
    binned.durations,
    lags,
    fitted=fitted,
    n_lambdas=snakemake.params.n_lambdas,
    lambda_min_ratio=snakemake.params.lambda_min_ratio,
    n_folds=snakemake.params.n_folds,
    rule=snakemake.params.rule,
    tol=snakemake.params.tol,
    backend=snakemake.params.backend,
    solver=snakemake.params.solver,
)
for index in np.flatnonzero(fitted):
    unit = fit.unit(index)
    off = float(unit.kkt_violation.max() / unit.lambdas[0])
    logging.log(
        logging.WARNING if off > 1e-3 else logging.INFO,
        "unit %d: penalty %.4g chosen (rule %s); %d non-zero weights; %s fits: largest KKT "
        "violation %.2g x lambda_max",
        session.unit_ids[units.start + index], unit.lambda_chosen, unit.rule,
        np.count_nonzero(unit.chosen_weights), unit.backend, off,
    )
chosen = np.full(fit.weights.shape[:1] + fit.weights.shape[2:], np.nan)
for index in np.flatnonzero(fitted):
    chosen[index] = fit.unit(index).chosen_weights
separation = separate_units(chosen, centering=snakemake.params.centering)
save_npz(snakemake.output.fit, fit.to_npz_dict())
save_npz(snakemake.output.separation, separation.to_npz_dict())
