"""Spike counts per stimulus frame.

Conventions used throughout :mod:`sparsefield.rf`:

- Frame ``i`` is on screen during the half-open interval
  ``[edges[i], edges[i + 1])``; a spike exactly on an edge belongs to the
  frame that starts there.
- ``edges`` come from :func:`frame_edges`: the trigger times plus one closing
  edge at the last trigger plus the median trigger interval.
- Spikes before ``edges[0]`` or at/after ``edges[-1]`` are not dropped
  silently: :func:`bin_spikes` reports them as ``n_before`` and ``n_after``.
"""

from dataclasses import dataclass

import numpy as np

from sparsefield._checks import as_times
from sparsefield._npz import NpzMixin
from sparsefield.rf._binning_kernels import count_sorted


def frame_edges(trigger_times):
    """Frame boundaries from trigger (frame-flip) times.

    Frame ``i`` is on screen during ``[edges[i], edges[i + 1])``.  The last
    frame is closed at the last trigger plus the median trigger interval.

    Parameters
    ----------
    trigger_times : ndarray of shape (n_triggers,)
        Strictly increasing trigger times in seconds, ``n_triggers >= 2``.

    Returns
    -------
    edges : ndarray of shape (n_triggers + 1,)

    Raises
    ------
    InputError
        If there are fewer than two triggers, or they are not finite and
        strictly increasing.
    """
    trigger_times = as_times(
        trigger_times, "trigger_times", order="increasing", min_length=2, what="trigger time"
    )
    last = trigger_times[-1] + np.median(np.diff(trigger_times))
    return np.append(trigger_times, last)


@dataclass(frozen=True)
class BinnedCounts(NpzMixin):
    """Spike counts per stimulus frame.

    Attributes
    ----------
    counts : ndarray of shape (n_frames,), int64
        Spikes in ``[edges[i], edges[i + 1])``.
    edges : ndarray of shape (n_frames + 1,), float64
        Frame boundaries in seconds (see :func:`frame_edges`).
    durations : ndarray of shape (n_frames,), float64
        ``np.diff(edges)``: how long each frame was on screen, in seconds.
    n_before : int
        Spikes before ``edges[0]`` (not in any frame).
    n_after : int
        Spikes at or after ``edges[-1]`` (not in any frame).

    Notes
    -----
    ``counts.sum() + n_before + n_after`` is the number of spikes given.
    """

    counts: np.ndarray
    edges: np.ndarray
    durations: np.ndarray
    n_before: int
    n_after: int


def bin_spikes(spike_times, trigger_times):
    """Count spikes in each stimulus frame.

    Parameters
    ----------
    spike_times : ndarray of shape (n_spikes,)
        Spike times in seconds, sorted (non-decreasing), finite.  May be empty.
    trigger_times : ndarray of shape (n_triggers,)
        Frame-flip times in seconds, strictly increasing, ``n_triggers >= 2``.

    Returns
    -------
    BinnedCounts
        ``n_frames = n_triggers``; edges from :func:`frame_edges`.  A spike
        exactly on an inner edge counts in the later frame; a spike exactly on
        the last edge counts in ``n_after``.

    Raises
    ------
    InputError
        If ``spike_times`` is not sorted or not finite, or ``trigger_times``
        is not strictly increasing (see :func:`frame_edges`).

    Notes
    -----
    One linear walk over spikes and edges (a numba kernel):
    O(n_spikes + n_triggers).
    """
    spike_times = as_times(spike_times, "spike_times", order="sorted", what="spike time")
    edges = frame_edges(trigger_times)
    counts, n_before, n_after = count_sorted(spike_times, edges)
    return BinnedCounts(
        counts=counts,
        edges=edges,
        durations=np.diff(edges),
        n_before=int(n_before),
        n_after=int(n_after),
    )
