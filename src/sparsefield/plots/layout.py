"""Input checks, panel layout and drawing helpers shared by the figure modules.

Every figure module of :mod:`sparsefield.plots` draws with these, so that
maps, x–t maps, curves over delay and colour bars look the same in every
figure:

* checks: :func:`plot_array` (NaN allowed), :func:`finite_plot_array`,
  :func:`positive_values`, :func:`checked_frame_shape`,
  :func:`checked_frame_duration`;
* panel layout: :func:`map_panel`, :func:`map_size`, :func:`panel_grid`,
  :func:`panel_axes`;
* maps: :func:`to_image`, :func:`show_map`, :func:`show_image`,
  :func:`mark_pixel`, :func:`add_colorbar`;
* curves over the time before the spike: :func:`delay_curve`,
  :func:`zero_line`, :func:`label_delay_axes`, :func:`bar_axis_label`;
* x–t maps (bars: time before the spike down, bar position across):
  :func:`xt_edges`, :func:`show_xt`, :func:`mark_cell`,
  :func:`row_height_ms`.

Signed maps use one symmetric diverging colour scale centred at 0
(:data:`sparsefield.plots.style.DIVERGING`).
"""

from collections.abc import Sequence
from typing import Any, Literal, cast

import numpy as np
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.collections import QuadMesh
from matplotlib.colorbar import Colorbar
from matplotlib.figure import Figure, SubFigure
from matplotlib.image import AxesImage
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float_array
from sparsefield.errors import InputError
from sparsefield.plots.delays import DELAY_LABEL, milliseconds
from sparsefield.plots.style import DIVERGING
from sparsefield.rf.shape import frame_size

__all__ = [
    "MIN_PANEL",
    "PANEL",
    "PANELS_PER_ROW",
    "add_colorbar",
    "bar_axis_label",
    "checked_frame_duration",
    "checked_frame_shape",
    "delay_curve",
    "finite_plot_array",
    "label_delay_axes",
    "map_panel",
    "map_size",
    "mark_cell",
    "mark_pixel",
    "panel_axes",
    "panel_grid",
    "plot_array",
    "positive_values",
    "row_height_ms",
    "show_image",
    "show_map",
    "show_xt",
    "to_image",
    "xt_edges",
    "zero_line",
]

#: Size of one map panel, inches (the height is scaled by the frame shape).
PANEL = 1.25

#: Smallest height of any panel, inches (50 px at 100 dpi; the figures promise >= 40 px).
MIN_PANEL = 0.5

#: Most maps in one row of panels.
PANELS_PER_ROW = 6


# --------------------------------------------------------------------------
# checks


def plot_array(values: ArrayLike, name: str, ndim: int, *,
               length: int | None = None) -> NDArray[np.float64]:
    """Array given to a figure: float, not empty; NaN is allowed (drawn as a gap).

    Parameters
    ----------
    values : array_like
        Real numbers.
    name : str
        Source named in an error.
    ndim : int
        Required number of dimensions.
    length : int, optional
        Required size of the first axis.

    Returns
    -------
    ndarray of float64, ``ndim`` dimensions
    """
    return as_float_array(values, name, ndim, length=length, finite=False, allow_empty=False)


def finite_plot_array(values: ArrayLike, name: str, ndim: int, *,
                      length: int | None = None) -> NDArray[np.float64]:
    """Like :func:`plot_array`, but every value must be finite (atoms, matrices, codes)."""
    return as_float_array(values, name, ndim, length=length, finite=True, allow_empty=False)


def positive_values(name: str, values: ArrayLike) -> NDArray[np.float64]:
    """Values given to a figure that must all be finite and > 0 (penalties).

    Parameters
    ----------
    name : str
        Source named in an error.
    values : array_like
        Real numbers, any shape.

    Returns
    -------
    ndarray of float64, the shape of ``values``

    Raises
    ------
    sparsefield.errors.InputError
        When a value is not finite or not > 0 (the message gives up to five).
    """
    values = np.asarray(values, dtype=float)
    bad = ~(np.isfinite(values) & (values > 0))
    if np.any(bad):
        raise InputError(name, f"must be finite and > 0, got {values[bad][:5].tolist()}")
    return values


