"""Receptive-field figures from plain arrays, for every stimulus geometry.

* :func:`rf_lags_figure`: the filter at every lag;
* :func:`separation_figure`: the rank-1 space-time separation;
* :func:`truth_figure`: a planted receptive field beside its estimate.

The spike-triggered average has its own module (:mod:`sparsefield.plots.sta`),
and so does the overview of a recording (:mod:`sparsefield.plots.overview`).
Each function takes arrays that the analysis already computed and returns a
:class:`matplotlib.figure.Figure`; nothing here fits or estimates anything.
Signed maps share one symmetric diverging colour scale centred at 0
(:data:`sparsefield.plots.style.DIVERGING`).  Save with
:func:`sparsefield.plots.style.save_figure`.

The frame shape decides how a receptive field is drawn
(:func:`sparsefield.rf.shape.stimulus_geometry`, the one place that rule is
written):

* ``"grid"`` (a checkerboard, ``(height, width)``): one map per lag; beyond
  ``max_panels`` lags an evenly spaced subset of lags (always with the peak
  lag) and the time course of the peak pixel over all lags;
* ``"bars"`` (``(1, width)`` or ``(height, 1)``): one x–t map, time before
  the spike down the vertical axis and bar position across, instead of one
  tile per lag;
* ``"full_field"`` (``(1, 1)``): curves over the time before the spike; no
  1x1 images.

Delays are printed by :func:`sparsefield.plots.delays.delay_text`; maps,
x–t maps, curves and colour bars are drawn by :mod:`sparsefield.plots.layout`.
"""

from collections.abc import Sequence
from typing import cast

import numpy as np
from matplotlib.figure import Figure, SubFigure
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_int
from sparsefield.plots.delays import delay_text, every_text, lag_subset, lag_title, milliseconds
from sparsefield.plots.layout import (
    add_colorbar,
    bar_axis_label,
    checked_frame_duration,
    checked_frame_shape,
    delay_curve,
    label_delay_axes,
    map_panel,
    map_size,
    mark_cell,
    mark_pixel,
    panel_axes,
    panel_grid,
    plot_array,
    row_height_ms,
    show_map,
    show_xt,
    to_image,
    zero_line,
)
from sparsefield.plots.style import DIVERGING, new_figure, styled, symmetric_limits
from sparsefield.rf.shape import stimulus_geometry
from sparsefield.rf.summary import peak_pixel

__all__ = [
    "MAX_PANELS",
    "rf_lags_figure",
    "separation_figure",
    "truth_figure",
]

#: Most maps (lags) drawn in one figure; beyond, an evenly spaced subset.
MAX_PANELS = 12

#: Width and height of one x–t panel, inches.
_XT_SIZE = (3.0, 2.4)

#: What the rank-1 separation's two factors are (:mod:`sparsefield.rf.separation`):
#: the spatial map has unit norm (no unit), the temporal kernel carries the
#: scale of the separated weights.
_SPATIAL_LABEL = "spatial map (unit norm)"
_TEMPORAL_LABEL = "temporal kernel (scale of the weights)"


# --------------------------------------------------------------------------
# receptive field per lag


