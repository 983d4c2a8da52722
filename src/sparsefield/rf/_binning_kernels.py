"""Numba kernels for counting sorted spike times in sorted bins.

Plain arrays in and out; the callers in :mod:`sparsefield.rf.binning` check
that inputs are finite, 1-D, float64 and sorted before calling.
"""

import numba
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
    n_edges = edges.shape[0]
    counts = np.zeros(n_edges - 1, dtype=np.int64)
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
    return counts, n_before, n_after
