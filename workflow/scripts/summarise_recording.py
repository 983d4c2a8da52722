"""One row of summary numbers per recording, with truth metrics when simulated."""
from _common import load, start

start(snakemake)

import numpy as np
import pandas as pd

from sparsefield.io import Recording
from sparsefield.rf.binning import BinnedCounts
from sparsefield.rf.metrics import recovery_metrics
from sparsefield.rf.ml import MLFit
from sparsefield.rf.separation import Separation
from sparsefield.rf.sta import STA
from sparsefield.rf.summary import recording_summary

fit = load(MLFit, snakemake.input.fit)
ml_separation = load(Separation, snakemake.input.ml_separation)
sta = load(STA, snakemake.input.sta)
sta_separation = load(Separation, snakemake.input.sta_separation)
summary = recording_summary(
    load(Recording, snakemake.input.recording),
    load(BinnedCounts, snakemake.input.counts),
    fit,
    ml_separation,
    sta,
    sta_separation,
)
if "truth" in snakemake.input.keys():
    with np.load(snakemake.input.truth, allow_pickle=False) as truth:
        metrics = recovery_metrics(
            dict(truth),
            fit.weights,
            fit.lags,
            ml_separation.temporal,
            sta_separation.spatial,
            sta_separation.temporal,
            sta.taus,
        )
    summary.update({f"truth_{key}": value for key, value in metrics.items()})
pd.DataFrame([summary]).to_csv(snakemake.output[0], sep="\t", index=False, float_format="%.6g")
