"""Spike counts per stimulus frame and in fine time bins.

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

from sparsefield.errors import InputError
from sparsefield.rf._binning_kernels import count_sorted

# Relative tolerance when deciding whether (stop - start) / bin_width is a
# whole number of bins (it rarely is exactly, in floating point).
_WHOLE_BINS_RTOL = 1e-9


def _as_times(values, source, *, strictly_increasing, min_length=0):
    """Validate a 1-D array of times and return it as contiguous float64.

    Parameters
    ----------
    values : array_like of shape (n,)
    source : str
        Name used in the error message (the argument name).
    strictly_increasing : bool
        Require strictly increasing values; otherwise non-decreasing.
    min_length : int

    Returns
    -------
    times : ndarray of shape (n,), float64, C-contiguous

    Raises
    ------
    InputError
        If the array is not 1-D, too short, not finite or not sorted.
    """
    times = np.asarray(values)
    if times.ndim != 1:
        raise InputError(source, f"expected a 1-D array of times, got shape {times.shape}")
    if not (np.issubdtype(times.dtype, np.floating) or np.issubdtype(times.dtype, np.integer)):
        raise InputError(source, f"expected numeric times, got dtype {times.dtype}")
    times = np.ascontiguousarray(times, dtype=np.float64)
    if times.shape[0] < min_length:
        raise InputError(source, f"needs at least {min_length} values, got {times.shape[0]}")
    if not np.all(np.isfinite(times)):
        raise InputError(source, "contains NaN or infinite values")
    steps = np.diff(times)
    if strictly_increasing:
        if np.any(steps <= 0):
            first = int(np.flatnonzero(steps <= 0)[0])
            raise InputError(
                source,
                f"must be strictly increasing; value {first + 1} ({times[first + 1]!r}) "
                f"does not exceed value {first} ({times[first]!r})",
            )
    elif np.any(steps < 0):
        first = int(np.flatnonzero(steps < 0)[0])
        raise InputError(
            source,
            f"must be sorted in increasing order; value {first + 1} ({times[first + 1]!r}) "
            f"is smaller than value {first} ({times[first]!r}); sort the spike times first",
        )
    return times


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
    trigger_times = _as_times(
        trigger_times, "trigger_times", strictly_increasing=True, min_length=2
    )
    last = trigger_times[-1] + np.median(np.diff(trigger_times))
    return np.append(trigger_times, last)


@dataclass(frozen=True)
class BinnedCounts:
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

    def to_npz_dict(self):
        """Plain arrays for :func:`numpy.savez` (scalars as 0-d arrays).

        Returns
        -------
        arrays : dict of str to ndarray
            Keys ``counts``, ``edges``, ``durations``, ``n_before``, ``n_after``.
        """
        return {
            "counts": np.asarray(self.counts, dtype=np.int64),
            "edges": np.asarray(self.edges, dtype=np.float64),
            "durations": np.asarray(self.durations, dtype=np.float64),
            "n_before": np.array(self.n_before, dtype=np.int64),
            "n_after": np.array(self.n_after, dtype=np.int64),
        }

    @classmethod
    def from_npz(cls, npz):
        """Rebuild from :meth:`to_npz_dict` output, e.g. ``np.load(path, allow_pickle=False)``.

        Parameters
        ----------
        npz : Mapping of str to ndarray

        Returns
        -------
        BinnedCounts
        """
        return cls(
            counts=np.asarray(npz["counts"], dtype=np.int64),
            edges=np.asarray(npz["edges"], dtype=np.float64),
            durations=np.asarray(npz["durations"], dtype=np.float64),
            n_before=int(npz["n_before"]),
            n_after=int(npz["n_after"]),
        )


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
    spike_times = _as_times(spike_times, "spike_times", strictly_increasing=False)
    edges = frame_edges(trigger_times)
    counts, n_before, n_after = count_sorted(spike_times, edges)
    return BinnedCounts(
        counts=counts,
        edges=edges,
        durations=np.diff(edges),
        n_before=int(n_before),
        n_after=int(n_after),
    )


def fine_bins(spike_times, start, stop, bin_width=0.01):
    """Count spikes in uniform bins of ``bin_width`` seconds from ``start`` to ``stop``.

    Bin ``k`` is ``[bin_edges[k], bin_edges[k + 1])`` with
    ``bin_edges[k] = start + k * bin_width``.  The last bin always ends at
    ``stop``: when ``(stop - start) / bin_width`` is not a whole number
    (relative tolerance 1e-9) the last bin is shorter than ``bin_width``
    (a partial bin); use ``np.diff(bin_edges)`` for the widths.  Spikes
    outside ``[start, stop)`` are not counted.

    Parameters
    ----------
    spike_times : ndarray of shape (n_spikes,)
        Spike times in seconds, sorted (non-decreasing), finite.
    start, stop : float
        Window in seconds, ``start < stop``.
    bin_width : float, default 0.01
        Bin width in seconds, ``> 0``.

    Returns
    -------
    counts : ndarray of shape (n_bins,), int64
    bin_edges : ndarray of shape (n_bins + 1,), float64
        ``bin_edges[0] == start`` and ``bin_edges[-1] == stop``.

    Raises
    ------
    InputError
        On unsorted or non-finite spike times, or a bad window or width.

    Notes
    -----
    Same linear-walk kernel as :func:`bin_spikes`: O(n_spikes + n_bins).
    """
    spike_times = _as_times(spike_times, "spike_times", strictly_increasing=False)
    start = float(start)
    stop = float(stop)
    bin_width = float(bin_width)
    if not (np.isfinite(start) and np.isfinite(stop)) or not stop > start:
        raise InputError(
            "start, stop", f"need finite start < stop, got start={start!r}, stop={stop!r}"
        )
    if not (np.isfinite(bin_width) and bin_width > 0):
        raise InputError("bin_width", f"must be a positive number of seconds, got {bin_width!r}")
    n_widths = (stop - start) / bin_width
    nearest = round(n_widths)
    if nearest >= 1 and abs(n_widths - nearest) <= _WHOLE_BINS_RTOL * nearest:
        n_bins = int(nearest)
    else:
        n_bins = int(np.ceil(n_widths))
    bin_edges = start + np.arange(n_bins + 1, dtype=np.float64) * bin_width
    bin_edges[-1] = stop
    counts, _, _ = count_sorted(spike_times, bin_edges)
    return counts, bin_edges


def frame_index(times, edges):
    """Index of the frame on screen at each time.

    Parameters
    ----------
    times : ndarray of shape (n,)
        Times in seconds, finite; need not be sorted.
    edges : ndarray of shape (n_frames + 1,)
        Strictly increasing frame boundaries (see :func:`frame_edges`).

    Returns
    -------
    index : ndarray of shape (n,), int64
        ``i`` with ``edges[i] <= t < edges[i + 1]``, or -1 when ``t`` is
        before ``edges[0]`` or at/after ``edges[-1]``.

    Raises
    ------
    InputError
        If ``times`` is not finite or ``edges`` is not strictly increasing.
    """
    edges = _as_times(edges, "edges", strictly_increasing=True, min_length=2)
    times = np.asarray(times, dtype=np.float64)
    if not np.all(np.isfinite(times)):
        raise InputError("times", "contains NaN or infinite values")
    index = np.searchsorted(edges, times, side="right").astype(np.int64) - 1
    inside = (index >= 0) & (index < edges.shape[0] - 1)
    return np.where(inside, index, np.int64(-1))
