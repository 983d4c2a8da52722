"""Simulated recording: true receptive field beside the recovered one."""
from _common import load, start

start(snakemake)

import numpy as np
import pandas as pd

from sparsefield.io import Recording
from sparsefield.plots import save_figure, truth_figure
from sparsefield.rf.binning import BinnedCounts
from sparsefield.rf.ml import MLFit
from sparsefield.rf.separation import Separation

recording = load(Recording, snakemake.input.recording)
binned = load(BinnedCounts, snakemake.input.counts)
fit = load(MLFit, snakemake.input.fit)
separation = load(Separation, snakemake.input.separation)
metrics = pd.read_csv(snakemake.input.metrics, sep="\t").iloc[0]
with np.load(snakemake.input.truth, allow_pickle=False) as truth:
    true_spatial = truth["spatial"]
    true_temporal = truth["temporal_lags"][fit.lags]
best = fit.lag_position(fit.best_lag)
figure = truth_figure(
    true_spatial,
    fit.weights[best],
    true_temporal,
    separation.temporal,
    fit.lags * float(np.median(binned.durations)),
    recording.frame_shape,
    float(metrics["truth_spatial_corr_best_lag"]),
    float(metrics["truth_temporal_corr_svd"]),
    f"{recording.recording_id} (best lag {fit.best_lag})",
)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
