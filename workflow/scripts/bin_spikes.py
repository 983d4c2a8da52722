"""Count spikes per stimulus frame."""
from _common import load, start

start(snakemake)

import logging

from sparsefield.io import Recording, save_npz
from sparsefield.rf.binning import bin_spikes

recording = load(Recording, snakemake.input[0])
binned = bin_spikes(recording.spike_times, recording.trigger_times)
logging.info(
    "%d spikes counted in %d frames; %d before the first trigger and %d after the "
    "last frame are outside every frame",
    binned.counts.sum(),
    binned.counts.size,
    binned.n_before,
    binned.n_after,
)
save_npz(snakemake.output[0], binned.to_npz_dict())
