"""ML and lasso receptive fields side by side."""
from _common import load, start

start(snakemake)

import numpy as np

from sparsefield.io import Recording
from sparsefield.plots import ml_vs_lasso_figure, save_figure
from sparsefield.rf.binning import BinnedCounts
from sparsefield.rf.lasso_lags import LassoLags
from sparsefield.rf.ml import MLFit

recording = load(Recording, snakemake.input.recording)
binned = load(BinnedCounts, snakemake.input.counts)
ml = load(MLFit, snakemake.input.ml)
lasso = load(LassoLags, snakemake.input.lasso)
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
