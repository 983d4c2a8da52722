"""Rank-1 space-time separation of the ML receptive field."""
from _common import load, start

start(snakemake)

import numpy as np

from sparsefield.io import Recording
from sparsefield.plots import save_figure, separation_figure
from sparsefield.rf.binning import BinnedCounts
from sparsefield.rf.ml import MLFit
from sparsefield.rf.separation import Separation

recording = load(Recording, snakemake.input.recording)
binned = load(BinnedCounts, snakemake.input.counts)
fit = load(MLFit, snakemake.input.fit)
separation = load(Separation, snakemake.input.separation)
figure = separation_figure(
    separation.spatial,
    separation.temporal,
    fit.lags * float(np.median(binned.durations)),
    recording.frame_shape,
    f"{recording.recording_id}: ML receptive field, rank-1 SVD",
    separation.explained,
)
save_figure(figure, snakemake.output[0])
