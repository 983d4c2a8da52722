"""Sub-frame spike-triggered average with a circular-shift null distribution."""

from dataclasses import dataclass

import numpy as np

from sparsefield.errors import InputError
from sparsefield.rf._sta_kernels import shifted_frame_counts

# Shifts per block of the null computation (bounds memory to about
# _SHIFT_BLOCK * n_taus * n_frames * 8 bytes).
_SHIFT_BLOCK = 16


@dataclass(frozen=True)
class STA:
    """A spike-triggered average at sub-frame delays and its null distribution.

    Attributes
    ----------
    taus : ndarray of shape (n_taus,)
        Delays before the spike in seconds, ``0, bin_width, 2 bin_width, ...``.
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
    bin_width : float
        Step of the delay grid in seconds (``tau_step``).  Spike times are
        used exactly, not binned.
    """

    taus: np.ndarray
    sta: np.ndarray
    zscore: np.ndarray
    null_mean: np.ndarray
    null_std: np.ndarray
    n_spikes: int
    n_shifts: int
    bin_width: float

    def to_npz_dict(self):
        """Plain arrays for ``np.savez`` (scalars as 0-d arrays)."""
        return {
            "taus": self.taus,
            "sta": self.sta,
            "zscore": self.zscore,
            "null_mean": self.null_mean,
            "null_std": self.null_std,
            "n_spikes": np.int64(self.n_spikes),
            "n_shifts": np.int64(self.n_shifts),
            "bin_width": np.float64(self.bin_width),
        }

    @classmethod
    def from_npz(cls, npz):
        """Rebuild from ``np.load(path, allow_pickle=False)`` (or any mapping)."""
        return cls(
            taus=np.asarray(npz["taus"]),
            sta=np.asarray(npz["sta"]),
            zscore=np.asarray(npz["zscore"]),
            null_mean=np.asarray(npz["null_mean"]),
            null_std=np.asarray(npz["null_std"]),
            n_spikes=int(npz["n_spikes"]),
            n_shifts=int(npz["n_shifts"]),
            bin_width=float(npz["bin_width"]),
        )


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
    spike_times = np.asarray(spike_times, dtype=np.float64)
    edges = np.asarray(edges, dtype=np.float64)
    stimulus = np.asarray(stimulus, dtype=np.float64)
    source = "spike_triggered_average"
    if spike_times.ndim != 1 or not np.all(np.isfinite(spike_times)):
        raise InputError(f"{source}(spike_times)", "must be a 1-D array of finite times")
    if edges.ndim != 1 or edges.size < 2 or not np.all(np.diff(edges) > 0):
        raise InputError(f"{source}(edges)", "must be a 1-D strictly increasing array "
                         "of at least 2 edges")
    if stimulus.ndim != 2 or stimulus.shape[0] != edges.size - 1:
        raise InputError(f"{source}(stimulus)", f"must have shape (n_frames, n_pixels) with "
                         f"n_frames = len(edges) - 1 = {edges.size - 1}, got {stimulus.shape}")
    if not np.all(np.isfinite(stimulus)):
        raise InputError(f"{source}(stimulus)", "contains non-finite values")
    if not (np.isfinite(tau_step) and tau_step > 0):
        raise InputError(f"{source}(tau_step)", f"must be > 0, got {tau_step!r}")
    if not (np.isfinite(tau_max) and tau_max >= 0):
        raise InputError(f"{source}(tau_max)", f"must be >= 0, got {tau_max!r}")
    if isinstance(n_shifts, bool) or not isinstance(n_shifts, (int, np.integer)) \
            or n_shifts < 2:
        raise InputError(f"{source}(n_shifts)", f"must be an integer >= 2, got {n_shifts!r}")

    period = edges[-1] - edges[0]
    margin = max(1.0, 2.0 * tau_max)
    if period <= 2.0 * margin:
        raise InputError(f"{source}(edges)", f"the recording ({period:.3g} s) must be longer "
                         f"than {2 * margin:.3g} s for the shift null")
    inside = np.sort(spike_times[(spike_times >= edges[0]) & (spike_times < edges[-1])])
    if inside.size == 0:
        raise InputError(f"{source}(spike_times)", "no spike falls inside the frame edges")

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
               n_spikes=int(inside.size), n_shifts=int(n_shifts), bin_width=float(tau_step))
