"""Sub-frame spike-triggered average with a circular-shift null distribution.

Trials: with several trials on one time line (``trial_starts``, see
:mod:`sparsefield.rf.binning`), a spike at delay ``tau`` counts only when
``t_spike - tau`` falls in the spike's own trial (at or after the first edge of its
trial's first frame): the frame shown ``tau`` before a spike early in a trial was
shown before the gap between trials, not ``tau`` before the spike.  The averages
divide by the spikes counted at each delay (valid pairs only).  The shift null shifts
the spike train circularly over the whole time line, as for one trial (the trials'
frames are where the stimulus was seen; the shift only breaks the alignment of spikes
and frames), and each shifted spike goes through the same rule in the trial it lands
in, so that the null counts the pairs a spike at that time could have.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float, as_float_array, as_int, as_times
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.rf._sta_kernels import shifted_frame_counts
from sparsefield.rf.binning import check_trial_starts, trial_bounds

# Shifts per block of the null computation: at most _SHIFT_BLOCK, and fewer when
# one block's counts (block * n_frames * n_taus * 8 bytes) would pass _BLOCK_BYTES.
_SHIFT_BLOCK = 16
_BLOCK_BYTES = 64 * 2**20


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
        Spikes inside ``[edges[0], edges[-1])`` (those used; a spike counts at the
        delays where it sees a frame of its trial).
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


def spike_triggered_average(spike_times: ArrayLike, edges: ArrayLike, stimulus: ArrayLike, *,
                            tau_max: float = 0.5, tau_step: float = 0.01, n_shifts: int = 200,
                            seed: int | None = 0, trial_starts: ArrayLike | None = None) -> STA:
    """Spike-triggered average of the frame on screen ``tau`` before each spike.

    For each ``tau`` in ``0, tau_step, ..., tau_max`` the STA is the mean,
    over spikes, of the frame on screen at ``t_spike - tau`` (frame ``f`` is on
    screen during ``[edges[f], edges[f + 1])``).  Only spikes inside
    ``[edges[0], edges[-1])`` are used; for each ``tau``, spikes with
    ``t_spike - tau < edges[0]`` (no frame known) are left out of that tau's
    mean, so the first ``tau_max`` seconds lose a few spikes at long delays.
    With several trials (``trial_starts``) the rule is per trial: a spike is left
    out of a tau's mean when ``t_spike - tau`` is before its own trial's first
    frame (module docstring).

    The null distribution comes from ``n_shifts`` copies of the spike train
    shifted circularly within ``[edges[0], edges[-1])`` by offsets drawn
    uniformly from ``[m, period - m]``, with ``period = edges[-1] - edges[0]``
    and ``m = max(1 s, 2 tau_max)`` (a shift never brings a spike within
    ``m`` of its own time).  Shifting keeps the spike train's own statistics
    (rate changes, bursts) and the stimulus; it only breaks their alignment.
    Each shifted train goes through the same exclusion rule (with several trials:
    the train is shifted over the whole time line, and each shifted spike sees
    only frames of the trial it lands in).

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
    trial_starts : array_like of int of shape (n_trials,), optional
        Index of each trial's first frame (e.g. :attr:`Session.trial_starts`);
        None for one trial.

    Returns
    -------
    STA

    Raises
    ------
    InputError
        On bad arguments, and when the delays cannot make an STA
        (:func:`check_delays`): fewer than two delays, ``tau_max`` not shorter than
        the recording (with several trials: than its longest trial), or a recording
        too short for the shift null.

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
    starts = check_trial_starts(trial_starts, stimulus.shape[0])
    taus = delay_grid(tau_max, tau_step)
    check_delays(tau_max, tau_step, edges[-1] - edges[0], "shift")
    check_trial_delays(tau_max, edges, starts)

    offsets = shift_offsets(edges, tau_max, n_shifts, seed)
    inside = np.sort(spike_times[(spike_times >= edges[0]) & (spike_times < edges[-1])])
    if inside.size == 0:
        raise InputError("spike_times", "no spike falls inside the frame edges")

    sta, null_mean, null_std, zscore = shift_null(inside, offsets, edges, taus, stimulus,
                                                  starts)
    return STA(taus=taus, sta=sta, zscore=zscore, null_mean=null_mean, null_std=null_std,
               n_spikes=int(inside.size), n_shifts=n_shifts)


