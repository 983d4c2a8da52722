"""Figures from plain arrays; one deterministic save helper.

Figure functions (:mod:`sparsefield.plots.rf`, :mod:`sparsefield.plots.lasso`,
:mod:`sparsefield.plots.session`) take arrays that were computed elsewhere and
return a :class:`matplotlib.figure.Figure` on an Agg canvas; they never fit
anything and never touch pyplot or the user's backend.  Receptive-field
figures draw checkerboards, bars and full-field flicker each in their own way,
by :func:`stimulus_geometry` of the frame shape.  Save with
:func:`save_figure`, which gives the same bytes for the same inputs.
"""

from sparsefield.plots.lasso import cv_curve_figure, lasso_grid_figure, ml_vs_lasso_figure
from sparsefield.plots.rf import (
    overview_figure,
    rf_lags_figure,
    separation_figure,
    sta_figure,
    stimulus_geometry,
    truth_figure,
)
from sparsefield.plots.session import kernel_heatmap_figure, mosaic_figure, rf_atlas_figure
from sparsefield.plots.style import STYLE, save_figure, symmetric_limits

__all__ = [
    "STYLE",
    "cv_curve_figure",
    "kernel_heatmap_figure",
    "lasso_grid_figure",
    "ml_vs_lasso_figure",
    "mosaic_figure",
    "overview_figure",
    "rf_atlas_figure",
    "rf_lags_figure",
    "save_figure",
    "separation_figure",
    "sta_figure",
    "stimulus_geometry",
    "symmetric_limits",
    "truth_figure",
]
