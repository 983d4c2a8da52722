"""Simulated unit: true receptive field beside the recovered one."""
from _common import load, load_unit, start

start(snakemake)

import numpy as np
import pandas as pd

from sparsefield.plots import save_figure, truth_figure
from sparsefield.rf.binning import UnitCounts
from sparsefield.rf.separation import UnitsSeparation
from sparsefield.rf.summary import truth_of_unit
from sparsefield.rf.units_ml import UnitsML

session, index, recording = load_unit(snakemake)
unit_id = int(session.unit_ids[index])
binned = load(UnitCounts, snakemake.input.counts).unit(index)
fit = load(UnitsML, snakemake.input.fit).unit(index)
separation = load(UnitsSeparation, snakemake.input.separation).unit(index)
table = pd.read_csv(snakemake.input.units, sep="\t")
metrics = table[table["unit_id"] == unit_id].iloc[0]
with np.load(snakemake.input.truth, allow_pickle=False) as arrays:
    truth = truth_of_unit(dict(arrays), unit_id)
true_temporal = np.asarray(truth["temporal_lags"])[fit.lags]
best = fit.lag_position(fit.best_lag)
figure = truth_figure(
    truth["spatial"],
    fit.weights[best],
    true_temporal,
    separation.temporal,
    fit.lags * float(np.median(binned.durations)),
    recording.frame_shape,
    float(metrics["truth_spatial_corr_best_lag"]),
    float(metrics["truth_temporal_corr_svd"]),
    f"{session.session_id} unit {unit_id} (best lag {fit.best_lag})",
)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