# ----------------------------------------------------------------------------
# Pieces shared with sparsefield.rf.units_sta.sta_units (inputs already checked)


def check_delays(tau_max: float, tau_step: float, duration: float, null: str = "shift") -> None:
    """Check that delays ``0, tau_step, ..., tau_max`` can make an STA of a recording.

    Cheap: call it before anything is computed (e.g. when a session is read), with
    the recording's length ``edges[-1] - edges[0]``.

    Parameters
    ----------
    tau_max, tau_step : float
        Longest delay and step in seconds (``tau_step > 0``, ``tau_max >= 0``).
    duration : float
        Length of the recording in seconds (first frame edge to last).
    null : {"shift", "analytic"}, default "shift"
        The shift null also needs the recording longer than ``2 max(1 s, 2 tau_max)``.

    Raises
    ------
    InputError
        ``tau_step`` when it gives fewer than two delays (``tau_step > tau_max``);
        ``tau_max`` when it is not shorter than the recording, or too long for the
        shift null of it; ``null`` when the recording is shorter than the 2 s the
        shift null needs whatever ``tau_max``.
    """
    delay_grid(tau_max, tau_step)
    if tau_max >= duration:
        raise InputError(
            "tau_max",
            f"{tau_max:g} s is not shorter than the recording ({duration:.4g} s): no spike "
            "has a frame that long before it; use a tau_max of a second or less (the default is "
            "0.5 s)",
        )
    if null == "shift":
        _shift_margin(tau_max, duration)


def longest_trial(edges: NDArray[np.float64], trial_starts: NDArray[np.int64]) -> float:
    """Duration in seconds of the longest trial (first edge of its first frame to the
    last edge of its last frame).

    Parameters
    ----------
    edges : ndarray of shape (n_frames + 1,)
    trial_starts : ndarray of shape (n_trials,), int64
        Checked (:func:`sparsefield.rf.binning.check_trial_starts`).

    Returns
    -------
    float
    """
    bounds = trial_bounds(trial_starts, edges.size - 1)
    return float(np.max(edges[bounds[1:]] - edges[bounds[:-1]]))


def check_trial_delays(tau_max: float, edges: NDArray[np.float64],
                       trial_starts: ArrayLike | None) -> None:
    """Check that ``tau_max`` is shorter than the longest trial: a spike sees only frames
    of its own trial, so no spike has a frame longer before it than that.

    Nothing to check for one trial (:func:`check_delays` compares ``tau_max`` with the
    recording).

    Raises
    ------
    InputError
        Naming ``tau_max``.
    """
    if trial_starts is None or np.asarray(trial_starts).size <= 1:
        return
    longest = longest_trial(edges, np.asarray(trial_starts, dtype=np.int64))
    if tau_max >= longest:
        raise InputError(
            "tau_max",
            f"{tau_max:g} s is not shorter than the longest of the recording's "
            f"{np.asarray(trial_starts).size} trials ({longest:.4g} s): a spike sees only "
            "frames of its own trial, so no spike has a frame that long before it; use a "
            "shorter tau_max",
        )


def delay_grid(tau_max: float, tau_step: float) -> NDArray[np.float64]:
    """Delays ``0, tau_step, ..., tau_max`` in seconds, shape (n_taus,).

    ``n_taus = floor(tau_max / tau_step + 1e-9) + 1`` (``tau_max`` is included
    despite rounding).

    Parameters
    ----------
    tau_max : float
        Longest delay in seconds (``>= 0``).
    tau_step : float
        Delay step in seconds (``> 0``).

    Returns
    -------
    taus : ndarray of shape (n_taus,)
        ``np.arange(n_taus) * tau_step``.

    Raises
    ------
    InputError
        Naming ``tau_step``, when there would be fewer than two delays.
    """
    n_taus = int(np.floor(tau_max / tau_step + 1e-9)) + 1
    if n_taus < 2:
        raise InputError(
            "tau_step",
            f"{tau_step:g} s is longer than tau_max ({tau_max:g} s): the only delay would be "
            "0 s, and an STA needs at least two delays; use a step shorter than tau_max",
        )
    return np.arange(n_taus, dtype=np.float64) * tau_step


