"""Receptive-field figures from plain arrays, for every stimulus geometry.

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

Delays are printed in ms by :func:`delay_text`, rounded to the precision of
the frame duration (:func:`delay_resolution`: two significant digits of it),
so that lag 2 of 5 Hz frames reads "≈400 ms", 24 frames of 1/60 s "400 ms"
and one frame at 120 Hz "8.3 ms".
"""

import functools
import math

import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from sparsefield._checks import as_float, as_float_array, as_int
from sparsefield.errors import InputError
from sparsefield.plots.style import DIVERGING, GREY, new_figure, styled, symmetric_limits
from sparsefield.rf.shape import frame_size, stimulus_geometry
from sparsefield.rf.summary import peak_pixel

__all__ = [
    "overview_figure",
    "rf_lags_figure",
    "separation_figure",
    "sta_figure",
    "stimulus_geometry",
    "truth_figure",
]

#: Size of one map panel, inches (the height is scaled by the frame shape).
_PANEL = 1.25

#: Smallest height of any panel, inches (50 px at 100 dpi; the figures promise >= 40 px).
_MIN_PANEL = 0.5

#: Most maps (lags) drawn in one figure; beyond, an evenly spaced subset.
MAX_PANELS = 12

#: Most maps in one row of panels.
_PANELS_PER_ROW = 6

#: Width and height of one x–t panel, inches.
_XT_SIZE = (3.0, 2.4)

#: Number of bins of predicted count in the calibration panel of the overview.
_N_RATE_BINS = 10

#: Axis labels of the calibration panel: both axes in spikes per frame (the
#: unit of the counts and of the model's prediction), never a rate in spikes/s.
_CALIBRATION_LABELS = ("predicted spikes per frame (mean of bin)", "observed spikes per frame (mean of bin)")

#: Most bars in the count histogram of the overview.
_MAX_COUNT_BINS = 50

#: Label of every delay axis.
_DELAY_LABEL = "time before spike (ms)"

#: What the rank-1 separation's two factors are (:mod:`sparsefield.rf.separation`):
#: the spatial map has unit norm (no unit), the temporal kernel carries the
#: scale of the separated weights.
_SPATIAL_LABEL = "spatial map (unit norm)"
_TEMPORAL_LABEL = "temporal kernel (scale of the weights)"


# --------------------------------------------------------------------------
# checks and shared drawing helpers


#: Arrays given to a figure: float, not empty; NaN is allowed (drawn as a gap).
_plot_array = functools.partial(as_float_array, finite=False, allow_empty=False)


def _frame_shape(frame_shape, n_pixels, name):
    """Return ``(height, width)`` as ints, checked against ``n_pixels``."""
    height, width = frame_size(frame_shape)
    if height * width != n_pixels:
        raise InputError(name, f"has {n_pixels} pixels, frame_shape {frame_shape} needs {height * width}")
    return height, width


def _frame_duration(frame_duration):
    """The frame duration as a float > 0 (s), or InputError naming ``frame_duration``."""
    if not (np.isscalar(frame_duration) and np.isfinite(frame_duration) and frame_duration > 0):
        raise InputError("frame_duration", f"must be a finite number > 0 (s), got {frame_duration!r}")
    return float(frame_duration)


def _to_image(vector, frame_shape):
    """Reshape pixels (n_pixels,) to an image (height, width) in C order."""
    return np.reshape(vector, frame_shape)


def _show_map(axes, image, vmax, cmap=DIVERGING, pixel_labels=False, aspect="equal"):
    """Draw ``image`` (height, width) on ``axes`` with colour scale ``[-vmax, vmax]``.

    Returns the :class:`matplotlib.image.AxesImage`.  With ``pixel_labels``
    the axes are labelled in pixel rows and columns; otherwise ticks are hidden.
    """
    return _show_image(axes, image, cmap, pixel_labels, aspect=aspect, vmin=-vmax, vmax=vmax)


def _show_image(axes, image, cmap, pixel_labels, aspect="equal", **limits):
    """Draw ``image`` (height, width) framed on all four sides; see :func:`_show_map`."""
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


def _mark_pixel(axes, row, col, strong=True):
    """Outline the pixel at ``(row, col)``."""
    axes.add_patch(
        Rectangle((col - 0.5, row - 0.5), 1.0, 1.0, fill=False, edgecolor="k", linewidth=1.4 if strong else 0.7)
    )


def _colorbar(figure, shown, axes, label):
    """Attach one colour bar for ``shown`` beside ``axes`` (an Axes or a list)."""
    bar = figure.colorbar(shown, ax=axes, shrink=0.9, aspect=15, pad=0.03)
    bar.set_label(label)
    return bar


