"""Receptive-field figures from plain arrays.

Each function takes arrays that the analysis already computed and returns a
:class:`matplotlib.figure.Figure`; nothing here fits or estimates anything.
Signed maps share one symmetric diverging colour scale centred at 0
(:data:`sparsefield.plots.style.DIVERGING`).  Save with
:func:`sparsefield.plots.style.save_figure`.
"""

import functools

import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.ticker import MaxNLocator

from sparsefield._checks import as_float, as_float_array
from sparsefield.errors import InputError
from sparsefield.plots.style import DIVERGING, GREY, new_figure, styled, symmetric_limits
from sparsefield.rf.summary import peak_pixel

#: Size of one map panel, inches (the height is scaled by the frame shape).
_PANEL = 1.25

#: Number of bins of predicted rate in the calibration panel of the overview.
_N_RATE_BINS = 10


# --------------------------------------------------------------------------
# checks and shared drawing helpers


#: Arrays given to a figure: float, not empty; NaN is allowed (drawn as a gap).
_plot_array = functools.partial(as_float_array, finite=False, allow_empty=False)


def _frame_shape(frame_shape, n_pixels, name):
    """Return ``(height, width)`` as ints, checked against ``n_pixels``."""
    if len(frame_shape) != 2:
        raise InputError("frame_shape", f"expected (height, width), got {frame_shape}")
    height, width = (int(size) for size in frame_shape)
    if height * width != n_pixels:
        raise InputError(name, f"has {n_pixels} pixels, frame_shape {frame_shape} needs {height * width}")
    return height, width


def _to_image(vector, frame_shape):
    """Reshape pixels (n_pixels,) to an image (height, width) in C order."""
    return np.reshape(vector, frame_shape)


def _show_map(axes, image, vmax, cmap=DIVERGING, pixel_labels=False):
    """Draw ``image`` (height, width) on ``axes`` with colour scale ``[-vmax, vmax]``.

    Returns the :class:`matplotlib.image.AxesImage`.  With ``pixel_labels``
    the axes are labelled in pixel rows and columns; otherwise ticks are hidden.
    """
    return _show_image(axes, image, cmap, pixel_labels, vmin=-vmax, vmax=vmax)


def _show_image(axes, image, cmap, pixel_labels, **limits):
    """Draw ``image`` (height, width) framed on all four sides; see :func:`_show_map`."""
    shown = axes.imshow(image, cmap=cmap, **limits)
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


def _map_size(frame_shape, n_columns, extra_width=0.9):
    """Figure size (width, height) for one row of ``n_columns`` maps plus a colour bar."""
    height, width = frame_shape
    panel_height = _PANEL * height / width
    return _PANEL * n_columns + extra_width, panel_height + 0.8


def _milliseconds(seconds):
    return 1000.0 * np.asarray(seconds, dtype=float)


def _zero_line(axes):
    axes.axhline(0.0, color="0.6", linewidth=0.8, zorder=0)


def _time_axis(axes, ylabel):
    axes.set_xlabel("time before spike (ms)")
    axes.set_ylabel(ylabel)


# --------------------------------------------------------------------------
# figures


@styled
def overview_figure(frame, edges, counts, predicted=None, window=60.0, label=None):
    """Stimulus frame, spike counts over time and model calibration.

    Parameters
    ----------
    frame : array_like of shape (height, width)
        One stimulus frame, drawn in grey.
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
        s, with the prediction overlaid.  Right: mean observed count in ten
        equally populated bins of predicted rate (predicted / frame duration,
        spikes/s) against the mean predicted count in the same bins, which a
        calibrated model follows; without a prediction, a histogram of counts.
    """
    frame = _plot_array(frame, "frame", 2)
    counts = _plot_array(counts, "counts", 1)
    edges = _plot_array(edges, "edges", 1, length=counts.size + 1)
    if predicted is not None:
        predicted = _plot_array(predicted, "predicted", 1, length=counts.size)
        if not np.any(np.isfinite(predicted)):
            raise InputError("predicted", "has no finite values")
    window = as_float(window, "window", minimum=0.0, strict=True)
    figure = new_figure(11.0, 3.2)
    left, middle, right = figure.subplots(1, 3, width_ratios=[0.8, 1.6, 1.0])
    shown = _show_image(left, frame, GREY, pixel_labels=True)
    left.set_title("stimulus frame")
    _colorbar(figure, shown, left, "intensity")
    _draw_time_course(middle, edges, counts, predicted, window)
    if predicted is None:
        _draw_count_histogram(right, counts)
        title = "spike counts per frame (no model prediction given)"
    else:
        _draw_calibration(right, edges, counts, predicted)
        title = "spike counts per frame and model prediction"
    figure.suptitle(f"{label}: {title}" if label else title.capitalize())
    return figure


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
    axes.set_title(f"first {edges[stop] - edges[0]:.0f} s")


