"""Lasso (L1) receptive-field figures from plain arrays.

Two figures for a lasso path fitted per frame lag over penalties
``lambda_1 > ... > lambda_K`` (its cross-validation curve is drawn by
:func:`sparsefield.plots.lasso_cv.cv_curve_figure`):

* :func:`lasso_grid_figure`: the receptive field over the whole path on one
  shared symmetric colour scale.  Grid stimuli with few lags: one row of maps
  per penalty, one column per lag.  Grid stimuli with many lags: the maps of
  the chosen penalty (a subset of lags) above a summary of the path (non-zero
  weights and the peak pixel's weight against the penalty).  Bars: one x–t
  map per penalty.  Full field: one temporal kernel per penalty;
* :func:`ml_vs_lasso_figure`: the maximum-likelihood receptive field beside
  the lasso one at the chosen penalty, each on its own scale.

Like :mod:`sparsefield.plots.rf`, nothing here fits anything; the stimulus
geometry rule is :func:`sparsefield.rf.shape.stimulus_geometry`, the map and
x–t drawing, colour bars and input checks are those of
:mod:`sparsefield.plots.layout`, the delay labels those of
:mod:`sparsefield.plots.delays`.  Save with
:func:`sparsefield.plots.style.save_figure`.
"""

import operator
from collections.abc import Sequence
from typing import Any, Literal, cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import QuadMesh
from matplotlib.colorbar import Colorbar
from matplotlib.colors import LogNorm, Normalize
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_int
from sparsefield.errors import InputError
from sparsefield.plots.delays import every_text, lag_subset, lag_title
from sparsefield.plots.layout import (
    add_colorbar,
    bar_axis_label,
    checked_frame_duration,
    checked_frame_shape,
    delay_curve,
    label_delay_axes,
    map_panel,
    mark_cell,
    panel_axes,
    panel_grid,
    plot_array,
    positive_values,
    row_height_ms,
    show_map,
    show_xt,
    to_image,
    zero_line,
)
from sparsefield.plots.style import new_figure, styled, symmetric_limits
from sparsefield.rf.shape import stimulus_geometry
from sparsefield.rf.summary import peak_pixel

#: Width of one map panel in the lasso grid, inches (height follows the frame
#: shape); smaller than a single row of maps so that ten penalties fit a page.
_GRID_PANEL = 0.62

#: Most lags drawn as a full penalties x lags grid of maps; beyond, the chosen
#: penalty's maps (an evenly spaced subset of lags) and a path summary.
MAX_GRID_LAGS = 12

#: Most lags in each row of the ML-versus-lasso figure; beyond, a subset.
MAX_PAIR_LAGS = 8

#: Width of one map panel in the ML-versus-lasso figure and in the maps of
#: the chosen penalty, inches.
_PAIR_PANEL = 1.1

#: Width and height of one x–t panel of the bars path, inches.
_XT_PANEL = (1.7, 1.45)

#: Colour that marks the chosen penalty (grid row, and its label).
_CHOSEN_COLOUR = "C3"


# --------------------------------------------------------------------------
# checks and small helpers


def _lambda_text(value: float) -> str:
    return f"λ = {value:.1e}"


def _row_label(axes: Axes, text: str, colour: str = "black", bold: bool = False) -> None:
    """Write ``text`` left of ``axes`` as a horizontal y label (kept by constrained layout)."""
    axes.set_ylabel(text, rotation=0, ha="right", va="center", labelpad=4.0, color=colour,
                    fontweight="bold" if bold else "normal")


def _frame_axes(axes: Axes, colour: str, linewidth: float) -> None:
    for spine in axes.spines.values():
        spine.set_edgecolor(colour)
        spine.set_linewidth(linewidth)


# --------------------------------------------------------------------------
# the whole path


