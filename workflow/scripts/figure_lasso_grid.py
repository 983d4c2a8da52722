"""Lasso receptive fields over penalties x lags on one colour scale."""
from _common import load, start

start(snakemake)

import numpy as np

from sparsefield.io import Recording
from sparsefield.plots import lasso_grid_figure, save_figure
from sparsefield.rf.binning import BinnedCounts
from sparsefield.rf.lasso_lags import LassoLags

recording = load(Recording, snakemake.input.recording)
binned = load(BinnedCounts, snakemake.input.counts)
fit = load(LassoLags, snakemake.input.fit)
figure = lasso_grid_figure(
    fit.weights,
    fit.lambdas,
    fit.lags,
    recording.frame_shape,
    float(np.median(binned.durations)),
    f"{recording.recording_id}: lasso receptive field over penalties ({fit.backend})",
    chosen=fit.index_chosen,
)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