def _draw_count_histogram(axes, counts):
    largest = int(np.nanmax(counts))
    axes.hist(counts, bins=np.arange(largest + 2) - 0.5, color="0.5")
    axes.set_xlabel("spikes per frame")
    axes.set_ylabel("frames")
    axes.set_title("count distribution")


def _draw_calibration(axes, edges, counts, predicted):
    rate = predicted / np.diff(edges)
    valid = np.isfinite(rate) & np.isfinite(counts)
    rate, counts, predicted = rate[valid], counts[valid], predicted[valid]
    bin_edges = np.unique(np.quantile(rate, np.linspace(0.0, 1.0, _N_RATE_BINS + 1)))
    which = np.clip(np.searchsorted(bin_edges, rate, side="right") - 1, 0, max(bin_edges.size - 2, 0))
    rows = [np.flatnonzero(which == index) for index in np.unique(which)]
    mean_rate = np.array([rate[row].mean() for row in rows])
    mean_observed = np.array([counts[row].mean() for row in rows])
    error = np.array([counts[row].std() / np.sqrt(row.size) for row in rows])
    mean_predicted = np.array([predicted[row].mean() for row in rows])
    axes.plot(mean_rate, mean_predicted, color="C3", label="mean predicted (calibrated model)")
    axes.errorbar(mean_rate, mean_observed, yerr=error, fmt="o", color="0.2", label="observed ± s.e.m.")
    axes.set_xlabel("predicted rate (spikes/s)")
    axes.set_ylabel("mean spikes per frame")
    axes.set_title(f"calibration ({len(rows)} bins of predicted rate)")
    axes.legend(loc="upper left")


@styled
def rf_lags_figure(weights, lags, frame_shape, frame_duration, title):
    """One receptive-field map per lag on one shared symmetric colour scale.

    Parameters
    ----------
    weights : array_like of shape (n_lags, n_pixels)
        Filter weights per lag, pixels in C order.
    lags : array_like of shape (n_lags,)
        Lag of each row in frames.
    frame_shape : tuple of int
        ``(height, width)`` with ``height * width == n_pixels``.
    frame_duration : float
        Typical frame duration in s, to give each lag in ms.
    title : str
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per lag and one colour bar; the pixel with the largest
        ``|weight|`` over all lags is outlined in every panel (heavier in
        the panel of its lag).
    """
    weights = _plot_array(weights, "weights", 2)
    lags = _plot_array(lags, "lags", 1, length=weights.shape[0])
    frame_shape = _frame_shape(frame_shape, weights.shape[1], "weights")
    vmax = symmetric_limits(weights)
    peak_lag, row, col = peak_pixel(weights, frame_shape)
    figure = new_figure(*_map_size(frame_shape, len(lags)))
    axes_row = figure.subplots(1, len(lags), squeeze=False)[0]
    for position, axes in enumerate(axes_row):
        shown = _show_map(axes, _to_image(weights[position], frame_shape), vmax)
        _mark_pixel(axes, row, col, strong=position == peak_lag)
        lag = lags[position]
        axes.set_title(f"lag {lag:g} (≈{lag * frame_duration * 1000:.0f} ms)")
    _colorbar(figure, shown, list(axes_row), "weight")
    figure.suptitle(f"{title}\npeak |weight| at row {row}, col {col}, lag {lags[peak_lag]:g}")
    return figure