@styled
def lasso_grid_figure(weights: ArrayLike, lambdas: ArrayLike, lags: ArrayLike,
                      frame_shape: Sequence[int], frame_duration: float, title: str,
                      chosen: int | None = None, *, max_lags: int = MAX_GRID_LAGS) -> Figure:
    """Lasso receptive fields over the regularisation path.

    Parameters
    ----------
    weights : array_like of shape (n_lambdas, n_lags, n_pixels)
        Lasso weights at each penalty and lag, pixels in C order.
    lambdas : array_like of shape (n_lambdas,)
        Penalty of each row (usually decreasing, as fitted: sparsest first).
    lags : array_like of shape (n_lags,)
        Lag of each column in frames (distinct for bars).
    frame_shape : tuple of int
        ``(height, width)`` with ``height * width == n_pixels``.
    frame_duration : float
        Typical frame duration in s, to give each lag in ms.
    title : str
        Figure title.
    chosen : int or None
        Index into ``lambdas`` of the chosen penalty (e.g. ``lambda_1se``);
        it is framed and its label drawn in red (C3).
    max_lags : int, keyword-only
        Grid stimuli: most lags drawn as a full grid of maps (default 12).

    Returns
    -------
    matplotlib.figure.Figure
        Every map, x–t map or kernel of the path on ONE colour scale
        ``[-vmax, vmax]`` (``vmax`` the largest ``|weight|`` of the whole
        path; exact zeros are white) with one colour bar.

        * Grid, at most ``max_lags`` lags: ``n_lambdas`` by ``n_lags`` maps
          without ticks; each row is labelled with its penalty and its number
          of non-zero weights over all lags (of ``n_lags * n_pixels``).
        * Grid, more lags: the maps at the chosen penalty (without a choice,
          the smallest penalty) for every ``k``-th lag and the peak lag, and
          below, against the penalty, the number of non-zero weights and the
          weight of that penalty's peak pixel (lag and pixel of its largest
          ``|weight|``).
        * Bars: one x–t map per penalty (time before the spike down, bar
          position across), titled with its penalty and non-zero weights.
        * Full field: the temporal kernel of every penalty (colour: penalty),
          the chosen one in red, and the number of non-zero weights against
          the penalty.
    """
    weights = plot_array(weights, "weights", 3)
    lambdas = positive_values("lambdas", plot_array(lambdas, "lambdas", 1, length=weights.shape[0]))
    lags = plot_array(lags, "lags", 1, length=weights.shape[1])
    frame_shape = checked_frame_shape(frame_shape, weights.shape[2], "weights")
    frame_duration = checked_frame_duration(frame_duration)
    chosen = _chosen_index(chosen, lambdas.size)
    max_lags = as_int(max_lags, "max_lags", minimum=1)
    geometry = stimulus_geometry(frame_shape)
    if geometry == "full_field":
        return _kernel_path(weights, lambdas, lags, frame_duration, title, chosen)
    if geometry == "bars":
        return _xt_path(weights, lambdas, lags, frame_shape, frame_duration, title, chosen)
    if lags.size > max_lags:
        return _chosen_maps_and_path(weights, lambdas, lags, frame_shape, frame_duration, title,
                                     chosen, max_lags)
    vmax = symmetric_limits(weights)
    panel_width, panel_height, aspect = map_panel(frame_shape, _GRID_PANEL)
    figure = new_figure(panel_width * lags.size + 2.4, panel_height * lambdas.size + 0.95)
    # not shared: sharing is O(n²) per draw
    grid = figure.subplots(*weights.shape[:2], squeeze=False)
    for row, axes_row in enumerate(grid):
        for column, axes in enumerate(axes_row):
            shown = show_map(axes, to_image(weights[row, column], frame_shape), vmax,
                             aspect=aspect)
        _label_penalty_row(axes_row, lambdas[row], np.count_nonzero(weights[row]),
                           weights[row].size, row == chosen)
    for column, axes in enumerate(grid[0]):
        axes.set_title(lag_title(lags[column], frame_duration, stacked=True))
    _slim_colorbar(figure, shown, grid.ravel().tolist(), "weight (one scale, all panels)",
                   lambdas.size)
    figure.suptitle(_grid_title(title, lambdas, chosen))
    return figure