def checked_frame_shape(frame_shape: Sequence[int], n_pixels: int, name: str) -> tuple[int, int]:
    """``(height, width)`` as ints, checked against ``n_pixels``.

    Parameters
    ----------
    frame_shape : tuple of int
        ``(height, width)`` of the stimulus frame.
    n_pixels : int
        Pixels of the array it describes.
    name : str
        That array's name, for the error.

    Returns
    -------
    tuple of int

    Raises
    ------
    sparsefield.errors.InputError
        When ``height * width != n_pixels``.
    """
    height, width = frame_size(frame_shape)
    if height * width != n_pixels:
        raise InputError(name, f"has {n_pixels} pixels, frame_shape {frame_shape} needs "
                               f"{height * width}")
    return height, width


def checked_frame_duration(frame_duration: Any) -> float:
    """The frame duration as a float > 0 (s), or InputError naming ``frame_duration``."""
    scalar = bool(np.isscalar(frame_duration))  # outside the test: mypy keeps the value Any
    if not (scalar and np.isfinite(frame_duration) and frame_duration > 0):
        raise InputError("frame_duration",
                         f"must be a finite number > 0 (s), got {frame_duration!r}")
    return float(frame_duration)


# --------------------------------------------------------------------------
# panel layout


def map_panel(frame_shape: Sequence[int], panel_width: float = PANEL
              ) -> tuple[float, float, Literal["equal", "auto"]]:
    """Size (width, height) in inches and imshow aspect of one map panel.

    The height follows the frame's aspect ratio, clipped to [1/3, 3] (the
    image is then stretched, ``aspect="auto"``), and is at least
    :data:`MIN_PANEL`.

    Parameters
    ----------
    frame_shape : tuple of int
        ``(height, width)``.
    panel_width : float
        Width of an unclipped panel, inches.

    Returns
    -------
    width, height : float
        Inches.
    aspect : str
        ``"equal"`` or ``"auto"``.
    """
    height, width = frame_shape
    ratio = height / width
    clipped = min(max(ratio, 1.0 / 3.0), 3.0)
    panel_height = max(panel_width * clipped, MIN_PANEL)
    return panel_height / clipped, panel_height, "equal" if clipped == ratio else "auto"


def map_size(frame_shape: Sequence[int], n_columns: int, extra_width: float = 0.9
             ) -> tuple[float, float]:
    """Figure size (width, height), inches, for one row of ``n_columns`` maps plus a colour bar."""
    panel_width, panel_height, _ = map_panel(frame_shape)
    return panel_width * n_columns + extra_width, panel_height + 0.8


