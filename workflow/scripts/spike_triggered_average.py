"""Sub-frame spike-triggered average, its circular-shift z-scores and its separation."""
from _common import load, start

start(snakemake)

import logging

from sparsefield.io import Recording, save_npz
from sparsefield.rf.binning import BinnedCounts
from sparsefield.rf.separation import separate
from sparsefield.rf.sta import spike_triggered_average

recording = load(Recording, snakemake.input.recording)
binned = load(BinnedCounts, snakemake.input.counts)
sta = spike_triggered_average(
    recording.spike_times,
    binned.edges,
    recording.stimulus,
    tau_max=snakemake.params.tau_max,
    tau_step=snakemake.params.tau_step,
    n_shifts=snakemake.params.n_shifts,
    seed=snakemake.params.seed,
)
# Separate the STA's deviation from its null mean (the STA expected without an RF).
separation = separate(sta.sta - sta.null_mean, centering=snakemake.params.centering)
logging.info("STA from %d spikes, %d circular shifts", sta.n_spikes, sta.n_shifts)
save_npz(snakemake.output.sta, sta.to_npz_dict())
save_npz(snakemake.output.separation, separation.to_npz_dict())
