"""Per-lag Poisson ML receptive fields of one chunk of a session's units (all of them
unless sessions.units_per_job is set) on the shared design, and their rank-1
space-time separations.  Frames are paired within a trial only (the session's
trial_starts: at lag k the first k frames of each trial are left out)."""
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
from sparsefield.rf.units import spikes_at_lag
from sparsefield.rf.units_ml import fit_ml_units

session = load(Session, snakemake.input.recording)
binned = load(UnitCounts, snakemake.input.counts)
units = unit_chunk(snakemake, session.n_units)
counts = binned.counts[:, units]
lags = session_lags(snakemake.params.lags, snakemake.params.window, snakemake.params.min_lags,
                    binned.durations, lags_source("rf", snakemake.params.lags),
                    session.trial_starts)
fitted, _ = fitted_units(counts, session.min_spikes)
# A unit without a spike in the frames the largest lag pairs (those after it, within
# each trial) has no fit there: not asked for (the summary says why).
fitted &= spikes_at_lag(counts, int(lags.max()), session.trial_starts) > 0
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
    trial_starts=session.trial_starts,
)
logging.info("units %d..%d: %d of %d fitted at lags %s", units.start, units.stop - 1,
             fit.fitted.sum(), fitted.size, lags.tolist())
for index in np.flatnonzero(fitted & ~fit.fitted):
    logging.warning("unit %d not fitted: %s", unit_ids[index], fit.why[index])
separation = separate_units(fit.weights, centering=snakemake.params.centering)
save_npz(snakemake.output.fit, fit.to_npz_dict())
save_npz(snakemake.output.separation, separation.to_npz_dict())
