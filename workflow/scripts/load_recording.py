"""Read one recording's raw files, check them, and store them in canonical form."""
from _common import start

start(snakemake)

import logging

from sparsefield.io import load_recording, save_npz

recording = load_recording(snakemake.params.row)
logging.info(
    "%d spikes, %d triggers, %d frames used (%d after the last trigger dropped)",
    recording.spike_times.size,
    recording.trigger_times.size,
    recording.stimulus.shape[0],
    recording.n_frames_dropped,
)
save_npz(snakemake.output[0], recording.to_npz_dict())