@styled
def rf_lags_figure(weights: ArrayLike, lags: ArrayLike, frame_shape: Sequence[int],
                   frame_duration: float, title: str, *, max_panels: int = MAX_PANELS) -> Figure:
    """The receptive field at every lag on one shared symmetric colour scale.

    Parameters
    ----------
    weights : array_like of shape (n_lags, n_pixels)
        Filter weights per lag, pixels in C order.
    lags : array_like of shape (n_lags,)
        Lag of each row in frames (distinct for bars).
    frame_shape : tuple of int
        ``(height, width)`` with ``height * width == n_pixels``.
    frame_duration : float
        Typical frame duration in s, to give each lag in ms.
    title : str
        Figure title.
    max_panels : int, keyword-only
        Grid: most maps drawn (default 12, in rows of at most 6).

    Returns
    -------
    matplotlib.figure.Figure
        Grid: one map per lag and one colour bar; the pixel with the
        largest ``|weight|`` over all lags is outlined in every panel
        (heavier in the panel of its lag).  With more than ``max_panels``
        lags, every ``k``-th lag (and the peak lag) and, below, the weight of
        the peak pixel over all lags.  Bars: one x–t map (time before the
        spike down, bar position across) with the peak cell outlined, and
        the two cuts through the peak.  Full field: the weight over the time
        before the spike.
    """
    weights = plot_array(weights, "weights", 2)
    lags = plot_array(lags, "lags", 1, length=weights.shape[0])
    frame_shape = checked_frame_shape(frame_shape, weights.shape[1], "weights")
    frame_duration = checked_frame_duration(frame_duration)
    max_panels = as_int(max_panels, "max_panels", minimum=1)
    geometry = stimulus_geometry(frame_shape)
    peak_lag, row, col = peak_pixel(weights, frame_shape)
    pixel = row * frame_shape[1] + col
    times = lags * frame_duration
    peak_text = lag_title(lags[peak_lag], frame_duration)
    if geometry == "full_field":
        figure = new_figure(5.5, 3.2)
        axes = figure.subplots()
        zero_line(axes)
        delay_curve(axes, times, weights[:, 0], color="C0")
        delay_curve(axes, times[[peak_lag]], weights[[peak_lag], 0], color="C3", linestyle="none",
                    marker="o", markersize=6.0, fillstyle="none")
        label_delay_axes(axes, "weight")
        axes.set_title("full-field stimulus: weight per lag")
        figure.suptitle(f"{title}\npeak |weight| at {peak_text}")
        return figure
    if geometry == "bars":
        figure = _xt_with_cuts(weights, times, frame_shape, frame_duration, (peak_lag, pixel),
                               "weight")
        figure.suptitle(f"{title}\npeak |weight| at bar {pixel}, {peak_text}")
        return figure
    shown_lags, step = lag_subset(lags.size, max_panels, peak_lag)
    n_rows, n_columns = panel_grid(shown_lags.size)
    panel_width, panel_height, aspect = map_panel(frame_shape)
    maps_height = n_rows * (panel_height + 0.3) + 0.6
    subset = shown_lags.size < lags.size
    figure = new_figure(panel_width * n_columns + 0.9, maps_height + (2.2 if subset else 0.0))
    map_figure: Figure | SubFigure
    if subset:
        map_figure, course_figure = cast(
            np.ndarray, figure.subfigures(2, 1, height_ratios=[maps_height, 2.2]))
    else:
        map_figure = figure
    vmax = symmetric_limits(weights)
    panels = panel_axes(map_figure, shown_lags.size, n_rows, n_columns)
    for axes, position in zip(panels, shown_lags, strict=True):
        shown = show_map(axes, to_image(weights[position], frame_shape), vmax, aspect=aspect)
        mark_pixel(axes, row, col, strong=position == peak_lag)
        axes.set_title(lag_title(lags[position], frame_duration))
    add_colorbar(map_figure, shown, panels, "weight")
    heading = f"{title}\npeak |weight| at row {row}, col {col}, lag {lags[peak_lag]:g}"
    if subset:
        axes = course_figure.subplots()
        zero_line(axes)
        delay_curve(axes, times, weights[:, pixel], color="C0", label="all lags")
        delay_curve(axes, times[shown_lags], weights[shown_lags, pixel], color="C3",
                    linestyle="none", label="maps shown above")
        label_delay_axes(axes, "weight")
        axes.set_title(f"weight at row {row}, col {col} over all {lags.size} lags")
        axes.legend(loc="upper right")
        heading += f" (maps: {every_text(step)} of {lags.size} lags, with the peak lag)"
    figure.suptitle(heading)
    return figure


def _xt_with_cuts(values: NDArray[np.float64], times: NDArray[np.float64],
                  frame_shape: tuple[int, int], step: float, peak: tuple[int, int], label: str, *,
                  limits: tuple[float, float] | None = None, cmap: str = DIVERGING) -> Figure:
    """Bars: x–t map of ``values`` (n_times, n_bars) and its cuts through
    ``peak = (time index, bar)``.
    """
    peak_time, bar = peak
    figure = new_figure(_XT_SIZE[0] + 5.6, _XT_SIZE[1] + 0.8)
    map_axes, time_axes, space_axes = figure.subplots(1, 3,
                                                      width_ratios=[_XT_SIZE[0], 2.6, 2.6])
    vmax = symmetric_limits(values)
    shown = show_xt(map_axes, values, times, bar_axis_label(frame_shape), vmax=vmax, limits=limits,
                    cmap=cmap, step=step)
    mark_cell(map_axes, bar, times[peak_time], row_height_ms(times, step))
    map_axes.set_title("x–t map (one colour scale)")
    add_colorbar(figure, shown, map_axes, label)
    zero_line(time_axes)
    delay_curve(time_axes, times, values[:, bar], color="C0")
    label_delay_axes(time_axes, label)
    time_axes.set_title(f"at bar {bar}")
    zero_line(space_axes)
    space_axes.plot(np.arange(values.shape[1]), values[peak_time], color="C0",
                    marker="o" if values.shape[1] <= 60 else None, markersize=3.0)
    space_axes.set_xlabel(bar_axis_label(frame_shape))
    space_axes.set_ylabel(label)
    space_axes.set_title(f"at {delay_text(times[peak_time], step)} before the spike")
    return figure


