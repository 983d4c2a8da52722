"""Maximum-likelihood receptive fields: one unregularised Poisson fit per frame lag.

For each lag ``k`` the counts in frame ``lag + i`` are modelled from the
stimulus frame ``i`` shown ``k`` frames earlier,

    counts[k + i] ~ Poisson(durations[k + i] * exp((stimulus[i] - stimulus_mean) . weights_k
                                                   + intercept_k)),

i = 0 .. n_frames - k - 1, with the objective of :mod:`sparsefield.rf.poisson`
(mean NLL) minimised by L-BFGS-B.

Trials: with several trials on one time line (``trial_starts``, see
:mod:`sparsefield.rf.binning`), a frame and the frame ``k`` before it are a pair only
when both belong to the same trial: at lag ``k`` the first ``k`` frames of every trial
are left out (their counts and durations are not used), because the frame ``k``
before them was shown before the gap between trials, not just before them
(:func:`sparsefield.rf.design.lagged_frames`, where the pairing is written).  One trial
gives every frame ``k ..`` as above.  The stimulus is centred per pixel
(``stimulus_mean`` is its mean over all frames, recorded in the result), so
``exp(intercept_k)`` is close to the mean firing rate in spikes per second and
the weights are unchanged by the centring; with the course's
``r_t = exp(w . s_t) * dt * R`` the intercept is ``log R + w . stimulus_mean``.
"""

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from sparsefield._checks import as_float, as_float_array, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import FitError, InputError
from sparsefield.rf.binning import check_trial_starts
from sparsefield.rf.design import frames_at_lag_words, pair_at_lag, rows_at_lag
from sparsefield.rf.poisson import PoissonProblem, check_data

Floats: TypeAlias = NDArray[np.float64]


@dataclass(frozen=True)
class MLFit(NpzMixin):
    """Per-lag maximum-likelihood Poisson fits.

    Attributes
    ----------
    lags : ndarray of shape (n_lags,), int64
        Frame lags, in the order they were fitted.
    weights : ndarray of shape (n_lags, n_pixels)
        ``weights[j]`` is the receptive field at ``lags[j]``.
    intercepts : ndarray of shape (n_lags,)
        Intercepts for the centred stimulus (``exp`` is a rate in spikes/s).
    nll : ndarray of shape (n_lags,)
        Mean negative log-likelihood per frame at the optimum.
    n_iter : ndarray of shape (n_lags,), int64
        L-BFGS-B iterations.
    converged : ndarray of shape (n_lags,), bool
        Whether the fit found a receptive field: False at a lag where the data
        have no signal (see :attr:`no_signal`); :func:`fit_ml` raises when the
        optimiser itself fails, so it is True everywhere else.
    stimulus_mean : ndarray of shape (n_pixels,)
        Per-pixel mean subtracted from the stimulus before fitting.
    """

    lags: np.ndarray
    weights: np.ndarray
    intercepts: np.ndarray
    nll: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    stimulus_mean: np.ndarray

    @property
    def no_signal(self) -> NDArray[np.bool_]:
        """Lags at which the fit stayed at its start, zero weights, because the
        gradient there is zero: shape (n_lags,), bool.

        Zero weights are then the exact maximum-likelihood answer, but they say only
        that the counts do not depend on the stimulus at that lag in any way the fit
        can see (e.g. a constant stimulus): no signal, not a receptive field.
        """
        return ~np.asarray(self.converged, dtype=bool) & ~np.any(self.weights, axis=1)

    @property
    def best_lag(self) -> int:
        """The lag whose weights have the largest Euclidean norm (the first on ties).

        Returns
        -------
        int
            An entry of :attr:`lags`.
        """
        return int(self.lags[np.argmax(np.linalg.norm(self.weights, axis=1))])

    def lag_position(self, lag: int) -> int:
        """Row of :attr:`weights` that holds ``lag``.

        Parameters
        ----------
        lag : int

        Returns
        -------
        position : int

        Raises
        ------
        InputError
            If ``lag`` was not fitted.
        """
        matches = np.flatnonzero(self.lags == lag)
        if matches.size == 0:
            raise InputError(
                "lag", f"{lag!r} was not fitted; fitted lags are {self.lags.tolist()}"
            )
        return int(matches[0])


