"""Numba kernels of the sub-frame joint GLM (:mod:`sparsefield.rf.joint_subframe`).

Plain arrays in and out; inputs are trusted (float64 / int64, C-contiguous, matching
shapes).

Layout: sub-bin ``i`` sees ``n_window`` stimulus rows ``window_frames[i, m]`` (rows of
the stimulus extended by one last row, the stimulus mean), each through the integral
of every temporal basis over the delays at which that frame was on screen,
``window_weights[i, m, j]``.  Unused entries have weight 0.
"""

from sparsefield._numba import numba

import numpy as np
from numpy.typing import NDArray


@numba.njit(cache=True)
def _cumulative_at(cumulative: NDArray[np.float64], step: float, delay: float,
                   basis: int) -> float:
    """``cumulative[:, basis]`` (sampled every ``step`` s from 0) interpolated at ``delay``."""
    position = delay / step
    last = cumulative.shape[0] - 1
    if position <= 0.0:
        return 0.0
    if position >= last:
        return cumulative[last, basis]
    below = int(position)
    fraction = position - below
    return ((1.0 - fraction) * cumulative[below, basis]
            + fraction * cumulative[below + 1, basis])


@numba.njit(cache=True)
def window_weights(edges: NDArray[np.float64], frames: NDArray[np.int64],
                   first_frames: NDArray[np.int64], bins_per_frame: int,
                   cumulative: NDArray[np.float64], step: float, mean_row: int,
                   window_frames: NDArray[np.int64],
                   weights: NDArray[np.float64]) -> None:
    """Which frames each sub-bin's window holds, and each basis's integral over them.

    Sub-bin ``m`` of count frame ``f = frames[r]`` is row ``i = r * bins_per_frame + m``,
    centred at ``c = edges[f] + (m + 0.5) / bins_per_frame * (edges[f + 1] - edges[f])``.
    Frame ``g <= f`` was on screen at delays ``(c - edges[g + 1], c - edges[g]]``
    before ``c``; its weight for basis ``j`` is the basis's integral over those delays
    inside the span.  Delays reaching before ``first_frames[r]`` (the first frame of the
    trial) go to ``mean_row`` (the stimulus mean: no frame of the trial was shown).

    Parameters
    ----------
    edges : ndarray of shape (n_frames + 1,)
        Frame edges in seconds.
    frames : ndarray of shape (n_rows,), int64
        Count frames.
    first_frames : ndarray of shape (n_rows,), int64
        First frame of each count frame's trial.
    bins_per_frame : int
    cumulative : ndarray of shape (n_steps + 1, n_bases)
        Each basis integrated from delay 0, sampled every ``step`` s; the span is
        ``n_steps * step`` (constant beyond).
    step : float
    mean_row : int
        Row index of the stimulus mean.
    window_frames : ndarray of shape (n_rows * bins_per_frame, n_window), int64
        Output.
    weights : ndarray of shape (n_rows * bins_per_frame, n_window, n_bases)
        Output.
    """
    n_window = window_frames.shape[1]
    n_bases = cumulative.shape[1]
    span = (cumulative.shape[0] - 1) * step
    for row in range(frames.shape[0]):
        frame = frames[row]
        width = (edges[frame + 1] - edges[frame]) / bins_per_frame
        for sub in range(bins_per_frame):
            index = row * bins_per_frame + sub
            centre = edges[frame] + (sub + 0.5) * width
            for slot in range(n_window):
                window_frames[index, slot] = mean_row
                for j in range(n_bases):
                    weights[index, slot, j] = 0.0
            slot = 0
            low = 0.0
            shown = frame
            while low < span and slot < n_window:
                if shown < first_frames[row]:
                    high = span
                    window_frames[index, slot] = mean_row
                else:
                    high = min(centre - edges[shown], span)
                    window_frames[index, slot] = shown
                for j in range(n_bases):
                    weights[index, slot, j] = (_cumulative_at(cumulative, step, high, j)
                                               - _cumulative_at(cumulative, step, low, j))
                low = high
                slot += 1
                shown -= 1


@numba.njit(cache=True)
def time_columns(window_frames: NDArray[np.int64], weights: NDArray[np.float64],
                 projection: NDArray[np.float64], out: NDArray[np.float64]) -> None:
    """The design of the temporal weights with the spatial profile fixed.

    Parameters
    ----------
    window_frames : ndarray of shape (n_bins, n_window), int64
    weights : ndarray of shape (n_bins, n_window, n_bases)
    projection : ndarray of shape (n_stimulus_rows,)
        Each stimulus row projected on the spatial profile.
    out : ndarray of shape (n_bins, n_bases)
        Output: ``sum_m weights[i, m, j] * projection[window_frames[i, m]]``.
    """
    n_bins, n_window, n_bases = weights.shape
    for index in range(n_bins):
        for j in range(n_bases):
            out[index, j] = 0.0
        for slot in range(n_window):
            value = projection[window_frames[index, slot]]
            for j in range(n_bases):
                out[index, j] += weights[index, slot, j] * value


@numba.njit(cache=True)
def space_columns(window_frames: NDArray[np.int64], gains: NDArray[np.float64],
                  stimulus: NDArray[np.float64], out: NDArray[np.float64]) -> None:
    """The design of the spatial profile with the temporal weights fixed.

    Parameters
    ----------
    window_frames : ndarray of shape (n_bins, n_window), int64
    gains : ndarray of shape (n_bins, n_window)
        ``weights @ temporal_weights``: each window row's weight in the sub-bin.
    stimulus : ndarray of shape (n_stimulus_rows, n_pixels)
    out : ndarray of shape (n_bins, n_pixels)
        Output: ``sum_m gains[i, m] * stimulus[window_frames[i, m]]``.
    """
    n_bins, n_window = gains.shape
    n_pixels = stimulus.shape[1]
    for index in range(n_bins):
        row = out[index]
        row[:] = 0.0
        for slot in range(n_window):
            gain = gains[index, slot]
            if gain != 0.0:
                source = stimulus[window_frames[index, slot]]
                for pixel in range(n_pixels):
                    row[pixel] += gain * source[pixel]
