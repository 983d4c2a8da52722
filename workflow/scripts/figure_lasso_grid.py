"""Lasso receptive fields over penalties x lags on one colour scale."""
from _common import load, load_unit, start

start(snakemake)

import numpy as np

from sparsefield.plots import lasso_grid_figure, save_figure
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.units_lasso import UnitsLasso

session, index, recording = load_unit(snakemake)
binned = load(UnitCounts, snakemake.input.counts).unit(index)
fit = load(UnitsLasso, snakemake.input.fit).unit(index)
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
