"""Session figures: many units of one recording session on one page.

* :func:`rf_atlas_figure`: every unit's receptive field as small multiples,
  each labelled with its unit id: spatial maps (grid stimuli), x–t maps
  (bars) or temporal kernels (full field), by
  :func:`sparsefield.rf.shape.stimulus_geometry`;
* :func:`kernel_heatmap_figure`: units x delay heat map of temporal kernels;
* :func:`mosaic_figure`: receptive-field centres and 1-σ ellipses (from
  :func:`sparsefield.rf.shape.moment_fit`) on the frame, ON and OFF units in
  two colours.

Every unit is divided by its own largest ``|value|``, so that weak and strong
units are equally visible, and drawn on the diverging scale [-1, 1] (red ON,
blue OFF).  Units are drawn in the order given by ``order``, a permutation of
the unit indices (e.g. ``np.argsort`` of the receptive-field column).  Like
the other figure modules, nothing here fits anything.
"""

import functools
import math
from collections.abc import Sequence
from typing import Any, cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import QuadMesh
from matplotlib.colorbar import Colorbar
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float_array
from sparsefield.errors import InputError
from sparsefield.plots.delays import DELAY_LABEL, every_text
from sparsefield.plots.layout import bar_axis_label, plot_array, show_xt, xt_edges, zero_line
from sparsefield.plots.style import DIVERGING, new_figure, styled, symmetric_limits
from sparsefield.rf.shape import frame_size, stimulus_geometry

__all__ = [
    "atlas_layout",
    "atlas_page_size",
    "kernel_heatmap_figure",
    "mosaic_figure",
    "rf_atlas_figure",
]

#: Width of the page's drawing area, inches (A4 less margins).
_PAGE_WIDTH = 6.8

#: Page height over width that the atlas aims at (A4).
_PAGE_RATIO = math.sqrt(2.0)

#: Widest and lowest atlas panel, inches (0.5 in is 50 px at 100 dpi).
_MAX_PANEL_WIDTH = 1.5
_MIN_PANEL_HEIGHT = 0.5

#: Atlas margins and gaps, inches: room for the unit label above each panel,
#: tick labels on the outer panels, the title and the colour bar.
_LABEL_HEIGHT = 0.17
_GAP = 0.08
_MARGINS = {"left": 0.5, "right": 0.95, "top": 0.55, "bottom": 0.5}

#: Most unit labels on the heat map's unit axis.
_MAX_UNIT_LABELS = 60

#: Colours of ON (positive) and OFF (negative) units, and of units of unknown polarity.
_ON, _OFF, _UNKNOWN = "C3", "C0", "0.35"


# --------------------------------------------------------------------------
# checks


#: Per-unit arrays: float, NaN allowed; no units at all is allowed (an empty page says so).
_unit_array = functools.partial(as_float_array, finite=False, allow_empty=True)


def _unit_ids(unit_ids: Any, n_units: int) -> list[str]:
    """Unit labels as strings, one per unit."""
    if isinstance(unit_ids, str):
        raise InputError("unit_ids", "expected one id per unit, got a single string")
    try:
        labels = [str(unit) for unit in unit_ids]
    except TypeError:
        raise InputError("unit_ids",
                         f"expected a sequence of {n_units} ids, got {unit_ids!r}") from None
    if len(labels) != n_units:
        raise InputError("unit_ids", f"expected {n_units} ids (one per unit), got {len(labels)}")
    return labels


def _order(order: ArrayLike | None, n_units: int) -> NDArray[np.int64]:
    """``order`` as a permutation of ``range(n_units)`` (None: as given)."""
    if order is None:
        return np.arange(n_units)
    array = np.asarray(order)
    if array.shape != (n_units,) or array.dtype.kind not in "iu" \
            or not np.array_equal(np.sort(array), np.arange(n_units)):
        raise InputError(
            "order", f"expected a permutation of the {n_units} unit indices 0..{n_units - 1} "
            f"(e.g. np.argsort of a key), got {np.asarray(order).tolist()[:10]}"
        )
    return array.astype(np.int64)


