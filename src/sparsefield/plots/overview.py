"""The overview of one recording: a stimulus frame, spike counts over time, model calibration.

:func:`overview_figure` takes arrays that the analysis already computed and
returns a :class:`matplotlib.figure.Figure`; nothing here fits anything.  The
frame is drawn by its geometry
(:func:`sparsefield.rf.shape.stimulus_geometry`): an image for a grid, a
strip of bars for bars, nothing for a full field.  :func:`calibration_bins`
groups frames by predicted count for the calibration panel.  Save with
:func:`sparsefield.plots.style.save_figure`.
"""

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float
from sparsefield.errors import InputError
from sparsefield.plots.layout import add_colorbar, bar_axis_label, plot_array, show_image
from sparsefield.plots.style import GREY, new_figure, styled
from sparsefield.rf.shape import stimulus_geometry

__all__ = ["calibration_bins", "overview_figure"]

#: Number of bins of predicted count in the calibration panel of the overview.
_N_RATE_BINS = 10

#: Axis labels of the calibration panel: both axes in spikes per frame (the
#: unit of the counts and of the model's prediction), never a rate in spikes/s.
_CALIBRATION_LABELS = ("predicted spikes per frame (mean of bin)",
                       "observed spikes per frame (mean of bin)")

#: Most bars in the count histogram of the overview.
_MAX_COUNT_BINS = 50


@styled
def overview_figure(frame: ArrayLike, edges: ArrayLike, counts: ArrayLike,
                    predicted: ArrayLike | None = None, window: float = 60.0,
                    label: str | None = None) -> Figure:
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
    frame = plot_array(frame, "frame", 2)
    counts = plot_array(counts, "counts", 1)
    edges = plot_array(edges, "edges", 1, length=counts.size + 1)
    if predicted is not None:
        predicted = plot_array(predicted, "predicted", 1, length=counts.size)
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


def _draw_frame(figure: Figure, axes: Axes, frame: NDArray[np.float64], geometry: str) -> None:
    if geometry == "grid":
        shown = show_image(axes, frame, GREY, pixel_labels=True)
        axes.set_title("stimulus frame")
    else:  # bars: the 1-D frame stretched across the panel looks like the bars on the screen
        along_rows = frame.shape[1] == 1
        shown = show_image(axes, frame.T if along_rows else frame, GREY, pixel_labels=False,
                           aspect="auto")
        axes.xaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
        axes.set_xlabel(bar_axis_label(frame.shape))
        axes.set_title("stimulus frame (bars)")
    add_colorbar(figure, shown, axes, "intensity")


def _draw_time_course(axes: Axes, edges: NDArray[np.float64], counts: NDArray[np.float64],
                      predicted: NDArray[np.float64] | None, window: float) -> None:
    shown = np.flatnonzero(edges[:-1] < edges[0] + window)
    stop = shown[-1] + 1
    axes.stairs(counts[:stop], edges[: stop + 1], baseline=None, color="0.3", label="observed")
    if predicted is not None:
        axes.stairs(predicted[:stop], edges[: stop + 1], baseline=None, color="C3",
                    label="predicted")
        axes.legend(loc="upper right")
    axes.set_xlim(edges[0], edges[stop])
    axes.set_ylim(bottom=0.0)
    axes.set_xlabel("time (s)")
    axes.set_ylabel("spikes per frame")
    axes.set_title(f"first {edges[stop] - edges[0]:.3g} s")


def _draw_count_histogram(axes: Axes, counts: NDArray[np.float64]) -> None:
    largest = int(np.nanmax(counts)) if np.any(np.isfinite(counts)) else 0
    width = max(1, -(-(largest + 1) // _MAX_COUNT_BINS))
    bins = np.arange(0, largest + width + 1, width) - 0.5
    axes.hist(counts[np.isfinite(counts)], bins=bins,  # type: ignore[arg-type]  # stubs: no arrays
              color="0.5")
    axes.set_xlabel("spikes per frame" if width == 1 else f"spikes per frame (bins of {width})")
    axes.set_ylabel("frames")
    axes.set_title("count distribution")


def calibration_bins(predicted: NDArray[np.float64], n_bins: int = _N_RATE_BINS
                     ) -> list[NDArray[np.intp]]:
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
        which = np.clip(np.searchsorted(bin_edges, predicted, side="right") - 1, 0,
                        bin_edges.size - 2)
    return [np.flatnonzero(which == index) for index in np.unique(which)]


def _draw_calibration(axes: Axes, counts: NDArray[np.float64],
                      predicted: NDArray[np.float64]) -> None:
    valid = np.isfinite(predicted) & np.isfinite(counts)
    counts, predicted = counts[valid], predicted[valid]
    groups = calibration_bins(predicted)
    mean_predicted = np.array([predicted[group].mean() for group in groups])
    mean_observed = np.array([counts[group].mean() for group in groups])
    error = np.array([counts[group].std() / math.sqrt(group.size) for group in groups])
    top = 1.05 * max(float(mean_predicted.max()), float((mean_observed + error).max()), 1e-9)
    axes.plot([0.0, top], [0.0, top], color="C3", linewidth=1.0,
              label="calibrated (observed = predicted)")
    axes.errorbar(mean_predicted, mean_observed, yerr=error, fmt="o", color="0.2",
                  label="observed ± s.e.m.")
    axes.set_xlim(0.0, top)
    axes.set_ylim(0.0, top)
    axes.set_xlabel(_CALIBRATION_LABELS[0])
    axes.set_ylabel(_CALIBRATION_LABELS[1])
    distinct = np.unique(predicted).size <= _N_RATE_BINS
    kind = "predicted values" if distinct else "bins of equal frames"
    axes.set_title(f"calibration ({len(groups)} {kind})")
    axes.legend(loc="upper left")
