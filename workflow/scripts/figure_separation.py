"""Rank-1 space-time separation of a receptive field (ML or lasso)."""
from _common import load, load_unit, start

start(snakemake)

import numpy as np

from sparsefield.plots import save_figure, separation_figure
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.separation import UnitsSeparation

session, index, recording = load_unit(snakemake)
binned = load(UnitCounts, snakemake.input.counts).unit(index)
separation = load(UnitsSeparation, snakemake.input.separation).unit(index)
with np.load(snakemake.input.fit, allow_pickle=False) as fit:
    lags = fit["lags"]
figure = separation_figure(
    separation.spatial,
    separation.temporal,
    lags * float(np.median(binned.durations)),
    recording.frame_shape,
    f"{recording.recording_id}: {snakemake.params.label}",
    separation.explained,
)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