def _chosen_index(chosen: Any, n_lambdas: int) -> int | None:
    if chosen is None:
        return None
    try:
        index = operator.index(chosen)
    except TypeError:
        raise InputError("chosen",
                         f"expected an integer index into lambdas, got {chosen!r}") from None
    if isinstance(chosen, (bool, np.bool_)) or not -n_lambdas <= index < n_lambdas:
        raise InputError("chosen", f"expected an index into {n_lambdas} lambdas, got {chosen!r}")
    return index % n_lambdas


def _label_penalty_row(axes_row: Sequence[Axes], penalty: float, n_nonzero: int | np.integer[Any],
                       n_weights: int, is_chosen: bool) -> None:
    text = f"{_lambda_text(penalty)}\n{n_nonzero}/{n_weights} non-zero"
    if is_chosen:
        _row_label(axes_row[0], f"▶ {text}", _CHOSEN_COLOUR, bold=True)
        for axes in axes_row:
            _frame_axes(axes, _CHOSEN_COLOUR, 2.0)
    else:
        _row_label(axes_row[0], text)


def _slim_colorbar(figure: Figure, shown: AxesImage | QuadMesh, axes: Sequence[Axes], label: str,
                   n_rows: int) -> Colorbar:
    """One narrow colour bar beside a grid of ``n_rows``: about three rows tall, at least half
    the grid.
    """
    shrink = float(np.clip(3.0 / n_rows, 0.5, 0.9))
    bar = figure.colorbar(shown, ax=axes, shrink=shrink, aspect=20, pad=0.02)
    bar.set_label(label)
    return bar


def _grid_title(title: str, lambdas: NDArray[np.float64], chosen: int | None) -> str:
    lines = [title, f"rows: penalty λ from {lambdas[0]:.1e} (top) to {lambdas[-1]:.1e} (bottom)"]
    if chosen is not None:
        lines.append(f"framed: chosen {_lambda_text(lambdas[chosen])}")
    return "\n".join(lines)


def _chosen_maps_and_path(weights: NDArray[np.float64], lambdas: NDArray[np.float64],
                          lags: NDArray[np.float64], frame_shape: tuple[int, int],
                          frame_duration: float, title: str, chosen: int | None,
                          max_lags: int) -> Figure:
    """Grid stimuli with many lags: the chosen penalty's maps (a subset of lags) above a path
    summary.
    """
    row = chosen if chosen is not None else int(np.argmin(lambdas))
    peak_lag, peak_row, peak_col = peak_pixel(weights[row], frame_shape)
    shown_lags, step = lag_subset(lags.size, max_lags, peak_lag)
    n_rows, n_columns = panel_grid(shown_lags.size)
    panel_width, panel_height, aspect = map_panel(frame_shape, _PAIR_PANEL)
    maps_height = n_rows * (panel_height + 0.45) + 0.3
    figure = new_figure(max(panel_width * n_columns + 1.0, 7.5), maps_height + 2.6)
    map_figure, path_figure = cast(np.ndarray,
                                   figure.subfigures(2, 1, height_ratios=[maps_height, 2.6]))
    vmax = symmetric_limits(weights)
    panels = panel_axes(map_figure, shown_lags.size, n_rows, n_columns)
    for axes, position in zip(panels, shown_lags, strict=True):
        shown = show_map(axes, to_image(weights[row, position], frame_shape), vmax,
                         aspect=aspect)
        axes.set_title(f"{lag_title(lags[position], frame_duration)}\n"
                       f"{np.count_nonzero(weights[row, position])} non-zero")
        if chosen is not None:
            _frame_axes(axes, _CHOSEN_COLOUR, 1.6)
    add_colorbar(map_figure, shown, panels, "weight (scale of the whole path)")
    which = "chosen " + _lambda_text(lambdas[row]) if chosen is not None else \
        f"smallest {_lambda_text(lambdas[row])} (none chosen)"
    map_figure.suptitle(f"maps at the {which}: {every_text(step)} of {lags.size} lags, with the "
                        "peak lag", fontsize="medium",
                        color=_CHOSEN_COLOUR if chosen is not None else "black")
    count_axes, peak_axes = path_figure.subplots(1, 2)
    _draw_nonzero_path(count_axes, weights, lambdas, chosen)
    pixel = peak_row * frame_shape[1] + peak_col
    _draw_penalty_axis(peak_axes, lambdas, weights[:, peak_lag, pixel], chosen, "o-", color="C0")
    zero_line(peak_axes)
    peak_axes.set_ylabel("weight")
    peak_axes.set_title(f"row {peak_row}, col {peak_col}, lag {lags[peak_lag]:g} "
                        "(peak of the maps above)")
    figure.suptitle(f"{title}\npenalty λ from {lambdas.max():.1e} to {lambdas.min():.1e}, "
                    f"{lags.size} lags")
    return figure


