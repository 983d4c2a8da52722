"""Lasso receptive fields over frame lags: one penalty grid, one choice of penalty.

The per-lag analogue of :func:`sparsefield.rf.ml.fit_ml` with an L1 penalty (the
objective is :mod:`sparsefield.rf.lasso_path`'s). Every lag is fitted on the same
decreasing grid of penalties, from the largest ``lambda_max`` over the lags down, so
that a row of the result (one penalty, all lags) is one receptive field. The penalty
is chosen jointly, by a scoring heuristic: the held-out log-likelihood gains over a
constant rate of the per-lag fits, summed over lags, per fold (fold ``k`` holds out the
same contiguous block of count frames at every lag, the first block losing the
``lag`` frames that have no stimulus at that lag). This is not the
held-out log-likelihood of one model (every per-lag model explains the same
counts), but it asks one penalty to serve all lags at once, so that a row of the
result is one receptive field. Averaged over folds it gives ``lambda_min`` (the
best) and ``lambda_1se`` (the largest penalty within one standard error of it);
lags without signal push the choice towards larger penalties.

Trials: with several trials (``trial_starts``), every lag pairs frames within a trial
only (:func:`sparsefield.rf.design.lagged_frames`: at lag ``k`` the first ``k`` frames of
each trial are left out, in the full-data fits and in every fold), and the folds are
equal blocks of the frames paired at the largest lag (:func:`lag_folds`), so that every
block holds frames at every lag.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.rf.binning import check_trial_starts
from sparsefield.rf.design import pair_at_lag, rows_at_lag
from sparsefield.rf.lasso_backends import BACKENDS, fit_lasso_at_lambda
from sparsefield.rf.lasso_cv import choose_penalty, chosen_index, contiguous_folds, lasso_cv
from sparsefield.rf.lasso_path import (
    DEFAULT_LAMBDA_MIN_RATIO,
    lambda_grid,
    lambda_max,
    require_fittable,
)
from sparsefield.rf.poisson import check_data
from sparsefield.rf.units import has_signal

Floats: TypeAlias = NDArray[np.float64]


@dataclass(frozen=True)
class LassoLags(NpzMixin):
    """Lasso fits of every lag over one penalty grid, and the chosen penalty.

    Attributes
    ----------
    lags : ndarray of shape (n_lags,), int64
    lambdas : ndarray of shape (n_lambdas,)
        Penalties, decreasing, shared by all lags.
    weights : ndarray of shape (n_lambdas, n_lags, n_pixels)
        Full-data fits (of ``backend``) at every penalty and lag.
    intercepts : ndarray of shape (n_lambdas, n_lags)
    gain_mean, gain_se : ndarray of shape (n_lags, n_lambdas)
        Per lag: held-out gain over a constant rate (nats per frame), mean and
        standard error over folds (always from the sparsefield solver).
    total_gain_mean, total_gain_se : ndarray of shape (n_lambdas,)
        The same for the sum over lags (the whole receptive field).
    index_min, index_1se : int
        Rows of ``lambdas`` of the best total gain and of the largest penalty
        within one standard error of it.
    fold_frames : ndarray of shape (n_folds + 1,), int64
        Cross-validation blocks in count frames: fold ``k`` holds out the counts of
        frames ``fold_frames[k]:fold_frames[k + 1]`` at every lag (rows
        ``fold_frames - lag`` of that lag's design, clipped at 0; with several
        trials, the rows of the frames of the block that the lag pairs,
        :func:`fold_rows`).
    rule : str
        ``"1se"`` or ``"min"``: which one is chosen.
    backend : str
        Solver of the full-data fits.
    kkt_violation : ndarray of shape (n_lambdas, n_lags)
        Largest violation of this objective's optimality conditions by each
        full-data fit (0 at the exact optimum; sparsefield's fits are within
        ``tol * lambda_max``). For a peer backend it says how far its answer is
        from the sparsefield objective's optimum (pyglmnet ignores the frame
        durations and linearises its link above 2; sklearn's lasso is Gaussian).
    """

    lags: np.ndarray
    lambdas: np.ndarray
    weights: np.ndarray
    intercepts: np.ndarray
    gain_mean: np.ndarray
    gain_se: np.ndarray
    total_gain_mean: np.ndarray
    total_gain_se: np.ndarray
    index_min: int
    index_1se: int
    fold_frames: np.ndarray
    rule: str
    backend: str
    kkt_violation: np.ndarray

    @property
    def index_chosen(self) -> int:
        """Row of ``lambdas`` chosen by ``rule``."""
        return chosen_index(self.index_min, self.index_1se, self.rule)

    @property
    def lambda_chosen(self) -> float:
        """The chosen penalty."""
        return float(self.lambdas[self.index_chosen])

    @property
    def chosen_weights(self) -> Floats:
        """Receptive field at the chosen penalty, shape (n_lags, n_pixels)."""
        return self.weights[self.index_chosen]


def fit_lasso_lags(stimulus: ArrayLike, counts: ArrayLike, durations: ArrayLike,
                   lags: Sequence[int] | NDArray[np.integer] = (0, 1, 2, 3, 4), *,
                   n_lambdas: int = 10, lambda_min_ratio: float = DEFAULT_LAMBDA_MIN_RATIO,
                   n_folds: int = 5, rule: str = "1se", tol: float = 1e-7,
                   backend: str = "sparsefield",
                   trial_starts: ArrayLike | None = None) -> LassoLags:
    """Lasso receptive field per lag over a shared penalty grid, penalty chosen by CV.

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
    counts : ndarray of shape (n_frames,)
    durations : ndarray of shape (n_frames,)
        Frame durations in s (the exposure).
    lags : sequence of int
    n_lambdas : int
    lambda_min_ratio : float
        The grid runs from the largest ``lambda_max`` over lags down to this
        fraction of it, log-spaced.
    n_folds : int
        Contiguous blocks of frames for cross-validation.
    rule : {"1se", "min"}
    tol : float
        KKT tolerance of the sparsefield solver (relative to ``lambda_max``).
    backend : {"sparsefield", "pyglmnet", "sklearn"}
        Solver of the full-data fits shown and separated downstream. The penalty
        is always chosen with the sparsefield solver: the objective is the same,
        and the peers are too slow (pyglmnet) or a different model (sklearn's
        Gaussian lasso) to cross-validate with.
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial (e.g. :attr:`Session.trial_starts`); None for one
        trial.  At lag ``k`` the first ``k`` frames of each trial are left out
        (module docstring).

    Returns
    -------
    LassoLags

    Raises
    ------
    InputError
        On bad data or options: more folds than the frames after the largest lag
        allow (:func:`lag_folds`), no signal (``lambda_max`` 0 at every lag), a fold
        whose training rows hold no spike.

    Notes
    -----
    The data are checked once, here; each lag's rows (views of the checked arrays)
    are checked only for the lasso's own requirements
    (:func:`~sparsefield.rf.lasso_path.require_fittable`), and the path, CV and peer
    fits are called with ``check_input=False``.
    """
    if backend not in BACKENDS:
        raise InputError("backend", f"must be one of {BACKENDS}, got {backend!r}")
    lags = np.array([as_int(lag, "lags") for lag in lags], dtype=np.int64)
    if lags.size == 0:
        raise InputError("lags", "needs at least one lag")
    n_frames = np.asarray(counts).shape[0]
    trial_starts = check_trial_starts(trial_starts, n_frames)
    stimulus, counts, durations = check_data(stimulus, counts, durations, "stimulus")
    problems = [_lag_problem(stimulus, counts, durations, lag, trial_starts)
                for lag in lags.tolist()]
    fold_frames = lag_folds(n_frames, int(lags.max()), n_folds, trial_starts)
    largest = max(_lambda_max_of_lag(*problem) for problem in problems)
    if not has_signal(largest, float(np.mean(counts)), stimulus):
        raise InputError(
            "stimulus",
            "no signal: the largest penalty lambda_max is 0 at every lag (no pixel's value "
            "varies with the counts; is the stimulus constant?), so there is no lasso path",
        )
    grid = lambda_grid(largest, n_lambdas, lambda_min_ratio)
    fits = [
        lasso_cv(*problem, lambdas=grid, rule=rule, tol=tol,
                 fold_edges=fold_rows(fold_frames, int(lag), n_frames, trial_starts),
                 check_input=False)
        for lag, problem in zip(lags, problems, strict=True)
    ]
    gains = np.stack([fit.fold_loglik - fit.null_loglik[:, None] for fit in fits])
    choice = choose_penalty(gains.sum(axis=0))
    weights = np.stack([fit.path.weights for fit in fits], axis=1)
    intercepts = np.stack([fit.path.intercepts for fit in fits], axis=1)
    kkt_violation = np.stack([fit.path.kkt_violation for fit in fits], axis=1)
    if backend != "sparsefield":
        for index_lag, problem in enumerate(problems):
            for index_lambda, lam in enumerate(grid):
                peer = fit_lasso_at_lambda(*problem, float(lam), backend=backend,
                                           check_input=False)
                weights[index_lambda, index_lag] = peer.weights
                intercepts[index_lambda, index_lag] = peer.intercept
                kkt_violation[index_lambda, index_lag] = peer.kkt_violation
    return LassoLags(
        lags=lags, lambdas=grid, weights=weights, intercepts=intercepts,
        gain_mean=gains.mean(axis=1), gain_se=np.stack([fit.gain_se for fit in fits]),
        total_gain_mean=choice.gain_mean, total_gain_se=choice.gain_se,
        index_min=choice.index_min, index_1se=choice.index_1se, fold_frames=fold_frames,
        rule=rule, backend=backend,
        kkt_violation=kkt_violation,
    )


def _lag_problem(stimulus: Floats, counts: Floats, durations: Floats, lag: int,
                 trial_starts: NDArray[np.int64]) -> tuple[Floats, Floats, Floats]:
    """Design, counts and durations of one lag from checked arrays.

    :func:`sparsefield.rf.design.lagged_problem` without its data checks (the
    arrays were checked once, by :func:`fit_lasso_lags`): the lag's range only.

    Returns
    -------
    design : ndarray of shape (n_rows, n_pixels)
    counts, durations : ndarray of shape (n_rows,)
    """
    lag = as_int(lag, "lag", 0, stimulus.shape[0] - 1)
    design, counts_lag, durations_lag = pair_at_lag(lag, stimulus, counts, durations,
                                                    trial_starts=trial_starts)
    return design, counts_lag, durations_lag


def _lambda_max_of_lag(design: Floats, counts: Floats, durations: Floats) -> float:
    """:func:`~sparsefield.rf.lasso_path.lambda_max` of one lag's checked rows.

    Raises
    ------
    InputError
        When the lag leaves fewer than 2 rows or no spike
        (:func:`~sparsefield.rf.lasso_path.require_fittable`).
    """
    require_fittable(design, counts, durations)
    return lambda_max(design, counts, durations, check_input=False)


def lag_folds(n_frames: int, max_lag: int, n_folds: int,
              trial_starts: ArrayLike | None = None) -> NDArray[np.int64]:
    """The cross-validation blocks of a fit over lags, in count frames.

    Equal contiguous blocks over the frames every lag can use (``max_lag..``), the
    first block also taking the frames before them; shared by all lags (and by all
    units of a session).  With several trials, the frames every lag can use are
    those ``max_lag`` or more frames into their trial
    (:func:`sparsefield.rf.design.lagged_frames`): each block holds an equal share of
    them, and the frames before each share (the starts of trials) go with it.

    Parameters
    ----------
    n_frames : int
    max_lag : int
        The largest lag fitted.
    n_folds : int
        ``>= 2``.
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial; None for one trial.

    Returns
    -------
    fold_frames : ndarray of shape (n_folds + 1,), int64
        Fold ``k`` holds out the counts of frames ``fold_frames[k]:fold_frames[k + 1]``.

    Raises
    ------
    InputError
        Naming ``n_folds`` when the frames after the largest lag cannot give every
        block 2 frames (the message says how many there are).
    """
    n_folds = as_int(n_folds, "n_folds", minimum=2)
    n_frames, max_lag = int(n_frames), int(max_lag)
    starts = check_trial_starts(trial_starts, max(n_frames, 1))
    rows = None
    if 0 <= max_lag < n_frames:
        rows = rows_at_lag(max_lag, n_frames, starts)
    usable = n_frames - max_lag if rows is None else rows.size
    if n_folds > usable // 2:
        where = (f"after the largest lag ({max_lag})" if starts.size <= 1 else
                 f"{max_lag} or more frames into their trial (the largest lag; "
                 f"{starts.size} trials)")
        raise InputError(
            "n_folds",
            f"{n_folds} cross-validation blocks need at least {2 * n_folds} frames "
            f"{where}, 2 per block, but the recording has {max(usable, 0)} "
            f"of its {n_frames} frames there; use fewer folds or shorter lags",
        )
    if rows is None:
        fold_frames = contiguous_folds(usable, n_folds) + max_lag
    else:
        blocks = contiguous_folds(usable, n_folds)
        fold_frames = np.append(rows[blocks[:-1]], n_frames).astype(np.int64)
    fold_frames[0] = 0
    return fold_frames


def fold_rows(fold_frames: NDArray[np.int64], lag: int, n_frames: int,
              trial_starts: NDArray[np.int64] | None = None) -> NDArray[np.int64]:
    """Rows of the lag-``lag`` design that each fold holds out.

    Parameters
    ----------
    fold_frames : ndarray of shape (n_folds + 1,), int64
        From :func:`lag_folds`.
    lag : int
    n_frames : int
    trial_starts : ndarray of shape (n_trials,), int64, optional
        Checked; None for one trial.

    Returns
    -------
    fold_edges : ndarray of shape (n_folds + 1,), int64
        Fold ``k`` is rows ``fold_edges[k]:fold_edges[k + 1]`` of the design of
        :func:`sparsefield.rf.design.lagged_problem` at ``lag``: the rows whose count
        frame lies in ``fold_frames[k]:fold_frames[k + 1]``.
    """
    rows = None if trial_starts is None else rows_at_lag(lag, n_frames, trial_starts)
    if rows is None:
        return np.clip(fold_frames - lag, 0, None)
    return np.searchsorted(rows, fold_frames, side="left").astype(np.int64)
