"""Spike counts per stimulus frame.

Conventions used throughout :mod:`sparsefield.rf`:

- Frame ``i`` is on screen during the half-open interval
  ``[edges[i], edges[i + 1])``; a spike exactly on an edge belongs to the
  frame that starts there.
- ``edges`` come from :func:`frame_edges`: the trigger times plus one closing
  edge at the last trigger plus the median trigger interval.
- Spikes before ``edges[0]`` or at/after ``edges[-1]`` are not dropped
  silently: :func:`bin_spikes` reports them as ``n_before`` and ``n_after``.

Many units under one stimulus (a session) keep their spike times concatenated:
``spike_times`` of shape (n_spikes,), each unit's block sorted, and
``spike_offsets`` of shape (n_units + 1,) such that unit ``u`` is
``spike_times[spike_offsets[u]:spike_offsets[u + 1]]``
(:func:`check_unit_spikes`).  :func:`bin_units` counts them all at once.

Trials
------
A session may hold several trials (stimulus presentations) put on one time line with
the gaps between them removed (:attr:`sparsefield.io.session.Session.trial_starts`):
``trial_starts`` of shape (n_trials,), the index of each trial's first frame, starting
at 0 and strictly increasing (:func:`check_trial_starts`).  Frames of one trial follow
each other on screen; the last frame of a trial and the first of the next do not (the
animal saw the gap between them).  Every estimate therefore pairs a response only with
a stimulus of its own trial: the per-lag fits leave out, at lag ``k``, the first ``k``
frames of each trial (:func:`sparsefield.rf.design.lagged_frames`), and the spike-triggered
average counts a spike at delay ``tau`` only when ``t_spike - tau`` falls in the
spike's own trial (:func:`sparsefield.rf.sta.spike_triggered_average`).  One trial
(``trial_starts`` None or ``[0]``) is the whole recording.
"""

from dataclasses import dataclass
from typing import NoReturn, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float_array, as_int, as_times
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.rf._binning_kernels import bin_sorted, bin_units_sorted


def frame_edges(trigger_times: ArrayLike) -> NDArray[np.float64]:
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


def check_trial_starts(trial_starts: ArrayLike | None, n_frames: int) -> NDArray[np.int64]:
    """Check the first frame of each trial of a recording of ``n_frames`` frames.

    Parameters
    ----------
    trial_starts : array_like of int of shape (n_trials,) or None
        Index of each trial's first frame (module docstring, "Trials"): 0 first,
        strictly increasing, each below ``n_frames``.  None means one trial.
    n_frames : int

    Returns
    -------
    trial_starts : ndarray of shape (n_trials,), int64
        ``[0]`` for None.

    Raises
    ------
    InputError
        Naming ``trial_starts``: not a 1-D integer array, empty, not starting at 0,
        not strictly increasing, or a start at or beyond ``n_frames``.
    """
    if trial_starts is None:
        return np.zeros(1, dtype=np.int64)
    starts = np.asarray(trial_starts)
    if starts.ndim != 1 or starts.size == 0 or starts.dtype.kind not in "iu":
        raise InputError("trial_starts", "expected a non-empty 1-D integer array (the first "
                         f"frame of each trial), got shape {starts.shape} and dtype "
                         f"{starts.dtype}")
    starts = np.ascontiguousarray(starts, dtype=np.int64)
    if starts[0] != 0:
        raise InputError("trial_starts", f"must start at frame 0 (the first trial's first "
                         f"frame), got {int(starts[0])}")
    if np.any(np.diff(starts) <= 0):
        raise InputError("trial_starts", "must be strictly increasing (every trial holds at "
                         f"least one frame), got {starts[:20].tolist()}")
    if starts[-1] >= n_frames:
        raise InputError("trial_starts", f"a trial starts at frame {int(starts[-1])}, but "
                         f"there are only {n_frames} frames")
    return starts


def trial_bounds(trial_starts: ArrayLike, n_frames: int) -> NDArray[np.int64]:
    """Frame ranges of the trials: trial ``j`` is frames ``bounds[j]:bounds[j + 1]``.

    Parameters
    ----------
    trial_starts : ndarray of shape (n_trials,), int64
        Checked (:func:`check_trial_starts`).
    n_frames : int

    Returns
    -------
    bounds : ndarray of shape (n_trials + 1,), int64
    """
    return np.append(np.asarray(trial_starts, dtype=np.int64), np.int64(n_frames))


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


