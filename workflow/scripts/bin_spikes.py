"""Count every unit's spikes per stimulus frame, all units in one pass."""
from _common import load, start

start(snakemake)

import logging

from sparsefield.io import save_npz
from sparsefield.io.session import Session
from sparsefield.rf.binning import bin_units

session = load(Session, snakemake.input[0])
binned = bin_units(session.spike_times, session.spike_offsets, session.trigger_times)
logging.info(
    "%d spikes of %d units counted in %d frames (median frame %.4g s)",
    binned.counts.sum(),
    session.n_units,
    binned.counts.shape[0],
    float(binned.durations[binned.durations.size // 2]),
)
save_npz(snakemake.output[0], binned.to_npz_dict())
