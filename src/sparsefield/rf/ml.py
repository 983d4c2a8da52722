"""Maximum-likelihood receptive fields: one unregularised Poisson fit per frame lag.

For each lag ``k`` the counts in frame ``lag + i`` are modelled from the
stimulus frame ``i`` shown ``k`` frames earlier,

    counts[k + i] ~ Poisson(durations[k + i] * exp((stimulus[i] - stimulus_mean) . weights_k
                                                   + intercept_k)),

i = 0 .. n_frames - k - 1, with the objective of :mod:`sparsefield.rf.poisson`
(mean NLL) minimised by L-BFGS-B.  The stimulus is centred per pixel
(``stimulus_mean`` is its mean over all frames, recorded in the result), so
``exp(intercept_k)`` is close to the mean firing rate in spikes per second and
the weights are unchanged by the centring; with the course's
``r_t = exp(w . s_t) * dt * R`` the intercept is ``log R + w . stimulus_mean``.
"""

import numbers
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

from sparsefield.errors import FitError, InputError
from sparsefield.rf.poisson import PoissonProblem


def _as_stimulus(stimulus):
    stimulus = np.asarray(stimulus)
    if stimulus.ndim != 2:
        raise InputError(
            "stimulus", f"expected shape (n_frames, n_pixels), got shape {stimulus.shape}"
        )
    if not (
        np.issubdtype(stimulus.dtype, np.floating)
        or np.issubdtype(stimulus.dtype, np.integer)
        or np.issubdtype(stimulus.dtype, np.bool_)
    ):
        raise InputError("stimulus", f"expected numbers, got dtype {stimulus.dtype}")
    stimulus = np.ascontiguousarray(stimulus, dtype=np.float64)
    if not np.all(np.isfinite(stimulus)):
        raise InputError("stimulus", "contains NaN or infinite values")
    return stimulus


def _as_lag(lag, n_frames, source="lag"):
    if isinstance(lag, (bool, np.bool_)) or not isinstance(lag, (int, np.integer)):
        raise InputError(source, f"must be an integer number of frames, got {lag!r}")
    lag = int(lag)
    if not 0 <= lag < n_frames:
        raise InputError(
            source, f"must be in [0, {n_frames - 1}] for {n_frames} frames, got {lag}"
        )
    return lag


def _as_per_frame(values, source, n_frames):
    array = np.asarray(values, dtype=np.float64)
    if array.shape != (n_frames,):
        raise InputError(
            source, f"expected shape ({n_frames},) to match the stimulus, got {array.shape}"
        )
    return array


def lagged_design(stimulus, lag):
    """Stimulus rows paired with the counts ``lag`` frames later.

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
    lag : int
        ``0 <= lag < n_frames``.

    Returns
    -------
    design : ndarray of shape (n_frames - lag, n_pixels)
        ``design[i] = stimulus[i]``, to be paired with ``counts[lag + i]``
        (a view of ``stimulus`` when it is already a float64 C-contiguous
        array).
    """
    stimulus = _as_stimulus(stimulus)
    lag = _as_lag(lag, stimulus.shape[0])
    return stimulus[: stimulus.shape[0] - lag]


@dataclass(frozen=True)
class MLFit:
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
        Whether the optimiser reported success (always true in a result
        returned by :func:`fit_ml`, which raises otherwise).
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

    def to_npz_dict(self):
        """Plain arrays for :func:`numpy.savez`.

        Returns
        -------
        arrays : dict of str to ndarray
            One entry per attribute, same names.
        """
        return {
            "lags": np.asarray(self.lags, dtype=np.int64),
            "weights": np.asarray(self.weights, dtype=np.float64),
            "intercepts": np.asarray(self.intercepts, dtype=np.float64),
            "nll": np.asarray(self.nll, dtype=np.float64),
            "n_iter": np.asarray(self.n_iter, dtype=np.int64),
            "converged": np.asarray(self.converged, dtype=bool),
            "stimulus_mean": np.asarray(self.stimulus_mean, dtype=np.float64),
        }

    @classmethod
    def from_npz(cls, npz):
        """Rebuild from :meth:`to_npz_dict` output, e.g. ``np.load(path, allow_pickle=False)``.

        Parameters
        ----------
        npz : Mapping of str to ndarray

        Returns
        -------
        MLFit
        """
        return cls(
            lags=np.asarray(npz["lags"], dtype=np.int64),
            weights=np.asarray(npz["weights"], dtype=np.float64),
            intercepts=np.asarray(npz["intercepts"], dtype=np.float64),
            nll=np.asarray(npz["nll"], dtype=np.float64),
            n_iter=np.asarray(npz["n_iter"], dtype=np.int64),
            converged=np.asarray(npz["converged"], dtype=bool),
            stimulus_mean=np.asarray(npz["stimulus_mean"], dtype=np.float64),
        )

    def lag_position(self, lag):
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