def spike_time_array(spike_times: ArrayLike) -> NDArray[np.float32] | NDArray[np.float64]:
    """Spike times as the counting kernels read them, their shape and dtype checked.

    The values are not looked at (the kernels check them while counting).

    Parameters
    ----------
    spike_times : array_like of shape (n_spikes,)

    Returns
    -------
    times : ndarray of shape (n_spikes,), float32 or float64, C-contiguous
        ``spike_times`` itself when it already is one; other real dtypes are
        converted to float64.

    Raises
    ------
    InputError
        If ``spike_times`` is not 1-D or not real numbers (as
        :func:`sparsefield._checks.as_times` says it).
    """
    times = np.asarray(spike_times)
    if times.ndim == 1 and times.dtype in (np.dtype(np.float32), np.dtype(np.float64)):
        return np.ascontiguousarray(times)
    return as_float_array(times, "spike_times", 1, finite=False)


def check_spike_offsets(spike_offsets: ArrayLike, n_spikes: int) -> NDArray[np.int64]:
    """Check the unit offsets of ``n_spikes`` concatenated spike times.

    Parameters
    ----------
    spike_offsets : array_like of int of shape (n_units + 1,)
        See :func:`check_unit_spikes`.
    n_spikes : int

    Returns
    -------
    spike_offsets : ndarray of shape (n_units + 1,), int64, C-contiguous

    Raises
    ------
    InputError
        Naming ``spike_offsets``: not a 1-D integer array of at least two entries,
        not from 0 to ``n_spikes``, or decreasing (the unit is named).
    """
    offsets = np.asarray(spike_offsets)
    if offsets.ndim != 1 or offsets.size < 2 or offsets.dtype.kind not in "iu":
        raise InputError(
            "spike_offsets",
            f"expected a 1-D integer array of n_units + 1 >= 2 entries, got shape "
            f"{offsets.shape} and dtype {offsets.dtype}",
        )
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    if offsets[0] != 0 or offsets[-1] != n_spikes:
        raise InputError(
            "spike_offsets",
            f"must start at 0 and end at the number of spike times ({n_spikes}), got "
            f"{int(offsets[0])} ... {int(offsets[-1])}",
        )
    steps = np.diff(offsets)
    if np.any(steps < 0):
        unit = int(np.flatnonzero(steps < 0)[0])
        raise InputError(
            "spike_offsets",
            f"must be non-decreasing, but unit {unit} (0-based index) would run from "
            f"{int(offsets[unit])} to {int(offsets[unit + 1])}",
        )
    return offsets


@overload
def times_and_edges(spike_times: ArrayLike, spike_offsets: None, trigger_times: ArrayLike
                    ) -> tuple[NDArray[np.float32] | NDArray[np.float64], None,
                               NDArray[np.float64]]: ...


@overload
def times_and_edges(spike_times: ArrayLike, spike_offsets: ArrayLike, trigger_times: ArrayLike
                    ) -> tuple[NDArray[np.float32] | NDArray[np.float64], NDArray[np.int64],
                               NDArray[np.float64]]: ...


def times_and_edges(spike_times: ArrayLike, spike_offsets: ArrayLike | None,
                    trigger_times: ArrayLike
                    ) -> tuple[NDArray[np.float32] | NDArray[np.float64],
                               NDArray[np.int64] | None, NDArray[np.float64]]:
    """The cheap checks of :func:`bin_spikes` / :func:`bin_units` (shapes, dtypes, offsets,
    triggers), leaving the spike times' values to the kernel.

    Parameters
    ----------
    spike_times : array_like of shape (n_spikes,)
    spike_offsets : array_like of int of shape (n_units + 1,) or None
        None for one spike train (:func:`bin_spikes`).
    trigger_times : array_like of shape (n_triggers,)

    Returns
    -------
    times : ndarray of shape (n_spikes,), float32 or float64
        From :func:`spike_time_array`.
    offsets : ndarray of shape (n_units + 1,), int64, or None
        From :func:`check_spike_offsets`; None when ``spike_offsets`` is None.
    edges : ndarray of shape (n_triggers + 1,), float64
        From :func:`frame_edges`.

    Raises
    ------
    InputError
        The first problem in the order the full checks find it
        (:func:`raise_first_problem`), so a bad spike time is reported before bad
        triggers, as before the checks moved into the kernel.
    """
    try:
        times = spike_time_array(spike_times)
        offsets = None if spike_offsets is None else check_spike_offsets(spike_offsets,
                                                                         times.size)
        edges = frame_edges(trigger_times)
    except InputError:
        pass
    else:
        return times, offsets, edges
    raise_first_problem(spike_times, spike_offsets, trigger_times)