def fit_ml(stimulus: ArrayLike, counts: ArrayLike, durations: ArrayLike,
           lags: ArrayLike = (0, 1, 2, 3, 4), *, max_iter: int = 1000, tol: float = 1e-8,
           trial_starts: ArrayLike | None = None) -> MLFit:
    """Fit an unregularised Poisson GLM separately at each frame lag.

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
        Frames in display order.
    counts : ndarray of shape (n_frames,)
        Spikes per frame (e.g. :attr:`BinnedCounts.counts`).
    durations : ndarray of shape (n_frames,)
        Frame durations in seconds (e.g. :attr:`BinnedCounts.durations`).
    lags : sequence of int, default (0, 1, 2, 3, 4)
        Frame lags, each in ``[0, n_frames - 1]``.
    max_iter : int, default 1000
        L-BFGS-B iteration limit per lag.
    tol : float, default 1e-8
        Passed to L-BFGS-B as both ``ftol`` and ``gtol`` (what
        ``scipy.optimize.minimize(..., tol=tol)`` does).
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial (e.g. :attr:`Session.trial_starts`); None for one
        trial.  At lag ``k`` the first ``k`` frames of each trial are left out
        (module docstring).

    Returns
    -------
    MLFit
        ``converged`` is False, and the weights 0, at a lag without signal (the
        gradient at the start is zero: e.g. a constant stimulus; see
        :attr:`MLFit.no_signal`).

    Raises
    ------
    InputError
        On inconsistent shapes, bad lags or ``trial_starts``, or no spikes to fit at
        a lag.
    FitError
        When L-BFGS-B does not report convergence, or returns non-finite
        values, at some lag (the message names the lag and scipy's message).

    Notes
    -----
    The stimulus is centred per pixel once.  Each lag starts from zero
    weights and the intercept ``log(sum counts / sum durations)``, which is
    the exact optimum when the weights are zero.

    BLAS is limited to one thread during the fits: scipy's L-BFGS-B makes
    many tiny BLAS calls, and with OpenBLAS threads (2 cores here) each
    optimiser step cost ~3 ms of thread hand-off, ~30x the whole step.
    """
    stimulus, counts, durations = check_data(stimulus, counts, durations, "stimulus")
    n_frames, n_pixels = stimulus.shape
    lags_array = np.asarray(lags)
    if lags_array.ndim != 1 or lags_array.size == 0:
        raise InputError("lags", f"expected a non-empty sequence of integers, got {lags!r}")
    lag_list = [as_int(lag, "lags", 0, n_frames - 1) for lag in lags_array.tolist()]
    max_iter = as_int(max_iter, "max_iter", 1)
    tol = as_float(tol, "tol", minimum=0, strict=True)
    trial_starts = check_trial_starts(trial_starts, n_frames)

    stimulus_mean = stimulus.mean(axis=0)
    centred = stimulus - stimulus_mean

    n_lags = len(lag_list)
    weights = np.empty((n_lags, n_pixels))
    intercepts = np.empty(n_lags)
    nll = np.empty(n_lags)
    n_iter = np.empty(n_lags, dtype=np.int64)
    converged = np.ones(n_lags, dtype=bool)
    with threadpool_limits(limits=1, user_api="blas"):
        for position, lag in enumerate(lag_list):
            weights[position], intercepts[position], nll[position], n_iter[position] = (
                _fit_lag_centred(centred, counts, durations, lag, max_iter, tol,
                                 trial_starts=trial_starts)
            )
            converged[position] = not stayed_at_start(weights[position], n_iter[position])
    return MLFit(
        lags=np.asarray(lag_list, dtype=np.int64),
        weights=weights,
        intercepts=intercepts,
        nll=nll,
        n_iter=n_iter,
        converged=converged,
        stimulus_mean=stimulus_mean,
    )


