"""The spike-triggered average figure, for every stimulus geometry.

:func:`sta_figure` draws the STA and its z-scores (computed by
:mod:`sparsefield.rf.sta`); nothing here estimates anything.  Grid stimuli
get z-score maps at evenly spaced taus through the peak, bars x–t maps, a
full field curves over the time before the spike.  Save with
:func:`sparsefield.plots.style.save_figure`.
"""

from collections.abc import Sequence
from typing import Literal, cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_int
from sparsefield.errors import InputError
from sparsefield.plots.delays import delay_text, lag_subset, milliseconds
from sparsefield.plots.layout import (
    add_colorbar,
    bar_axis_label,
    checked_frame_shape,
    delay_curve,
    label_delay_axes,
    map_panel,
    mark_cell,
    mark_pixel,
    panel_axes,
    panel_grid,
    plot_array,
    row_height_ms,
    show_image,
    show_map,
    show_xt,
    to_image,
    zero_line,
)
from sparsefield.plots.style import GREY, new_figure, styled, symmetric_limits
from sparsefield.rf.shape import stimulus_geometry
from sparsefield.rf.summary import peak_pixel

__all__ = ["sta_figure"]


@styled
def sta_figure(taus: ArrayLike, sta: ArrayLike, zscore: ArrayLike, frame_shape: Sequence[int],
               n_panels: int = 10) -> Figure:
    """Spike-triggered average: z-scores over tau and the peak time course.

    Parameters
    ----------
    taus : array_like of shape (n_taus,)
        Time before the spike of each row, in s (distinct for bars).
    sta : array_like of shape (n_taus, n_pixels)
        Mean stimulus at each tau before a spike.
    zscore : array_like of shape (n_taus, n_pixels)
        ``sta`` in units of its null distribution's standard deviation.
    frame_shape : tuple of int
        ``(height, width)`` with ``height * width == n_pixels``.
    n_panels : int
        Grid: most z-score maps, at evenly spaced taus through the peak tau
        (:func:`~sparsefield.plots.delays.lag_subset`), in rows of at most
        6; each map is titled with its tau by
        :func:`~sparsefield.plots.delays.delay_text`, as the peak in the
        figure title is.

    Returns
    -------
    matplotlib.figure.Figure
        Grid: z-score maps on one symmetric scale above the STA (in stimulus
        units) at the peak tau and z over tau at the peak pixel and the
        largest ``|z|`` over pixels, with ±3 reference lines.  Bars: x–t maps
        of z (symmetric scale) and of the STA above the same time course.
        Full field: the STA and z over tau.
    """
    taus = plot_array(taus, "taus", 1)
    sta = plot_array(sta, "sta", 2, length=taus.size)
    zscore = plot_array(zscore, "zscore", 2)
    if zscore.shape != sta.shape:
        raise InputError("zscore", f"expected shape {sta.shape} like sta, got {zscore.shape}")
    frame_shape = checked_frame_shape(frame_shape, sta.shape[1], "sta")
    n_panels = as_int(n_panels, "n_panels", minimum=1)
    geometry = stimulus_geometry(frame_shape)
    peak_tau, row, col = peak_pixel(zscore, frame_shape)
    pixel = row * frame_shape[1] + col
    step = float(np.min(np.diff(np.sort(taus)))) if taus.size > 1 else None
    peak_z = zscore[peak_tau, pixel]
    when = f"{delay_text(taus[peak_tau], step)} before the spike"
    if geometry == "full_field":
        figure = new_figure(9.0, 3.2)
        sta_axes, time_axes = figure.subplots(1, 2)
        delay_curve(sta_axes, taus, sta[:, 0], color="0.3")
        sta_axes.axvline(1000.0 * taus[peak_tau], color="C3", linewidth=0.8, linestyle=":")
        label_delay_axes(sta_axes, "mean stimulus")
        sta_axes.set_title("STA (full-field intensity)")
        _draw_z_course(time_axes, taus, zscore, peak_tau, pixel, "z (full field)", with_max=False)
        figure.suptitle(f"Spike-triggered average: peak |z| = {abs(peak_z):.1f} at {when}")
        return figure
    if geometry == "bars":
        figure = new_figure(9.0, 5.6)
        mosaic = figure.subplot_mosaic([["z", "sta"], ["course", "course"]],
                                       height_ratios=[1.3, 1.0])
        vmax = symmetric_limits(zscore)
        shown = show_xt(mosaic["z"], zscore, taus, bar_axis_label(frame_shape), vmax=vmax,
                        step=step, name="taus")
        mark_cell(mosaic["z"], pixel, taus[peak_tau], row_height_ms(taus, step))
        mosaic["z"].set_title("z-score (x–t)")
        add_colorbar(figure, shown, mosaic["z"], "z-score")
        limits = (float(np.nanmin(sta)), float(np.nanmax(sta))) if np.any(np.isfinite(sta)) \
            else (0.0, 1.0)
        shown = show_xt(mosaic["sta"], sta, taus, bar_axis_label(frame_shape), limits=limits,
                        cmap=GREY, step=step, name="taus")
        mosaic["sta"].set_title("STA (x–t)")
        add_colorbar(figure, shown, mosaic["sta"], "mean stimulus")
        _draw_z_course(mosaic["course"], taus, zscore, peak_tau, pixel, f"z at bar {pixel}")
        figure.suptitle(f"Spike-triggered average: peak |z| = {abs(peak_z):.1f} at {when} "
                        f"(bar {pixel})")
        return figure
    order = np.argsort(taus, kind="stable")
    chosen = order[lag_subset(taus.size, n_panels, int(np.flatnonzero(order == peak_tau)[0]))[0]]
    n_rows, n_columns = panel_grid(chosen.size)
    panel_width, panel_height, aspect = map_panel(frame_shape)
    maps_height = n_rows * (panel_height + 0.3) + 0.5
    figure = new_figure(max(panel_width * n_columns + 0.9, 7.0), maps_height + 2.6)
    top, bottom = cast(np.ndarray, figure.subfigures(2, 1, height_ratios=[maps_height, 2.6]))
    _draw_zscore_maps(top, taus, zscore, frame_shape, chosen, (row, col), step,
                      (n_rows, n_columns, aspect))
    _draw_sta_peak(bottom, taus, sta, zscore, frame_shape, peak_tau, (row, col), step, aspect)
    figure.suptitle(f"Spike-triggered average: peak |z| = {abs(peak_z):.1f} at {when} "
                    f"(row {row}, col {col})")
    return figure


