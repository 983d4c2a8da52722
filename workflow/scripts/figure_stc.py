"""Spike-triggered covariance of one unit: eigenvalue spectrum with the null band, the
STA and the significant filters over the unit's window."""
from _common import load, load_unit, start

start(snakemake)

import numpy as np

from sparsefield.plots import save_figure, stc_figure
from sparsefield.rf.units_stc import UnitsSTC

session, _, recording = load_unit(snakemake)
stc = load(UnitsSTC, snakemake.input.stc)
index = int(np.flatnonzero(stc.unit_ids == int(snakemake.wildcards.unit))[0])
filters, labels = stc.unit_filters(index)
frame_ms = 1000.0 * float(np.median(np.diff(recording.trigger_times)))
title = f"unit {snakemake.wildcards.unit}" + (
    "" if stc.analysed[index] else f": not analysed, {stc.why[index]}")
band = stc.null_band[index] if stc.analysed[index] else np.zeros(2)
figure = stc_figure(stc.eigenvalues[index], band, filters, labels, tuple(stc.window_shape),
                    frame_ms * np.arange(stc.n_lags), int(stc.n_excitatory[index]),
                    int(stc.n_suppressive[index]), title=title)
save_figure(figure, snakemake.output[0], dpi=snakemake.params.dpi)
