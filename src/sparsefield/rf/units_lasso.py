"""Lasso receptive fields over lags of every unit of a session, penalty chosen per unit.

The population form of :func:`sparsefield.rf.lasso_lags.fit_lasso_lags`
(:func:`fit_lasso_units`): for each unit the same grid (from the largest
``lambda_max`` over lags of that unit), the same contiguous blocks of count frames
(``fold_frames``, shared by all units and lags), the same held-out gains summed over
lags and the same choice (:func:`~sparsefield.rf.lasso_cv.choose_penalty`).  At each lag,
the full data and each fold's training rows are fitted for all units at once
(:data:`UNIT_SOLVERS`), with BLAS on one thread (the solver's threads are numba's).

Units without signal, folds without spikes
------------------------------------------
A unit whose ``lambda_max`` is 0 at every lag has no signal (e.g. a constant stimulus;
:func:`~sparsefield.rf.lasso_lags.fit_lasso_lags` stops there): it is left out (not
fitted, NaN, ``why`` set to :data:`NO_SIGNAL_LASSO`) and the others go on.

Where :func:`~sparsefield.rf.lasso_lags.fit_lasso_lags` would stop (a fold whose
training rows hold no spike of the unit, at some lag), :func:`fit_lasso_units`
leaves the unit out of that fold's fit and gives it a NaN gain there; the unit's choice
and gain statistics then use the folds with a gain at every lag (``n_folds_used``), and
if fewer than two remain no penalty is chosen (indices -1, total gains NaN; the
full-data fits are kept).
"""

import logging
import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits

from sparsefield._checks import as_float, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import FitError, InputError
from sparsefield.rf import _lasso_kernels, _lasso_population_kernels
from sparsefield.rf.binning import check_trial_starts
from sparsefield.rf.design import pair_at_lag
from sparsefield.rf.lasso_backends import BACKENDS, fit_lasso_at_lambda
from sparsefield.rf.lasso_cv import RULES, choose_penalty, chosen_index
from sparsefield.rf.lasso_lags import LassoLags, fold_rows, lag_folds
from sparsefield.rf.lasso_path import (
    DEFAULT_LAMBDA_MIN_RATIO,
    lambda_grid,
    lasso_path,
    require_fittable,
)
from sparsefield.rf.lasso_population import PopulationLassoPath, lasso_path_population
from sparsefield.rf.poisson import check_data
from sparsefield.rf.units import (
    check_fitted,
    check_lags,
    has_signal,
    reasons_not_fitted,
    unit_names,
    why_array,
)

LOG = logging.getLogger(__name__)

Floats: TypeAlias = NDArray[np.float64]
Ints: TypeAlias = NDArray[np.int64]
Bools: TypeAlias = NDArray[np.bool_]

#: ``why`` of a unit whose lasso lambda_max is 0 at every lag.
NO_SIGNAL_LASSO = ("no signal: the lasso's largest penalty lambda_max is 0 at every lag "
                   "(no pixel's value varies with the counts; is the stimulus constant?)")


