"""Figures from plain arrays; one deterministic save helper.

Figure functions (:mod:`sparsefield.plots.overview`, :mod:`sparsefield.plots.rf`,
:mod:`sparsefield.plots.sta`, :mod:`sparsefield.plots.stc`, :mod:`sparsefield.plots.lasso`,
:mod:`sparsefield.plots.lasso_cv`, :mod:`sparsefield.plots.models`,
:mod:`sparsefield.plots.nonlinearity`,
:mod:`sparsefield.plots.session`, and for sparse coding
:mod:`sparsefield.plots.atoms` and :mod:`sparsefield.plots.sparse`) take
arrays that were computed elsewhere and return a
:class:`matplotlib.figure.Figure` on an Agg canvas; they never fit anything
and never touch pyplot or the user's backend.  They share their input checks,
panel layout, maps, x–t maps and colour bars (:mod:`sparsefield.plots.layout`)
and their delay labels (:mod:`sparsefield.plots.delays`).  Receptive-field
figures draw checkerboards, bars and full-field flicker each in their own way,
by :func:`stimulus_geometry` of the frame shape.  Save with
:func:`save_figure`, which gives the same bytes for the same inputs.
"""

from sparsefield.plots.lasso import lasso_grid_figure, ml_vs_lasso_figure
from sparsefield.plots.lasso_cv import cv_curve_figure
from sparsefield.plots.models import models_figure
from sparsefield.plots.nonlinearity import nonlinearity_figure
from sparsefield.plots.overview import overview_figure
from sparsefield.plots.rf import rf_lags_figure, separation_figure, truth_figure
from sparsefield.plots.session import kernel_heatmap_figure, mosaic_figure, rf_atlas_figure
from sparsefield.plots.sta import sta_figure
from sparsefield.plots.stc import stc_figure
from sparsefield.plots.style import STYLE, save_figure, symmetric_limits
from sparsefield.rf.shape import stimulus_geometry

__all__ = [
    "STYLE",
    "cv_curve_figure",
    "kernel_heatmap_figure",
    "lasso_grid_figure",
    "ml_vs_lasso_figure",
    "models_figure",
    "mosaic_figure",
    "nonlinearity_figure",
    "overview_figure",
    "rf_atlas_figure",
    "rf_lags_figure",
    "save_figure",
    "separation_figure",
    "sta_figure",
    "stc_figure",
    "stimulus_geometry",
    "symmetric_limits",
    "truth_figure",
]