@styled
def separation_figure(spatial, temporal, times, frame_shape, title, explained):
    """Rank-1 space-time separation: spatial map and temporal kernel.

    Parameters
    ----------
    spatial : array_like of shape (n_pixels,)
        Spatial component, pixels in C order.
    temporal : array_like of shape (n_lags,)
        Temporal component.
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
        The title gives ``explained`` as "rank 1: 55.0 % of ‖M‖²".
    """
    spatial = _plot_array(spatial, "spatial", 1)
    temporal = _plot_array(temporal, "temporal", 1)
    times = _plot_array(times, "times", 1, length=temporal.size)
    frame_shape = _frame_shape(frame_shape, spatial.size, "spatial")
    _, row, col = peak_pixel(spatial, frame_shape)
    width, height = _map_size(frame_shape, 1)
    figure = new_figure(width + 3.2, height + 0.4)
    map_axes, time_axes = figure.subplots(1, 2, width_ratios=[1.0, 1.6])
    shown = _show_map(map_axes, _to_image(spatial, frame_shape), symmetric_limits(spatial), pixel_labels=True)
    if np.any(spatial):
        _mark_pixel(map_axes, row, col)
        map_axes.set_title(f"spatial (peak row {row}, col {col})")
        share = f"rank 1: {100.0 * explained:.1f} % of ‖M‖²"
    else:
        map_axes.set_title("spatial (all zero)")
        share = "no receptive field: all weights are zero"
    _colorbar(figure, shown, map_axes, "weight")
    _zero_line(time_axes)
    time_axes.plot(_milliseconds(times), temporal, marker="o", color="C0")
    _time_axis(time_axes, "temporal weight")
    time_axes.set_title("temporal")
    figure.suptitle(f"{title} ({share})")
    return figure


@styled
def sta_figure(taus, sta, zscore, frame_shape, n_panels=10):
    """Spike-triggered average: z-score maps over tau and the peak time course.

    Parameters
    ----------
    taus : array_like of shape (n_taus,)
        Time before the spike of each row, in s.
    sta : array_like of shape (n_taus, n_pixels)
        Mean stimulus at each tau before a spike.
    zscore : array_like of shape (n_taus, n_pixels)
        ``sta`` in units of its null distribution's standard deviation.
    frame_shape : tuple of int
        ``(height, width)`` with ``height * width == n_pixels``.
    n_panels : int
        Number of z-score maps, at taus evenly spread over ``taus``.

    Returns
    -------
    matplotlib.figure.Figure
        Top: z-score maps on one symmetric scale.  Bottom: the STA (in
        stimulus units) at the peak tau, and z over tau at the peak pixel and
        the largest ``|z|`` over pixels, with ±3 reference lines.
    """
    taus = _plot_array(taus, "taus", 1)
    sta = _plot_array(sta, "sta", 2, length=taus.size)
    zscore = _plot_array(zscore, "zscore", 2)
    if zscore.shape != sta.shape:
        raise InputError("zscore", f"expected shape {sta.shape} like sta, got {zscore.shape}")
    frame_shape = _frame_shape(frame_shape, sta.shape[1], "sta")
    peak_tau, row, col = peak_pixel(zscore, frame_shape)
    chosen = np.unique(np.round(np.linspace(0, taus.size - 1, min(int(n_panels), taus.size))).astype(int))
    width, height = _map_size(frame_shape, chosen.size)
    figure = new_figure(max(width, 7.0), height + 2.6)
    top, bottom = figure.subfigures(2, 1, height_ratios=[height, 2.6])
    _draw_zscore_maps(top, taus, zscore, frame_shape, chosen, (row, col))
    _draw_sta_peak(bottom, taus, sta, zscore, frame_shape, peak_tau, (row, col))
    peak_z = zscore[peak_tau, row * frame_shape[1] + col]
    figure.suptitle(
        f"Spike-triggered average: peak |z| = {abs(peak_z):.1f} at "
        f"{taus[peak_tau] * 1000:.0f} ms before the spike (row {row}, col {col})"
    )
    return figure