@dataclass(frozen=True)
class UnitsLasso(NpzMixin):
    """Lasso fits over lags of every unit of a session.

    Every per-unit field of :class:`sparsefield.rf.lasso_lags.LassoLags` with a
    leading units axis; units not fitted hold NaN (and -1 indices).

    Attributes
    ----------
    lags : ndarray of shape (n_lags,), int64
    lambdas : ndarray of shape (n_units, n_lambdas)
        Each unit's penalties, decreasing, shared by its lags.
    weights : ndarray of shape (n_units, n_lambdas, n_lags, n_pixels)
    intercepts : ndarray of shape (n_units, n_lambdas, n_lags)
    gain_mean, gain_se : ndarray of shape (n_units, n_lags, n_lambdas)
        Held-out gain over a constant rate per lag (nats per frame), mean and
        standard error over the folds used (see :func:`fit_lasso_units`).
    total_gain_mean, total_gain_se : ndarray of shape (n_units, n_lambdas)
        The same for the sum over lags.
    index_min, index_1se : ndarray of shape (n_units,), int64
        Rows of ``lambdas[u]`` of the best total gain and of the largest penalty
        within one standard error of it; -1 where no penalty was chosen.
    fold_frames : ndarray of shape (n_folds + 1,), int64
        Cross-validation blocks in count frames, shared by all units and lags.
    rule : str
        ``"1se"`` or ``"min"``.
    backend : str
        Solver of the full-data fits (the penalty is always chosen with the
        sparsefield solver).
    kkt_violation : ndarray of shape (n_units, n_lambdas, n_lags)
        Of the sparsefield objective (see :class:`~sparsefield.rf.lasso_lags.LassoLags`).
    fitted : ndarray of shape (n_units,), bool
    n_folds_used : ndarray of shape (n_units,), int64
        Folds whose held-out gain exists at every lag (all of them, unless
        some unit's training rows held no spike); the choice uses these.
    why : ndarray of shape (n_units,), str
        Why a unit asked for was not fitted (:data:`NO_SIGNAL_LASSO`); "" for the
        others.
    """

    #: Fields with a leading units axis (the rest are shared by every unit).
    UNIT_FIELDS = ("lambdas", "weights", "intercepts", "gain_mean", "gain_se",
                   "total_gain_mean", "total_gain_se", "index_min", "index_1se",
                   "kkt_violation", "fitted", "n_folds_used", "why")

    lags: np.ndarray
    lambdas: np.ndarray
    weights: np.ndarray
    intercepts: np.ndarray
    gain_mean: np.ndarray
    gain_se: np.ndarray
    total_gain_mean: np.ndarray
    total_gain_se: np.ndarray
    index_min: np.ndarray
    index_1se: np.ndarray
    fold_frames: np.ndarray
    rule: str
    backend: str
    kkt_violation: np.ndarray
    fitted: np.ndarray
    n_folds_used: np.ndarray
    why: np.ndarray

    @property
    def n_units(self) -> int:
        """Number of units."""
        return self.lambdas.shape[0]

    @property
    def index_chosen(self) -> Ints:
        """Row of each unit's ``lambdas`` chosen by ``rule``, shape (n_units,), -1 if none."""
        return chosen_index(self.index_min, self.index_1se, self.rule)

    @property
    def chosen_weights(self) -> Floats:
        """Receptive fields at the chosen penalties, shape (n_units, n_lags, n_pixels).

        NaN for units without a chosen penalty.
        """
        index = self.index_chosen
        chosen = self.weights[np.arange(self.n_units), np.maximum(index, 0)]
        chosen[index < 0] = np.nan
        return chosen

    def unit(self, index: int) -> LassoLags:
        """The fit of one unit, as :func:`sparsefield.rf.lasso_lags.fit_lasso_lags` returns it.

        Parameters
        ----------
        index : int
            0-based unit index.

        Returns
        -------
        LassoLags
            For a unit not fitted, NaN arrays and indices -1.
        """
        index = as_int(index, "unit", 0, self.n_units - 1)
        return LassoLags(
            lags=self.lags, lambdas=self.lambdas[index], weights=self.weights[index],
            intercepts=self.intercepts[index], gain_mean=self.gain_mean[index],
            gain_se=self.gain_se[index], total_gain_mean=self.total_gain_mean[index],
            total_gain_se=self.total_gain_se[index], index_min=int(self.index_min[index]),
            index_1se=int(self.index_1se[index]), fold_frames=self.fold_frames, rule=self.rule,
            backend=self.backend, kkt_violation=self.kkt_violation[index],
        )


def _lambda_max_units(design: Floats, counts: Floats, durations: Floats) -> Floats:
    """:func:`sparsefield.rf.lasso_path.lambda_max` of each column of ``counts``.

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows, n_units)
        Every column has a spike.
    durations : ndarray of shape (n_rows,)

    Returns
    -------
    lambda_max : ndarray of shape (n_units,)
        ``max_j |mean_t (mu_t - counts_t) design_tj|`` over non-constant pixels,
        ``mu_t = durations_t * exp(log(sum counts / sum durations))``.
    """
    usable = _lasso_kernels.varying_columns(design)
    rate = np.exp(np.log(counts.sum(axis=0) / durations.sum()))
    residual = durations[:, None] * rate[None, :] - counts
    # One product per unit, not one for all: a unit's value must not depend on which
    # other units share the call (BLAS sums a wide product in another order), so that
    # chunks of units (units_per_job) give the same bytes as one call.
    values = np.empty(counts.shape[1])
    for unit in range(counts.shape[1]):
        gradient = design.T @ np.ascontiguousarray(residual[:, unit]) / design.shape[0]
        values[unit] = np.abs(gradient[usable]).max(initial=0.0)
    return values


