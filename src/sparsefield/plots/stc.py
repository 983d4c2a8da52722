"""The spike-triggered covariance figure of one unit, for every stimulus geometry.

:func:`stc_figure` draws what :mod:`sparsefield.rf.units_stc` computed: the eigenvalue
spectrum against the null band, and the STA with the significant filters (grid: one
map per lag over the unit's window; bars: x–t maps; full field: curves over the
lags).  Save with :func:`sparsefield.plots.style.save_figure`.
"""

from collections.abc import Sequence
from typing import cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from numpy.typing import ArrayLike, NDArray

from sparsefield.plots.layout import plot_array, show_map, zero_line
from sparsefield.plots.style import GREY, new_figure, styled, symmetric_limits
from sparsefield.rf.shape import stimulus_geometry

__all__ = ["stc_figure"]

#: Colours of excitatory and suppressive axes.
EXCITATORY, SUPPRESSIVE = "tab:red", "tab:blue"


def _spectrum(axes: Axes, eigenvalues: NDArray[np.float64], null_band: NDArray[np.float64],
              n_excitatory: int, n_suppressive: int) -> None:
    """Eigenvalues by rank, the null band shaded, significant ones coloured."""
    ranks = np.arange(1, eigenvalues.size + 1)
    axes.axhspan(null_band[0], null_band[1], color=GREY, alpha=0.25, lw=0, label="null band")
    colours = np.full(eigenvalues.size, GREY, dtype=object)
    colours[:n_excitatory] = EXCITATORY
    if n_suppressive:
        colours[-n_suppressive:] = SUPPRESSIVE
    axes.scatter(ranks, eigenvalues, s=6, c=list(colours), zorder=3)
    zero_line(axes)
    axes.set_xlabel("rank")
    axes.set_ylabel("eigenvalue of C_spike - C_prior")
    axes.set_title(f"{n_excitatory} excitatory, {n_suppressive} suppressive")


@styled
def stc_figure(eigenvalues: ArrayLike, null_band: ArrayLike, filters: ArrayLike,
               labels: Sequence[str], window_shape: Sequence[int],
               lag_ms: ArrayLike, n_excitatory: int, n_suppressive: int,
               title: str = "") -> Figure:
    """Spike-triggered covariance of one unit: spectrum and filters.

    Parameters
    ----------
    eigenvalues : array_like of shape (n_axes,)
        Decreasing; NaN entries are left out.
    null_band : array_like of shape (2,)
    filters : array_like of shape (n_filters, n_lags, n_window_pixels)
        What to draw (e.g. the STA and the significant filters), one row each.
    labels : sequence of str, length n_filters
        Each filter's name (with its eigenvalue).
    window_shape : (height, width)
        Shape of the window's pixels: a grid patch, bars ``(1, n)`` or ``(n, 1)``, or
        full field ``(1, 1)``.
    lag_ms : array_like of shape (n_lags,)
        Delay of each lag, in ms.
    n_excitatory, n_suppressive : int
        Significant axes (the first and last eigenvalues).
    title : str

    Returns
    -------
    matplotlib.figure.Figure
    """
    values = plot_array(eigenvalues, "eigenvalues", 1)
    values = values[np.isfinite(values)]
    band = plot_array(null_band, "null_band", 1, length=2)
    lag_ms = plot_array(lag_ms, "lag_ms", 1)
    shown = plot_array(filters, "filters", 3) if len(labels) else np.empty((0, lag_ms.size, 1))
    geometry = stimulus_geometry(window_shape)
    n_lags = lag_ms.size
    vmax = symmetric_limits(shown) if shown.size else 1.0
    if geometry == "grid":
        columns = n_lags
        figure = new_figure(2.6 + 1.1 * columns, max(2.4, 1.1 * max(len(labels), 1) + 0.6))
        outer = np.asarray(figure.subfigures(1, 2, width_ratios=[2.6, 1.1 * columns]))
        left, right = cast(SubFigure, outer[0]), cast(SubFigure, outer[1])
        _spectrum(left.subplots(), values, band, n_excitatory, n_suppressive)
        if len(labels):
            grid = right.subplots(len(labels), columns, squeeze=False)
            for row, (values_row, label) in enumerate(zip(shown, labels, strict=True)):
                for lag in range(n_lags):
                    show_map(grid[row, lag], values_row[lag].reshape(window_shape), vmax)
                    if row == 0:
                        grid[row, lag].set_title(f"{lag_ms[lag]:.0f} ms")
                grid[row, 0].set_ylabel(label, fontsize="small")
    elif geometry == "bars":
        figure = new_figure(2.6 + 1.6 * max(len(labels), 1), 2.6)
        axes = figure.subplots(1, 1 + max(len(labels), 1), squeeze=False)[0]
        _spectrum(axes[0], values, band, n_excitatory, n_suppressive)
        for panel, (values_row, label) in zip(axes[1:], zip(shown, labels, strict=True),
                                              strict=False):
            panel.imshow(values_row, cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto",
                         origin="lower", interpolation="nearest",
                         extent=(-0.5, values_row.shape[1] - 0.5, -0.5, n_lags - 0.5))
            ticks = np.arange(0, n_lags, max(1, int(np.ceil(n_lags / 6))))
            panel.set_yticks(ticks, [f"{lag_ms[tick]:.0f}" for tick in ticks])
            panel.set_xlabel("bar")
            panel.set_ylabel("delay (ms)")
            panel.set_title(label, fontsize="small")
        for panel in axes[1 + len(labels):]:
            panel.set_axis_off()
    else:
        figure = new_figure(5.4, 2.6)
        axes = figure.subplots(1, 2)
        _spectrum(axes[0], values, band, n_excitatory, n_suppressive)
        for values_row, label in zip(shown, labels, strict=True):
            axes[1].plot(lag_ms, values_row[:, 0], marker="o", ms=3, label=label)
        zero_line(axes[1])
        axes[1].set_xlabel("delay (ms)")
        axes[1].set_ylabel("filter weight")
        if len(labels):
            axes[1].legend(fontsize="small")
    if title:
        figure.suptitle(title)
    return figure
