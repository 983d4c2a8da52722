"""Held-out bits per spike of every estimate of every scored unit of a session."""
from _common import load, start

start(snakemake)

from sparsefield.io.session import Session
from sparsefield.plots import models_figure, save_figure
from sparsefield.rf.units_scores import UnitsScores

session = load(Session, snakemake.input.recording)
scores = load(UnitsScores, snakemake.input.models)
scored = scores.scored
figure = models_figure(
    scores.bits_per_spike[scored],
    scores.estimates.tolist(),
    scores.unit_ids[scored],
    truth=scores.truth_bits_per_spike[scored],
    title=f"{session.session_id}: held-out bits per spike ({scores.fold_frames.size - 1} "
          f"blocks)",
)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