def _shift_margin(tau_max: float, period: float) -> float:
    """``m = max(1 s, 2 tau_max)`` of the shift null, after checking that the
    recording (``period`` s) is longer than ``2 m``.
    """
    margin = max(1.0, 2.0 * tau_max)
    if period > 2.0 * margin:
        return margin
    if margin > 1.0:
        raise InputError(
            "tau_max",
            f"{tau_max:g} s is too long for the shift null of this {period:.4g} s recording: "
            f"every spike is shifted by more than 2 x tau_max, so the recording must last "
            f"over {2 * margin:.4g} s; use a tau_max below {period / 4:.4g} s, or the "
            "analytic null",
        )
    raise InputError(
        "null",
        f"the shift null shifts every spike by at least 1 s, so the recording must last "
        f"over 2 s, and this one lasts {period:.4g} s; use the analytic null",
    )


def shift_offsets(edges: NDArray[np.float64], tau_max: float, n_shifts: int,
                  seed: int | None) -> NDArray[np.float64]:
    """Offsets of the shift null: 0 (the data) then ``n_shifts`` random shifts.

    Parameters
    ----------
    edges : ndarray of shape (n_frames + 1,)
        Strictly increasing frame edges in seconds.
    tau_max : float
        Longest delay in seconds (sets the margin ``m``).
    n_shifts : int
        Number of random shifts.
    seed : int or None
        Seed of ``np.random.default_rng``; the same seed gives the same offsets
        for any spike train on the same edges.

    Returns
    -------
    offsets : ndarray of shape (n_shifts + 1,)
        ``0``, then uniform draws from ``[m, period - m]`` (see
        :func:`spike_triggered_average`).

    Raises
    ------
    InputError
        If the recording is not longer than ``2 m`` (:func:`_shift_margin`).
    """
    period = edges[-1] - edges[0]
    margin = _shift_margin(tau_max, period)
    rng = np.random.default_rng(seed)
    return np.concatenate(([0.0], rng.uniform(margin, period - margin, size=n_shifts)))


def frame_counts(spikes: NDArray[np.float64], offsets: NDArray[np.float64],
                 edges: NDArray[np.float64], taus: NDArray[np.float64],
                 counts: NDArray[np.float64],
                 trial_starts: NDArray[np.int64] | None = None) -> None:
    """Spikes per (offset, frame, tau) that saw the frame tau earlier, within trials.

    One trial: :func:`sparsefield.rf._sta_kernels.shifted_frame_counts` as it is.
    Several: each shifted spike train (shifted over the whole time line as the kernel
    does) is split by trial, and each trial's spikes are counted by the kernel
    against that trial's frames alone, unshifted: a spike sees a frame only when
    ``t - tau`` is at or after its trial's first edge (module docstring).

    Parameters
    ----------
    spikes : ndarray of shape (n_spikes,)
        Sorted spike times inside ``[edges[0], edges[-1])``.
    offsets : ndarray of shape (n_offsets,)
        Circular shifts in seconds (0: the data).
    edges : ndarray of shape (n_frames + 1,)
        Strictly increasing frame edges in seconds.
    taus : ndarray of shape (n_taus,)
        Increasing non-negative delays in seconds (:func:`delay_grid`).
    counts : ndarray of shape (n_offsets, n_frames, n_taus)
        Zeroed on entry (may be a view); filled.
    trial_starts : ndarray of shape (n_trials,), int64, optional
        Checked; None for one trial.
    """
    if trial_starts is None or trial_starts.size <= 1:
        shifted_frame_counts(spikes, offsets, edges, taus, counts)
        return
    bounds = trial_bounds(trial_starts, edges.size - 1)
    start = edges[0]
    period = edges[-1] - start
    later_starts = edges[trial_starts[1:]]
    no_shift = np.zeros(1)
    for k, offset in enumerate(offsets.tolist()):
        times = spikes
        if offset != 0.0:
            # The kernel's circular shift (sparsefield.rf._sta_kernels).
            position = spikes - start + offset
            position = position - period * np.floor(position / period)
            times = np.sort(np.maximum(start + position, start))
        cuts = np.concatenate(([0], np.searchsorted(times, later_starts, side="left"),
                               [times.size]))
        for trial in range(trial_starts.size):
            first, stop = cuts[trial], cuts[trial + 1]
            if stop > first:
                low, high = bounds[trial], bounds[trial + 1]
                shifted_frame_counts(times[first:stop], no_shift, edges[low:high + 1], taus,
                                     counts[k:k + 1, low:high])