def fit_ml(stimulus, counts, durations, lags=(0, 1, 2, 3, 4), *, max_iter=1000, tol=1e-8):
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

    Returns
    -------
    MLFit

    Raises
    ------
    InputError
        On inconsistent shapes, bad lags, or no spikes to fit at a lag.
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
    stimulus = _as_stimulus(stimulus)
    n_frames, n_pixels = stimulus.shape
    counts = _as_per_frame(counts, "counts", n_frames)
    durations = _as_per_frame(durations, "durations", n_frames)
    lags_array = np.asarray(lags)
    if lags_array.ndim != 1 or lags_array.size == 0:
        raise InputError("lags", f"expected a non-empty sequence of integers, got {lags!r}")
    lag_list = [_as_lag(lag, n_frames, "lags") for lag in lags_array.tolist()]
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise InputError("max_iter", f"must be a positive integer, got {max_iter!r}")
    if (
        isinstance(tol, (bool, np.bool_))
        or not isinstance(tol, numbers.Real)
        or not (np.isfinite(tol) and tol > 0)
    ):
        # a YAML "1e-8" (no decimal point) arrives as a string
        raise InputError("tol", f"must be a positive number, got {tol!r} ({type(tol).__name__})")

    stimulus_mean = stimulus.mean(axis=0)
    centred = stimulus - stimulus_mean

    n_lags = len(lag_list)
    weights = np.empty((n_lags, n_pixels))
    intercepts = np.empty(n_lags)
    nll = np.empty(n_lags)
    n_iter = np.empty(n_lags, dtype=np.int64)
    with threadpool_limits(limits=1, user_api="blas"):
        for position, lag in enumerate(lag_list):
            problem = PoissonProblem.from_arrays(
                centred[: n_frames - lag], counts[lag:], durations[lag:]
            )
            total_counts = problem.counts.sum()
            if total_counts <= 0:
                raise InputError(
                    "counts", f"no spikes in frames {lag}..{n_frames - 1} (lag {lag})"
                )
            theta_start = np.zeros(n_pixels + 1)
            theta_start[-1] = np.log(total_counts / problem.durations.sum())
            result = minimize(
                problem.nll_grad_theta,
                theta_start,
                jac=True,
                method="L-BFGS-B",
                options={"maxiter": int(max_iter), "ftol": float(tol), "gtol": float(tol)},
            )
            if not result.success:
                raise FitError(
                    f"ML fit at lag {lag} did not converge after {result.nit} iterations: "
                    f"{result.message}"
                )
            if not (np.all(np.isfinite(result.x)) and np.isfinite(result.fun)):
                raise FitError(f"ML fit at lag {lag} gave non-finite values: {result.message}")
            weights[position] = result.x[:-1]
            intercepts[position] = result.x[-1]
            nll[position] = result.fun
            n_iter[position] = result.nit
    return MLFit(
        lags=np.asarray(lag_list, dtype=np.int64),
        weights=weights,
        intercepts=intercepts,
        nll=nll,
        n_iter=n_iter,
        converged=np.ones(n_lags, dtype=bool),
        stimulus_mean=stimulus_mean,
    )


def predicted_counts(fit, lag, stimulus, durations):
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

    Returns
    -------
    expected : ndarray of shape (n_frames,)
        ``expected[lag + i] = durations[lag + i] * exp((stimulus[i] -
        stimulus_mean) . weights + intercept)``; NaN for the first ``lag``
        frames, which have no stimulus ``lag`` frames earlier.
    """
    stimulus = _as_stimulus(stimulus)
    n_frames, n_pixels = stimulus.shape
    if n_pixels != fit.weights.shape[1]:
        raise InputError(
            "stimulus", f"has {n_pixels} pixels but the fit has {fit.weights.shape[1]}"
        )
    lag = _as_lag(lag, n_frames)
    position = fit.lag_position(lag)
    durations = _as_per_frame(durations, "durations", n_frames)
    problem = PoissonProblem.from_arrays(
        stimulus[: n_frames - lag] - fit.stimulus_mean,
        np.zeros(n_frames - lag),
        durations[lag:],
    )
    expected = np.full(n_frames, np.nan)
    expected[lag:] = problem.expected_counts(fit.weights[position], fit.intercepts[position])
    return expected
