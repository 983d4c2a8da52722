"""Numba kernels for the spike-triggered average (plain arrays in and out)."""

from sparsefield._numba import numba

import numpy as np
from numpy.typing import NDArray


@numba.njit(cache=True)
def shifted_frame_counts(spike_times: NDArray[np.float64], offsets: NDArray[np.float64],
                         edges: NDArray[np.float64], taus: NDArray[np.float64],
                         counts: NDArray[np.float64]) -> None:
    """Count, per offset, frame and tau, the spikes that saw that frame tau earlier.

    Each spike time ``t`` in ``[edges[0], edges[-1])`` is shifted circularly
    within that window, ``t' = edges[0] + (t - edges[0] + offset) mod period``
    with ``period = edges[-1] - edges[0]`` (an offset of exactly 0 leaves
    ``t`` untouched); then for each tau with ``t' - tau >= edges[0]`` the
    frame ``f`` with ``edges[f] <= t' - tau < edges[f + 1]`` gets one count.

    A spike sees each frame over a contiguous run of taus, so the kernel
    writes +1 / -1 at the ends of each run and takes a cumulative sum over
    taus at the end: the work per spike is the number of frames it sees, not
    the number of taus.

    Parameters
    ----------
    spike_times : ndarray of shape (n_spikes,)
        Spike times inside ``[edges[0], edges[-1])``.
    offsets : ndarray of shape (n_offsets,)
        Circular shifts in seconds.
    edges : ndarray of shape (n_frames + 1,)
        Strictly increasing frame edges.
    taus : ndarray of shape (n_taus,)
        Increasing non-negative delays in seconds.
    counts : ndarray of shape (n_offsets, n_frames, n_taus)
        Zeroed on entry; filled with spike counts.
    """
    start = edges[0]
    period = edges[-1] - start
    n_taus = taus.shape[0]
    n_frames = edges.shape[0] - 1
    for k in range(offsets.shape[0]):
        for i in range(spike_times.shape[0]):
            time = spike_times[i]
            if offsets[k] != 0.0:
                position = time - start + offsets[k]
                position = position - period * np.floor(position / period)
                time = start + position
            frame = np.searchsorted(edges, time, side="right") - 1
            if frame > n_frames - 1:
                frame = n_frames - 1
            # Taus j_first <= j < j_stop see frame `frame`.
            j_first = 0
            while j_first < n_taus:
                j_stop = j_first
                while j_stop < n_taus and time - taus[j_stop] >= edges[frame]:
                    j_stop += 1
                if j_stop > j_first:
                    counts[k, frame, j_first] += 1.0
                    if j_stop < n_taus:
                        counts[k, frame, j_stop] -= 1.0
                if frame == 0:
                    break
                frame -= 1
                j_first = j_stop
        for frame in range(n_frames):
            for j in range(1, n_taus):
                counts[k, frame, j] += counts[k, frame, j - 1]