def _map_panel(frame_shape, panel_width=_PANEL):
    """Size (width, height) in inches and imshow aspect of one map panel.

    The height follows the frame's aspect ratio, clipped to [1/3, 3] (the
    image is then stretched, ``aspect="auto"``), and is at least
    :data:`_MIN_PANEL`.
    """
    height, width = frame_shape
    ratio = height / width
    clipped = min(max(ratio, 1.0 / 3.0), 3.0)
    panel_height = max(panel_width * clipped, _MIN_PANEL)
    return panel_height / clipped, panel_height, "equal" if clipped == ratio else "auto"


def _map_size(frame_shape, n_columns, extra_width=0.9):
    """Figure size (width, height) for one row of ``n_columns`` maps plus a colour bar."""
    panel_width, panel_height, _ = _map_panel(frame_shape)
    return panel_width * n_columns + extra_width, panel_height + 0.8


def _panel_grid(n_panels, per_row=_PANELS_PER_ROW):
    """``(n_rows, n_columns)`` for ``n_panels`` panels, at most ``per_row`` in a row, rows balanced."""
    n_rows = -(-n_panels // per_row)
    return n_rows, -(-n_panels // n_rows)


def _panels(container, n_panels, n_rows, n_columns, **kwargs):
    """``n_panels`` axes in a grid of ``n_rows`` by ``n_columns`` (row-major); unused cells get no axes."""
    grid = container.subplots(n_rows, n_columns, squeeze=False, **kwargs)
    for axes in grid.ravel()[n_panels:]:
        axes.remove()
    return list(grid.ravel()[:n_panels])


def lag_subset(n_lags, max_panels, keep=None):
    """Indices of an evenly spaced subset of at most ``max_panels`` lags (or delays).

    Parameters
    ----------
    n_lags : int
    max_panels : int
        Most lags kept (>= 1).
    keep : int or None
        Index that must be in the subset (the peak lag): the subset is then
        the evenly spaced grid through it, so that every panel shown,
        the peak's included, is ``step`` lags from the next.

    Returns
    -------
    indices : ndarray of int, increasing
        ``arange(n_lags)`` when ``n_lags <= max_panels``; otherwise every
        ``step``-th index, from 0 or through ``keep``.
    step : int
        The smallest spacing that keeps at most ``max_panels`` indices (1
        when all lags are kept).
    """
    start = 0 if keep is None else int(keep)
    step = 1
    while (n_lags - 1 - start % step) // step + 1 > max_panels:
        step += 1
    return np.arange(start % step, n_lags, step), step


def every_text(step):
    """``"every 3rd"``: English ordinal of a subset step."""
    suffix = "th" if 10 <= step % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(step % 10, "th")
    return f"every {step}{suffix}"


def delay_resolution(step):
    """The precision, in ms, of a delay among delays ``step`` s apart (a frame duration).

    Two significant digits of the step: 10 ms for 5 Hz frames (199.7 ms),
    1 ms for 60 Hz (16.7 ms), 0.1 ms for 120 Hz (8.3 ms).  Below 1 ms the
    precision is coarsened while the step is a whole multiple of the coarser
    one (5 ms steps: 1 ms, not 0.1 ms), so no decimal is printed that every
    delay has as 0.  Delays ``step`` apart always differ at this precision.

    Parameters
    ----------
    step : float or None
        Spacing of the delays shown together, s.  None, 0 or not finite:
        whole ms.

    Returns
    -------
    float
        A power of ten, ms.
    """
    step_ms = 1000.0 * abs(float(step)) if step is not None else 0.0
    if not (math.isfinite(step_ms) and step_ms > 0.0):
        return 1.0
    exponent = math.floor(math.log10(step_ms)) - 1
    while exponent < 0 and _is_multiple(step_ms, 10.0 ** (exponent + 1)):
        exponent += 1
    return 10.0**exponent


def _is_multiple(value, unit):
    """True when ``value`` is a whole multiple (>= 1) of ``unit``, up to float noise."""
    ratio = value / unit
    return round(ratio) >= 1 and abs(ratio - round(ratio)) < 1e-6 * max(1.0, ratio)


def delay_text(seconds, step=None):
    """A delay in ms, rounded to the precision of the frame duration.

    The one place the figures turn a delay into text (titles of lag and tau
    panels, "peak at ...").

    Parameters
    ----------
    seconds : float
        The delay, s.
    step : float or None
        Spacing of the delays shown together (the frame duration, or the
        STA's delay step), s: the delay is rounded to
        :func:`delay_resolution` of it.  None: whole ms.

    Returns
    -------
    str
        e.g. ``"400 ms"`` for lag 2 of 199.7 ms frames (5 Hz) or lag 24 of
        1/60 s frames, ``"8.3 ms"`` for lag 1 at 120 Hz (float noise
        removed, halves rounded up, never ``"-0 ms"``).
    """
    resolution = delay_resolution(step)
    decimals = max(0, -round(math.log10(resolution)))
    milliseconds = round(1000.0 * float(seconds), 6)
    value = round(math.floor(milliseconds / resolution + 0.5) * resolution, decimals)
    return f"{value + 0.0:.{decimals}f} ms"


def _lag_title(lag, frame_duration, separator=" "):
    """``"lag 2 (≈400 ms)"``: a lag in frames and its delay (:func:`delay_text`)."""
    return f"lag {lag:g}{separator}(≈{delay_text(lag * frame_duration, frame_duration)})"


def _milliseconds(seconds):
    return 1000.0 * np.asarray(seconds, dtype=float)


def _zero_line(axes, vertical=False):
    (axes.axvline if vertical else axes.axhline)(0.0, color="0.6", linewidth=0.8, zorder=0)


def _time_axis(axes, ylabel):
    axes.set_xlabel(_DELAY_LABEL)
    axes.set_ylabel(ylabel)


def _bar_label(frame_shape):
    """Axis label of the bar position: bars side by side along columns (1, width) or rows (height, 1)."""
    return "bar position (column)" if frame_shape[0] == 1 else "bar position (row)"


def _curve(axes, times, values, **style):
    """Plot ``values`` over ``times`` (s) in ms before the spike, with markers at up to 60 points."""
    times = np.asarray(times, dtype=float)
    style.setdefault("marker", "o" if times.size <= 60 else None)
    style.setdefault("markersize", 3.0)
    return axes.plot(_milliseconds(times), values, **style)


def _xt_edges(times, step, name):
    """Cell edges of rows at ``times``, each one ``step`` tall (in the unit of ``times``), gaps as NaN rows.

    Returns ``(order, slots, edges)``: rows sorted by time, the output row of
    each, and the ``n_out + 1`` edges.
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
        if index + 1 < sorted_times.size and sorted_times[index + 1] - half > time + half * (1.0 + 1e-9):
            edges.append(sorted_times[index + 1] - half)  # a gap row
    return order, np.array(slots), np.asarray(edges, dtype=float)


def _show_xt(axes, values, times, position_label, *, vmax=None, cmap=DIVERGING, limits=None, step=None,
             name="lags", scale=1000.0, time_label=_DELAY_LABEL):
    """Draw an x–t map: ``values`` (n_times, n_positions), rows at ``times`` (s), on ``axes``.

    Time before the spike (``times * scale``: ms by default) runs down the
    vertical axis, each row one ``step`` tall (missing delays are left grey);
    position runs across.  The colour scale is ``[-vmax, vmax]`` or
    ``limits``.  Returns the QuadMesh.
    """
    times = np.asarray(times, dtype=float)
    order, slots, edges = _xt_edges(times, step, name)
    edges = scale * edges
    image = np.full((edges.size - 1, values.shape[1]), np.nan)
    image[slots] = values[order]
    vmin, vmax = limits if limits is not None else (-vmax, vmax)
    position_edges = np.arange(values.shape[1] + 1) - 0.5
    shown = axes.pcolormesh(position_edges, edges, np.ma.masked_invalid(image), cmap=cmap, vmin=vmin, vmax=vmax,
                            shading="flat", rasterized=True)
    if slots.size < image.shape[0] or not np.all(np.isfinite(values)):
        axes.set_facecolor("0.85")
    axes.set_ylim(edges[-1], edges[0])
    axes.set_xlim(position_edges[0], position_edges[-1])
    axes.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
    axes.set_xlabel(position_label)
    axes.set_ylabel(time_label)
    axes.spines[:].set_visible(True)
    return shown


def _mark_cell(axes, position, time, height_ms, strong=True):
    """Outline the x–t cell at ``position`` and ``time`` (s), ``height_ms`` tall."""
    axes.add_patch(Rectangle((position - 0.5, 1000.0 * time - 0.5 * height_ms), 1.0, height_ms, fill=False,
                             edgecolor="k", linewidth=1.4 if strong else 0.7))


def _row_height_ms(times, step):
    times = np.sort(np.asarray(times, dtype=float))
    gaps = np.diff(times)
    if step is None:
        step = gaps.min() if gaps.size else 1e-3
    return 1000.0 * (min(step, gaps.min()) if gaps.size else step)


# --------------------------------------------------------------------------
# overview


@styled
def overview_figure(frame, edges, counts, predicted=None, window=60.0, label=None):
    """Stimulus frame, spike counts over time and model calibration.

    Parameters
    ----------
    frame : array_like of shape (height, width)
        One stimulus frame, drawn in grey: an image for a grid, a strip of
        bars for bars; not drawn for a full field (``(1, 1)``).
    edges : array_like of shape (n_frames + 1,)
        Frame edges in s (strictly increasing).
    counts : array_like of shape (n_frames,)
        Spikes per frame.
    predicted : array_like of shape (n_frames,) or None
        Expected spikes per frame under a model (NaN where undefined, e.g.
        the first ``lag`` frames).  None draws the counts only.
    window : float
        Seconds from the first edge shown in the time course.
    label : str or None
        Prefix of the title, e.g. the recording id.

    Returns
    -------
    matplotlib.figure.Figure
        Left: the frame.  Middle: counts per frame over the first ``window``
        s, with the prediction overlaid.  Right: calibration, observed
        against predicted spikes per frame (same unit on both axes, on the
        same limits, with the identity line a calibrated model follows): the
        mean observed count ± s.e.m. over the frames of each bin of
        predicted count, at the bin's mean predicted count.  The bins are
        the distinct predicted values when there are at most ten of them,
        else ten bins with equal numbers of frames.  Without a prediction, a
        histogram of counts (at most 50 bins of whole spikes).
    """
    frame = _plot_array(frame, "frame", 2)
    counts = _plot_array(counts, "counts", 1)
    edges = _plot_array(edges, "edges", 1, length=counts.size + 1)
    if predicted is not None:
        predicted = _plot_array(predicted, "predicted", 1, length=counts.size)
        if not np.any(np.isfinite(predicted) & np.isfinite(counts)):
            raise InputError("predicted", "has no finite values where counts are finite")
    window = as_float(window, "window", minimum=0.0, strict=True)
    geometry = stimulus_geometry(frame.shape)
    if geometry == "full_field":
        figure = new_figure(9.0, 3.2)
        middle, right = figure.subplots(1, 2, width_ratios=[1.6, 1.0])
    else:
        figure = new_figure(11.0, 3.2)
        left, middle, right = figure.subplots(1, 3, width_ratios=[0.8, 1.6, 1.0])
        _draw_frame(figure, left, frame, geometry)
    _draw_time_course(middle, edges, counts, predicted, window)
    if predicted is None:
        _draw_count_histogram(right, counts)
        title = "spike counts per frame (no model prediction given)"
    else:
        _draw_calibration(right, counts, predicted)
        title = "spike counts per frame and model prediction"
    if geometry == "full_field":
        title += f", full-field stimulus (frame 0 intensity {frame[0, 0]:.3g})"
    figure.suptitle(f"{label}: {title}" if label else title[0].upper() + title[1:])
    return figure


def _draw_frame(figure, axes, frame, geometry):
    if geometry == "grid":
        shown = _show_image(axes, frame, GREY, pixel_labels=True)
        axes.set_title("stimulus frame")
    else:  # bars: the 1-D frame stretched across the panel looks like the bars on the screen
        along_rows = frame.shape[1] == 1
        shown = _show_image(axes, frame.T if along_rows else frame, GREY, pixel_labels=False, aspect="auto")
        axes.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        axes.set_xlabel(_bar_label(frame.shape))
        axes.set_title("stimulus frame (bars)")
    _colorbar(figure, shown, axes, "intensity")


def _draw_time_course(axes, edges, counts, predicted, window):
    shown = np.flatnonzero(edges[:-1] < edges[0] + window)
    stop = shown[-1] + 1
    axes.stairs(counts[:stop], edges[: stop + 1], baseline=None, color="0.3", label="observed")
    if predicted is not None:
        axes.stairs(predicted[:stop], edges[: stop + 1], baseline=None, color="C3", label="predicted")
        axes.legend(loc="upper right")
    axes.set_xlim(edges[0], edges[stop])
    axes.set_ylim(bottom=0.0)
    axes.set_xlabel("time (s)")
    axes.set_ylabel("spikes per frame")
    axes.set_title(f"first {edges[stop] - edges[0]:.3g} s")


def _draw_count_histogram(axes, counts):
    largest = int(np.nanmax(counts)) if np.any(np.isfinite(counts)) else 0
    width = max(1, -(-(largest + 1) // _MAX_COUNT_BINS))
    axes.hist(counts[np.isfinite(counts)], bins=np.arange(0, largest + width + 1, width) - 0.5, color="0.5")
    axes.set_xlabel("spikes per frame" if width == 1 else f"spikes per frame (bins of {width})")
    axes.set_ylabel("frames")
    axes.set_title("count distribution")


def calibration_bins(predicted, n_bins=_N_RATE_BINS):
    """Group frames by predicted count for a calibration plot.

    Parameters
    ----------
    predicted : ndarray of shape (n_frames,)
        Finite predicted counts.
    n_bins : int
        Most groups.

    Returns
    -------
    list of ndarray of int
        Frame indices per group, in increasing predicted count: one group
        per distinct value when there are at most ``n_bins``, else bins of
        (nearly) equal numbers of frames between quantiles (tied values
        always share a bin, so there may be fewer).
    """
    distinct, which = np.unique(predicted, return_inverse=True)
    if distinct.size > n_bins:
        bin_edges = np.unique(np.quantile(predicted, np.linspace(0.0, 1.0, n_bins + 1)))
        which = np.clip(np.searchsorted(bin_edges, predicted, side="right") - 1, 0, bin_edges.size - 2)
    return [np.flatnonzero(which == index) for index in np.unique(which)]


def _draw_calibration(axes, counts, predicted):
    valid = np.isfinite(predicted) & np.isfinite(counts)
    counts, predicted = counts[valid], predicted[valid]
    groups = calibration_bins(predicted)
    mean_predicted = np.array([predicted[group].mean() for group in groups])
    mean_observed = np.array([counts[group].mean() for group in groups])
    error = np.array([counts[group].std() / math.sqrt(group.size) for group in groups])
    top = 1.05 * max(float(mean_predicted.max()), float((mean_observed + error).max()), 1e-9)
    axes.plot([0.0, top], [0.0, top], color="C3", linewidth=1.0, label="calibrated (observed = predicted)")
    axes.errorbar(mean_predicted, mean_observed, yerr=error, fmt="o", color="0.2", label="observed ± s.e.m.")
    axes.set_xlim(0.0, top)
    axes.set_ylim(0.0, top)
    axes.set_xlabel(_CALIBRATION_LABELS[0])
    axes.set_ylabel(_CALIBRATION_LABELS[1])
    distinct = np.unique(predicted).size <= _N_RATE_BINS
    kind = "predicted values" if distinct else "bins of equal frames"
    axes.set_title(f"calibration ({len(groups)} {kind})")
    axes.legend(loc="upper left")


# --------------------------------------------------------------------------
# receptive field per lag


@styled
def rf_lags_figure(weights, lags, frame_shape, frame_duration, title, *, max_panels=MAX_PANELS):
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
    weights = _plot_array(weights, "weights", 2)
    lags = _plot_array(lags, "lags", 1, length=weights.shape[0])
    frame_shape = _frame_shape(frame_shape, weights.shape[1], "weights")
    frame_duration = _frame_duration(frame_duration)
    max_panels = as_int(max_panels, "max_panels", minimum=1)
    geometry = stimulus_geometry(frame_shape)
    peak_lag, row, col = peak_pixel(weights, frame_shape)
    pixel = row * frame_shape[1] + col
    times = lags * frame_duration
    peak_text = f"lag {lags[peak_lag]:g} (≈{delay_text(times[peak_lag], frame_duration)})"
    if geometry == "full_field":
        figure = new_figure(5.5, 3.2)
        axes = figure.subplots()
        _zero_line(axes)
        _curve(axes, times, weights[:, 0], color="C0")
        _curve(axes, times[[peak_lag]], weights[[peak_lag], 0], color="C3", linestyle="none", marker="o",
               markersize=6.0, fillstyle="none")
        _time_axis(axes, "weight")
        axes.set_title("full-field stimulus: weight per lag")
        figure.suptitle(f"{title}\npeak |weight| at {peak_text}")
        return figure
    if geometry == "bars":
        figure = _xt_with_cuts(weights, times, frame_shape, frame_duration, (peak_lag, pixel), "weight")
        figure.suptitle(f"{title}\npeak |weight| at bar {pixel}, {peak_text}")
        return figure
    shown_lags, step = lag_subset(lags.size, max_panels, peak_lag)
    n_rows, n_columns = _panel_grid(shown_lags.size)
    panel_width, panel_height, aspect = _map_panel(frame_shape)
    maps_height = n_rows * (panel_height + 0.3) + 0.6
    subset = shown_lags.size < lags.size
    figure = new_figure(panel_width * n_columns + 0.9, maps_height + (2.2 if subset else 0.0))
    if subset:
        map_figure, course_figure = figure.subfigures(2, 1, height_ratios=[maps_height, 2.2])
    else:
        map_figure = figure
    vmax = symmetric_limits(weights)
    panels = _panels(map_figure, shown_lags.size, n_rows, n_columns)
    for axes, position in zip(panels, shown_lags):
        shown = _show_map(axes, _to_image(weights[position], frame_shape), vmax, aspect=aspect)
        _mark_pixel(axes, row, col, strong=position == peak_lag)
        axes.set_title(_lag_title(lags[position], frame_duration))
    _colorbar(map_figure, shown, panels, "weight")
    heading = f"{title}\npeak |weight| at row {row}, col {col}, lag {lags[peak_lag]:g}"
    if subset:
        axes = course_figure.subplots()
        _zero_line(axes)
        _curve(axes, times, weights[:, pixel], color="C0", label="all lags")
        _curve(axes, times[shown_lags], weights[shown_lags, pixel], color="C3", linestyle="none",
               label="maps shown above")
        _time_axis(axes, "weight")
        axes.set_title(f"weight at row {row}, col {col} over all {lags.size} lags")
        axes.legend(loc="upper right")
        heading += f" (maps: {every_text(step)} of {lags.size} lags, with the peak lag)"
    figure.suptitle(heading)
    return figure


def _xt_with_cuts(values, times, frame_shape, step, peak, label, *, limits=None, cmap=DIVERGING):
    """Bars: x–t map of ``values`` (n_times, n_bars) and its cuts through ``peak = (time index, bar)``."""
    peak_time, bar = peak
    figure = new_figure(_XT_SIZE[0] + 5.6, _XT_SIZE[1] + 0.8)
    map_axes, time_axes, space_axes = figure.subplots(1, 3, width_ratios=[_XT_SIZE[0], 2.6, 2.6])
    vmax = symmetric_limits(values)
    shown = _show_xt(map_axes, values, times, _bar_label(frame_shape), vmax=vmax, limits=limits, cmap=cmap,
                     step=step)
    _mark_cell(map_axes, bar, times[peak_time], _row_height_ms(times, step))
    map_axes.set_title("x–t map (one colour scale)")
    _colorbar(figure, shown, map_axes, label)
    _zero_line(time_axes)
    _curve(time_axes, times, values[:, bar], color="C0")
    _time_axis(time_axes, label)
    time_axes.set_title(f"at bar {bar}")
    _zero_line(space_axes)
    space_axes.plot(np.arange(values.shape[1]), values[peak_time], color="C0", marker="o" if values.shape[1] <= 60
                    else None, markersize=3.0)
    space_axes.set_xlabel(_bar_label(frame_shape))
    space_axes.set_ylabel(label)
    space_axes.set_title(f"at {delay_text(times[peak_time], step)} before the spike")
    return figure


# --------------------------------------------------------------------------
# space-time separation


@styled
def separation_figure(spatial, temporal, times, frame_shape, title, explained):
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
    spatial = _plot_array(spatial, "spatial", 1)
    temporal = _plot_array(temporal, "temporal", 1)
    times = _plot_array(times, "times", 1, length=temporal.size)
    frame_shape = _frame_shape(frame_shape, spatial.size, "spatial")
    geometry = stimulus_geometry(frame_shape)
    _, row, col = peak_pixel(spatial, frame_shape)
    if np.any(spatial):
        share = f"rank 1: {100.0 * explained:.1f} % of ‖M‖²"
    else:
        share = "no receptive field: all weights are zero"
    if geometry == "full_field":
        figure = new_figure(5.5, 3.2)
        time_axes = figure.subplots()
        time_axes.set_title(f"temporal kernel (full field; spatial map = {spatial[0]:.3g}, unit norm)")
    elif geometry == "bars":
        figure = new_figure(8.0, 3.2)
        space_axes, time_axes = figure.subplots(1, 2)
        _zero_line(space_axes)
        space_axes.plot(np.arange(spatial.size), spatial, color="C0", marker="o" if spatial.size <= 60 else None,
                        markersize=3.0)
        space_axes.set_xlabel(_bar_label(frame_shape))
        space_axes.set_ylabel(_SPATIAL_LABEL)
        pixel = row * frame_shape[1] + col
        space_axes.set_title(f"spatial map (peak at bar {pixel})" if np.any(spatial) else "spatial map (all zero)")
        time_axes.set_title("temporal kernel")
    else:
        width, height = _map_size(frame_shape, 1)
        figure = new_figure(width + 3.2, height + 0.4)
        map_axes, time_axes = figure.subplots(1, 2, width_ratios=[1.0, 1.6])
        _, _, aspect = _map_panel(frame_shape)
        shown = _show_map(map_axes, _to_image(spatial, frame_shape), symmetric_limits(spatial), pixel_labels=True,
                          aspect=aspect)
        if np.any(spatial):
            _mark_pixel(map_axes, row, col)
            map_axes.set_title(f"spatial map (peak row {row}, col {col})")
        else:
            map_axes.set_title("spatial map (all zero)")
        _colorbar(figure, shown, map_axes, _SPATIAL_LABEL)
        time_axes.set_title("temporal kernel")
    _zero_line(time_axes)
    _curve(time_axes, times, temporal, color="C0")
    _time_axis(time_axes, _TEMPORAL_LABEL)
    figure.suptitle(f"{title} ({share})")
    return figure


# --------------------------------------------------------------------------
# spike-triggered average


@styled
def sta_figure(taus, sta, zscore, frame_shape, n_panels=10):
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
        (:func:`lag_subset`), in rows of at most 6; each map is titled with
        its tau by :func:`delay_text`, as the peak in the figure title is.

    Returns
    -------
    matplotlib.figure.Figure
        Grid: z-score maps on one symmetric scale above the STA (in stimulus
        units) at the peak tau and z over tau at the peak pixel and the
        largest ``|z|`` over pixels, with ±3 reference lines.  Bars: x–t maps
        of z (symmetric scale) and of the STA above the same time course.
        Full field: the STA and z over tau.
    """
    taus = _plot_array(taus, "taus", 1)
    sta = _plot_array(sta, "sta", 2, length=taus.size)
    zscore = _plot_array(zscore, "zscore", 2)
    if zscore.shape != sta.shape:
        raise InputError("zscore", f"expected shape {sta.shape} like sta, got {zscore.shape}")
    frame_shape = _frame_shape(frame_shape, sta.shape[1], "sta")
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
        _curve(sta_axes, taus, sta[:, 0], color="0.3")
        sta_axes.axvline(1000.0 * taus[peak_tau], color="C3", linewidth=0.8, linestyle=":")
        _time_axis(sta_axes, "mean stimulus")
        sta_axes.set_title("STA (full-field intensity)")
        _draw_z_course(time_axes, taus, zscore, peak_tau, pixel, "z (full field)", with_max=False)
        figure.suptitle(f"Spike-triggered average: peak |z| = {abs(peak_z):.1f} at {when}")
        return figure
    if geometry == "bars":
        figure = new_figure(9.0, 5.6)
        mosaic = figure.subplot_mosaic([["z", "sta"], ["course", "course"]], height_ratios=[1.3, 1.0])
        vmax = symmetric_limits(zscore)
        shown = _show_xt(mosaic["z"], zscore, taus, _bar_label(frame_shape), vmax=vmax, step=step, name="taus")
        _mark_cell(mosaic["z"], pixel, taus[peak_tau], _row_height_ms(taus, step))
        mosaic["z"].set_title("z-score (x–t)")
        _colorbar(figure, shown, mosaic["z"], "z-score")
        limits = (float(np.nanmin(sta)), float(np.nanmax(sta))) if np.any(np.isfinite(sta)) else (0.0, 1.0)
        shown = _show_xt(mosaic["sta"], sta, taus, _bar_label(frame_shape), limits=limits, cmap=GREY, step=step,
                         name="taus")
        mosaic["sta"].set_title("STA (x–t)")
        _colorbar(figure, shown, mosaic["sta"], "mean stimulus")
        _draw_z_course(mosaic["course"], taus, zscore, peak_tau, pixel, f"z at bar {pixel}")
        figure.suptitle(f"Spike-triggered average: peak |z| = {abs(peak_z):.1f} at {when} (bar {pixel})")
        return figure
    order = np.argsort(taus, kind="stable")
    chosen = order[lag_subset(taus.size, n_panels, int(np.flatnonzero(order == peak_tau)[0]))[0]]
    n_rows, n_columns = _panel_grid(chosen.size)
    panel_width, panel_height, aspect = _map_panel(frame_shape)
    maps_height = n_rows * (panel_height + 0.3) + 0.5
    figure = new_figure(max(panel_width * n_columns + 0.9, 7.0), maps_height + 2.6)
    top, bottom = figure.subfigures(2, 1, height_ratios=[maps_height, 2.6])
    _draw_zscore_maps(top, taus, zscore, frame_shape, chosen, (row, col), step, (n_rows, n_columns, aspect))
    _draw_sta_peak(bottom, taus, sta, zscore, frame_shape, peak_tau, (row, col), step, aspect)
    figure.suptitle(f"Spike-triggered average: peak |z| = {abs(peak_z):.1f} at {when} (row {row}, col {col})")
    return figure


def _draw_zscore_maps(subfigure, taus, zscore, frame_shape, chosen, peak, step, layout):
    n_rows, n_columns, aspect = layout
    vmax = symmetric_limits(zscore)
    panels = _panels(subfigure, chosen.size, n_rows, n_columns)
    for axes, tau_index in zip(panels, chosen):
        shown = _show_map(axes, _to_image(zscore[tau_index], frame_shape), vmax, aspect=aspect)
        _mark_pixel(axes, *peak, strong=False)
        axes.set_title(delay_text(taus[tau_index], step))
    _colorbar(subfigure, shown, panels, "z-score")


def _draw_sta_peak(subfigure, taus, sta, zscore, frame_shape, peak_tau, peak, step, aspect):
    map_axes, time_axes = subfigure.subplots(1, 2, width_ratios=[1.0, 3.0])
    shown = _show_image(map_axes, _to_image(sta[peak_tau], frame_shape), GREY, pixel_labels=False, aspect=aspect)
    _mark_pixel(map_axes, *peak)
    map_axes.set_title(f"STA at {delay_text(taus[peak_tau], step)}")
    _colorbar(subfigure, shown, map_axes, "mean stimulus")
    pixel = peak[0] * frame_shape[1] + peak[1]
    _draw_z_course(time_axes, taus, zscore, peak_tau, pixel, f"z at row {peak[0]}, col {peak[1]}")


def _draw_z_course(axes, taus, zscore, peak_tau, pixel, label, with_max=True):
    """z over tau at ``pixel`` (and the largest |z| over pixels), ±3 dashed, the peak tau dotted."""
    for level in (-3.0, 3.0):
        axes.axhline(level, color="0.6", linestyle="--", linewidth=0.8, zorder=0)
    _zero_line(axes)
    order = np.argsort(taus, kind="stable")
    axes.plot(_milliseconds(taus[order]), zscore[order, pixel], color="C0", label=label)
    if with_max:
        axes.plot(_milliseconds(taus[order]), np.nanmax(np.abs(zscore[order]), axis=1), color="0.4",
                  label="max |z| over pixels")
    axes.axvline(1000.0 * taus[peak_tau], color="C3", linewidth=0.8, linestyle=":")
    _time_axis(axes, "z-score")
    axes.set_title("z-score over time before spike (dashed: ±3)")
    axes.legend(loc="upper right")


# --------------------------------------------------------------------------
# planted versus recovered


@styled
def truth_figure(
    true_spatial, est_spatial, true_temporal, est_temporal, times, frame_shape, spatial_corr, temporal_corr, label
):
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
    times = _plot_array(times, "times", 1)
    true_spatial = _plot_array(true_spatial, "true_spatial", 1)
    maps = [true_spatial, _plot_array(est_spatial, "est_spatial", 1, length=true_spatial.size)]
    kernels = [_plot_array(kernel, name, 1, length=times.size)
               for name, kernel in (("true_temporal", true_temporal), ("est_temporal", est_temporal))]
    frame_shape = _frame_shape(frame_shape, true_spatial.size, "true_spatial")
    geometry = stimulus_geometry(frame_shape)
    if geometry == "full_field":
        figure = new_figure(5.5, 3.2)
        time_axes = figure.subplots()
    elif geometry == "bars":
        figure = new_figure(8.0, 3.2)
        space_axes, time_axes = figure.subplots(1, 2)
        _zero_line(space_axes)
        for image, name, style in zip(maps, ("truth", "estimate"), ("-", "o--")):
            space_axes.plot(np.arange(image.size), _unit_max(image), style, markersize=3.0, label=name)
        space_axes.set_xlabel(_bar_label(frame_shape))
        space_axes.set_ylabel("weight / max |weight|")
        space_axes.set_title(f"spatial, r = {spatial_corr:.2f}")
        space_axes.legend(loc="best")
    else:
        width, height = _map_size(frame_shape, 2)
        _, _, aspect = _map_panel(frame_shape)
        figure = new_figure(width + 3.2, height)
        map_figure, time_figure = figure.subfigures(1, 2, width_ratios=[width, 3.2])
        map_row = map_figure.subplots(1, 2)
        for axes, image, name in zip(map_row, maps, ("truth", f"estimate, r = {spatial_corr:.2f}")):
            shown = _show_map(axes, _to_image(_unit_max(image), frame_shape), 1.0, aspect=aspect)
            axes.set_title(name)
        _colorbar(map_figure, shown, list(map_row), "weight / max |weight|")
        time_axes = time_figure.subplots()
    _zero_line(time_axes)
    order = np.argsort(times, kind="stable")
    for kernel, name, style in zip(kernels, ("truth", "estimate"), ("-", "o--")):
        time_axes.plot(_milliseconds(times[order]), _unit_max(kernel)[order], style, markersize=3.0, label=name)
    _time_axis(time_axes, "weight / max |weight|")
    time_axes.set_title(f"temporal, r = {temporal_corr:.2f}")
    time_axes.legend(loc="best")
    figure.suptitle(label)
    return figure


def _unit_max(values):
    """Divide ``values`` by its largest finite ``|value|`` (unchanged when that is 0)."""
    return values / symmetric_limits(values)