def _draw_penalty_axis(axes: Axes, lambdas: NDArray[np.float64], values: NDArray[np.float64],
                       chosen: int | None, style: str, **kwargs: Any) -> None:
    """Plot ``values`` against the penalty on a log axis decreasing to the right; mark the
    chosen one.
    """
    order = np.argsort(lambdas)[::-1]
    axes.plot(lambdas[order], values[order], style, markersize=3.0, **kwargs)
    if chosen is not None:
        axes.axvline(lambdas[chosen], color=_CHOSEN_COLOUR, linestyle=":", linewidth=1.1)
    axes.set_xscale("log")
    if lambdas.min() == lambdas.max():
        axes.set_xlim(lambdas[0] * 1.5, lambdas[0] / 1.5)
    else:
        axes.set_xlim(lambdas.max() * 1.2, lambdas.min() / 1.2)
    axes.set_xlabel("penalty λ (log, decreasing →)")


def _draw_nonzero_path(axes: Axes, weights: NDArray[np.float64], lambdas: NDArray[np.float64],
                       chosen: int | None) -> None:
    counts = np.array([np.count_nonzero(row) for row in weights], dtype=float)
    _draw_penalty_axis(axes, lambdas, counts, chosen, "o-", color="0.2")
    axes.set_ylim(bottom=0.0)
    axes.set_ylabel(f"non-zero weights (of {weights[0].size})")
    axes.set_title("non-zero weights" + (" (dotted: chosen λ)" if chosen is not None else ""))


def _xt_path(weights: NDArray[np.float64], lambdas: NDArray[np.float64], lags: NDArray[np.float64],
             frame_shape: tuple[int, int], frame_duration: float, title: str,
             chosen: int | None) -> Figure:
    """Bars: one x–t map per penalty on one colour scale."""
    n_rows, n_columns = panel_grid(lambdas.size, per_row=5)
    figure = new_figure(_XT_PANEL[0] * n_columns + 1.6, (_XT_PANEL[1] + 0.45) * n_rows + 1.3)
    panels = panel_axes(figure, lambdas.size, n_rows, n_columns)  # same limits by construction
    vmax = symmetric_limits(weights)
    times = lags * frame_duration
    for index, axes in enumerate(panels):
        shown = show_xt(axes, weights[index], times, bar_axis_label(frame_shape), vmax=vmax,
                        step=frame_duration)
        is_chosen = index == chosen
        axes.set_title(f"{'▶ ' if is_chosen else ''}{_lambda_text(lambdas[index])}\n"
                       f"{np.count_nonzero(weights[index])}/{weights[index].size} non-zero",
                       color=_CHOSEN_COLOUR if is_chosen else "black",
                       fontweight="bold" if is_chosen else "normal")
        if is_chosen:
            _frame_axes(axes, _CHOSEN_COLOUR, 2.0)
        if index % n_columns:
            axes.set_ylabel("")
            axes.tick_params(labelleft=False)
        if index + n_columns < lambdas.size:
            axes.set_xlabel("")
            axes.tick_params(labelbottom=False)
    _slim_colorbar(figure, shown, panels, "weight (one scale, all panels)", n_rows)
    lines = [title,
             f"x–t maps per penalty λ, {lambdas[0]:.1e} (first) to {lambdas[-1]:.1e} (last)"]
    if chosen is not None:
        lines.append(f"framed: chosen {_lambda_text(lambdas[chosen])}")
    figure.suptitle("\n".join(lines))
    return figure