def _delays(delays: ArrayLike | None, n_lags: int, name: str = "delays"
            ) -> NDArray[np.float64] | None:
    """Delays (s) as a float array (n_lags,), or None."""
    if delays is None:
        return None
    return plot_array(delays, name, 1, length=n_lags)


def _unit_max(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Each unit (first axis) divided by its largest finite ``|value|`` (all-zero units stay
    0).
    """
    return np.stack([unit / symmetric_limits(unit) for unit in values]) if len(values) else values


def _units_text(n_units: int) -> str:
    return f"{n_units} unit{'s' if n_units != 1 else ''}"


def _no_units_figure(title: str) -> Figure:
    """A small page that says there is nothing to draw (a session without fitted units)."""
    figure = new_figure(6.0, 1.6)
    figure.text(0.5, 0.4, "no units to show", ha="center", va="center", color="0.4")
    figure.suptitle(f"{title} (0 units)")
    return figure


def _atlas_maps(maps: ArrayLike, frame_shape: tuple[int, int], geometry: str
                ) -> NDArray[np.float64]:
    """Check ``maps`` for ``geometry`` and return them as (n_units, ...) floats."""
    height, width = frame_shape
    n_pixels = height * width
    array = np.asarray(maps)
    if geometry == "grid":
        if array.ndim == 3 and array.shape[1:] == (height, width):
            array = array.reshape(array.shape[0], n_pixels)
        if array.ndim != 2 or array.shape[1] != n_pixels:
            raise InputError("maps", f"for a grid {frame_shape} expected one spatial map per "
                             f"unit, shape (n_units, {n_pixels}) or (n_units, {height}, "
                             f"{width}), got {array.shape}")
        return _unit_array(array, "maps", 2)
    if geometry == "bars":
        if array.ndim != 3 or array.shape[2] != n_pixels:
            raise InputError("maps", f"for bars {frame_shape} expected one x–t map per unit, shape "
                             f"(n_units, n_lags, {n_pixels}), got {array.shape}")
        if array.shape[1] == 0:
            raise InputError("maps", f"has no lags (shape {array.shape})")
        return _unit_array(array, "maps", 3)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim != 2 or array.shape[1] == 0:
        raise InputError("maps", f"for a full field expected one temporal kernel per unit, shape "
                         f"(n_units, n_lags), got {array.shape}")
    return _unit_array(array, "maps", 2)


# --------------------------------------------------------------------------
# atlas


def atlas_layout(n_units: int, panel_ratio: float, fixed_ratio: bool = True
                 ) -> tuple[int, int, float, float]:
    """Columns and panel size of an atlas of ``n_units`` panels of height/width
    ``panel_ratio``.

    Tries every number of columns whose panels fit the page width (panels at
    most 1.5 in wide and at least 0.5 in high) and keeps the one whose page
    is closest to A4's height/width ratio.  Without ``fixed_ratio`` (plots,
    x–t maps) narrow panels keep the least height instead of their ratio.

    Returns
    -------
    n_rows, n_columns : int
    panel_width, panel_height : float
        Inches.
    """
    best: tuple[float, int, int, float, float] | None = None
    for n_columns in range(1, n_units + 1):
        panel_width = min(_MAX_PANEL_WIDTH, (_PAGE_WIDTH - _GAP * (n_columns - 1)) / n_columns)
        panel_height = panel_width * panel_ratio
        if not fixed_ratio:
            panel_height = max(panel_height, _MIN_PANEL_HEIGHT)
        if panel_height < _MIN_PANEL_HEIGHT and best is not None:
            break
        n_rows = -(-n_units // n_columns)
        width, height = atlas_page_size(n_rows, n_columns, panel_width, panel_height)
        score = abs(math.log(height / width / _PAGE_RATIO))
        if best is None or score < best[0] - 1e-12:
            best = (score, n_rows, n_columns, panel_width, panel_height)
    _, n_rows, n_columns, panel_width, panel_height = cast(
        tuple[float, int, int, float, float], best)
    if panel_height < _MIN_PANEL_HEIGHT:  # one column still too low: widen the panel
        panel_width, panel_height = _MIN_PANEL_HEIGHT / panel_ratio, _MIN_PANEL_HEIGHT
    return n_rows, n_columns, panel_width, panel_height


def atlas_page_size(n_rows: int, n_columns: int, panel_width: float, panel_height: float
                    ) -> tuple[float, float]:
    """Page size of an atlas of ``n_rows`` by ``n_columns`` panels, margins and labels
    included.

    Parameters
    ----------
    n_rows, n_columns : int
    panel_width, panel_height : float
        One panel, inches (from :func:`atlas_layout`).

    Returns
    -------
    width, height : float
        Inches; the width is at least 3.6 (room for the title).
    """
    width = n_columns * panel_width + (n_columns - 1) * _GAP + _MARGINS["left"] \
        + _MARGINS["right"]
    height = n_rows * (panel_height + _LABEL_HEIGHT) + (n_rows - 1) * _GAP + _MARGINS["top"] \
        + _MARGINS["bottom"]
    return max(width, 3.6), height


@styled
def rf_atlas_figure(maps: ArrayLike, frame_shape: Sequence[int], unit_ids: Sequence[Any], *,
                    order: ArrayLike | None = None, delays: ArrayLike | None = None,
                    title: str = "Receptive-field atlas") -> Figure:
    """Every unit's receptive field on one page, small multiples labelled by unit id.

    Parameters
    ----------
    maps : array_like
        Grid ``(height, width)``: one spatial map per unit, shape
        ``(n_units, n_pixels)`` (pixels in C order) or
        ``(n_units, height, width)``, e.g. each unit's map at its peak lag or
        the spatial part of its separation.  Bars: one x–t map per unit,
        ``(n_units, n_lags, n_pixels)``.  Full field: one temporal kernel per
        unit, ``(n_units, n_lags)``.  NaN is drawn as a gap.
    frame_shape : tuple of int
        ``(height, width)``; decides the geometry
        (:func:`sparsefield.rf.shape.stimulus_geometry`).
    unit_ids : sequence of length n_units
        Label of each unit (str or int).
    order : array_like of int, shape (n_units,), optional, keyword-only
        Permutation of the unit indices: the unit drawn first, second, ...
        (e.g. ``np.lexsort((cols, rows))`` to sort by RF position).  None:
        as given.
    delays : array_like of shape (n_lags,), optional, keyword-only
        Bars and full field: time before the spike of each lag, s (axes in
        ms); None labels the axis in lags.
    title : str, keyword-only
        Figure title; the number of units is appended.

    Returns
    -------
    matplotlib.figure.Figure
        Units left to right, top to bottom, each divided by its own largest
        ``|value|`` and drawn on [-1, 1] (one colour bar); columns chosen so
        that the page is about A4-shaped, every panel at least 0.5 in high
        (50 px at 100 dpi).  Tick labels on the outer panels only.
    """
    height, width = frame_size(frame_shape)
    geometry = stimulus_geometry((height, width))
    values = _atlas_maps(maps, (height, width), geometry)
    n_units = values.shape[0]
    labels = _unit_ids(unit_ids, n_units)
    order = _order(order, n_units)
    lag_delays = _delays(delays, values.shape[1]) if geometry != "grid" else None
    if n_units == 0:
        return _no_units_figure(title)
    values = _unit_max(values)[order]
    labels = [labels[index] for index in order]
    if geometry == "grid":
        ratio = min(max(height / width, 1.0 / 3.0), 3.0)
    else:
        ratio = 0.9 if geometry == "bars" else 0.65
    n_rows, n_columns, panel_width, panel_height = atlas_layout(n_units, ratio,
                                                                fixed_ratio=geometry == "grid")
    figure_width, figure_height = atlas_page_size(n_rows, n_columns, panel_width, panel_height)
    figure = new_figure(figure_width, figure_height)
    # placed by hand: fast for hundreds of panels, never "not applied"
    figure.set_layout_engine("none")
    left = _MARGINS["left"] / figure_width
    right = left + (n_columns * panel_width + (n_columns - 1) * _GAP) / figure_width
    grid = figure.add_gridspec(
        n_rows, n_columns, left=left, right=right,
        top=1.0 - (_MARGINS["top"] + _LABEL_HEIGHT) / figure_height,
        bottom=_MARGINS["bottom"] / figure_height, wspace=_GAP / panel_width,
        hspace=(_LABEL_HEIGHT + _GAP) / panel_height,
    )
    ticks = None
    for index in range(n_units):  # no shared axes: sharing hundreds of axes costs O(n²) per draw
        row, column = divmod(index, n_columns)
        axes = figure.add_subplot(grid[row, column])
        shown = _draw_atlas_panel(axes, values[index], (height, width), geometry, lag_delays)
        axes.set_title(labels[index], fontsize=6.5, pad=2.0)
        if geometry == "grid":
            continue
        if ticks is None:  # the same limits and ticks everywhere, on the outer panels only
            axes.xaxis.set_major_locator(MaxNLocator(nbins=4))
            ticks = [[tick for tick in axis.get_majorticklocs() if _inside(tick, limits)]
                     for axis, limits in ((axes.xaxis, axes.get_xlim()),
                                          (axes.yaxis, axes.get_ylim()))]
        outer_left, outer_bottom = column == 0, index + n_columns >= n_units
        axes.set_xticks(ticks[0] if outer_bottom else [])
        axes.set_yticks(ticks[1] if outer_left else [])
        axes.tick_params(labelsize=6.0, length=2.0)
        if not (outer_left and row == n_rows - 1):
            axes.set_xlabel("")
            axes.set_ylabel("")
    if geometry != "full_field":
        # grid and bars panels return their image
        _atlas_colorbar(figure, cast(AxesImage | QuadMesh, shown), right, figure_width,
                        figure_height)
    figure.suptitle(f"{title} ({_units_text(n_units)})", y=1.0 - 0.12 / figure_height, va="top")
    return figure


def _draw_atlas_panel(axes: Axes, values: NDArray[np.float64], frame_shape: tuple[int, int],
                      geometry: str, delays: NDArray[np.float64] | None
                      ) -> AxesImage | QuadMesh | None:
    if geometry == "grid":
        shown = axes.imshow(values.reshape(frame_shape), cmap=DIVERGING, vmin=-1.0, vmax=1.0,
                            aspect="auto")
        axes.spines[:].set_visible(True)
        axes.set_xticks([])
        axes.set_yticks([])
        return shown
    times, scale, label = _time_axis_of(delays, values.shape[0])
    if geometry == "bars":
        mesh = show_xt(axes, values, times, bar_axis_label(frame_shape), vmax=1.0, scale=scale,
                       time_label=label)
        axes.xaxis.label.set_fontsize(6.5)
        axes.yaxis.label.set_fontsize(6.5)
        return mesh
    zero_line(axes)
    order = np.argsort(times, kind="stable")
    axes.plot(scale * times[order], values[order], color="0.2", linewidth=0.9)
    span = scale * (times.max() - times.min()) or 1.0
    axes.set_xlim(scale * times.min() - 0.03 * span, scale * times.max() + 0.03 * span)
    axes.set_ylim(-1.1, 1.1)
    axes.set_yticks([-1.0, 0.0, 1.0])
    axes.set_xlabel(label, fontsize=6.5)
    axes.set_ylabel("kernel / max", fontsize=6.5)
    return None


def _inside(value: float, limits: tuple[float, float]) -> bool:
    low, high = sorted(limits)
    return low <= value <= high


def _time_axis_of(delays: NDArray[np.float64] | None, n_lags: int
                  ) -> tuple[NDArray[np.float64], float, str]:
    """``(times, scale, label)``: delays in s shown in ms, or lag numbers."""
    if delays is None:
        return np.arange(n_lags, dtype=float), 1.0, "lag (frames)"
    return delays, 1000.0, DELAY_LABEL


def _atlas_colorbar(figure: Figure, shown: AxesImage | QuadMesh, right: float, figure_width: float,
                    figure_height: float) -> Colorbar:
    bar_height = min(2.5, figure_height - _MARGINS["top"] - _MARGINS["bottom"] - _LABEL_HEIGHT)
    bottom = 1.0 - (_MARGINS["top"] + _LABEL_HEIGHT + bar_height) / figure_height
    axes = figure.add_axes((right + 0.12 / figure_width, bottom, 0.1 / figure_width,
                            bar_height / figure_height), label="<colorbar>")
    bar = figure.colorbar(shown, cax=axes)
    bar.set_label("weight / max |weight| (per unit)", fontsize=7.0)
    bar.ax.tick_params(labelsize=6.0)
    return bar


# --------------------------------------------------------------------------
# kernel heat map


@styled
def kernel_heatmap_figure(kernels: ArrayLike, delays_s: ArrayLike, unit_ids: Sequence[Any], *,
                          order: ArrayLike | None = None,
                          title: str = "Temporal kernels") -> Figure:
    """Units x delay heat map of temporal kernels.

    Parameters
    ----------
    kernels : array_like of shape (n_units, n_lags)
        One temporal kernel per unit (e.g. the temporal part of each unit's
        rank-1 separation, or its full-field weights).  NaN is a gap.
    delays_s : array_like of shape (n_lags,)
        Time before the spike of each column, s (distinct).
    unit_ids : sequence of length n_units
        Label of each unit.
    order : array_like of int, shape (n_units,), optional, keyword-only
        Permutation of the unit indices, top row first; None: as given.
    title : str, keyword-only
        Figure title; the number of units is appended.

    Returns
    -------
    matplotlib.figure.Figure
        One row per unit, each divided by its own largest ``|value|`` (all
        zero rows stay 0), on the diverging scale [-1, 1]; delay in ms
        across.  The unit axis names every unit up to 60 units, else every
        ``k``-th.
    """
    kernels = _unit_array(kernels, "kernels", 2)
    delays_s = plot_array(delays_s, "delays_s", 1, length=kernels.shape[1])
    n_units = kernels.shape[0]
    labels = _unit_ids(unit_ids, n_units)
    order = _order(order, n_units)
    if n_units == 0:
        return _no_units_figure(title)
    values = _unit_max(kernels)[order]
    labels = [labels[index] for index in order]
    sorting, slots, edges = xt_edges(delays_s, None, "delays_s")
    image = np.full((n_units, edges.size - 1), np.nan)
    image[:, slots] = values[:, sorting]
    figure = new_figure(7.0, min(max(0.1 * n_units + 1.6, 2.6), 11.0))
    axes = figure.subplots()
    shown = axes.pcolormesh(1000.0 * edges, np.arange(n_units + 1) - 0.5,
                            np.ma.masked_invalid(image), cmap=DIVERGING, vmin=-1.0, vmax=1.0,
                            shading="flat", rasterized=True)
    if slots.size < image.shape[1] or not np.all(np.isfinite(values)):
        axes.set_facecolor("0.85")
    axes.set_xlim(1000.0 * edges[0], 1000.0 * edges[-1])
    axes.set_ylim(n_units - 0.5, -0.5)
    step = max(1, -(-n_units // _MAX_UNIT_LABELS))
    ticks = np.arange(0, n_units, step)
    axes.set_yticks(ticks, [labels[index] for index in ticks],
                    fontsize=7.0 if n_units <= 30 else 5.5)
    axes.spines[:].set_visible(True)
    axes.set_xlabel(DELAY_LABEL)
    axes.set_ylabel("unit" if step == 1 else f"unit ({every_text(step)} labelled)")
    axes.set_title("each row divided by its largest |value|")
    bar = figure.colorbar(shown, ax=axes, shrink=min(0.9, 3.0 / figure.get_figheight() + 0.3),
                          aspect=20, pad=0.02)
    bar.set_label("kernel / max |kernel| (per unit)")
    figure.suptitle(f"{title} ({_units_text(n_units)})")
    return figure


# --------------------------------------------------------------------------
# mosaic


@styled
def mosaic_figure(centres: ArrayLike, ellipses: ArrayLike, frame_shape: Sequence[int],
                  unit_ids: Sequence[Any], *, polarity: ArrayLike | None = None,
                  title: str = "Receptive-field mosaic") -> Figure:
    """Receptive-field centres and 1-σ ellipses on the stimulus frame.

    Parameters
    ----------
    centres : array_like of shape (n_units, 2)
        ``(row, col)`` of each centre, pixels
        (:attr:`sparsefield.rf.shape.MomentFit.centre`).  A unit with a NaN
        centre is left out (and counted in the title).
    ellipses : array_like of shape (n_units, 3)
        ``(major, minor, angle_deg)`` of each 1-σ ellipse
        (:attr:`sparsefield.rf.shape.MomentFit.ellipse`): semi-axes in
        pixels, angle from the column axis towards increasing rows.  A NaN
        ellipse draws the centre only.
    frame_shape : tuple of int
        ``(height, width)`` of a 2-D stimulus (``stimulus_geometry`` "grid").
    unit_ids : sequence of length n_units
        Label of each unit, written beside its centre.
    polarity : array_like of shape (n_units,), optional, keyword-only
        > 0 ON (red), < 0 OFF (blue), 0 or NaN unknown (grey), e.g.
        :attr:`~sparsefield.rf.shape.MomentFit.polarity`.  None: all grey.
    title : str, keyword-only
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The frame with rows down, as the maps are drawn; the legend counts
        ON and OFF units.
    """
    height, width = frame_size(frame_shape)
    if stimulus_geometry((height, width)) != "grid":
        raise InputError("frame_shape", "a mosaic needs a 2-D stimulus (height and width > 1), "
                         f"got {frame_shape}")
    centres = _unit_array(np.reshape(centres, (-1, 2)) if np.size(centres) == 0 else centres,
                          "centres", 2)
    if centres.shape[1] != 2:
        raise InputError("centres",
                         f"expected shape (n_units, 2) as (row, col), got {centres.shape}")
    n_units = centres.shape[0]
    ellipses = _unit_array(np.reshape(ellipses, (-1, 3)) if np.size(ellipses) == 0 else ellipses,
                           "ellipses", 2, length=n_units)
    if ellipses.shape[1] != 3:
        raise InputError("ellipses", f"expected shape ({n_units}, 3) as (major, minor, angle_deg), "
                         f"got {ellipses.shape}")
    if np.any(ellipses[:, :2] < 0):
        raise InputError("ellipses", "semi-axes (major, minor) must be >= 0")
    labels = _unit_ids(unit_ids, n_units)
    if polarity is None:
        signs = np.zeros(n_units)
    else:
        signs = np.nan_to_num(_unit_array(polarity, "polarity", 1, length=n_units), nan=0.0)
    ratio = min(max(height / width, 1.0 / 3.0), 3.0)
    figure = new_figure(6.8, max(5.2 * ratio + 1.0, 2.0))
    axes = figure.subplots()
    drawn = np.all(np.isfinite(centres), axis=1)
    for index in np.flatnonzero(drawn):
        colour = _ON if signs[index] > 0 else _OFF if signs[index] < 0 else _UNKNOWN
        row, col = centres[index]
        major, minor, angle = ellipses[index]
        if np.all(np.isfinite(ellipses[index])):
            axes.add_patch(Ellipse((col, row), 2.0 * major, 2.0 * minor, angle=angle, fill=False,
                                   edgecolor=colour, linewidth=0.9))
        axes.plot([col], [row], marker="+", color=colour, markersize=4.0)
        axes.annotate(labels[index], (col, row), xytext=(2.0, 2.0), textcoords="offset points",
                      fontsize=5.0, color=colour)
    axes.set_xlim(-0.5, width - 0.5)
    axes.set_ylim(height - 0.5, -0.5)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_aspect("equal" if ratio == height / width else "auto")
    axes.spines[:].set_visible(True)
    axes.set_xlabel("column (pixel)")
    axes.set_ylabel("row (pixel)")
    axes.set_title("centres and 1-σ ellipses")
    counts = [(name, colour, int(np.sum(test(signs[drawn]))))
              for name, colour, test in (("ON", _ON, lambda s: s > 0),
                                         ("OFF", _OFF, lambda s: s < 0),
                                         ("polarity unknown", _UNKNOWN, lambda s: s == 0))]
    handles = [Line2D([], [], color=colour, marker="+", label=f"{name} ({count})")
               for name, colour, count in counts if count]
    if handles:
        axes.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    missing = n_units - int(drawn.sum())
    note = f"{int(drawn.sum())} of {n_units} units" \
        + (f" ({missing} without a centre)" if missing else "")
    figure.suptitle(f"{title}: {note}")
    return figure
