"""The output nonlinearity of one unit's best linear estimate (issue 12, item 3).

Of the linear estimates scored on held-out blocks (:mod:`sparsefield.rf.units_scores`),
the one with the most bits per spike among ``ml``, ``lasso`` and ``sta_ln`` gives the
filter over lags ``0 .. n_lags - 1`` (``joint`` is left out: its filter exists only
inside the scoring folds):

* ``sta_ln``: the STA of the centred stimulus, refitted without each block (the
  generator is held out from the filter too);
* ``ml`` / ``lasso``: the unit's weights at the lag it was scored at (zero at the other
  lags), fitted on all frames: only the link is held out, so the bins of these two are
  slightly optimistic.

:func:`sparsefield.rf.nonlinearity.estimate_nonlinearity` then bins the held-out
generator and compares the exponential and softplus links by held-out score.
"""

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield.rf.nonlinearity import Nonlinearity, estimate_nonlinearity

#: The linear estimates whose filter can be drawn, in order of preference on ties.
LINEAR_ESTIMATES = ("sta_ln", "lasso", "ml")


def best_linear(estimates: ArrayLike, bits_per_spike: ArrayLike) -> str:
    """The linear estimate (:data:`LINEAR_ESTIMATES`) with the most held-out bits/spike.

    Parameters
    ----------
    estimates : array_like of str, shape (n_estimates,)
    bits_per_spike : array_like of shape (n_estimates,)
        NaN for an estimate without a score.

    Returns
    -------
    str
        ``"sta_ln"`` when none has a finite score.
    """
    scores = dict(zip(np.asarray(estimates).tolist(), np.asarray(bits_per_spike, float).tolist(),
                      strict=True))
    finite = [name for name in LINEAR_ESTIMATES if np.isfinite(scores.get(name, np.nan))]
    return max(finite, key=lambda name: scores[name]) if finite else "sta_ln"


def sta_filter(stimulus: ArrayLike, counts: ArrayLike,
               n_lags: int) -> Callable[[NDArray[np.int64]], NDArray[np.float64]]:
    """``rf(frames)``: the STA over lags ``0 .. n_lags - 1`` of the count frames ``frames``.

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
    counts : ndarray of shape (n_frames,)
    n_lags : int

    Returns
    -------
    callable
        Maps count frames (int64, each ``>= n_lags - 1``) to the STA of the stimulus
        centred by its mean per pixel, shape (n_lags, n_pixels).
    """
    centred = np.asarray(stimulus, dtype=np.float64)
    centred = centred - centred.mean(axis=0)
    counts = np.asarray(counts, dtype=np.float64)

    def rf(frames: NDArray[np.int64]) -> NDArray[np.float64]:
        weights = counts[frames]
        total = max(float(weights.sum()), 1.0)
        return np.stack([centred[frames - lag].T @ weights for lag in range(n_lags)]) / total

    return rf


def unit_nonlinearity(stimulus: ArrayLike, counts: ArrayLike, durations: ArrayLike,
                      estimate: str, n_lags: int, *, weights: ArrayLike | None = None,
                      lag: int = 0, n_folds: int = 5,
                      trial_starts: ArrayLike | None = None) -> Nonlinearity:
    """The nonlinearity of one unit under the filter of ``estimate`` (module docstring).

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
    counts, durations : ndarray of shape (n_frames,)
    estimate : {"sta_ln", "lasso", "ml"}
    n_lags : int
        Lags of the window (``> lag``).
    weights : ndarray of shape (n_pixels,), optional
        The ``ml`` / ``lasso`` weights at ``lag``.
    lag : int
    n_folds : int
    trial_starts : array_like of int, optional

    Returns
    -------
    sparsefield.rf.nonlinearity.Nonlinearity
    """
    stimulus = np.asarray(stimulus, dtype=np.float64)
    if estimate == "sta_ln" or weights is None:
        rf: ArrayLike | Callable[[NDArray[np.int64]], NDArray[np.float64]] = sta_filter(
            stimulus, counts, n_lags)
    else:
        fixed = np.zeros((max(n_lags, lag + 1), stimulus.shape[1]))
        fixed[lag] = np.asarray(weights, dtype=np.float64)
        rf, n_lags = fixed, fixed.shape[0]
    return estimate_nonlinearity(stimulus, counts, durations, rf, n_lags=n_lags,
                                 n_folds=n_folds, trial_starts=trial_starts)


__all__ = ["LINEAR_ESTIMATES", "best_linear", "sta_filter", "unit_nonlinearity"]
