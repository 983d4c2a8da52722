"""Numba kernels for counting sorted spike times in sorted bins.

Plain arrays in and out; the callers in :mod:`sparsefield.rf.binning` check
that inputs are finite, 1-D, float64 and sorted before calling.
"""

from sparsefield._numba import numba
import numpy as np


@numba.njit(cache=True)
def count_sorted(spike_times, edges):
    """Count sorted spike times in the bins ``[edges[i], edges[i + 1])``.

    One merge-like walk over both arrays: O(n_spikes + n_edges).

    Parameters
    ----------
    spike_times : ndarray of shape (n_spikes,)
        Non-decreasing, finite, float64.
    edges : ndarray of shape (n_bins + 1,)
        Strictly increasing, finite, float64, ``n_bins >= 1``.

    Returns
    -------
    counts : ndarray of shape (n_bins,), int64
        Spikes with ``edges[i] <= t < edges[i + 1]``; a spike exactly on an
        inner edge belongs to the later bin.
    n_before : int
        Spikes with ``t < edges[0]``.
    n_after : int
        Spikes with ``t >= edges[-1]``.
    """
    counts = np.zeros(edges.shape[0] - 1, dtype=np.int64)
    n_before, n_after = merge_count(spike_times, edges, counts)
    return counts, n_before, n_after


@numba.njit(cache=True)
def merge_count(spike_times, edges, counts):
    """The merge walk of :func:`count_sorted`, adding into ``counts``.

    The one place the walk is written (:func:`count_units_sorted` uses it too).

    Parameters
    ----------
    spike_times : ndarray of shape (n_spikes,)
        Non-decreasing, finite, float64.
    edges : ndarray of shape (n_bins + 1,)
        Strictly increasing, finite, float64.
    counts : ndarray of shape (n_bins,), int64
        Zeroed on entry; receives the counts.

    Returns
    -------
    n_before, n_after : int
    """
    n_edges = edges.shape[0]
    n_before = 0
    n_after = 0
    # edge_index = number of edges <= the current spike time
    # (= np.searchsorted(edges, t, side="right")); it never moves back
    # because the spike times are sorted.
    edge_index = 0
    for spike in range(spike_times.shape[0]):
        time = spike_times[spike]
        while edge_index < n_edges and edges[edge_index] <= time:
            edge_index += 1
        if edge_index == 0:
            n_before += 1
        elif edge_index == n_edges:
            # every later spike is after the last edge too
            n_after += spike_times.shape[0] - spike
            break
        else:
            counts[edge_index - 1] += 1
    return n_before, n_after


@numba.njit(cache=True, parallel=True)
def count_units_sorted(spike_times, spike_offsets, edges, counts, n_before, n_after):
    """Count each unit's sorted spike times in the bins ``[edges[i], edges[i + 1])``.

    Unit ``u`` is ``spike_times[spike_offsets[u]:spike_offsets[u + 1]]``.  Per
    unit, the cheapest of three equivalent walks is taken from the sizes alone
    (``m`` spikes, ``n`` edges):

    - a merge walk over spikes and edges, O(m + n), when the two are comparable;
    - a binary search of each spike into the edges, O(m log n), for sparse units
      (each search starts at the previous spike's edge);
    - a binary search of each edge into the spikes, O(n log m), for units with
      many more spikes than frames.

    All three give :func:`count_sorted`'s answer exactly.  Units are shared out
    over numba's threads (``numba.prange``): measured on 100 units x 1e5 spikes
    x 1e5 frames, two threads halve the kernel's time (0.10 s to 0.05 s).

    Parameters
    ----------
    spike_times : ndarray of shape (n_spikes,)
        Finite, float64; each unit's block non-decreasing.
    spike_offsets : ndarray of shape (n_units + 1,), int64
        Non-decreasing, from 0 to ``n_spikes``.
    edges : ndarray of shape (n_bins + 1,)
        Strictly increasing, finite, float64, ``n_bins >= 1``.
    counts : ndarray of shape (n_units, n_bins), int64
        Zeroed on entry; ``counts[u, i]`` spikes of unit ``u`` with
        ``edges[i] <= t < edges[i + 1]``.
    n_before, n_after : ndarray of shape (n_units,), int64
        Output: spikes of each unit before ``edges[0]`` and at or after
        ``edges[-1]``.
    """
    n_edges = edges.shape[0]
    log_edges = np.log2(n_edges + 1.0)
    for unit in numba.prange(spike_offsets.shape[0] - 1):
        first = spike_offsets[unit]
        stop = spike_offsets[unit + 1]
        block = spike_times[first:stop]
        n_spikes = stop - first
        merge_cost = n_spikes + n_edges
        if n_spikes == 0:
            n_before[unit] = 0
            n_after[unit] = 0
        elif n_spikes * log_edges < merge_cost:
            # Sparse unit: each spike's edge index by binary search, starting at the
            # previous spike's (the spikes are sorted).
            below = 0
            above = 0
            edge_index = 0
            for spike in range(n_spikes):
                time = block[spike]
                edge_index += np.searchsorted(edges[edge_index:], time, side="right")
                if edge_index == 0:
                    below += 1
                elif edge_index == n_edges:
                    above += n_spikes - spike
                    break
                else:
                    counts[unit, edge_index - 1] += 1
            n_before[unit] = below
            n_after[unit] = above
        elif n_edges * np.log2(n_spikes + 1.0) < merge_cost:
            # Dense unit: each edge's position among the spikes by binary search;
            # frame i holds the spikes between the positions of edges i and i + 1.
            position = np.searchsorted(block, edges[0], side="left")
            n_before[unit] = position
            for edge in range(1, n_edges):
                following = position + np.searchsorted(block[position:], edges[edge],
                                                       side="left")
                counts[unit, edge - 1] = following - position
                position = following
            n_after[unit] = n_spikes - position
        else:
            n_before[unit], n_after[unit] = merge_count(block, edges, counts[unit])