def _kernel_path(weights: NDArray[np.float64], lambdas: NDArray[np.float64],
                 lags: NDArray[np.float64], frame_duration: float, title: str,
                 chosen: int | None) -> Figure:
    """Full field: the temporal kernel at every penalty, and the non-zero weights against the
    penalty.
    """
    figure = new_figure(9.5, 3.6)
    kernel_axes, count_axes = figure.subplots(1, 2, width_ratios=[1.5, 1.0])
    norm = LogNorm(lambdas.min(), lambdas.max()) if lambdas.min() < lambdas.max() \
        else Normalize(0.0, 2.0 * lambdas[0])
    colours = ScalarMappable(norm=norm, cmap="viridis")
    times = lags * frame_duration
    zero_line(kernel_axes)
    for index in np.argsort(lambdas)[::-1]:
        if index != chosen:
            delay_curve(kernel_axes, times, weights[index, :, 0],
                        color=colours.to_rgba(lambdas[index]), linewidth=0.9, markersize=2.0)
    if chosen is not None:
        delay_curve(kernel_axes, times, weights[chosen, :, 0], color=_CHOSEN_COLOUR, linewidth=2.0,
                    label=f"chosen {_lambda_text(lambdas[chosen])}")
        kernel_axes.legend(loc="upper right")
    kernel_axes.set_ylim(-1.05 * symmetric_limits(weights), 1.05 * symmetric_limits(weights))
    label_delay_axes(kernel_axes, "weight")
    kernel_axes.set_title("full-field kernel at every penalty")
    add_colorbar(figure, colours, kernel_axes, "penalty λ")
    _draw_nonzero_path(count_axes, weights, lambdas, chosen)
    figure.suptitle(f"{title}\npenalty λ from {lambdas.max():.1e} to {lambdas.min():.1e}, "
                    f"{lags.size} lags")
    return figure


# --------------------------------------------------------------------------
# maximum likelihood versus lasso