def _held_out_gain(design: Floats, counts: Floats, durations: Floats, weights: Floats,
                   intercepts: Floats, null_intercepts: Floats) -> Floats:
    """Held-out log-likelihood gain over a constant rate, per unit and penalty.

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels)
        Held-out rows.
    counts : ndarray of shape (n_rows, n_units)
    durations : ndarray of shape (n_rows,)
    weights : ndarray of shape (n_units, n_lambdas, n_pixels)
    intercepts : ndarray of shape (n_units, n_lambdas)
        For the design as given.
    null_intercepts : ndarray of shape (n_units,)
        ``log(sum counts / sum durations)`` of the training rows.

    Returns
    -------
    gain : ndarray of shape (n_units, n_lambdas)
        ``-NLL(weights, intercept) + NLL(0, null_intercept)`` on these rows
        (mean per row; the NLL's constants cancel), as in
        :class:`sparsefield.rf.lasso_cv.LassoCV`.
    """
    n_units, n_lambdas, n_pixels = weights.shape
    n_models = n_lambdas + 1
    gain = np.empty((n_units, n_lambdas))
    # One unit per product (see _lambda_max_units: results independent of the other units).
    for first in range(n_units):
        units = slice(first, first + 1)
        n_chunk = units.stop - units.start
        stacked = np.zeros((n_chunk, n_models, n_pixels))
        stacked[:, 1:] = weights[units]
        offsets = np.concatenate([null_intercepts[units, None], intercepts[units]], axis=1)
        eta = stacked.reshape(-1, n_pixels) @ design.T
        eta += offsets.reshape(-1, 1)
        model_counts = np.repeat(np.ascontiguousarray(counts[:, units].T), n_models, axis=0)
        residual = np.empty_like(eta)
        objective: Floats = np.empty(eta.shape[0])
        grad_intercept = np.empty(eta.shape[0])
        scale = np.empty(eta.shape[0])
        _lasso_population_kernels.population_start(eta, model_counts, durations, residual,
                                                   objective, grad_intercept, scale)
        objective = objective.reshape(n_chunk, n_models)
        gain[units] = objective[:, :1] - objective[:, 1:]
    return gain


#: How the units' paths at one lag are fitted: "per_unit" (each unit's
#: :func:`lasso_path`, warm-started along its grid) or "population" (one
#: :func:`lasso_path_population` call; it falls back to per_unit when its shared metric
#: does not converge).  The shared metric is a good Hessian model for weak modulation
#: (bench/rf_lasso.py, 1000 neurons: population 16x faster) and a poorer one for
#: strong modulation, where the population solver hands units over to exact Newton
#: (the default simulated session, 33 units x 4000 frames x 300 pixels at one lag,
#: one thread: per_unit 3.4 s, population 2.0 s; 37 units x 6000 frames at 60 Hz, lags
#: 0-2: per_unit 120 s, population 69 s; lasso_population's docstring).  per_unit
#: stays the default: its results do not depend on the other units of the call.
UNIT_SOLVERS = ("per_unit", "population")


def _one_by_one(design: Floats, counts: Floats, durations: Floats, lambdas: Floats,
                tol: float) -> SimpleNamespace:
    """:func:`lasso_path` per unit, stacked like a population path.

    The data are rows of arrays :func:`fit_lasso_units` checked: only the lasso's own
    requirements are checked here (:func:`~sparsefield.rf.lasso_path.require_fittable`).
    """
    paths = []
    for unit in range(counts.shape[1]):
        unit_counts = np.ascontiguousarray(counts[:, unit])
        require_fittable(design, unit_counts, durations)
        paths.append(lasso_path(design, unit_counts, durations, lambdas=lambdas[unit], tol=tol,
                                check_input=False))
    return SimpleNamespace(weights=np.stack([path.weights for path in paths]),
                           intercepts=np.stack([path.intercepts for path in paths]),
                           kkt_violation=np.stack([path.kkt_violation for path in paths]))


