"""Read one recording's raw files, check them, and store them in canonical form."""
from _common import start

start(snakemake)

import logging

import numpy as np

from sparsefield.io import load_recording

recording = load_recording(snakemake.params.row)
logging.info(
    "%d spikes, %d triggers, %d frames used (%d after the last trigger dropped)",
    recording.spike_times.size,
    recording.trigger_times.size,
    recording.stimulus.shape[0],
    recording.n_frames_dropped,
)
np.savez(snakemake.output[0], **recording.to_npz_dict())
