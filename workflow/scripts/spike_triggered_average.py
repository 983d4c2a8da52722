"""Sub-frame spike-triggered averages of one chunk of a session's units, their z-scores
and separations.  A spike sees only frames of its own trial (the session's
trial_starts)."""
from _common import load, start, unit_chunk

start(snakemake, keys={
    "tau_max": "sta.tau_max", "tau_step": "sta.tau_step", "n_shifts": "sta.n_shifts",
    "seed": "sta.seed", "null": "sta.null_model", "centering": "sta.separation_centering",
})

import logging

from sparsefield.io import save_npz
from sparsefield.io.session import Session
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.separation import separate_units
from sparsefield.rf.units_sta import sta_units

session = load(Session, snakemake.input.recording)
binned = load(UnitCounts, snakemake.input.counts)
units = unit_chunk(snakemake, session.n_units)
spike_times, spike_offsets = session.spikes_of_units(units)
sta = sta_units(
    spike_times,
    spike_offsets,
    binned.edges,
    session.stimulus,
    tau_max=snakemake.params.tau_max,
    tau_step=snakemake.params.tau_step,
    n_shifts=snakemake.params.n_shifts,
    seed=snakemake.params.seed,
    null=snakemake.params.null,
    trial_starts=session.trial_starts,
)
# Separate each STA's deviation from its null mean (the STA expected without an RF).
separation = separate_units(sta.sta - sta.null_mean, centering=snakemake.params.centering)
logging.info("STAs of units %d..%d (%s null)", units.start, units.stop - 1,
             snakemake.params.null)
save_npz(snakemake.output.sta, sta.to_npz_dict())
save_npz(snakemake.output.separation, separation.to_npz_dict())
