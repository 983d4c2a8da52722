"""Lasso receptive fields of one chunk of a session's units over lags and penalties
(all of them unless sessions.units_per_job is set), the penalty chosen per unit by
cross-validation on shared folds, and the separation at that penalty.  Frames are
paired within a trial only (the session's trial_starts)."""
from _common import load, start, unit_chunk

start(snakemake, keys={
    "lags": "lasso.lags", "window": "lasso.window", "window start (s)": "lasso.window",
    "window stop (s)": "lasso.window", "min_lags": "lasso.min_lags",
    "n_lambdas": "lasso.n_lambdas", "lambda_min_ratio": "lasso.lambda_min_ratio",
    "n_folds": "lasso.n_folds", "rule": "lasso.rule", "tol": "lasso.tol",
    "backend": "lasso.backend", "solver": "lasso.units_solver",
    "centering": "lasso.separation_centering",
})

import logging

import numpy as np

from sparsefield.io import save_npz
from sparsefield.io.session import Session
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.lags import lags_source, session_lags
from sparsefield.rf.separation import separate_units
from sparsefield.rf.summary import fitted_units
from sparsefield.rf.units import spikes_at_lag
from sparsefield.rf.units_lasso import fit_lasso_units

session = load(Session, snakemake.input.recording)
binned = load(UnitCounts, snakemake.input.counts)
units = unit_chunk(snakemake, session.n_units)
counts = binned.counts[:, units]
lags = session_lags(snakemake.params.lags, snakemake.params.window, snakemake.params.min_lags,
                    binned.durations, lags_source("lasso", snakemake.params.lags),
                    session.trial_starts)
fitted, _ = fitted_units(counts, session.min_spikes)
fitted &= spikes_at_lag(counts, int(lags.max()), session.trial_starts) > 0  # as in fit_ml.py
unit_ids = session.unit_ids[units]
fit = fit_lasso_units(
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
    unit_ids=unit_ids,
    trial_starts=session.trial_starts,
)
for index in np.flatnonzero(fitted & ~fit.fitted):
    logging.warning("unit %d not fitted: %s", unit_ids[index], fit.why[index])
for index in np.flatnonzero(fit.fitted):
    unit = fit.unit(index)
    off = float(unit.kkt_violation.max() / unit.lambdas[0])
    logging.log(
        logging.WARNING if off > 1e-3 else logging.INFO,
        "unit %d: penalty %.4g chosen (rule %s); %d non-zero weights; %s fits: largest KKT "
        "violation %.2g x lambda_max",
        unit_ids[index], unit.lambda_chosen, unit.rule,
        np.count_nonzero(unit.chosen_weights), unit.backend, off,
    )
separation = separate_units(fit.chosen_weights, centering=snakemake.params.centering)
save_npz(snakemake.output.fit, fit.to_npz_dict())
save_npz(snakemake.output.separation, separation.to_npz_dict())