def _shifted_averages(inside: NDArray[np.float64], offsets: NDArray[np.float64],
                      edges: NDArray[np.float64], taus: NDArray[np.float64],
                      stimulus: NDArray[np.float64],
                      trial_starts: NDArray[np.int64] | None = None) -> NDArray[np.float64]:
    """STA of the spike train shifted circularly by each offset.

    Parameters
    ----------
    inside : ndarray of shape (n_spikes,)
        Sorted spike times inside ``[edges[0], edges[-1])``.
    offsets : ndarray of shape (n_offsets,)
    edges : ndarray of shape (n_frames + 1,)
    taus : ndarray of shape (n_taus,)
    stimulus : ndarray of shape (n_frames, n_pixels)
    trial_starts : ndarray of shape (n_trials,), int64, optional
        Checked; None for one trial (:func:`frame_counts`).

    Returns
    -------
    averages : ndarray of shape (n_offsets, n_taus, n_pixels)
        NaN at a tau where no spike saw a frame.
    """
    n_frames, n_pixels = stimulus.shape
    n_taus = taus.size
    n_offsets = offsets.size
    block_size = int(np.clip(_BLOCK_BYTES // (8 * n_frames * n_taus), 1, _SHIFT_BLOCK))
    averages = np.empty((n_offsets, n_taus, n_pixels))
    for first in range(0, n_offsets, block_size):
        block = offsets[first:first + block_size]
        counts = np.zeros((block.size, n_frames, n_taus))
        frame_counts(inside, block, edges, taus, counts, trial_starts)
        n_used = counts.sum(axis=1)
        sums = np.matmul(counts.transpose(0, 2, 1), stimulus)
        with np.errstate(invalid="ignore", divide="ignore"):
            averages[first:first + block.size] = sums / n_used[:, :, None]
    return averages


def zscore_map(sta: NDArray[np.float64], null_mean: NDArray[np.float64],
               null_std: NDArray[np.float64]) -> NDArray[np.float64]:
    """``(sta - null_mean) / null_std``, 0 where ``null_std`` is not positive.

    Parameters
    ----------
    sta : ndarray
        Spike-triggered average, e.g. of shape (n_taus, n_pixels).
    null_mean, null_std : ndarray
        Mean and standard deviation of the null, of the shape of ``sta``.

    Returns
    -------
    zscore : ndarray
        Of the shape of ``sta``.
    """
    zscore = np.zeros_like(sta)
    np.divide(sta - null_mean, null_std, out=zscore, where=null_std > 0)
    return zscore


def shift_null(
    inside: NDArray[np.float64],
    offsets: NDArray[np.float64],
    edges: NDArray[np.float64],
    taus: NDArray[np.float64],
    stimulus: NDArray[np.float64],
    trial_starts: NDArray[np.int64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The STA and its shift null from :func:`_shifted_averages` (offset 0 first).

    Parameters
    ----------
    inside : ndarray of shape (n_spikes,)
        Sorted spike times inside ``[edges[0], edges[-1])``.
    offsets : ndarray of shape (n_shifts + 1,)
        Circular shifts in seconds, 0 (the data) first (:func:`shift_offsets`).
    edges : ndarray of shape (n_frames + 1,)
        Strictly increasing frame edges in seconds.
    taus : ndarray of shape (n_taus,)
        Delays in seconds (:func:`delay_grid`).
    stimulus : ndarray of shape (n_frames, n_pixels)
        Frames in display order.
    trial_starts : ndarray of shape (n_trials,), int64, optional
        Checked; None for one trial (:func:`frame_counts`).

    Returns
    -------
    sta, null_mean, null_std, zscore : ndarray of shape (n_taus, n_pixels)
        ``null_std`` with ddof=1 over the shifts.
    """
    averages = _shifted_averages(inside, offsets, edges, taus, stimulus, trial_starts)
    sta = averages[0]
    null = averages[1:]
    null_mean = null.mean(axis=0)
    null_std = null.std(axis=0, ddof=1)
    return sta, null_mean, null_std, zscore_map(sta, null_mean, null_std)
