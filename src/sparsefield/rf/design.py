"""The lagged design: which stimulus frame each count frame is paired with at a lag.

A fit at frame lag ``k`` models the counts of frame ``k + i`` from the stimulus frame
``i`` shown ``k`` frames earlier.  Every per-lag fit (maximum likelihood,
:mod:`sparsefield.rf.ml`; lasso, :mod:`sparsefield.rf.lasso_lags`; their population
forms, :mod:`sparsefield.rf.units_ml` and :mod:`sparsefield.rf.units_lasso`) pairs its
rows here, so the pairing is written once.

Trials: with several trials on one time line (``trial_starts``, see
:mod:`sparsefield.rf.binning`), a frame and the frame ``k`` before it are a pair only
when both belong to the same trial: at lag ``k`` the first ``k`` frames of every trial
are left out (their counts and durations are not used), because the frame ``k`` before
them was shown before the gap between trials, not just before them
(:func:`lagged_frames`).  One trial gives every frame ``k ..``.
"""

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float_array, as_int
from sparsefield.rf.binning import check_trial_starts, trial_bounds
from sparsefield.rf.poisson import check_data


def rows_at_lag(lag: int, n_frames: int,
                trial_starts: NDArray[np.int64] | None) -> NDArray[np.intp] | None:
    """The count frames paired at ``lag`` (:func:`lagged_frames`), or None when they are
    all of frames ``lag ..`` (one trial, or lag 0).  Trusts its inputs.

    Parameters
    ----------
    lag : int
        ``0 <= lag < n_frames``.
    n_frames : int
    trial_starts : ndarray of shape (n_trials,), int64, or None
        Checked (:func:`sparsefield.rf.binning.check_trial_starts`); None for one trial.

    Returns
    -------
    rows : ndarray of shape (n_rows,), int64, or None
        Increasing frame indices, as :func:`lagged_frames` gives them.
    """
    if trial_starts is None or trial_starts.size <= 1 or lag == 0:
        return None
    bounds = trial_bounds(trial_starts, n_frames)
    trial = np.repeat(np.arange(trial_starts.size), np.diff(bounds))
    position = np.arange(n_frames) - trial_starts[trial]
    return np.flatnonzero(position >= lag)


def lagged_frames(n_frames: int, lag: int,
                  trial_starts: ArrayLike | None = None) -> NDArray[np.int64]:
    """The count frames that have a stimulus frame ``lag`` frames earlier in their own trial.

    Parameters
    ----------
    n_frames : int
    lag : int
        ``0 <= lag < n_frames``.
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial (:func:`sparsefield.rf.binning.check_trial_starts`);
        None for one trial.

    Returns
    -------
    frames : ndarray of shape (n_rows,), int64
        Increasing frame indices ``j`` with ``j - lag`` in ``j``'s trial: every frame
        but the first ``lag`` of each trial (``lag ..  n_frames - 1`` for one trial).
        The lag-``lag`` fits pair ``counts[frames]`` with ``stimulus[frames - lag]``.
    """
    n_frames = as_int(n_frames, "n_frames", 1)
    lag = as_int(lag, "lag", 0, n_frames - 1)
    trial_starts = check_trial_starts(trial_starts, n_frames)
    rows = rows_at_lag(lag, n_frames, trial_starts)
    return np.arange(lag, n_frames, dtype=np.int64) if rows is None else rows.astype(np.int64)


