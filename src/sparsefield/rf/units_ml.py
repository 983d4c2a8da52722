"""Maximum-likelihood receptive fields of every unit of a session.

The population form of :func:`sparsefield.rf.ml.fit_ml`: the stimulus is centred once,
each lag's design is paired once for all units (:mod:`sparsefield.rf.design`), and each
(unit, lag) is the same L-BFGS-B fit (:func:`sparsefield.rf.ml.fit_lag_pairs`).  Which
units are fitted, and why the others are not: :mod:`sparsefield.rf.units`.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from threadpoolctl import threadpool_limits

from sparsefield._checks import as_float, as_int
from sparsefield._npz import NpzMixin
from sparsefield.rf.binning import check_trial_starts
from sparsefield.rf.design import pair_at_lag, rows_at_lag
from sparsefield.rf.ml import MLFit, fit_lag_pairs, stayed_at_start
from sparsefield.rf.poisson import check_data
from sparsefield.rf.units import (
    check_fitted,
    check_lags,
    reasons_not_fitted,
    unit_names,
    why_array,
)

#: ``why`` of a unit whose ML fit stayed at its start at every lag.
NO_SIGNAL_ML = ("no signal: the ML fit stays at zero weights at every lag, where the "
                "likelihood's gradient is already zero (the counts do not vary with the "
                "stimulus at all; is the stimulus constant?)")


@dataclass(frozen=True)
class UnitsML(NpzMixin):
    """Per-lag maximum-likelihood Poisson fits of every unit of a session.

    Attributes
    ----------
    lags : ndarray of shape (n_lags,), int64
    weights : ndarray of shape (n_units, n_lags, n_pixels)
        ``weights[u, j]``: receptive field of unit ``u`` at ``lags[j]``; NaN for
        units not fitted.
    intercepts : ndarray of shape (n_units, n_lags)
        For the centred stimulus (``exp`` is a rate in spikes/s).
    nll : ndarray of shape (n_units, n_lags)
        Mean negative log-likelihood per frame at the optimum.
    n_iter : ndarray of shape (n_units, n_lags), int64
        L-BFGS-B iterations (0 for units not fitted).
    fitted : ndarray of shape (n_units,), bool
    stimulus_mean : ndarray of shape (n_pixels,)
        Per-pixel mean subtracted from the stimulus before fitting.
    why : ndarray of shape (n_units,), str
        Why a unit asked for was not fitted (e.g. :data:`NO_SIGNAL_ML`); "" for the
        others (:mod:`sparsefield.rf.units`, "Units that are not fitted").
    """

    #: Fields with a leading units axis (the rest are shared by every unit).
    UNIT_FIELDS = ("weights", "intercepts", "nll", "n_iter", "fitted", "why")

    lags: np.ndarray
    weights: np.ndarray
    intercepts: np.ndarray
    nll: np.ndarray
    n_iter: np.ndarray
    fitted: np.ndarray
    stimulus_mean: np.ndarray
    why: np.ndarray

    @property
    def n_units(self) -> int:
        """Number of units (fitted or not)."""
        return self.weights.shape[0]

    def unit(self, index: int) -> MLFit:
        """The fit of one unit, as :func:`sparsefield.rf.ml.fit_ml` returns it.

        Parameters
        ----------
        index : int
            0-based unit index.

        Returns
        -------
        MLFit
            ``converged`` is True at every lag for a fitted unit; a unit not
            fitted gives NaN weights with ``converged`` False.
        """
        index = as_int(index, "unit", 0, self.n_units - 1)
        return MLFit(
            lags=self.lags, weights=self.weights[index], intercepts=self.intercepts[index],
            nll=self.nll[index], n_iter=self.n_iter[index],
            converged=np.full(self.lags.size, bool(self.fitted[index])),
            stimulus_mean=self.stimulus_mean,
        )


def fit_ml_units(stimulus: ArrayLike, counts: ArrayLike, durations: ArrayLike, lags: ArrayLike,
                 *, fitted: ArrayLike | None = None, max_iter: int = 1000, tol: float = 1e-8,
                 unit_ids: ArrayLike | None = None,
                 trial_starts: ArrayLike | None = None) -> UnitsML:
    """Unregularised Poisson fit of every unit at each frame lag.

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
        Frames in display order.
    counts : ndarray of shape (n_frames, n_units)
        Spikes per frame and unit (e.g. the ``counts`` of
        :class:`sparsefield.rf.binning.UnitCounts`).
    durations : ndarray of shape (n_frames,)
        Frame durations in seconds.
    lags : sequence of int
        Frame lags, each in ``[0, n_frames - 1]`` (e.g. from
        :func:`sparsefield.rf.lags.lags_from_window`).
    fitted : ndarray of shape (n_units,), bool, optional
        Units to fit (:mod:`sparsefield.rf.units`, "Units that are not fitted").
    max_iter, tol
        As in :func:`sparsefield.rf.ml.fit_ml`.
    unit_ids : array_like of shape (n_units,), optional
        The units' ids, for messages (default: their 0-based indices).
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial (:attr:`Session.trial_starts`); None for one trial.
        At lag ``k`` the first ``k`` frames of each trial are left out.

    Returns
    -------
    UnitsML
        ``result.unit(u)`` equals ``fit_ml(stimulus, counts[:, u], durations,
        lags, max_iter=max_iter, tol=tol, trial_starts=trial_starts)`` (the same
        arithmetic: the stimulus is
        centred once, then each (unit, lag) is the same L-BFGS-B fit), except for
        a unit without signal at every lag (``fit_ml`` gives zero weights with
        ``converged`` False): it is not fitted here, ``why`` says so.

    Raises
    ------
    InputError
        On inconsistent shapes, bad lags or options, or a unit in ``fitted``
        without spikes at the largest lag.
    FitError
        When a fit does not converge (the unit and lag are named).
    """
    stimulus, counts, durations = check_data(stimulus, counts, durations, "stimulus",
                                             counts_ndim=2)
    n_frames, n_pixels = stimulus.shape
    lags = check_lags(lags, n_frames)
    trial_starts = check_trial_starts(trial_starts, n_frames)
    asked = fitted
    fitted = check_fitted(fitted, counts, lags, trial_starts)
    max_iter = as_int(max_iter, "max_iter", 1)
    tol = as_float(tol, "tol", minimum=0, strict=True)
    names = unit_names(unit_ids, counts.shape[1])
    why = reasons_not_fitted(asked, fitted, lags, trial_starts)

    stimulus_mean = stimulus.mean(axis=0)
    centred = stimulus - stimulus_mean
    counts_rows = np.ascontiguousarray(counts.T)
    n_units, n_lags = counts.shape[1], lags.size
    weights = np.full((n_units, n_lags, n_pixels), np.nan)
    intercepts = np.full((n_units, n_lags), np.nan)
    nll = np.full((n_units, n_lags), np.nan)
    n_iter = np.zeros((n_units, n_lags), dtype=np.int64)
    with threadpool_limits(limits=1, user_api="blas"):
        # Lag by lag: the design of a lag is paired once for all units (a copy with
        # several trials).  Each (unit, lag) fit is the one fit_ml makes.
        for position, lag in enumerate(lags.tolist()):
            rows = rows_at_lag(lag, n_frames, trial_starts)
            design, lag_durations = pair_at_lag(lag, centred, durations,
                                                 trial_starts=trial_starts)
            for unit in np.flatnonzero(fitted):
                unit_counts = counts_rows[unit][lag:] if rows is None \
                    else counts_rows[unit][rows]
                (weights[unit, position], intercepts[unit, position], nll[unit, position],
                 n_iter[unit, position]) = fit_lag_pairs(
                    design, unit_counts, lag_durations, lag, max_iter, tol,
                    f"{names[unit]}: ML fit", n_frames, trial_starts)
        for unit in np.flatnonzero(fitted):
            if all(stayed_at_start(weights[unit, position], n_iter[unit, position])
                   for position in range(n_lags)):
                fitted[unit] = False
                why[unit] = NO_SIGNAL_ML
                weights[unit] = intercepts[unit] = nll[unit] = np.nan
                n_iter[unit] = 0
    return UnitsML(lags=lags, weights=weights, intercepts=intercepts, nll=nll, n_iter=n_iter,
                   fitted=fitted, stimulus_mean=stimulus_mean, why=why_array(why))