def stayed_at_start(weights: NDArray[np.float64], n_iter: int) -> bool:
    """Whether a per-lag fit stopped at its zero-weight start: no signal.

    L-BFGS-B stops before its first step when the gradient at the start is below its
    tolerance; the start (zero weights, the intercept of the mean rate) is then the
    optimum, and the weights stay exactly zero.  A fit that moved never lands back on
    exactly zero weights.

    Parameters
    ----------
    weights : ndarray of shape (n_pixels,)
    n_iter : int

    Returns
    -------
    bool
    """
    return int(n_iter) == 0 and not np.any(weights)


def _fit_lag_centred(centred: Floats, counts: Floats, durations: Floats, lag: int,
                     max_iter: int, tol: float, label: str = "ML fit",
                     trial_starts: NDArray[np.int64] | None = None
                     ) -> tuple[Floats, float, float, int]:
    """L-BFGS-B fit at one lag on an already centred stimulus: the per-lag step of
    :func:`fit_ml`.

    Trusts its inputs (checked by the caller); call it inside
    ``threadpool_limits(limits=1, user_api="blas")`` (see :func:`fit_ml`, Notes).

    Parameters
    ----------
    centred : ndarray of shape (n_frames, n_pixels)
        Stimulus minus its per-pixel mean, float64, C-contiguous.
    counts, durations : ndarray of shape (n_frames,)
        float64, checked (counts >= 0, durations > 0).
    lag : int
        ``0 <= lag < n_frames``.
    max_iter : int
    tol : float
        As in :func:`fit_ml`.
    label : str, default "ML fit"
        What the error messages call this fit (e.g. ``"unit 3: ML fit"``).
    trial_starts : ndarray of shape (n_trials,), int64, optional
        Checked; None for one trial (pairs within a trial only,
        :func:`~sparsefield.rf.design.pair_at_lag`).

    Returns
    -------
    weights : ndarray of shape (n_pixels,)
    intercept : float
    nll : float
        Mean negative log-likelihood per frame at the optimum.
    n_iter : int
        L-BFGS-B iterations: 0, with zero weights, when the gradient at the start
        is zero (no signal, :func:`stayed_at_start`).

    Raises
    ------
    InputError
        If there is no spike in the frames paired at this lag (frames ``lag ..``).
    FitError
        If L-BFGS-B does not converge or returns non-finite values.
    """
    design, counts_lag, durations_lag = pair_at_lag(lag, centred, counts, durations,
                                                    trial_starts=trial_starts)
    return fit_lag_pairs(design, counts_lag, durations_lag, lag, max_iter, tol, label,
                         centred.shape[0], trial_starts)


