"""Read one session's raw files (one stimulus, many units), check them, and store them once."""
from _common import start

start(snakemake)

import logging

from sparsefield.io import save_npz
from sparsefield.io.session import load_session

session = load_session(snakemake.params.row, defaults=snakemake.params.defaults)
logging.info(
    "%d units (%s), %d spikes inside the frames, %d frames (%d trials; %d stimulus frames "
    "without a trigger left out), frames %dx%d",
    session.n_units,
    ", ".join(str(unit) for unit in session.unit_ids[:20]) + (" ..." if session.n_units > 20 else ""),
    session.spike_times.size,
    session.n_frames,
    session.trial_starts.size,
    session.n_frames_left_out,
    *session.frame_shape,
)
save_npz(snakemake.output[0], session.to_npz_dict())