# --------------------------------------------------------------------------
# space-time separation


@styled
def separation_figure(spatial: ArrayLike, temporal: ArrayLike, times: ArrayLike,
                      frame_shape: Sequence[int], title: str, explained: float) -> Figure:
    """Rank-1 space-time separation: spatial map and temporal kernel.

    Parameters
    ----------
    spatial : array_like of shape (n_pixels,)
        Spatial component, pixels in C order: unit norm
        (:attr:`sparsefield.rf.separation.Separation.spatial`), labelled
        "spatial map (unit norm)".
    temporal : array_like of shape (n_lags,)
        Temporal component, carrying the scale of the separated weights
        (``outer(temporal, spatial)`` approximates them), labelled
        "temporal kernel (scale of the weights)".
    times : array_like of shape (n_lags,)
        Time before the spike of each temporal entry, in s.
    frame_shape : tuple of int
        ``(height, width)`` with ``height * width == n_pixels``.
    title : str
        Figure title.
    explained : float
        :attr:`sparsefield.rf.separation.Separation.explained`: the fraction of
        the squared Frobenius norm ``‖M‖²`` of the separated matrix ``M``
        (after its centring, if any) that the rank-1 term captures, in [0, 1].
        It is a share of the variance only when ``M`` was centred.

    Returns
    -------
    matplotlib.figure.Figure
        The title gives ``explained`` as "rank 1: 55.0 % of ‖M‖²".  Grid:
        the spatial map and the temporal kernel.  Bars: the spatial profile
        over bar position and the temporal kernel.  Full field: the temporal
        kernel (the spatial component is one number, given in its title).
    """
    spatial = plot_array(spatial, "spatial", 1)
    temporal = plot_array(temporal, "temporal", 1)
    times = plot_array(times, "times", 1, length=temporal.size)
    frame_shape = checked_frame_shape(frame_shape, spatial.size, "spatial")
    geometry = stimulus_geometry(frame_shape)
    _, row, col = peak_pixel(spatial, frame_shape)
    if np.any(spatial):
        share = f"rank 1: {100.0 * explained:.1f} % of ‖M‖²"
    else:
        share = "no receptive field: all weights are zero"
    if geometry == "full_field":
        figure = new_figure(5.5, 3.2)
        time_axes = figure.subplots()
        time_axes.set_title(f"temporal kernel (full field; spatial map = {spatial[0]:.3g}, "
                            "unit norm)")
    elif geometry == "bars":
        figure = new_figure(8.0, 3.2)
        space_axes, time_axes = figure.subplots(1, 2)
        zero_line(space_axes)
        space_axes.plot(np.arange(spatial.size), spatial, color="C0",
                        marker="o" if spatial.size <= 60 else None, markersize=3.0)
        space_axes.set_xlabel(bar_axis_label(frame_shape))
        space_axes.set_ylabel(_SPATIAL_LABEL)
        pixel = row * frame_shape[1] + col
        space_axes.set_title(f"spatial map (peak at bar {pixel})" if np.any(spatial)
                             else "spatial map (all zero)")
        time_axes.set_title("temporal kernel")
    else:
        width, height = map_size(frame_shape, 1)
        figure = new_figure(width + 3.2, height + 0.4)
        map_axes, time_axes = figure.subplots(1, 2, width_ratios=[1.0, 1.6])
        _, _, aspect = map_panel(frame_shape)
        shown = show_map(map_axes, to_image(spatial, frame_shape), symmetric_limits(spatial),
                         pixel_labels=True, aspect=aspect)
        if np.any(spatial):
            mark_pixel(map_axes, row, col)
            map_axes.set_title(f"spatial map (peak row {row}, col {col})")
        else:
            map_axes.set_title("spatial map (all zero)")
        add_colorbar(figure, shown, map_axes, _SPATIAL_LABEL)
        time_axes.set_title("temporal kernel")
    zero_line(time_axes)
    delay_curve(time_axes, times, temporal, color="C0")
    label_delay_axes(time_axes, _TEMPORAL_LABEL)
    figure.suptitle(f"{title} ({share})")
    return figure


