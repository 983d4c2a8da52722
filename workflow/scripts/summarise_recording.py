"""One row of summary numbers per recording, with truth metrics when simulated."""
from _common import load, start

start(snakemake)

import numpy as np
import pandas as pd

from sparsefield.io import Recording
from sparsefield.rf.binning import BinnedCounts
from sparsefield.rf.lasso_lags import LassoLags
from sparsefield.rf.metrics import recovery_metrics, separation_metrics
from sparsefield.rf.ml import MLFit
from sparsefield.rf.separation import Separation
from sparsefield.rf.sta import STA
from sparsefield.rf.summary import lasso_summary, recording_summary

recording = load(Recording, snakemake.input.recording)
fit = load(MLFit, snakemake.input.fit)
ml_separation = load(Separation, snakemake.input.ml_separation)
sta = load(STA, snakemake.input.sta)
sta_separation = load(Separation, snakemake.input.sta_separation)
lasso = load(LassoLags, snakemake.input.lasso)
lasso_separation = load(Separation, snakemake.input.lasso_separation)
summary = recording_summary(
    recording,
    load(BinnedCounts, snakemake.input.counts),
    fit,
    ml_separation,
    sta,
    sta_separation,
)
summary.update(lasso_summary(lasso, lasso_separation, recording.frame_shape))
if "truth" in snakemake.input.keys():
    with np.load(snakemake.input.truth, allow_pickle=False) as arrays:
        truth = dict(arrays)
    metrics = recovery_metrics(
        truth,
        fit,
        ml_separation.temporal,
        sta_separation.spatial,
        sta_separation.temporal,
        sta.taus,
    )
    for key, value in separation_metrics(truth, lasso.lags, lasso_separation).items():
        metrics[f"lasso_{key}"] = value
    summary.update({f"truth_{key}": value for key, value in metrics.items()})
pd.DataFrame([summary]).to_csv(snakemake.output[0], sep="\t", index=False, float_format="%.6g")