def _population_path(design: Floats, counts: Floats, durations: Floats, lambdas: Floats,
                     tol: float, lag: int, where: str, names: list[str],
                     solver: str) -> PopulationLassoPath | SimpleNamespace:
    """Lasso paths of the units of one call, with the lag, fold and units in errors.

    ``solver`` is one of :data:`UNIT_SOLVERS`; when the population solver does not
    converge for some unit, the units of the call are refitted one by one, and only a
    failure there is an error.
    """
    try:
        if solver == "population":
            try:
                require_fittable(design, counts, durations)
                return lasso_path_population(design, np.ascontiguousarray(counts), durations,
                                             lambdas=lambdas, tol=tol, check_input=False)
            except FitError as error:
                LOG.info("lag %d, %s: the population solver did not converge (%s); fitting "
                         "the %d units one by one", lag, where, error, counts.shape[1])
        return _one_by_one(design, counts, durations, lambdas, tol)
    except FitError as error:
        shown = ", ".join(names[:20]) + (" ..." if len(names) > 20 else "")
        raise FitError(f"lasso fit at lag {lag}, {where}: {error} ({shown})") from error


def _replace_full_fits(stimulus: Floats, counts: Floats, durations: Floats, lags: Ints,
                       grids: Floats, names: list[str], backend: str, weights: Floats,
                       intercepts: Floats, kkt: Floats, trial_starts: Ints | None = None) -> None:
    """Full-data fits of a peer backend, in place of the population solver's.

    ``counts`` (n_frames, n_fit) holds the fitted units' columns, ``names`` what
    messages call them; ``weights`` (n_fit, n_lambdas, n_lags, n_pixels),
    ``intercepts`` and ``kkt`` (n_fit, n_lambdas, n_lags) are overwritten.
    """
    for position, lag in enumerate(lags.tolist()):
        design, lag_counts, lag_durations = pair_at_lag(lag, stimulus, counts, durations,
                                                        trial_starts=trial_starts)
        for row, name in enumerate(names):
            for index_lambda, lam in enumerate(grids[row].tolist()):
                try:
                    peer = fit_lasso_at_lambda(design, lag_counts[:, row], lag_durations,
                                               lam, backend=backend)
                except FitError as error:
                    raise FitError(f"{name}, lag {lag}: {error}") from error
                weights[row, index_lambda, position] = peer.weights
                intercepts[row, index_lambda, position] = peer.intercept
                kkt[row, index_lambda, position] = peer.kkt_violation


