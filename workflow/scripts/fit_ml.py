"""Per-lag Poisson ML receptive fields of one chunk of a session's units (all of them
unless sessions.units_per_job is set) on the shared design, and their rank-1
space-time separations."""
from _common import load, start, unit_chunk

start(snakemake)

import logging

from sparsefield.io import save_npz
from sparsefield.io.session import Session
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.separation import separate_units
from sparsefield.rf.summary import fitted_units, session_lags
from sparsefield.rf.units import fit_ml_units

session = load(Session, snakemake.input.recording)
binned = load(UnitCounts, snakemake.input.counts)
units = unit_chunk(snakemake, session.n_units)
counts = binned.counts[:, units]
fitted, _ = fitted_units(counts, session.min_spikes)
lags = session_lags(snakemake.params.lags, snakemake.params.window, snakemake.params.min_lags,
                    binned.durations, "config rf")
fit = fit_ml_units(
    session.stimulus,
    counts,
    binned.durations,
    lags,
    fitted=fitted,
    max_iter=snakemake.params.max_iter,
    tol=snakemake.params.tol,
)
logging.info("units %d..%d: %d of %d fitted at lags %s", units.start, units.stop - 1,
             fitted.sum(), fitted.size, lags.tolist())
separation = separate_units(fit.weights, centering=snakemake.params.centering)
save_npz(snakemake.output.fit, fit.to_npz_dict())
save_npz(snakemake.output.separation, separation.to_npz_dict())
