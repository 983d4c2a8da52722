"""Sub-frame spike-triggered average with a circular-shift null distribution."""

from dataclasses import dataclass

import numpy as np

from sparsefield._checks import as_float, as_float_array, as_int, as_times
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.rf._sta_kernels import shifted_frame_counts

# Shifts per block of the null computation (bounds memory to about
# _SHIFT_BLOCK * n_taus * n_frames * 8 bytes).
_SHIFT_BLOCK = 16


@dataclass(frozen=True)
class STA(NpzMixin):
    """A spike-triggered average at sub-frame delays and its null distribution.

    Attributes
    ----------
    taus : ndarray of shape (n_taus,)
        Delays before the spike in seconds, ``0, tau_step, 2 tau_step, ...``.
        Spike times are used exactly, not binned: ``tau_step`` is only the
        step of this grid.
    sta : ndarray of shape (n_taus, n_pixels)
        Mean over spikes of the frame on screen ``taus[i]`` before the spike.
    zscore : ndarray of shape (n_taus, n_pixels)
        ``(sta - null_mean) / null_std``; 0 where ``null_std`` is 0.
    null_mean, null_std : ndarray of shape (n_taus, n_pixels)
        Mean and standard deviation (ddof=1) of the STA over circularly
        shifted spike trains.
    n_spikes : int
        Spikes inside ``[edges[0], edges[-1])`` (those used).
    n_shifts : int
        Number of shifted spike trains in the null.
    """

    taus: np.ndarray
    sta: np.ndarray
    zscore: np.ndarray
    null_mean: np.ndarray
    null_std: np.ndarray
    n_spikes: int
    n_shifts: int


def spike_triggered_average(spike_times, edges, stimulus, *, tau_max=0.5, tau_step=0.01,
                            n_shifts=200, seed=0):
    """Spike-triggered average of the frame on screen ``tau`` before each spike.

    For each ``tau`` in ``0, tau_step, ..., tau_max`` the STA is the mean,
    over spikes, of the frame on screen at ``t_spike - tau`` (frame ``f`` is on
    screen during ``[edges[f], edges[f + 1])``).  Only spikes inside
    ``[edges[0], edges[-1])`` are used; for each ``tau``, spikes with
    ``t_spike - tau < edges[0]`` (no frame known) are left out of that tau's
    mean, so the first ``tau_max`` seconds lose a few spikes at long delays.

    The null distribution comes from ``n_shifts`` copies of the spike train
    shifted circularly within ``[edges[0], edges[-1])`` by offsets drawn
    uniformly from ``[m, period - m]``, with ``period = edges[-1] - edges[0]``
    and ``m = max(1 s, 2 tau_max)`` (a shift never brings a spike within
    ``m`` of its own time).  Shifting keeps the spike train's own statistics
    (rate changes, bursts) and the stimulus; it only breaks their alignment.
    Each shifted train goes through the same exclusion rule.

    Parameters
    ----------
    spike_times : ndarray of shape (n_spikes_total,)
        Spike times in seconds (any order).
    edges : ndarray of shape (n_frames + 1,)
        Strictly increasing frame edges in seconds
        (:func:`sparsefield.rf.binning.frame_edges`).
    stimulus : ndarray of shape (n_frames, n_pixels)
        Frames in display order.
    tau_max : float
        Longest delay in seconds.
    tau_step : float
        Delay step in seconds.
    n_shifts : int
        Number of shifted spike trains (>= 2).
    seed : int
        Seed of the random offsets.

    Returns
    -------
    STA

    Notes
    -----
    Spikes are counted per (shift, tau, frame) by a numba kernel and the
    counts are multiplied with the stimulus in blocks (one matrix product per
    block of shifts), so the cost is that of ``(n_shifts + 1) * n_taus``
    weighted sums of frames, not of per-spike sums.
    """
    spike_times = as_times(spike_times, "spike_times", what="spike time")
    edges = as_times(edges, "edges", order="increasing", min_length=2, what="edge")
    stimulus = as_float_array(stimulus, "stimulus", 2)
    if stimulus.shape[0] != edges.size - 1:
        raise InputError("stimulus", f"has {stimulus.shape[0]} frames but there are "
                         f"{edges.size - 1} frames between the edges (n_frames = len(edges) - 1)")
    tau_step = as_float(tau_step, "tau_step", minimum=0, strict=True)
    tau_max = as_float(tau_max, "tau_max", minimum=0)
    n_shifts = as_int(n_shifts, "n_shifts", 2)

    period = edges[-1] - edges[0]
    margin = max(1.0, 2.0 * tau_max)
    if period <= 2.0 * margin:
        raise InputError("edges", f"the recording ({period:.3g} s) must be longer "
                         f"than {2 * margin:.3g} s for the shift null")
    inside = np.sort(spike_times[(spike_times >= edges[0]) & (spike_times < edges[-1])])
    if inside.size == 0:
        raise InputError("spike_times", "no spike falls inside the frame edges")

    n_taus = int(np.floor(tau_max / tau_step + 1e-9)) + 1
    taus = np.arange(n_taus) * tau_step
    rng = np.random.default_rng(seed)
    offsets = np.concatenate(([0.0], rng.uniform(margin, period - margin, size=n_shifts)))

    n_frames, n_pixels = stimulus.shape
    averages = np.empty((n_shifts + 1, n_taus, n_pixels))
    for first in range(0, n_shifts + 1, _SHIFT_BLOCK):
        block = offsets[first:first + _SHIFT_BLOCK]
        counts = np.zeros((block.size, n_frames, n_taus))
        shifted_frame_counts(inside, block, edges, taus, counts)
        n_used = counts.sum(axis=1)
        sums = np.matmul(counts.transpose(0, 2, 1), stimulus)
        with np.errstate(invalid="ignore", divide="ignore"):
            averages[first:first + block.size] = sums / n_used[:, :, None]

    sta = averages[0]
    null = averages[1:]
    null_mean = null.mean(axis=0)
    null_std = null.std(axis=0, ddof=1)
    zscore = np.zeros_like(sta)
    np.divide(sta - null_mean, null_std, out=zscore, where=null_std > 0)
    return STA(taus=taus, sta=sta, zscore=zscore, null_mean=null_mean, null_std=null_std,
               n_spikes=int(inside.size), n_shifts=n_shifts)