@styled
def ml_vs_lasso_figure(ml_weights: ArrayLike, lasso_weights: ArrayLike, lags: ArrayLike,
                       frame_shape: Sequence[int], frame_duration: float, lambda_value: float,
                       title: str, *, max_lags: int = MAX_PAIR_LAGS) -> Figure:
    """Maximum-likelihood receptive field beside the lasso one at one penalty.

    Parameters
    ----------
    ml_weights : array_like of shape (n_lags, n_pixels)
        Unpenalised Poisson weights per lag, pixels in C order.
    lasso_weights : array_like of shape (n_lags, n_pixels)
        Lasso weights per lag at ``lambda_value``.
    lags : array_like of shape (n_lags,)
        Lag of each column in frames (distinct for bars).
    frame_shape : tuple of int
        ``(height, width)`` with ``height * width == n_pixels``.
    frame_duration : float
        Typical frame duration in s, to give each lag in ms.
    lambda_value : float
        Penalty of the lasso fit (> 0).
    title : str
        Figure title.
    max_lags : int, keyword-only
        Grid stimuli: most lags drawn (default 8); beyond, every ``k``-th
        lag and the lag of the largest ML ``|weight|``.

    Returns
    -------
    matplotlib.figure.Figure
        Grid: top row ML, bottom row lasso, one column per lag.  Bars: the
        ML x–t map beside the lasso x–t map.  Each has its own symmetric
        colour scale and colour bar (the lasso shrinks the weights); the
        lasso panels give the number of non-zero weights.  Full field: both
        kernels on one axis.
    """
    ml_weights = plot_array(ml_weights, "ml_weights", 2)
    lasso_weights = plot_array(lasso_weights, "lasso_weights", 2)
    if lasso_weights.shape != ml_weights.shape:
        raise InputError(
            "lasso_weights",
            f"expected the shape of ml_weights {ml_weights.shape}, got {lasso_weights.shape}"
        )
    lags = plot_array(lags, "lags", 1, length=ml_weights.shape[0])
    frame_shape = checked_frame_shape(frame_shape, ml_weights.shape[1], "ml_weights")
    frame_duration = checked_frame_duration(frame_duration)
    lambda_value = float(positive_values("lambda_value", lambda_value))
    max_lags = as_int(max_lags, "max_lags", minimum=1)
    geometry = stimulus_geometry(frame_shape)
    heading = f"{title}\neach on its own scale (the lasso shrinks the weights)"
    times = lags * frame_duration
    lasso_text = (f"lasso {_lambda_text(lambda_value)} "
                  f"({np.count_nonzero(lasso_weights)}/{lasso_weights.size} ≠ 0)")
    if geometry == "full_field":
        figure = new_figure(6.0, 3.4)
        axes = figure.subplots()
        zero_line(axes)
        delay_curve(axes, times, ml_weights[:, 0], color="0.3", label="maximum likelihood")
        delay_curve(axes, times, lasso_weights[:, 0], color="C3", linestyle="--", label=lasso_text)
        label_delay_axes(axes, "weight")
        axes.set_title("full-field kernels")
        axes.legend(loc="best")
        figure.suptitle(f"{title}\nmaximum likelihood and lasso on one axis")
        return figure
    if geometry == "bars":
        figure = new_figure(8.6, 3.4)
        ml_axes, lasso_axes = figure.subplots(1, 2)
        height = row_height_ms(times, frame_duration)
        for axes, weights, name, label in ((ml_axes, ml_weights, "maximum likelihood", "ML weight"),
                                           (lasso_axes, lasso_weights, lasso_text, "lasso weight")):
            shown = show_xt(axes, weights, times, bar_axis_label(frame_shape),
                            vmax=symmetric_limits(weights), step=frame_duration)
            peak, bar, _ = peak_pixel(weights, (weights.shape[1], 1))
            if np.any(weights):
                mark_cell(axes, bar, times[peak], height)
            axes.set_title(name)
            add_colorbar(figure, shown, axes, label)
        figure.suptitle(heading)
        return figure
    peak_lag, _, _ = peak_pixel(ml_weights, frame_shape)
    shown_lags, step = lag_subset(lags.size, max_lags, peak_lag)
    panel_width, panel_height, aspect = map_panel(frame_shape, _PAIR_PANEL)
    figure = new_figure(panel_width * shown_lags.size + 2.3, 2 * panel_height + 1.5)
    ml_row, lasso_row = figure.subplots(2, shown_lags.size, squeeze=False)
    _draw_weight_row(figure, ml_row, ml_weights[shown_lags], frame_shape, "ML weight", aspect)
    _draw_weight_row(figure, lasso_row, lasso_weights[shown_lags], frame_shape, "lasso weight",
                     aspect)
    _row_label(ml_row[0], "maximum\nlikelihood")
    _row_label(lasso_row[0], f"lasso\n{_lambda_text(lambda_value)}")
    n_pixels = ml_weights.shape[1]
    for column, position in enumerate(shown_lags):
        ml_row[column].set_title(lag_title(lags[position], frame_duration, stacked=True))
        lasso_row[column].set_title(
            f"{np.count_nonzero(lasso_weights[position])} / {n_pixels} non-zero")
    if shown_lags.size < lags.size:
        heading += f"; {every_text(step)} of {lags.size} lags, with the ML peak lag"
    figure.suptitle(heading.replace("each on its own scale", "each row on its own colour scale"))
    return figure


def _draw_weight_row(figure: Figure, axes_row: Sequence[Axes], weights: NDArray[np.float64],
                     frame_shape: tuple[int, int], label: str,
                     aspect: Literal["equal", "auto"]) -> None:
    vmax = symmetric_limits(weights)
    for axes, vector in zip(axes_row, weights, strict=True):
        shown = show_map(axes, to_image(vector, frame_shape), vmax, aspect=aspect)
    add_colorbar(figure, shown, list(axes_row), label)