# --------------------------------------------------------------------------
# planted versus recovered


@styled
def truth_figure(
    true_spatial: ArrayLike, est_spatial: ArrayLike, true_temporal: ArrayLike,
    est_temporal: ArrayLike, times: ArrayLike, frame_shape: Sequence[int], spatial_corr: float,
    temporal_corr: float, label: str,
) -> Figure:
    """Planted versus recovered receptive field.

    Parameters
    ----------
    true_spatial, est_spatial : array_like of shape (n_pixels,)
        Planted and estimated spatial maps, pixels in C order.
    true_temporal, est_temporal : array_like of shape (n_times,)
        Planted and estimated temporal kernels.
    times : array_like of shape (n_times,)
        Time before the spike of each kernel entry, in s.
    frame_shape : tuple of int
        ``(height, width)`` with ``height * width == n_pixels``.
    spatial_corr, temporal_corr : float
        Correlations between truth and estimate, shown in the titles.
    label : str
        Figure title (which model neuron, which estimator).

    Returns
    -------
    matplotlib.figure.Figure
        Grid: the two maps, each divided by its largest ``|value|``, on one
        scale [-1, 1]; bars: the two profiles, so divided, overlaid; full
        field: no spatial panel (one number each).  Then the two kernels,
        each divided by its largest ``|value|``, overlaid.
    """
    times = plot_array(times, "times", 1)
    true_spatial = plot_array(true_spatial, "true_spatial", 1)
    maps = [true_spatial, plot_array(est_spatial, "est_spatial", 1, length=true_spatial.size)]
    kernels = [plot_array(kernel, name, 1, length=times.size)
               for name, kernel in (("true_temporal", true_temporal),
                                    ("est_temporal", est_temporal))]
    frame_shape = checked_frame_shape(frame_shape, true_spatial.size, "true_spatial")
    geometry = stimulus_geometry(frame_shape)
    if geometry == "full_field":
        figure = new_figure(5.5, 3.2)
        time_axes = figure.subplots()
    elif geometry == "bars":
        figure = new_figure(8.0, 3.2)
        space_axes, time_axes = figure.subplots(1, 2)
        zero_line(space_axes)
        for image, name, style in zip(maps, ("truth", "estimate"), ("-", "o--"), strict=True):
            space_axes.plot(np.arange(image.size), _unit_max(image), style, markersize=3.0,
                            label=name)
        space_axes.set_xlabel(bar_axis_label(frame_shape))
        space_axes.set_ylabel("weight / max |weight|")
        space_axes.set_title(f"spatial, r = {spatial_corr:.2f}")
        space_axes.legend(loc="best")
    else:
        width, height = map_size(frame_shape, 2)
        _, _, aspect = map_panel(frame_shape)
        figure = new_figure(width + 3.2, height)
        map_figure, time_figure = cast(np.ndarray,
                                       figure.subfigures(1, 2, width_ratios=[width, 3.2]))
        map_row = map_figure.subplots(1, 2)
        for axes, image, name in zip(map_row, maps, ("truth", f"estimate, r = {spatial_corr:.2f}"),
                                     strict=True):
            shown = show_map(axes, to_image(_unit_max(image), frame_shape), 1.0, aspect=aspect)
            axes.set_title(name)
        add_colorbar(map_figure, shown, list(map_row), "weight / max |weight|")
        time_axes = time_figure.subplots()
    zero_line(time_axes)
    order = np.argsort(times, kind="stable")
    for kernel, name, style in zip(kernels, ("truth", "estimate"), ("-", "o--"), strict=True):
        time_axes.plot(milliseconds(times[order]), _unit_max(kernel)[order], style, markersize=3.0,
                       label=name)
    label_delay_axes(time_axes, "weight / max |weight|")
    time_axes.set_title(f"temporal, r = {temporal_corr:.2f}")
    time_axes.legend(loc="best")
    figure.suptitle(label)
    return figure


def _unit_max(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Divide ``values`` by its largest finite ``|value|`` (unchanged when that is 0)."""
    return values / symmetric_limits(values)
