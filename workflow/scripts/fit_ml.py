"""Per-lag Poisson ML receptive fields of one chunk of a session's units (all of them
unless sessions.units_per_job is set) on the shared design, and their rank-1
space-time separations."""
from _common import load, start, unit_chunk

start(snakemake, keys={
    "lags": "rf.lags", "window": "rf.window", "window start (s)": "rf.window",
    "window stop (s)": "rf.window", "min_lags": "rf.min_lags", "max_iter": "rf.max_iter",
    "tol": "rf.tol", "centering": "rf.separation_centering",
})

import logging

import numpy as np

from sparsefield.io import save_npz
from sparsefield.io.session import Session
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.lags import lags_source, session_lags
from sparsefield.rf.separation import separate_units
from sparsefield.rf.summary import fitted_units
from sparsefield.rf.units import fit_ml_units

session = load(Session, snakemake.input.recording)
binned = load(UnitCounts, snakemake.input.counts)
units = unit_chunk(snakemake, session.n_units)
counts = binned.counts[:, units]
lags = session_lags(snakemake.params.lags, snakemake.params.window, snakemake.params.min_lags,
                    binned.durations, lags_source("rf", snakemake.params.lags))
fitted, _ = fitted_units(counts, session.min_spikes)
# A unit without a spike after the largest lag has no fit there: not asked for (the
# summary says why).
fitted &= counts[int(lags.max()):].sum(axis=0) > 0
unit_ids = session.unit_ids[units]
fit = fit_ml_units(
    session.stimulus,
    counts,
    binned.durations,
    lags,
    fitted=fitted,
    max_iter=snakemake.params.max_iter,
    tol=snakemake.params.tol,
    unit_ids=unit_ids,
)
logging.info("units %d..%d: %d of %d fitted at lags %s", units.start, units.stop - 1,
             fit.fitted.sum(), fitted.size, lags.tolist())
for index in np.flatnonzero(fitted & ~fit.fitted):
    logging.warning("unit %d not fitted: %s", unit_ids[index], fit.why[index])
separation = separate_units(fit.weights, centering=snakemake.params.centering)
save_npz(snakemake.output.fit, fit.to_npz_dict())
save_npz(snakemake.output.separation, separation.to_npz_dict())
