"""ML and lasso receptive fields side by side."""
from _common import load, load_unit, start

start(snakemake)

import numpy as np

from sparsefield.plots import ml_vs_lasso_figure, save_figure
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.units_lasso import UnitsLasso
from sparsefield.rf.units_ml import UnitsML

session, index, recording = load_unit(snakemake)
binned = load(UnitCounts, snakemake.input.counts).unit(index)
ml = load(UnitsML, snakemake.input.ml).unit(index)
lasso = load(UnitsLasso, snakemake.input.lasso).unit(index)
shared = [lag for lag in lasso.lags if lag in set(ml.lags)]  # checked non-empty in common.smk
figure = ml_vs_lasso_figure(
    ml.weights[[ml.lag_position(lag) for lag in shared]],
    lasso.chosen_weights[[list(lasso.lags).index(lag) for lag in shared]],
    np.array(shared),
    recording.frame_shape,
    float(np.median(binned.durations)),
    lasso.lambda_chosen,
    f"{recording.recording_id}: maximum likelihood vs lasso",
)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
