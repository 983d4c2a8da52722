"""The ML receptive field at every lag on one shared colour scale."""
from _common import load, start

start(snakemake)

import numpy as np

from sparsefield.io import Recording
from sparsefield.plots import rf_lags_figure, save_figure
from sparsefield.rf.binning import BinnedCounts
from sparsefield.rf.ml import MLFit

recording = load(Recording, snakemake.input.recording)
binned = load(BinnedCounts, snakemake.input.counts)
fit = load(MLFit, snakemake.input.fit)
figure = rf_lags_figure(
    fit.weights,
    fit.lags,
    recording.frame_shape,
    float(np.median(binned.durations)),
    f"{recording.recording_id}: Poisson ML receptive field per lag",
)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