def raise_first_problem(spike_times: ArrayLike, spike_offsets: ArrayLike | None,
                        trigger_times: ArrayLike) -> NoReturn:
    """Run the full checks in their documented order; the first problem raises.

    The error path of :func:`bin_spikes` and :func:`bin_units`, called once a cheap check
    or the counting kernel has found something wrong: the spike times
    (:func:`sparsefield._checks.as_times`, or :func:`check_unit_spikes` with
    ``spike_offsets``), then the triggers (:func:`frame_edges`).

    Raises
    ------
    InputError
        Always (RuntimeError if no check fails, which would be a bug in the kernel).
    """
    if spike_offsets is None:
        as_times(spike_times, "spike_times", order="sorted", what="spike time")
    else:
        check_unit_spikes(spike_times, spike_offsets)
    frame_edges(trigger_times)
    raise RuntimeError("the binning kernel reported a problem that the checks do not find")


def bin_spikes(spike_times: ArrayLike, trigger_times: ArrayLike) -> BinnedCounts:
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
    One pass over the spikes (a numba kernel,
    :func:`sparsefield.rf._binning_kernels.bin_sorted`) checks them and counts them
    together: a merge walk, a search of each frame's edge among the spikes when there
    are many more spikes than frames, or of each spike among the edges when there are
    many fewer; from 2**17 spikes on, one stripe of the spikes per numba thread
    (``NUMBA_NUM_THREADS``).  No other pass reads the spikes unless they are bad (the
    error message then comes from the full check, as before).  float32 spike times are
    read as they are (no float64 copy); the counts equal those of the float64
    conversion.  O(n_spikes + n_triggers).
    """
    times, _, edges = times_and_edges(spike_times, None, trigger_times)
    counts, n_before, n_after, problem = bin_sorted(times, edges)
    if problem >= 0:
        raise_first_problem(spike_times, None, trigger_times)
    return BinnedCounts(
        counts=counts,
        edges=edges,
        durations=np.diff(edges),
        n_before=int(n_before),
        n_after=int(n_after),
    )


def check_unit_spikes(spike_times: ArrayLike, spike_offsets: ArrayLike
                      ) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Check the concatenated spike times of a session's units once.

    Parameters
    ----------
    spike_times : array_like of shape (n_spikes,)
        Spike times in seconds, finite; unit ``u``'s block
        ``spike_times[spike_offsets[u]:spike_offsets[u + 1]]`` sorted
        (non-decreasing).  Blocks need not be in any order between units.
    spike_offsets : array_like of int of shape (n_units + 1,)
        Non-decreasing, ``spike_offsets[0] == 0`` and
        ``spike_offsets[-1] == n_spikes``; a unit without spikes has two equal
        offsets.  ``n_units >= 1``.

    Returns
    -------
    spike_times : ndarray of shape (n_spikes,), float64, C-contiguous
    spike_offsets : ndarray of shape (n_units + 1,), int64, C-contiguous

    Raises
    ------
    InputError
        On a non-finite spike time, an inconsistent ``spike_offsets`` or a
        unit whose block is not sorted (the unit and the first offending pair
        are named).
    """
    spike_times = as_times(spike_times, "spike_times", what="spike time")
    offsets = check_spike_offsets(spike_offsets, spike_times.size)
    n_spikes = spike_times.size
    if n_spikes >= 2:
        backwards = np.diff(spike_times) < 0
        # A step from the last spike of one unit to the first of the next is allowed.
        starts = offsets[1:-1]
        backwards[starts[(starts >= 1) & (starts < n_spikes)] - 1] = False
        if np.any(backwards):
            index = int(np.flatnonzero(backwards)[0])
            unit = int(np.searchsorted(offsets, index, side="right") - 1)
            within = index - int(offsets[unit])
            raise InputError(
                "spike_times",
                f"unit {unit} (0-based index): spike times are not sorted; its spike "
                f"{within} is {spike_times[index]:.10g} s and spike {within + 1} is "
                f"{spike_times[index + 1]:.10g} s",
            )
    return spike_times, offsets


