"""Simulate one model neuron and write its raw files in the real recording's layout."""
from _common import start

start(snakemake, keys={
    "n_frames": "simulation.n_frames", "n_extra_frames": "simulation.n_extra_frames",
    "frame_shape": "simulation.frame_height, simulation.frame_width",
    "mean_frame_duration": "simulation.mean_frame_duration",
    "sd_frame_duration": "simulation.sd_frame_duration", "dt": "simulation.dt",
    "seed": f"simulation.neurons.{snakemake.wildcards.neuron}.seed",
})

import logging

from sparsefield.io import save_npz, save_raw_mat
from sparsefield.rf.neuron import NeuronModel
from sparsefield.rf.simulate import simulate_recording

settings = dict(snakemake.params.stimulus)
model_settings = dict(snakemake.params.model)
seed = model_settings.pop("seed")
raw, truth = simulate_recording(
    NeuronModel.from_dict(model_settings,
                          source=f"simulation.neurons.{snakemake.wildcards.neuron}"),
    n_frames=settings["n_frames"],
    frame_shape=(settings["frame_height"], settings["frame_width"]),
    mean_frame_duration=settings["mean_frame_duration"],
    sd_frame_duration=settings["sd_frame_duration"],
    n_extra_frames=settings["n_extra_frames"],
    dt=settings["dt"],
    seed=seed,
)
logging.info(
    "%d spikes over %.1f s", raw["spike_times"].size, raw["trigger_times"][-1]
)
save_raw_mat(
    snakemake.output.raw, raw["spike_times"], raw["trigger_times"], raw["stimulus_hwt"]
)
save_npz(snakemake.output.truth, truth)