def fit_lasso_units(stimulus: ArrayLike, counts: ArrayLike, durations: ArrayLike,
                    lags: ArrayLike, *, fitted: ArrayLike | None = None, n_lambdas: int = 10,
                    lambda_min_ratio: float = DEFAULT_LAMBDA_MIN_RATIO, n_folds: int = 5,
                    rule: str = "1se", tol: float = 1e-7, backend: str = "sparsefield",
                    solver: str = "per_unit", unit_ids: ArrayLike | None = None,
                    trial_starts: ArrayLike | None = None) -> UnitsLasso:
    """Lasso receptive field over lags of every unit, penalty chosen per unit by CV.

    The population form of :func:`sparsefield.rf.lasso_lags.fit_lasso_lags` (module
    docstring): at each lag, the full data and each fold's training rows are fitted
    for all units in one call (per-unit penalties), with BLAS on one thread.

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
    counts : ndarray of shape (n_frames, n_units)
    durations : ndarray of shape (n_frames,)
        Frame durations in seconds.
    lags : sequence of int
    fitted : ndarray of shape (n_units,), bool, optional
        Units to fit (:mod:`sparsefield.rf.units`, "Units that are not fitted").
    n_lambdas, lambda_min_ratio, n_folds, rule, tol
        As in :func:`~sparsefield.rf.lasso_lags.fit_lasso_lags`.
    backend : {"sparsefield", "pyglmnet", "sklearn"}
        Solver of the full-data fits, as in
        :func:`~sparsefield.rf.lasso_lags.fit_lasso_lags`: a peer backend
        replaces them one (unit, lag, penalty) at a time, with
        :func:`~sparsefield.rf.lasso_backends.fit_lasso_at_lambda` (slow for many units: only
        ``"sparsefield"`` is fitted as a population).
    solver : {"per_unit", "population"}
        How the sparsefield paths of the units at one lag are fitted
        (:data:`UNIT_SOLVERS`); the results agree to within the KKT tolerance.
    unit_ids : array_like of shape (n_units,), optional
        The units' ids, for messages (default: their 0-based indices).
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial (:attr:`Session.trial_starts`); None for one trial.
        At lag ``k`` the first ``k`` frames of each trial are left out, in the
        full-data fits and in every fold (folds: :func:`~sparsefield.rf.lasso_lags.
        lag_folds`).

    Returns
    -------
    UnitsLasso
        ``result.unit(u)`` equals ``fit_lasso_lags(stimulus, counts[:, u],
        durations, lags, ..., trial_starts=trial_starts)`` to within the solvers'
        KKT tolerance; a unit without signal, or without spikes in some fold's
        training rows, is treated as the module docstring says.

    Raises
    ------
    InputError
        Bad data or options (e.g. more folds than the frames after the largest lag
        allow), or a unit in ``fitted`` without spikes at the largest lag.
    FitError
        A path did not converge (the lag, fold and units are named).
    """
    _check_choices(rule, backend, solver)
    stimulus, counts, durations = check_data(stimulus, counts, durations, "stimulus",
                                             counts_ndim=2, min_rows=2, min_pixels=1)
    n_frames, n_units = stimulus.shape[0], counts.shape[1]
    lags = check_lags(lags, n_frames)
    trial_starts = check_trial_starts(trial_starts, n_frames)
    asked = fitted
    fitted = check_fitted(fitted, counts, lags, trial_starts)
    n_lambdas = as_int(n_lambdas, "n_lambdas", minimum=1)
    tol = as_float(tol, "tol", minimum=0.0, strict=True)
    fold_frames = lag_folds(n_frames, int(lags.max()), n_folds, trial_starts)
    names = unit_names(unit_ids, n_units)
    why = reasons_not_fitted(asked, fitted, lags, trial_starts)

    units = np.flatnonzero(fitted)
    signal, grids = _unit_grids(stimulus, counts[:, units], durations, lags, n_lambdas,
                                lambda_min_ratio, trial_starts)
    for unit in units[~signal].tolist():
        why[unit] = NO_SIGNAL_LASSO
    units = units[signal]
    fit_counts = np.ascontiguousarray(counts[:, units])
    fit_names = [names[unit] for unit in units.tolist()]
    fits = _fit_paths(stimulus, fit_counts, durations, lags, grids, fold_frames, tol,
                      fit_names, solver, trial_starts)
    if backend != "sparsefield":
        _replace_full_fits(stimulus, fit_counts, durations, lags, grids, fit_names, backend,
                           fits["weights"], fits["intercepts"], fits["kkt_violation"],
                           trial_starts)
    fits.update(_choose_penalties(fits.pop("gains")), lambdas=grids)
    fitted = np.zeros(n_units, dtype=bool)
    fitted[units] = True
    return UnitsLasso(
        lags=lags, fold_frames=fold_frames, rule=rule, backend=backend, fitted=fitted,
        why=why_array(why),
        **{name: _per_unit(values, units, n_units, _FILLS.get(name, np.nan))
           for name, values in fits.items()},
    )


def _check_choices(rule: str, backend: str, solver: str) -> None:
    """The options of :func:`fit_lasso_units` that name a choice."""
    if rule not in RULES:
        raise InputError("rule", f"must be '1se' or 'min', got {rule!r}")
    if backend not in BACKENDS:
        raise InputError("backend", f"must be one of {BACKENDS}, got {backend!r}")
    if solver not in UNIT_SOLVERS:
        raise InputError("solver", f"must be one of {UNIT_SOLVERS}, got {solver!r}")