def fit_lag_pairs(design: Floats, counts: Floats, durations: Floats, lag: int, max_iter: int,
                  tol: float, label: str, n_frames: int,
                  trial_starts: NDArray[np.int64] | None) -> tuple[Floats, float, float, int]:
    """L-BFGS-B fit at one lag on rows already paired (the one place it is written).

    Shared by :func:`fit_ml` and :func:`sparsefield.rf.units_ml.fit_ml_units`, which
    pairs a lag's design once for all units.  Trusts its inputs (checked by the
    caller); call it inside ``threadpool_limits(limits=1, user_api="blas")`` (see
    :func:`fit_ml`, Notes).

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels)
        The centred stimulus paired at ``lag``
        (:func:`~sparsefield.rf.design.pair_at_lag`), float64.
    counts, durations : ndarray of shape (n_rows,)
        The counts and durations paired with it; float64, checked (counts >= 0,
        durations > 0).
    lag : int
    max_iter : int
    tol : float
        As in :func:`fit_ml`.
    label : str
        What the error messages call this fit (e.g. ``"unit 3: ML fit"``).
    n_frames : int
    trial_starts : ndarray of shape (n_trials,), int64, or None
        Only to name the frames in a message.

    Returns
    -------
    weights : ndarray of shape (n_pixels,)
    intercept : float
    nll : float
        Mean negative log-likelihood per frame at the optimum.
    n_iter : int
        L-BFGS-B iterations: 0, with zero weights, when the gradient at the start
        is zero (no signal, :func:`stayed_at_start`).

    Raises
    ------
    InputError
        If there is no spike in the paired rows.
    FitError
        If L-BFGS-B does not converge or returns non-finite values.
    """
    n_pixels = design.shape[1]
    problem = PoissonProblem.from_checked(design, counts, durations)
    total_counts = problem.counts.sum()
    if total_counts <= 0:
        where = (f"frames {lag}..{n_frames - 1}" if trial_starts is None
                 or trial_starts.size <= 1 else frames_at_lag_words(lag, trial_starts))
        raise InputError("counts", f"no spikes in {where} (lag {lag})")
    theta_start = np.zeros(n_pixels + 1)
    theta_start[-1] = np.log(total_counts / problem.durations.sum())
    result = minimize(
        problem.nll_grad_theta,
        theta_start,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": max_iter, "ftol": tol, "gtol": tol},
    )
    if not result.success:
        raise FitError(
            f"{label} at lag {lag} did not converge after {result.nit} iterations: "
            f"{result.message} (raise max_iter, now {max_iter}, or loosen the tolerance tol, now "
            f"{tol:g})"
        )
    if not (np.all(np.isfinite(result.x)) and np.isfinite(result.fun)):
        raise FitError(f"{label} at lag {lag} gave non-finite values: {result.message}")
    return result.x[:-1], float(result.x[-1]), float(result.fun), int(result.nit)


def predicted_counts(fit: MLFit, lag: int, stimulus: ArrayLike, durations: ArrayLike,
                     trial_starts: ArrayLike | None = None) -> Floats:
    """Expected counts per frame from the fit at one lag.

    Parameters
    ----------
    fit : MLFit
    lag : int
        One of ``fit.lags``.
    stimulus : ndarray of shape (n_frames, n_pixels)
        Frames in display order (not centred; ``fit.stimulus_mean`` is
        subtracted here).
    durations : ndarray of shape (n_frames,)
        Frame durations in seconds.
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial; None for one trial.

    Returns
    -------
    expected : ndarray of shape (n_frames,)
        ``expected[lag + i] = durations[lag + i] * exp((stimulus[i] -
        stimulus_mean) . weights + intercept)``; NaN for the first ``lag``
        frames (of each trial), which have no stimulus ``lag`` frames earlier
        (in their trial).
    """
    stimulus = as_float_array(stimulus, "stimulus", 2)
    n_frames, n_pixels = stimulus.shape
    if n_pixels != fit.weights.shape[1]:
        raise InputError(
            "stimulus", f"has {n_pixels} pixels but the fit has {fit.weights.shape[1]}"
        )
    lag = as_int(lag, "lag", 0, n_frames - 1)
    position = fit.lag_position(lag)
    durations = as_float_array(durations, "durations", 1, length=n_frames)
    if np.any(durations <= 0):
        raise InputError("durations", "must be positive (seconds)")
    trial_starts = check_trial_starts(trial_starts, n_frames)
    design, durations_at_lag = pair_at_lag(lag, stimulus - fit.stimulus_mean, durations,
                                            trial_starts=trial_starts)
    problem = PoissonProblem.from_checked(design, np.zeros(design.shape[0]), durations_at_lag)
    expected = np.full(n_frames, np.nan)
    rows = rows_at_lag(lag, n_frames, trial_starts)
    expected[slice(lag, None) if rows is None else rows] = problem.expected_counts(
        fit.weights[position], fit.intercepts[position])
    return expected
