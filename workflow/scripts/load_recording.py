"""Read one session's raw files (one stimulus, many units), check them (readers and the
plausibility checks of sparsefield.io.plausibility, all before anything is written), and
store them once."""
from _common import start

start(snakemake)

import logging

import numpy as np

from sparsefield.io import save_npz
from sparsefield.io.plausibility import check_fittable
from sparsefield.io.session import load_session
from sparsefield.rf.lags import check_fit_settings
from sparsefield.rf.truth import check_truth, read_truth

session = load_session(snakemake.params.row, defaults=snakemake.params.defaults)
# A session in which no unit can be fitted would finish with nothing to show.
check_fittable(session, snakemake.params.row["spikes_file"])
logging.info(
    "%d units (%s), %d spikes inside the frames, %d frames (%d trials; %d stimulus frames "
    "without a trigger left out), frames %dx%d",
    session.n_units,
    ", ".join(str(unit) for unit in session.unit_ids[:20])
    + (" ..." if session.n_units > 20 else ""),
    session.spike_times.size,
    session.n_frames,
    session.trial_starts.size,
    session.n_frames_left_out,
    *session.frame_shape,
)
# The fit settings and a simulated session's truth must fit this session: checked now,
# so that a problem leaves nothing in results/.
lags = check_fit_settings(session.trigger_times, trial_starts=session.trial_starts,
                          **snakemake.params.fits)
if "truth" in snakemake.input.keys():
    truth_path = snakemake.input.truth
    check_truth(truth_path, read_truth(truth_path), session.unit_ids,
                int(np.prod(session.frame_shape)), lags=lags)
if session.n_constant_pixels:
    logging.info("%d stimulus pixels never change (sessions.constant_pixels: warn); kept",
                 session.n_constant_pixels)
save_npz(snakemake.output[0], session.to_npz_dict())