def _unit_grids(stimulus: Floats, counts: Floats, durations: Floats, lags: Ints, n_lambdas: int,
                lambda_min_ratio: float, trial_starts: Ints) -> tuple[Bools, Floats]:
    """Each unit's penalty grid, from its largest ``lambda_max`` over lags.

    ``counts`` (n_frames, n_given) holds the units to fit.  Returns ``signal``
    (n_given,) bool, the units whose largest ``lambda_max`` is more than rounding
    (:func:`~sparsefield.rf.units.has_signal`), and ``grids`` (n_signal, n_lambdas),
    their decreasing grids.
    """
    largest = np.zeros(counts.shape[1])
    for lag in lags.tolist():
        design, lag_counts, lag_durations = pair_at_lag(
            lag, stimulus, np.ascontiguousarray(counts), durations, trial_starts=trial_starts)
        largest = np.maximum(largest, _lambda_max_units(design, lag_counts, lag_durations))
    signal = has_signal(largest, counts.mean(axis=0), stimulus)
    grids = np.array([lambda_grid(float(value), n_lambdas, lambda_min_ratio)
                      for value in largest[signal]]).reshape(int(signal.sum()), n_lambdas)
    return signal, grids


def _fit_paths(stimulus: Floats, counts: Floats, durations: Floats, lags: Ints, grids: Floats,
               fold_frames: Ints, tol: float, names: list[str], solver: str,
               trial_starts: Ints) -> dict[str, NDArray[Any]]:
    """Full-data paths and held-out gains of the units at every lag.

    ``counts`` (n_frames, n_fit) holds the fitted units' columns (C-contiguous),
    ``grids`` (n_fit, n_lambdas) their penalties and ``names`` what messages call them.
    Returns a dict: ``weights`` (n_fit, n_lambdas, n_lags, n_pixels), ``intercepts``
    and ``kkt_violation`` (n_fit, n_lambdas, n_lags) of the full-data fits, and
    ``gains`` (n_fit, n_lags, n_folds, n_lambdas) of :func:`_fold_gains`.
    """
    (n_fit, n_lambdas), (n_frames, n_pixels) = grids.shape, stimulus.shape
    weights = np.full((n_fit, n_lambdas, lags.size, n_pixels), np.nan)
    intercepts = np.full((n_fit, n_lambdas, lags.size), np.nan)
    kkt = np.full((n_fit, n_lambdas, lags.size), np.nan)
    gains = np.full((n_fit, lags.size, fold_frames.size - 1, n_lambdas), np.nan)
    # BLAS on one thread: the population solver's threads are numba's, and with
    # OpenBLAS threads as well the two pools fight over the cores (measured on 2
    # cores: 100 units x 10000 frames x 150 pixels, one path 42 s with both pools,
    # 7 s with BLAS on one thread; 20 units x 1500 frames, 38 s against 2 s).
    with threadpool_limits(limits=1, user_api="blas"):
        for position, lag in enumerate(lags.tolist() if n_fit else []):
            design, lag_counts, lag_durations = pair_at_lag(lag, stimulus, counts, durations,
                                                            trial_starts=trial_starts)
            full = _population_path(design, lag_counts, lag_durations, grids, tol, lag,
                                    "full data", names, solver)
            weights[:, :, position] = full.weights
            intercepts[:, :, position] = full.intercepts
            kkt[:, :, position] = full.kkt_violation
            rows = fold_rows(fold_frames, lag, n_frames, trial_starts)
            gains[:, position] = _fold_gains(design, lag_counts, lag_durations, grids, rows,
                                             tol, lag, names, solver)
    return {"weights": weights, "intercepts": intercepts, "kkt_violation": kkt,
            "gains": gains}