def panel_grid(n_panels: int, per_row: int = PANELS_PER_ROW) -> tuple[int, int]:
    """``(n_rows, n_columns)`` for ``n_panels`` panels, at most ``per_row`` in a row, rows
    balanced.
    """
    n_rows = -(-n_panels // per_row)
    return n_rows, -(-n_panels // n_rows)


def panel_axes(container: Figure | SubFigure, n_panels: int, n_rows: int, n_columns: int,
               **kwargs: Any) -> list[Axes]:
    """``n_panels`` axes in a grid of ``n_rows`` by ``n_columns`` (row-major); unused cells get
    no axes.

    Parameters
    ----------
    container : matplotlib.figure.Figure or SubFigure
    n_panels, n_rows, n_columns : int
    **kwargs
        Passed to ``container.subplots``.

    Returns
    -------
    list of matplotlib.axes.Axes
        ``n_panels`` axes, row by row.
    """
    grid = container.subplots(n_rows, n_columns, squeeze=False, **kwargs)
    for axes in grid.ravel()[n_panels:]:
        axes.remove()
    return list(grid.ravel()[:n_panels])


# --------------------------------------------------------------------------
# maps


def to_image(vector: ArrayLike, frame_shape: Sequence[int]) -> NDArray[Any]:
    """Reshape pixels (n_pixels,) to an image (height, width) in C order."""
    return np.reshape(vector, frame_shape)


def show_map(axes: Axes, image: ArrayLike, vmax: float, cmap: str = DIVERGING,
             pixel_labels: bool = False, aspect: Literal["equal", "auto"] = "equal") -> AxesImage:
    """Draw ``image`` (height, width) on ``axes`` with colour scale ``[-vmax, vmax]``.

    Returns the :class:`matplotlib.image.AxesImage`.  With ``pixel_labels``
    the axes are labelled in pixel rows and columns; otherwise ticks are hidden.
    """
    return show_image(axes, image, cmap, pixel_labels, aspect=aspect, vmin=-vmax, vmax=vmax)


def show_image(axes: Axes, image: ArrayLike, cmap: str, pixel_labels: bool,
               aspect: Literal["equal", "auto"] = "equal", **limits: Any) -> AxesImage:
    """Draw ``image`` (height, width) framed on all four sides; see :func:`show_map`.

    ``limits`` (``vmin``, ``vmax``) go to :meth:`matplotlib.axes.Axes.imshow`;
    without them the image's own range is used.
    """
    shown = axes.imshow(image, cmap=cmap, aspect=aspect, **limits)
    axes.spines[:].set_visible(True)
    if pixel_labels:
        axes.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        axes.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        axes.set_xlabel("column (pixel)")
        axes.set_ylabel("row (pixel)")
    else:
        axes.set_xticks([])
        axes.set_yticks([])
    return shown


def mark_pixel(axes: Axes, row: float, col: float, strong: bool = True) -> None:
    """Outline the pixel at ``(row, col)`` (heavier when ``strong``)."""
    axes.add_patch(
        Rectangle((col - 0.5, row - 0.5), 1.0, 1.0, fill=False, edgecolor="k",
                  linewidth=1.4 if strong else 0.7)
    )


def add_colorbar(figure: Figure | SubFigure, shown: ScalarMappable | AxesImage | QuadMesh,
                 axes: Axes | Sequence[Axes], label: str) -> Colorbar:
    """Attach one labelled colour bar for ``shown`` beside ``axes`` (an Axes or a list).

    Returns
    -------
    matplotlib.colorbar.Colorbar
    """
    bar = figure.colorbar(shown, ax=axes, shrink=0.9, aspect=15, pad=0.03)
    bar.set_label(label)
    return bar


# --------------------------------------------------------------------------
# curves over the time before the spike


def zero_line(axes: Axes, vertical: bool = False) -> None:
    """A light line at 0 behind everything (horizontal, or vertical)."""
    (axes.axvline if vertical else axes.axhline)(0.0, color="0.6", linewidth=0.8, zorder=0)


def label_delay_axes(axes: Axes, ylabel: str) -> None:
    """Label the x axis as the time before the spike (ms) and the y axis ``ylabel``."""
    axes.set_xlabel(DELAY_LABEL)
    axes.set_ylabel(ylabel)


def bar_axis_label(frame_shape: Sequence[int]) -> str:
    """Axis label of the bar position: bars side by side along columns (1, width) or rows
    (height, 1).
    """
    return "bar position (column)" if frame_shape[0] == 1 else "bar position (row)"


def delay_curve(axes: Axes, times: ArrayLike, values: ArrayLike, **style: Any) -> list[Line2D]:
    """Plot ``values`` over ``times`` (s) in ms before the spike, with markers at up to 60
    points.

    Parameters
    ----------
    axes : matplotlib.axes.Axes
    times : array_like of shape (n,)
        Time before the spike, s.
    values : array_like of shape (n,)
    **style
        Passed to :meth:`matplotlib.axes.Axes.plot`.

    Returns
    -------
    list of matplotlib.lines.Line2D
    """
    times = np.asarray(times, dtype=float)
    style.setdefault("marker", "o" if times.size <= 60 else None)
    style.setdefault("markersize", 3.0)
    return axes.plot(milliseconds(times), values, **style)


# --------------------------------------------------------------------------
# x–t maps


def xt_edges(times: NDArray[np.float64], step: float | None, name: str
             ) -> tuple[NDArray[np.intp], NDArray[np.int_], NDArray[np.float64]]:
    """Cell edges of rows at ``times``, each one ``step`` tall (in the unit of ``times``), gaps
    as NaN rows.

    Parameters
    ----------
    times : ndarray of shape (n_times,)
        Distinct times of the rows.
    step : float or None
        Height of a row; None: the smallest gap between times.
    name : str
        Source of ``times``, for the error on repeated values.

    Returns
    -------
    order : ndarray of int, shape (n_times,)
        Rows sorted by time.
    slots : ndarray of int, shape (n_times,)
        The output row of each sorted row.
    edges : ndarray of float, shape (n_out + 1,)
        Edges of the output rows, gap rows included.
    """
    order = np.argsort(times, kind="stable")
    sorted_times = times[order]
    gaps = np.diff(sorted_times)
    if np.any(gaps <= 0.0):
        raise InputError(name, "has repeated values; an x–t map needs one row per time")
    if step is None:
        step = gaps.min() if gaps.size else 1e-3
    half = 0.5 * min(step, gaps.min()) if gaps.size else 0.5 * step
    edges, slots = [sorted_times[0] - half], []
    for index, time in enumerate(sorted_times):
        slots.append(len(edges) - 1)
        edges.append(time + half)
        if index + 1 < sorted_times.size \
                and sorted_times[index + 1] - half > time + half * (1.0 + 1e-9):
            edges.append(sorted_times[index + 1] - half)  # a gap row
    return order, np.array(slots), np.asarray(edges, dtype=float)


def show_xt(axes: Axes, values: NDArray[np.float64], times: ArrayLike, position_label: str, *,
            vmax: float | None = None, cmap: str = DIVERGING,
            limits: tuple[float, float] | None = None, step: float | None = None,
            name: str = "lags", scale: float = 1000.0, time_label: str = DELAY_LABEL) -> QuadMesh:
    """Draw an x–t map: ``values`` (n_times, n_positions), rows at ``times`` (s), on ``axes``.

    Time before the spike (``times * scale``: ms by default) runs down the
    vertical axis, each row one ``step`` tall (missing delays are left grey);
    position runs across.  The colour scale is ``[-vmax, vmax]`` or
    ``limits``.  Returns the QuadMesh.
    """
    times = np.asarray(times, dtype=float)
    order, slots, edges = xt_edges(times, step, name)
    edges = scale * edges
    image = np.full((edges.size - 1, values.shape[1]), np.nan)
    image[slots] = values[order]
    vmin, vmax = limits if limits is not None else (-cast(float, vmax), vmax)
    position_edges = np.arange(values.shape[1] + 1) - 0.5
    shown = axes.pcolormesh(position_edges, edges, np.ma.masked_invalid(image), cmap=cmap,
                            vmin=vmin, vmax=vmax, shading="flat", rasterized=True)
    if slots.size < image.shape[0] or not np.all(np.isfinite(values)):
        axes.set_facecolor("0.85")
    axes.set_ylim(edges[-1], edges[0])
    axes.set_xlim(position_edges[0], position_edges[-1])
    axes.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    axes.set_xlabel(position_label)
    axes.set_ylabel(time_label)
    axes.spines[:].set_visible(True)
    return shown


def mark_cell(axes: Axes, position: float, time: float, height_ms: float,
              strong: bool = True) -> None:
    """Outline the x–t cell at ``position`` and ``time`` (s), ``height_ms`` tall."""
    axes.add_patch(Rectangle((position - 0.5, 1000.0 * time - 0.5 * height_ms), 1.0, height_ms,
                             fill=False, edgecolor="k", linewidth=1.4 if strong else 0.7))


def row_height_ms(times: ArrayLike, step: float | None) -> float:
    """Height, ms, of one row of an x–t map at ``times`` (s), rows ``step`` s tall.

    The height :func:`xt_edges` gives each row: ``step``, or the smallest gap
    between times when that is smaller (``step`` None: that gap).
    """
    times = np.sort(np.asarray(times, dtype=float))
    gaps = np.diff(times)
    if step is None:
        step = gaps.min() if gaps.size else 1e-3
    return 1000.0 * (min(step, gaps.min()) if gaps.size else step)