def pair_at_lag(lag: int, stimulus: NDArray[Any], *per_frame: NDArray[Any],
                trial_starts: NDArray[np.int64] | None = None) -> tuple[NDArray[Any], ...]:
    """Pair stimulus frame ``i`` with entry ``lag + i`` of each per-frame array, within trials.

    The one place the lag pairing is written.  Trusts its inputs.

    Parameters
    ----------
    lag : int
        ``0 <= lag < n_frames``.
    stimulus : ndarray of shape (n_frames, n_pixels)
    *per_frame : ndarray of shape (n_frames,) or (n_frames, n_units)
        E.g. counts and durations.
    trial_starts : ndarray of shape (n_trials,), int64, optional
        Checked (:func:`sparsefield.rf.binning.check_trial_starts`); None for one trial.

    Returns
    -------
    tuple of ndarray
        One trial (or lag 0): ``stimulus[:n_frames - lag]`` (n_frames - lag,
        n_pixels), then ``array[lag:]`` for each per-frame array; all views.
        Several trials: with ``rows = lagged_frames(n_frames, lag, trial_starts)``,
        ``stimulus[rows - lag]``, then ``array[rows]``; copies.
    """
    rows = rows_at_lag(lag, stimulus.shape[0], trial_starts)
    if rows is None:
        return (stimulus[: stimulus.shape[0] - lag], *(array[lag:] for array in per_frame))
    return (stimulus[rows - lag], *(array[rows] for array in per_frame))


def frames_at_lag_words(lag: int, trial_starts: ArrayLike | None) -> str:
    """How messages name the count frames of a fit at ``lag``: ``"frames 3.."`` (one
    trial), ``"frames 3 or more into their trial"`` (several).
    """
    if trial_starts is not None and np.asarray(trial_starts).size > 1:
        return f"frames {lag} or more into their trial"
    return f"frames {lag}.."


def lagged_design(stimulus: ArrayLike, lag: int,
                  trial_starts: ArrayLike | None = None) -> NDArray[np.float64]:
    """Stimulus rows paired with the counts ``lag`` frames later.

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
    lag : int
        ``0 <= lag < n_frames``.
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial; None for one trial.

    Returns
    -------
    design : ndarray of shape (n_rows, n_pixels)
        One trial: ``design[i] = stimulus[i]``, to be paired with ``counts[lag + i]``
        (a view of ``stimulus`` when it is already a float64 C-contiguous
        array).  Several trials: ``design[r] = stimulus[frames[r] - lag]``, to be
        paired with ``counts[frames[r]]``, ``frames = lagged_frames(n_frames, lag,
        trial_starts)`` (pairs within a trial only).
    """
    stimulus = as_float_array(stimulus, "stimulus", 2)
    lag = as_int(lag, "lag", 0, stimulus.shape[0] - 1)
    trial_starts = check_trial_starts(trial_starts, stimulus.shape[0])
    return pair_at_lag(lag, stimulus, trial_starts=trial_starts)[0]


def lagged_problem(stimulus: ArrayLike, counts: ArrayLike, durations: ArrayLike, lag: int,
                   trial_starts: ArrayLike | None = None
                   ) -> tuple[NDArray[np.float64], ...]:
    """Checked data of a Poisson fit at one lag: frame ``i`` with the counts of frame ``lag + i``.

    With several trials, only pairs within a trial (:func:`lagged_frames`).

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
        Frames in display order (not centred here).
    counts : ndarray of shape (n_frames,)
        Spikes per frame, >= 0.
    durations : ndarray of shape (n_frames,)
        Frame durations in seconds, > 0.
    lag : int
        ``0 <= lag < n_frames``.
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial; None for one trial.

    Returns
    -------
    design : ndarray of shape (n_rows, n_pixels)
        ``stimulus[i]``, paired with
    counts : ndarray of shape (n_rows,)
        ``counts[lag + i]`` and
    durations : ndarray of shape (n_rows,)
        ``durations[lag + i]``; all float64 (the arguments of
        :func:`sparsefield.rf.poisson.poisson_nll` and of the lasso fits).
        ``n_rows = n_frames - lag`` for one trial; with several, the rows are
        ``lag + i = lagged_frames(n_frames, lag, trial_starts)``.

    Raises
    ------
    InputError
        On inconsistent shapes, non-finite values, negative counts,
        non-positive durations, a lag out of range or bad ``trial_starts``.
    """
    stimulus, counts, durations = check_data(stimulus, counts, durations, "stimulus")
    lag = as_int(lag, "lag", 0, stimulus.shape[0] - 1)
    trial_starts = check_trial_starts(trial_starts, stimulus.shape[0])
    return pair_at_lag(lag, stimulus, counts, durations, trial_starts=trial_starts)
