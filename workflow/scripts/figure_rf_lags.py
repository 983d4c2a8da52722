"""The ML receptive field at every lag on one shared colour scale."""
from _common import load, load_unit, start

start(snakemake)

import numpy as np

from sparsefield.plots import rf_lags_figure, save_figure
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.units_ml import UnitsML

session, index, recording = load_unit(snakemake)
binned = load(UnitCounts, snakemake.input.counts).unit(index)
fit = load(UnitsML, snakemake.input.fit).unit(index)
figure = rf_lags_figure(
    fit.weights,
    fit.lags,
    recording.frame_shape,
    float(np.median(binned.durations)),
    f"{recording.recording_id}: Poisson ML receptive field per lag",
)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