@dataclass(frozen=True)
class UnitCounts(NpzMixin):
    """Spike counts per stimulus frame of every unit of a session.

    Attributes
    ----------
    counts : ndarray of shape (n_frames, n_units), int64
        ``counts[i, u]``: spikes of unit ``u`` in ``[edges[i], edges[i + 1])``.
    edges : ndarray of shape (n_frames + 1,), float64
        Frame boundaries in seconds (see :func:`frame_edges`).
    durations : ndarray of shape (n_frames,), float64
        ``np.diff(edges)``.
    n_before : ndarray of shape (n_units,), int64
        Spikes of each unit before ``edges[0]``.
    n_after : ndarray of shape (n_units,), int64
        Spikes of each unit at or after ``edges[-1]``.

    Notes
    -----
    ``counts.sum(axis=0) + n_before + n_after`` is each unit's number of spikes.
    """

    counts: np.ndarray
    edges: np.ndarray
    durations: np.ndarray
    n_before: np.ndarray
    n_after: np.ndarray

    @property
    def n_units(self) -> int:
        """Number of units (columns of :attr:`counts`)."""
        return self.counts.shape[1]

    def unit(self, index: int) -> BinnedCounts:
        """The counts of one unit, as :func:`bin_spikes` returns them.

        Parameters
        ----------
        index : int
            0-based unit index.

        Returns
        -------
        BinnedCounts
            Equal to ``bin_spikes(spike_times of that unit, trigger_times)``.
        """
        index = as_int(index, "unit", 0, self.n_units - 1)
        return BinnedCounts(
            counts=np.ascontiguousarray(self.counts[:, index]),
            edges=self.edges,
            durations=self.durations,
            n_before=int(self.n_before[index]),
            n_after=int(self.n_after[index]),
        )


def bin_units(spike_times: ArrayLike, spike_offsets: ArrayLike,
              trigger_times: ArrayLike) -> UnitCounts:
    """Count the spikes of every unit of a session in each stimulus frame.

    Parameters
    ----------
    spike_times : ndarray of shape (n_spikes,)
        Spike times in seconds of all units, concatenated; each unit's block
        sorted (see :func:`check_unit_spikes`).
    spike_offsets : ndarray of int of shape (n_units + 1,)
        Unit ``u`` is ``spike_times[spike_offsets[u]:spike_offsets[u + 1]]``.
    trigger_times : ndarray of shape (n_triggers,)
        Frame-flip times in seconds, strictly increasing, ``n_triggers >= 2``.

    Returns
    -------
    UnitCounts
        ``n_frames = n_triggers``; ``result.unit(u)`` equals
        ``bin_spikes(spike_times[spike_offsets[u]:spike_offsets[u + 1]],
        trigger_times)`` exactly (same rules for spikes on edges, before the
        first and at or after the last edge; a unit without spikes gets zeros).

    Raises
    ------
    InputError
        See :func:`check_unit_spikes` and :func:`frame_edges`.

    Notes
    -----
    One numba kernel call for all units
    (:func:`sparsefield.rf._binning_kernels.bin_units_sorted`), parallel over units,
    that checks each unit's spike times while it counts them; per unit a merge walk,
    or a search of the shorter side among the longer (a unit with few spikes costs
    O(n_spikes log n_frames), not O(n_frames)).
    """
    times, offsets, edges = times_and_edges(spike_times, spike_offsets, trigger_times)
    n_units = offsets.size - 1
    counts = np.zeros((n_units, edges.size - 1), dtype=np.int64)
    n_before = np.zeros(n_units, dtype=np.int64)
    n_after = np.zeros(n_units, dtype=np.int64)
    if bin_units_sorted(times, offsets, edges, counts, n_before, n_after) >= 0:
        raise_first_problem(spike_times, spike_offsets, trigger_times)
    return UnitCounts(
        counts=np.ascontiguousarray(counts.T),
        edges=edges,
        durations=np.diff(edges),
        n_before=n_before,
        n_after=n_after,
    )