def _draw_zscore_maps(subfigure, taus, zscore, frame_shape, chosen, peak):
    vmax = symmetric_limits(zscore)
    axes_row = subfigure.subplots(1, chosen.size, squeeze=False)[0]
    for axes, tau_index in zip(axes_row, chosen):
        shown = _show_map(axes, _to_image(zscore[tau_index], frame_shape), vmax)
        _mark_pixel(axes, *peak, strong=False)
        axes.set_title(f"{taus[tau_index] * 1000:.0f} ms")
    _colorbar(subfigure, shown, list(axes_row), "z-score")


def _draw_sta_peak(subfigure, taus, sta, zscore, frame_shape, peak_tau, peak):
    map_axes, time_axes = subfigure.subplots(1, 2, width_ratios=[1.0, 3.0])
    shown = _show_image(map_axes, _to_image(sta[peak_tau], frame_shape), GREY, pixel_labels=False)
    _mark_pixel(map_axes, *peak)
    map_axes.set_title(f"STA at {taus[peak_tau] * 1000:.0f} ms")
    _colorbar(subfigure, shown, map_axes, "mean stimulus")
    pixel = peak[0] * frame_shape[1] + peak[1]
    for level in (-3.0, 3.0):
        time_axes.axhline(level, color="0.6", linestyle="--", linewidth=0.8, zorder=0)
    _zero_line(time_axes)
    time_axes.plot(_milliseconds(taus), zscore[:, pixel], color="C0", label=f"z at row {peak[0]}, col {peak[1]}")
    time_axes.plot(_milliseconds(taus), np.nanmax(np.abs(zscore), axis=1), color="0.4", label="max |z| over pixels")
    time_axes.axvline(taus[peak_tau] * 1000, color="C3", linewidth=0.8, linestyle=":")
    _time_axis(time_axes, "z-score")
    time_axes.set_title("z-score over time before spike (dashed: ±3)")
    time_axes.legend(loc="upper right")


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
        The two maps, each divided by its largest ``|value|``, on one scale
        [-1, 1]; the two kernels, each divided by its largest ``|value|``,
        overlaid.
    """
    times = _plot_array(times, "times", 1)
    true_spatial = _plot_array(true_spatial, "true_spatial", 1)
    maps = [true_spatial, _plot_array(est_spatial, "est_spatial", 1, length=true_spatial.size)]
    kernels = [_plot_array(kernel, name, 1, length=times.size)
               for name, kernel in (("true_temporal", true_temporal), ("est_temporal", est_temporal))]
    frame_shape = _frame_shape(frame_shape, true_spatial.size, "true_spatial")
    width, height = _map_size(frame_shape, 2)
    figure = new_figure(width + 3.2, height)
    map_figure, time_figure = figure.subfigures(1, 2, width_ratios=[width, 3.2])
    map_row = map_figure.subplots(1, 2)
    for axes, image, name in zip(map_row, maps, ("truth", f"estimate, r = {spatial_corr:.2f}")):
        shown = _show_map(axes, _to_image(_unit_max(image), frame_shape), 1.0)
        axes.set_title(name)
    _colorbar(map_figure, shown, list(map_row), "weight / max |weight|")
    time_axes = time_figure.subplots()
    _zero_line(time_axes)
    for kernel, name, style in zip(kernels, ("truth", "estimate"), ("-", "o--")):
        time_axes.plot(_milliseconds(times), _unit_max(kernel), style, label=name)
    _time_axis(time_axes, "weight / max |weight|")
    time_axes.set_title(f"temporal, r = {temporal_corr:.2f}")
    time_axes.legend(loc="best")
    figure.suptitle(label)
    return figure


def _unit_max(values):
    """Divide ``values`` by its largest finite ``|value|`` (unchanged when that is 0)."""
    return values / symmetric_limits(values)