def _draw_zscore_maps(subfigure: SubFigure, taus: NDArray[np.float64],
                      zscore: NDArray[np.float64], frame_shape: tuple[int, int],
                      chosen: NDArray[np.intp], peak: tuple[int, int], step: float | None,
                      layout: tuple[int, int, Literal["equal", "auto"]]) -> None:
    n_rows, n_columns, aspect = layout
    vmax = symmetric_limits(zscore)
    panels = panel_axes(subfigure, chosen.size, n_rows, n_columns)
    for axes, tau_index in zip(panels, chosen, strict=True):
        shown = show_map(axes, to_image(zscore[tau_index], frame_shape), vmax, aspect=aspect)
        mark_pixel(axes, *peak, strong=False)
        axes.set_title(delay_text(taus[tau_index], step))
    add_colorbar(subfigure, shown, panels, "z-score")


def _draw_sta_peak(subfigure: SubFigure, taus: NDArray[np.float64], sta: NDArray[np.float64],
                   zscore: NDArray[np.float64], frame_shape: tuple[int, int], peak_tau: int,
                   peak: tuple[int, int], step: float | None,
                   aspect: Literal["equal", "auto"]) -> None:
    map_axes, time_axes = subfigure.subplots(1, 2, width_ratios=[1.0, 3.0])
    shown = show_image(map_axes, to_image(sta[peak_tau], frame_shape), GREY, pixel_labels=False,
                       aspect=aspect)
    mark_pixel(map_axes, *peak)
    map_axes.set_title(f"STA at {delay_text(taus[peak_tau], step)}")
    add_colorbar(subfigure, shown, map_axes, "mean stimulus")
    pixel = peak[0] * frame_shape[1] + peak[1]
    _draw_z_course(time_axes, taus, zscore, peak_tau, pixel, f"z at row {peak[0]}, col {peak[1]}")


def _draw_z_course(axes: Axes, taus: NDArray[np.float64], zscore: NDArray[np.float64],
                   peak_tau: int, pixel: int, label: str, with_max: bool = True) -> None:
    """Z over tau at ``pixel`` (and the largest |z| over pixels), ±3 dashed, the peak tau
    dotted.
    """
    for level in (-3.0, 3.0):
        axes.axhline(level, color="0.6", linestyle="--", linewidth=0.8, zorder=0)
    zero_line(axes)
    order = np.argsort(taus, kind="stable")
    axes.plot(milliseconds(taus[order]), zscore[order, pixel], color="C0", label=label)
    if with_max:
        axes.plot(milliseconds(taus[order]), np.nanmax(np.abs(zscore[order]), axis=1),
                  color="0.4", label="max |z| over pixels")
    axes.axvline(1000.0 * taus[peak_tau], color="C3", linewidth=0.8, linestyle=":")
    label_delay_axes(axes, "z-score")
    axes.set_title("z-score over time before spike (dashed: ±3)")
    axes.legend(loc="upper right")
