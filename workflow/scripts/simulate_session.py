"""Simulate a session of many model units under one stimulus and write it as an NWB file
(read back by the workflow through the NWB reader, like a lab's file), with the truth."""
from _common import start

_SESSION = f"simulation.sessions.{snakemake.wildcards.simulated_session}"
start(snakemake, keys={
    "n_units": f"{_SESSION}.n_units", "n_frames": f"{_SESSION}.n_frames",
    "seed": f"{_SESSION}.seed", "frame_shape": "simulation.frame_height, simulation.frame_width",
    "mean_frame_duration": "simulation.mean_frame_duration",
    "sd_frame_duration": "simulation.sd_frame_duration", "dt": "simulation.dt",
})

import logging

import numpy as np

from sparsefield.io import save_npz
from sparsefield.io.nwb import write_nwb_session
from sparsefield.rf.simulate_session import session_models, simulate_session

settings = dict(snakemake.params.stimulus)
session = dict(snakemake.params.session)
frame_shape = (settings["frame_height"], settings["frame_width"])
n_frames = session.get("n_frames", settings["n_frames"])
models = session_models(frame_shape, n_units=session["n_units"], seed=session["seed"],
                        n_frames=n_frames,
                        mean_frame_duration=settings["mean_frame_duration"])
raw, truths = simulate_session(
    models,
    n_frames=n_frames,
    frame_shape=frame_shape,
    mean_frame_duration=settings["mean_frame_duration"],
    sd_frame_duration=settings["sd_frame_duration"],
    dt=settings["dt"],
    seed=session["seed"],
)
for unit_id, train in zip(raw["unit_ids"].tolist(), raw["spike_times"], strict=True):
    logging.info("unit %d (%s): %d spikes", unit_id, truths[unit_id]["model_kind"], train.size)
write_nwb_session(
    snakemake.output.nwb,
    unit_ids=raw["unit_ids"],
    spike_trains=raw["spike_times"],
    stimulus_frames=raw["stimulus"][:n_frames],
    frame_times=raw["trigger_times"],
    identifier=f"sparsefield-{snakemake.wildcards.simulated_session}",
    session_description="sparsefield simulated session: model units with known receptive fields",
)
# Each unit's truth under u<id>_<name> (sparsefield.rf.summary.truth_of_unit reads it back).
truth = {"unit_ids": np.asarray(raw["unit_ids"], dtype=np.int64)}
for unit_id, arrays in truths.items():
    truth.update({f"u{int(unit_id)}_{name}": value for name, value in arrays.items()})
save_npz(snakemake.output.truth, truth)