def _fold_gains(design: Floats, counts: Floats, durations: Floats, grids: Floats, rows: Ints,
                tol: float, lag: int, names: list[str], solver: str) -> Floats:
    """Held-out gains at one lag: each fold's training rows fitted, its own rows scored.

    ``design`` (n_rows, n_pixels), ``counts`` (n_rows, n_fit) and ``durations``
    (n_rows,) are paired at ``lag``; fold ``k`` holds out rows ``rows[k]:rows[k + 1]``
    (:func:`~sparsefield.rf.lasso_lags.fold_rows`).  Returns ``gains`` (n_fit, n_folds,
    n_lambdas), :func:`_held_out_gain` per fold; NaN for a unit without a spike in a
    fold's training rows (left out of that fold's fit).
    """
    gains = np.full((counts.shape[1], rows.size - 1, grids.shape[1]), np.nan)
    for fold in range(rows.size - 1):
        start, stop = rows[fold], rows[fold + 1]
        train = np.r_[0:start, stop:design.shape[0]]
        train_counts = counts[train]
        train_sums = train_counts.sum(axis=0)
        present = np.flatnonzero(train_sums > 0)
        if present.size == 0:
            continue
        path = _population_path(design[train], train_counts[:, present], durations[train],
                                grids[present], tol, lag, f"fold {fold}",
                                [names[row] for row in present], solver)
        null_intercepts = np.log(train_sums[present] / durations[train].sum())
        gains[present, fold] = _held_out_gain(
            design[start:stop], counts[start:stop][:, present], durations[start:stop],
            path.weights, path.intercepts, null_intercepts)
    return gains


def _choose_penalties(gains: Floats) -> dict[str, NDArray[Any]]:
    """Each unit's gain statistics over its usable folds, and its chosen penalties.

    ``gains`` (n_fit, n_lags, n_folds, n_lambdas) from :func:`_fit_paths`.  Returns the
    :class:`UnitsLasso` fields ``gain_mean``, ``gain_se`` (n_fit, n_lags, n_lambdas),
    ``total_gain_mean``, ``total_gain_se`` (n_fit, n_lambdas), ``index_min``,
    ``index_1se`` and ``n_folds_used`` (n_fit,) as a dict; a unit with fewer than two
    usable folds (a gain at every lag) keeps NaN and -1.
    """
    n_fit, n_lags, _, n_lambdas = gains.shape
    gain_mean = np.full((n_fit, n_lags, n_lambdas), np.nan)
    gain_se = np.full((n_fit, n_lags, n_lambdas), np.nan)
    total_mean = np.full((n_fit, n_lambdas), np.nan)
    total_se = np.full((n_fit, n_lambdas), np.nan)
    index_min = np.full(n_fit, -1, dtype=np.int64)
    index_1se = np.full(n_fit, -1, dtype=np.int64)
    n_used = np.zeros(n_fit, dtype=np.int64)
    for row in range(n_fit):
        usable = np.all(np.isfinite(gains[row]), axis=(0, 2))
        n_used[row] = usable.sum()
        if n_used[row] < 2:
            continue
        unit_gains = gains[row][:, usable]
        gain_mean[row] = unit_gains.mean(axis=1)
        gain_se[row] = unit_gains.std(axis=1, ddof=1) / math.sqrt(n_used[row])
        choice = choose_penalty(unit_gains.sum(axis=0))
        total_mean[row], total_se[row] = choice.gain_mean, choice.gain_se
        index_min[row], index_1se[row] = choice.index_min, choice.index_1se
    return {"gain_mean": gain_mean, "gain_se": gain_se, "total_gain_mean": total_mean,
            "total_gain_se": total_se, "index_min": index_min, "index_1se": index_1se,
            "n_folds_used": n_used}


#: What a unit not fitted holds in the :class:`UnitsLasso` fields that are not float
#: (the float ones hold NaN).
_FILLS = {"index_min": -1, "index_1se": -1, "n_folds_used": 0}


def _per_unit(values: NDArray[Any], units: Ints, n_units: int, fill: float) -> NDArray[Any]:
    """Rows of the fitted units placed among all units: shape (n_units, ...), ``fill``
    for the others, ``values``'s dtype.
    """
    out = np.full((n_units, *values.shape[1:]), fill, dtype=values.dtype)
    out[units] = values
    return out
