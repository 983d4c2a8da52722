r"""Receptive fields of every unit of a session: one stimulus, many spike trains.

A session is one stimulus, shape (n_frames, n_pixels), its frame edges, and the
spike times of ``n_units`` units (concatenated, see
:func:`sparsefield.rf.binning.check_unit_spikes`; counted per frame by
:func:`sparsefield.rf.binning.bin_units`).  The functions here fit all units
together and give, unit by unit, what the single-unit functions give:

============================  ======================================================
population                    one unit
============================  ======================================================
:func:`fit_ml_units`          :func:`sparsefield.rf.ml.fit_ml`
:func:`fit_lasso_lags_units`  :func:`sparsefield.rf.lasso_lags.fit_lasso_lags`
:func:`sta_units`             :func:`sparsefield.rf.sta.spike_triggered_average`
============================  ======================================================

What is shared is done once: the checks, the centring of the stimulus, the lagged
designs, the lasso's products with the design (one
:func:`~sparsefield.rf.lasso.lasso_path_population` call per lag and fold for all
units), and the STA's random shifts and products with the stimulus.

Trials
------
Every function takes the session's ``trial_starts`` (the first frame of each trial,
:mod:`sparsefield.rf.binning`) and pairs a response only with a stimulus of its own
trial, as the single-unit functions do: the fits leave out the first ``k`` frames of
each trial at lag ``k`` (:func:`sparsefield.rf.ml.lagged_frames`); the STA counts a
spike at delay ``tau`` only when ``t_spike - tau`` lies in the spike's trial, for the
data and for every shifted train of the shift null (:func:`sta_units`).

Units that are not fitted
-------------------------
``fitted`` (n_units,) bool says which units to fit.  By default it is every unit
with at least one spike in frames ``max(lags)`` onwards (of their trial: the frames
the largest lag pairs; a unit without a spike there has no finite Poisson fit at
the largest lag); asking for such a unit explicitly is an error.  Units not fitted get NaN in every float field and -1 in
index fields, so that one silent unit does not stop a session.

A unit can also be asked for and still not be fitted, when its data give nothing to
estimate ("no signal", e.g. a constant stimulus): the ML fit stays at its zero-weight
start at every lag (the gradient there is zero), or the lasso's largest penalty
``lambda_max`` is 0 at every lag (the same, for the lasso).  Such a unit is left out
like an unfitted one, and the results' ``why`` (n_units,) says why, in words for the
units summary (:func:`sparsefield.rf.summary.unit_table`); ``why`` is "" for every
other unit.

The analytic STA null
---------------------
For one unit and one delay ``tau`` the STA of pixel ``p`` is
``sum_f a_f s_fp`` with ``a_f = c_f / N``, where ``c_f`` is the number of spikes
that saw frame ``f`` at that delay and ``N = sum_f c_f``.  Under the null that the
spike train carries no information about which frame was shown where, the
frames are exchangeable: the observed frames in a random order.  For a random
permutation of ``n`` values with mean ``m_p`` and sample variance ``S_p^2``
(ddof=1), and fixed weights summing to 1,

.. math::

    E[\mathrm{STA}_p] = m_p, \qquad
    \mathrm{Var}[\mathrm{STA}_p] = S_p^2 \Big(\sum_f a_f^2 - \frac{1}{n}\Big),

exactly (the ``-1/n`` is the finite-population correction: with ``N`` spikes
spread over ``n`` frames at ``lambda = N / n`` spikes per frame, ``sum_f a_f^2``
is about ``(1 + 1 / lambda) / n``, so without it the standard deviation of a
densely firing unit would be overstated by ``sqrt(1 + lambda)``; the shift null,
which keeps the stimulus, agrees with the corrected form).  For independent,
identically distributed frames and ``N << n`` this is the familiar
``var_p * sum_f c_f^2 / (sum_f c_f)^2``.  No shifted train is needed: the cost
is one STA per unit instead of ``n_shifts + 1``.

``null_mean`` is then each pixel's mean over frames.  The shift null's mean is
the duration-weighted mean instead (shifted spikes fall uniformly in time, so a
long frame is seen more often); both estimate the pixel's mean, and with jittered
frames they differ by a small fraction of ``null_std`` (about 0.1 to 0.2 of it for
a unit with a few spikes per frame, 10 % jitter).
"""

import dataclasses
import logging
import math
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
from threadpoolctl import threadpool_limits

from sparsefield._checks import as_float, as_float_array, as_int, as_times
from sparsefield._npz import NpzMixin
from sparsefield.errors import FitError, InputError
from sparsefield.rf import _lasso_kernels
from sparsefield.rf.binning import check_trial_starts, check_unit_spikes
from sparsefield.rf.lasso import (
    BACKENDS,
    DEFAULT_LAMBDA_MIN_RATIO,
    RULES,
    choose_penalty,
    chosen_index,
    fit_lasso,
    lambda_grid,
    lasso_path,
    lasso_path_population,
)
from sparsefield.rf.lasso_lags import LassoLags, fold_rows, lag_folds
from sparsefield.rf.ml import (
    MLFit,
    _fit_pairs,
    _pair_at_lag,
    _rows_at_lag,
    frames_at_lag_words,
    stayed_at_start,
)
from sparsefield.rf.poisson import check_data
from sparsefield.rf.sta import (
    STA,
    _delay_grid,
    check_delays,
    _frame_counts,
    _shift_null,
    _shift_offsets,
    _zscore_map,
    check_trial_delays,
)

LOG = logging.getLogger(__name__)

#: Nulls of :func:`sta_units`.
NULLS = ("shift", "analytic")

# Memory for one block of intermediate arrays (STA counts, held-out predictors).
_BLOCK_BYTES = 64 * 2**20


# ----------------------------------------------------------------------------
# Checks


def _unit_names(unit_ids, n_units):
    """What messages call each unit: ``"unit 17"`` (its id) or ``"unit index 3"``."""
    if unit_ids is None:
        return [f"unit index {index}" for index in range(n_units)]
    ids = np.asarray(unit_ids).ravel()
    if ids.size != n_units:
        raise InputError("unit_ids", f"expected {n_units} ids (one per unit), got {ids.size}")
    return [f"unit {unit_id}" for unit_id in ids.tolist()]


def _why_array(reasons):
    """Per-unit reasons as a fixed-width str array ("" for none)."""
    return np.asarray(list(reasons), dtype=str).reshape(-1)


#: ``why`` of a unit whose ML fit stayed at its start at every lag.
NO_SIGNAL_ML = ("no signal: the ML fit stays at zero weights at every lag, where the "
                "likelihood's gradient is already zero (the counts do not vary with the "
                "stimulus at all; is the stimulus constant?)")

#: ``why`` of a unit whose lasso lambda_max is 0 at every lag.
NO_SIGNAL_LASSO = ("no signal: the lasso's largest penalty lambda_max is 0 at every lag "
                   "(no pixel's value varies with the counts; is the stimulus constant?)")


def has_signal(lambda_max, mean_counts, stimulus):
    """Whether a lasso ``lambda_max`` is more than rounding: the gradient of the mean
    Poisson NLL at zero weights is a mean of ``(expected - counts) * pixel`` terms, so
    in double precision a true 0 comes out as up to about 1e-16 times
    ``mean counts * the stimulus's range``; below 1e-10 times that there is no signal.

    Parameters
    ----------
    lambda_max : float or ndarray
    mean_counts : float or ndarray
        Mean counts per frame (of each unit).
    stimulus : ndarray of shape (n_frames, n_pixels)

    Returns
    -------
    bool or ndarray of bool
    """
    scale = np.asarray(mean_counts, dtype=float) * float(np.ptp(stimulus)) if stimulus.size \
        else 0.0
    lambda_max = np.asarray(lambda_max, dtype=float)
    return np.isfinite(lambda_max) & (lambda_max > 1e-10 * scale) & (lambda_max > 0)


def _check_lags(lags, n_frames):
    """Non-empty 1-D integer lags in ``[0, n_frames - 1]``, as int64."""
    lags_array = np.asarray(lags)
    if lags_array.ndim != 1 or lags_array.size == 0:
        raise InputError("lags", f"expected a non-empty sequence of integers, got {lags!r}")
    return np.array([as_int(lag, "lags", 0, n_frames - 1) for lag in lags_array.tolist()],
                    dtype=np.int64)


def spikes_at_lag(counts, lag, trial_starts=None):
    """Each unit's spikes in the frames a fit at ``lag`` pairs with a stimulus.

    Parameters
    ----------
    counts : ndarray of shape (n_frames, n_units) or (n_frames,)
    lag : int
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial; None for one trial.

    Returns
    -------
    ndarray of shape (n_units,) (or a scalar for 1-D counts)
        ``counts[lag:].sum(axis=0)`` for one trial; with several, the sum over the
        frames ``lag`` or more into their trial
        (:func:`sparsefield.rf.ml.lagged_frames`).
    """
    counts = np.asarray(counts)
    starts = check_trial_starts(trial_starts, counts.shape[0])
    rows = _rows_at_lag(int(lag), counts.shape[0], starts)
    return (counts[int(lag):] if rows is None else counts[rows]).sum(axis=0)


def _no_spike_words(max_lag, trial_starts):
    """``why`` of a unit without a spike to fit at the largest lag."""
    return (f"no spike in {frames_at_lag_words(max_lag, trial_starts)} (needed for a fit at "
            f"lag {max_lag})")


def _check_fitted(fitted, counts, lags, trial_starts=None):
    """The mask of units to fit (module docstring, "Units that are not fitted").

    Parameters
    ----------
    fitted : array_like of bool of shape (n_units,) or None
    counts : ndarray of shape (n_frames, n_units)
    lags : ndarray of shape (n_lags,), int64
    trial_starts : ndarray of shape (n_trials,), int64, optional
        Checked; None for one trial.

    Returns
    -------
    fitted : ndarray of shape (n_units,), bool
    """
    n_units = counts.shape[1]
    if n_units == 0:
        raise InputError("counts", "has no unit (0 columns)")
    max_lag = int(lags.max())
    rows = None if trial_starts is None else _rows_at_lag(max_lag, counts.shape[0],
                                                          trial_starts)
    has_spikes = (counts[max_lag:] if rows is None else counts[rows]).sum(axis=0) > 0
    if fitted is None:
        return has_spikes
    mask = np.asarray(fitted)
    if mask.dtype != np.bool_ or mask.shape != (n_units,):
        raise InputError("fitted", f"expected a bool array of shape ({n_units},) (one entry "
                         f"per unit), got dtype {mask.dtype} and shape {mask.shape}")
    silent = np.flatnonzero(mask & ~has_spikes)
    if silent.size:
        raise InputError(
            "fitted",
            f"unit(s) {silent[:10].tolist()} (0-based index) have no spike in "
            f"{frames_at_lag_words(max_lag, trial_starts)} and cannot be fitted at lag "
            f"{max_lag}; leave them out of fitted",
        )
    return mask.copy()


# ----------------------------------------------------------------------------
# Maximum likelihood


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
        others (module docstring, "Units that are not fitted").
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
    def n_units(self):
        return self.weights.shape[0]

    def unit(self, index):
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


def fit_ml_units(stimulus, counts, durations, lags, *, fitted=None, max_iter=1000, tol=1e-8,
                 unit_ids=None, trial_starts=None):
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
        Units to fit (module docstring, "Units that are not fitted").
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
    lags = _check_lags(lags, n_frames)
    trial_starts = check_trial_starts(trial_starts, n_frames)
    asked = fitted
    fitted = _check_fitted(fitted, counts, lags, trial_starts)
    max_iter = as_int(max_iter, "max_iter", 1)
    tol = as_float(tol, "tol", minimum=0, strict=True)
    names = _unit_names(unit_ids, counts.shape[1])
    why = [""] * counts.shape[1]
    if asked is None:
        max_lag = int(lags.max())
        for unit in np.flatnonzero(~fitted).tolist():
            why[unit] = _no_spike_words(max_lag, trial_starts)

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
            rows = _rows_at_lag(lag, n_frames, trial_starts)
            design, lag_durations = _pair_at_lag(lag, centred, durations,
                                                 trial_starts=trial_starts)
            for unit in np.flatnonzero(fitted):
                unit_counts = counts_rows[unit][lag:] if rows is None \
                    else counts_rows[unit][rows]
                (weights[unit, position], intercepts[unit, position], nll[unit, position],
                 n_iter[unit, position]) = _fit_pairs(
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
                   fitted=fitted, stimulus_mean=stimulus_mean, why=_why_array(why))


# ----------------------------------------------------------------------------
# Lasso over lags


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
        standard error over the folds used (see :func:`fit_lasso_lags_units`).
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
    def n_units(self):
        return self.lambdas.shape[0]

    @property
    def index_chosen(self):
        """Row of each unit's ``lambdas`` chosen by ``rule``, shape (n_units,), -1 if none."""
        return chosen_index(self.index_min, self.index_1se, self.rule)

    @property
    def chosen_weights(self):
        """Receptive fields at the chosen penalties, shape (n_units, n_lags, n_pixels).

        NaN for units without a chosen penalty.
        """
        index = self.index_chosen
        chosen = self.weights[np.arange(self.n_units), np.maximum(index, 0)]
        chosen[index < 0] = np.nan
        return chosen

    def unit(self, index):
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


def _lambda_max_units(design, counts, durations):
    """:func:`sparsefield.rf.lasso.lambda_max` of each column of ``counts``.

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


def _held_out_gain(design, counts, durations, weights, intercepts, null_intercepts):
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
        :class:`sparsefield.rf.lasso.LassoCV`.
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
        objective = np.empty(eta.shape[0])
        grad_intercept = np.empty(eta.shape[0])
        scale = np.empty(eta.shape[0])
        _lasso_kernels.population_start(eta, model_counts, durations, residual, objective,
                                        grad_intercept, scale)
        objective = objective.reshape(n_chunk, n_models)
        gain[units] = objective[:, :1] - objective[:, 1:]
    return gain


#: How the units' paths at one lag are fitted: "per_unit" (each unit's
#: :func:`lasso_path`, warm-started along its grid) or "population" (one
#: :func:`lasso_path_population` call; it falls back to per_unit when its shared metric
#: does not converge).  Which is faster depends on how strongly the stimulus modulates
#: the rates, not on the number of units: the shared metric is a good Hessian model
#: for weak modulation (bench/rf_lasso.py, 1000 neurons: population 16x faster) and a
#: poor one for strong modulation (the default simulated session, 33 units x 4000
#: frames x 300 pixels at one lag: per_unit 2.6 s, population 16 s).
UNIT_SOLVERS = ("per_unit", "population")


def _one_by_one(design, counts, durations, lambdas, tol):
    """:func:`lasso_path` per unit, stacked like a population path."""
    paths = [lasso_path(design, counts[:, unit], durations, lambdas=lambdas[unit], tol=tol)
             for unit in range(counts.shape[1])]
    return SimpleNamespace(weights=np.stack([path.weights for path in paths]),
                           intercepts=np.stack([path.intercepts for path in paths]),
                           kkt_violation=np.stack([path.kkt_violation for path in paths]))


def _population_path(design, counts, durations, lambdas, tol, lag, where, names, solver):
    """Lasso paths of the units of one call, with the lag, fold and units in errors.

    ``solver`` is one of :data:`UNIT_SOLVERS`; when the population solver does not
    converge for some unit, the units of the call are refitted one by one, and only a
    failure there is an error.
    """
    try:
        if solver == "population":
            try:
                return lasso_path_population(design, counts, durations, lambdas=lambdas,
                                             tol=tol)
            except FitError as error:
                LOG.info("lag %d, %s: the population solver did not converge (%s); fitting "
                         "the %d units one by one", lag, where, error, counts.shape[1])
        return _one_by_one(design, counts, durations, lambdas, tol)
    except FitError as error:
        shown = ", ".join(names[:20]) + (" ..." if len(names) > 20 else "")
        raise FitError(f"lasso fit at lag {lag}, {where}: {error} ({shown})") from error


def _replace_full_fits(stimulus, counts, durations, lags, grids, names, backend, weights,
                       intercepts, kkt, trial_starts=None):
    """Full-data fits of a peer backend, in place of the population solver's.

    ``counts`` (n_frames, n_fit) holds the fitted units' columns, ``names`` what
    messages call them; ``weights`` (n_fit, n_lambdas, n_lags, n_pixels),
    ``intercepts`` and ``kkt`` (n_fit, n_lambdas, n_lags) are overwritten.
    """
    for position, lag in enumerate(lags.tolist()):
        design, lag_counts, lag_durations = _pair_at_lag(lag, stimulus, counts, durations,
                                                         trial_starts=trial_starts)
        for row, name in enumerate(names):
            for index_lambda, lam in enumerate(grids[row].tolist()):
                try:
                    peer = fit_lasso(design, lag_counts[:, row], lag_durations, lam,
                                     backend=backend)
                except FitError as error:
                    raise FitError(f"{name}, lag {lag}: {error}") from error
                weights[row, index_lambda, position] = peer.weights
                intercepts[row, index_lambda, position] = peer.intercept
                kkt[row, index_lambda, position] = peer.kkt_violation


def fit_lasso_lags_units(stimulus, counts, durations, lags, *, fitted=None, n_lambdas=10,
                         lambda_min_ratio=DEFAULT_LAMBDA_MIN_RATIO, n_folds=5, rule="1se",
                         tol=1e-7, backend="sparsefield", solver="per_unit", unit_ids=None,
                         trial_starts=None):
    """Lasso receptive field over lags of every unit, penalty chosen per unit by CV.

    The population form of :func:`sparsefield.rf.lasso_lags.fit_lasso_lags`:
    for each unit the same grid (from the largest
    ``lambda_max`` over lags of that unit), the same contiguous blocks of count
    frames (``fold_frames``, shared by all units and lags), the same held-out
    gains summed over lags and the same choice
    (:func:`~sparsefield.rf.lasso.choose_penalty`).  At each lag, the full data
    and each fold's training rows are fitted for all units in one
    :func:`~sparsefield.rf.lasso.lasso_path_population` call (per-unit
    penalties), with BLAS on one thread (the solver's threads are numba's).

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
    counts : ndarray of shape (n_frames, n_units)
    durations : ndarray of shape (n_frames,)
        Frame durations in seconds.
    lags : sequence of int
    fitted : ndarray of shape (n_units,), bool, optional
        Units to fit (module docstring, "Units that are not fitted").
    n_lambdas, lambda_min_ratio, n_folds, rule, tol
        As in :func:`~sparsefield.rf.lasso_lags.fit_lasso_lags`.
    backend : {"sparsefield", "pyglmnet", "sklearn"}
        Solver of the full-data fits, as in
        :func:`~sparsefield.rf.lasso_lags.fit_lasso_lags`: a peer backend
        replaces them one (unit, lag, penalty) at a time, with
        :func:`~sparsefield.rf.lasso.fit_lasso` (slow for many units: only
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
        KKT tolerance.

    Raises
    ------
    InputError
        Bad data or options (e.g. more folds than the frames after the largest lag
        allow), or a unit in ``fitted`` without spikes at the largest lag.
    FitError
        A path did not converge (the lag, fold and units are named).

    Notes
    -----
    A unit whose ``lambda_max`` is 0 at every lag has no signal (e.g. a constant
    stimulus; :func:`~sparsefield.rf.lasso_lags.fit_lasso_lags` stops there): it is
    left out (not fitted, NaN, ``why`` set) and the others go on.

    Where :func:`~sparsefield.rf.lasso_lags.fit_lasso_lags` would stop (a fold
    whose training rows hold no spike of the unit, at some lag), this function
    leaves the unit out of that fold's fit and gives it a NaN gain there; the
    unit's choice and gain statistics then use the folds with a gain at every lag
    (``n_folds_used``), and if fewer than two remain no penalty is chosen
    (indices -1, total gains NaN; the full-data fits are kept).
    """
    if rule not in RULES:
        raise InputError("rule", f"must be '1se' or 'min', got {rule!r}")
    if backend not in BACKENDS:
        raise InputError("backend", f"must be one of {BACKENDS}, got {backend!r}")
    if solver not in UNIT_SOLVERS:
        raise InputError("solver", f"must be one of {UNIT_SOLVERS}, got {solver!r}")
    stimulus, counts, durations = check_data(stimulus, counts, durations, "stimulus",
                                             counts_ndim=2, min_rows=2, min_pixels=1)
    n_frames, n_pixels = stimulus.shape
    lags = _check_lags(lags, n_frames)
    trial_starts = check_trial_starts(trial_starts, n_frames)
    asked = fitted
    fitted = _check_fitted(fitted, counts, lags, trial_starts)
    n_lambdas = as_int(n_lambdas, "n_lambdas", minimum=1)
    tol = as_float(tol, "tol", minimum=0.0, strict=True)
    max_lag = int(lags.max())
    fold_frames = lag_folds(n_frames, max_lag, n_folds, trial_starts)
    n_folds = fold_frames.size - 1
    n_units, n_lags = counts.shape[1], lags.size
    names = _unit_names(unit_ids, n_units)
    why = [""] * n_units
    if asked is None:
        for unit in np.flatnonzero(~fitted).tolist():
            why[unit] = _no_spike_words(max_lag, trial_starts)
    units = np.flatnonzero(fitted)

    # Each unit's grid, from its largest lambda_max over lags; no signal where it is 0.
    largest = np.zeros(units.size)
    for lag in lags.tolist():
        design, lag_counts, lag_durations = _pair_at_lag(
            lag, stimulus, np.ascontiguousarray(counts[:, units]), durations,
            trial_starts=trial_starts)
        largest = np.maximum(largest, _lambda_max_units(design, lag_counts, lag_durations))
    signal = has_signal(largest, counts[:, units].mean(axis=0), stimulus)
    for unit in units[~signal].tolist():
        why[unit] = NO_SIGNAL_LASSO
    units, largest = units[signal], largest[signal]
    n_fit = units.size
    fit_counts = np.ascontiguousarray(counts[:, units])
    fit_names = [names[unit] for unit in units.tolist()]
    fitted = np.zeros(n_units, dtype=bool)
    fitted[units] = True
    grids = np.array([lambda_grid(float(value), n_lambdas, lambda_min_ratio)
                      for value in largest]).reshape(n_fit, n_lambdas)

    weights = np.full((n_fit, n_lambdas, n_lags, n_pixels), np.nan)
    intercepts = np.full((n_fit, n_lambdas, n_lags), np.nan)
    kkt = np.full((n_fit, n_lambdas, n_lags), np.nan)
    gains = np.full((n_fit, n_lags, n_folds, n_lambdas), np.nan)
    # BLAS on one thread: the population solver's threads are numba's, and with
    # OpenBLAS threads as well the two pools fight over the cores (measured on 2
    # cores: 100 units x 10000 frames x 150 pixels, one path 42 s with both pools,
    # 7 s with BLAS on one thread; 20 units x 1500 frames, 38 s against 2 s).
    with threadpool_limits(limits=1, user_api="blas"):
        for position, lag in enumerate(lags.tolist() if n_fit else []):
            design, lag_counts, lag_durations = _pair_at_lag(lag, stimulus, fit_counts,
                                                             durations,
                                                             trial_starts=trial_starts)
            full = _population_path(design, lag_counts, lag_durations, grids, tol, lag,
                                    "full data", fit_names, solver)
            weights[:, :, position] = full.weights
            intercepts[:, :, position] = full.intercepts
            kkt[:, :, position] = full.kkt_violation
            rows = fold_rows(fold_frames, lag, n_frames, trial_starts)
            for fold in range(n_folds):
                start, stop = rows[fold], rows[fold + 1]
                train = np.r_[0:start, stop:design.shape[0]]
                train_counts = lag_counts[train]
                train_sums = train_counts.sum(axis=0)
                present = np.flatnonzero(train_sums > 0)
                if present.size == 0:
                    continue
                path = _population_path(design[train], train_counts[:, present],
                                        lag_durations[train], grids[present], tol, lag,
                                        f"fold {fold}", [fit_names[row] for row in present],
                                        solver)
                null_intercepts = np.log(train_sums[present] / lag_durations[train].sum())
                gains[present, position, fold] = _held_out_gain(
                    design[start:stop], lag_counts[start:stop][:, present],
                    lag_durations[start:stop], path.weights, path.intercepts,
                    null_intercepts)

    if backend != "sparsefield":
        _replace_full_fits(stimulus, fit_counts, durations, lags, grids, fit_names, backend,
                           weights, intercepts, kkt, trial_starts)

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

    def per_unit(values, fill):
        out = np.full((n_units, *values.shape[1:]), fill, dtype=values.dtype)
        out[units] = values
        return out

    return UnitsLasso(
        lags=lags, lambdas=per_unit(grids, np.nan), weights=per_unit(weights, np.nan),
        intercepts=per_unit(intercepts, np.nan), gain_mean=per_unit(gain_mean, np.nan),
        gain_se=per_unit(gain_se, np.nan), total_gain_mean=per_unit(total_mean, np.nan),
        total_gain_se=per_unit(total_se, np.nan), index_min=per_unit(index_min, -1),
        index_1se=per_unit(index_1se, -1), fold_frames=fold_frames, rule=rule,
        backend=backend, kkt_violation=per_unit(kkt, np.nan), fitted=fitted,
        n_folds_used=per_unit(n_used, 0), why=_why_array(why),
    )


# ----------------------------------------------------------------------------
# Spike-triggered averages


@dataclass(frozen=True)
class UnitsSTA(NpzMixin):
    """Spike-triggered averages of every unit of a session and their null.

    Attributes
    ----------
    taus : ndarray of shape (n_taus,)
        Delays before the spike in seconds.
    sta : ndarray of shape (n_units, n_taus, n_pixels)
        Mean over a unit's spikes of the frame on screen ``taus[i]`` before the
        spike; NaN for a unit without a spike inside the edges.
    zscore : ndarray of shape (n_units, n_taus, n_pixels)
        ``(sta - null_mean) / null_std``; 0 where ``null_std`` is 0, NaN for a
        unit without spikes.
    null_mean, null_std : ndarray of shape (n_units, n_taus, n_pixels)
        Of the null (``null``).
    n_spikes : ndarray of shape (n_units,), int64
        Spikes of each unit inside ``[edges[0], edges[-1])``.
    n_shifts : int
        Shifted trains per unit (0 for the analytic null).
    null : str
        ``"shift"`` (circular shifts, as
        :func:`sparsefield.rf.sta.spike_triggered_average`) or ``"analytic"``
        (exchangeable frames; module docstring).
    """

    #: Fields with a leading units axis (the rest are shared by every unit).
    UNIT_FIELDS = ("sta", "zscore", "null_mean", "null_std", "n_spikes")

    taus: np.ndarray
    sta: np.ndarray
    zscore: np.ndarray
    null_mean: np.ndarray
    null_std: np.ndarray
    n_spikes: np.ndarray
    n_shifts: int
    null: str

    @property
    def n_units(self):
        return self.sta.shape[0]

    def unit(self, index):
        """The STA of one unit, as :func:`sparsefield.rf.sta.spike_triggered_average` returns it.

        Parameters
        ----------
        index : int
            0-based unit index.

        Returns
        -------
        STA
        """
        index = as_int(index, "unit", 0, self.n_units - 1)
        return STA(taus=self.taus, sta=self.sta[index], zscore=self.zscore[index],
                   null_mean=self.null_mean[index], null_std=self.null_std[index],
                   n_spikes=int(self.n_spikes[index]), n_shifts=self.n_shifts)


def _inside_ranges(spike_times, spike_offsets, edges):
    """Each unit's spikes inside ``[edges[0], edges[-1])``: ``spike_times[starts:stops]``."""
    def before(limit):
        below = np.concatenate(([0], np.cumsum(spike_times < limit)))
        return below[spike_offsets[1:]] - below[spike_offsets[:-1]]

    starts = spike_offsets[:-1] + before(edges[0])
    stops = spike_offsets[:-1] + before(edges[-1])
    return starts, stops


def _analytic_null(spike_times, starts, stops, units, edges, taus, stimulus,
                   trial_starts=None):
    """STA and exchangeable-frames null of the given units (module docstring).

    With several trials the counts ``c_f`` hold only the spikes that saw frame ``f``
    within their own trial (:func:`sparsefield.rf.sta._frame_counts`); the null's
    formula is the same for any weights ``a_f = c_f / N`` over the frames, so it
    counts exactly the pairs the STA uses.

    Returns
    -------
    sta, null_mean, null_std : ndarray of shape (n_given, n_taus, n_pixels)
    """
    n_frames, n_pixels = stimulus.shape
    n_taus = taus.size
    pixel_mean = stimulus.mean(axis=0)
    pixel_sd = stimulus.std(axis=0, ddof=1)
    sta = np.empty((units.size, n_taus, n_pixels))
    null_std = np.empty((units.size, n_taus, n_pixels))
    no_shift = np.zeros(1)
    chunk = max(1, _BLOCK_BYTES // (8 * n_frames * n_taus))
    for first in range(0, units.size, chunk):
        block = units[first:first + chunk]
        # counts[f, b, j]: spikes of unit block[b] that saw frame f at taus[j]; as one
        # (n_frames, n_block * n_taus) matrix, one product with the stimulus serves
        # every unit of the block.
        counts = np.zeros((n_frames, block.size, n_taus))
        for position, unit in enumerate(block.tolist()):
            _frame_counts(spike_times[starts[unit]:stops[unit]], no_shift, edges, taus,
                          counts[:, position:position + 1].transpose(1, 0, 2), trial_starts)
        flat = counts.reshape(n_frames, block.size * n_taus)
        sums = (flat.T @ stimulus).reshape(block.size, n_taus, n_pixels)
        n_used = flat.sum(axis=0).reshape(block.size, n_taus)
        sum_squares = np.einsum("fk,fk->k", flat, flat).reshape(block.size, n_taus)
        with np.errstate(invalid="ignore", divide="ignore"):
            sta[first:first + block.size] = sums / n_used[:, :, None]
            spread = np.sqrt(np.maximum(sum_squares / n_used**2 - 1.0 / n_frames, 0.0))
        null_std[first:first + block.size] = spread[:, :, None] * pixel_sd
    null_mean = np.broadcast_to(pixel_mean, sta.shape).copy()
    null_mean[np.isnan(null_std)] = np.nan
    return sta, null_mean, null_std


def sta_units(spike_times, spike_offsets, edges, stimulus, *, tau_max=0.5, tau_step=0.01,
              n_shifts=200, seed=0, null="shift", trial_starts=None):
    """Spike-triggered average of every unit of a session, with a null per unit.

    Parameters
    ----------
    spike_times : ndarray of shape (n_spikes,)
        Spike times in seconds of all units, concatenated, each unit's block
        sorted (:func:`sparsefield.rf.binning.check_unit_spikes`).
    spike_offsets : ndarray of int of shape (n_units + 1,)
        Unit ``u`` is ``spike_times[spike_offsets[u]:spike_offsets[u + 1]]``.
    edges : ndarray of shape (n_frames + 1,)
        Strictly increasing frame edges in seconds.
    stimulus : ndarray of shape (n_frames, n_pixels)
    tau_max, tau_step : float
        Delays ``0, tau_step, ..., tau_max`` in seconds.
    n_shifts : int
        Shifted trains per unit for ``null="shift"`` (>= 2); ignored otherwise.
    seed : int
        Seed of the shifts; every unit gets the offsets
        :func:`~sparsefield.rf.sta.spike_triggered_average` draws with this seed.
    null : {"shift", "analytic"}
        ``"shift"``: circular shifts, and ``result.unit(u)`` equals
        ``spike_triggered_average(unit u's spikes, edges, stimulus, ...)`` with
        the same seed.  ``"analytic"``: the exchangeable-frames null of the
        module docstring, mean and standard deviation in closed form (no
        shifted trains; ``null_mean`` is each pixel's mean over frames).
    trial_starts : array_like of int of shape (n_trials,), optional
        Index of each trial's first frame (:attr:`Session.trial_starts`); None for
        one trial.  A spike counts at delay ``tau`` only when ``t_spike - tau`` lies
        in its own trial, for the data and for each shifted train
        (:mod:`sparsefield.rf.sta`); both nulls count only these pairs.

    Returns
    -------
    UnitsSTA
        A unit without a spike inside ``[edges[0], edges[-1])`` gets NaN maps and
        ``n_spikes`` 0 (not an error).

    Raises
    ------
    InputError
        On bad spike times or offsets, edges, stimulus or options; delays that
        cannot make an STA (:func:`sparsefield.rf.sta.check_delays`: fewer than two,
        ``tau_max`` not shorter than the recording or its longest trial, or for
        ``"shift"`` a recording not longer than ``2 max(1 s, 2 tau_max)``); for
        ``"analytic"``, fewer than 2 frames.

    Notes
    -----
    Spikes are counted per (frame, tau) by the numba kernel of
    :func:`~sparsefield.rf.sta.spike_triggered_average`.  With the analytic
    null, the counts of a block of units form one matrix, so one BLAS product
    with the stimulus gives their STAs (blocks bounded to about 64 MiB of
    counts).  With the shift null each unit costs ``n_shifts + 1`` such
    products: use it to check the analytic null, not for hundreds of units.
    """
    spike_times, spike_offsets = check_unit_spikes(spike_times, spike_offsets)
    edges = as_times(edges, "edges", order="increasing", min_length=2, what="edge")
    stimulus = as_float_array(stimulus, "stimulus", 2)
    n_frames, n_pixels = stimulus.shape
    if n_frames != edges.size - 1:
        raise InputError("stimulus", f"has {n_frames} frames but there are "
                         f"{edges.size - 1} frames between the edges (n_frames = len(edges) - 1)")
    tau_step = as_float(tau_step, "tau_step", minimum=0, strict=True)
    tau_max = as_float(tau_max, "tau_max", minimum=0)
    if null not in NULLS:
        raise InputError("null", f"must be one of {NULLS}, got {null!r}")
    check_delays(tau_max, tau_step, edges[-1] - edges[0], null)
    trial_starts = check_trial_starts(trial_starts, n_frames)
    check_trial_delays(tau_max, edges, trial_starts)
    if null == "shift":
        n_shifts = as_int(n_shifts, "n_shifts", 2)
        offsets = _shift_offsets(edges, tau_max, n_shifts, seed)
    else:
        n_shifts = 0
        if n_frames < 2:
            raise InputError("stimulus", "the analytic null needs at least 2 frames")

    taus = _delay_grid(tau_max, tau_step)
    starts, stops = _inside_ranges(spike_times, spike_offsets, edges)
    n_spikes = stops - starts
    n_units = n_spikes.size
    shape = (n_units, taus.size, n_pixels)
    sta = np.full(shape, np.nan)
    null_mean = np.full(shape, np.nan)
    null_std = np.full(shape, np.nan)
    zscore = np.full(shape, np.nan)
    active = np.flatnonzero(n_spikes > 0)
    if null == "shift":
        for unit in active.tolist():
            sta[unit], null_mean[unit], null_std[unit], zscore[unit] = _shift_null(
                spike_times[starts[unit]:stops[unit]], offsets, edges, taus, stimulus,
                trial_starts)
    elif active.size:
        (sta[active], null_mean[active], null_std[active]) = _analytic_null(
            spike_times, starts, stops, active, edges, taus, stimulus, trial_starts)
        zscore[active] = _zscore_map(sta[active], null_mean[active], null_std[active])
    return UnitsSTA(taus=taus, sta=sta, zscore=zscore, null_mean=null_mean, null_std=null_std,
                    n_spikes=n_spikes.astype(np.int64), n_shifts=n_shifts, null=null)


def concatenate_units(parts):
    """Join the results of consecutive chunks of a session's units along the units axis.

    Parameters
    ----------
    parts : sequence of UnitsML, UnitsLasso, UnitsSTA or UnitsSeparation
        Results of the same class for units ``0..k-1``, ``k..2k-1``, ... of one session,
        in order (e.g. from jobs of ``units_per_job`` units each).

    Returns
    -------
    The same class, with every field listed in its ``UNIT_FIELDS`` concatenated and the
    shared fields (lags, delays, fold blocks, options) taken from the parts, which must
    agree on them exactly.  Every unit's fit depends only on that unit's data, so the
    result equals (byte for byte) fitting all units in one call.

    Raises
    ------
    InputError
        When the parts are of different classes or disagree on a shared field.
    """
    parts = list(parts)
    if not parts:
        raise InputError("parts", "needs at least one chunk")
    kind = type(parts[0])
    if any(type(part) is not kind for part in parts):
        raise InputError("parts", "chunks of different kinds of result cannot be joined")
    values = {}
    for field in dataclasses.fields(kind):
        items = [getattr(part, field.name) for part in parts]
        if field.name in kind.UNIT_FIELDS:
            values[field.name] = np.concatenate(items, axis=0)
            continue
        first = items[0]
        same = all(np.array_equal(first, item, equal_nan=isinstance(first, np.ndarray)
                                  and first.dtype.kind == "f") for item in items[1:])
        if not same:
            raise InputError("parts", f"chunks disagree on {field.name!r}; they must come from "
                             "the same session and settings")
        values[field.name] = first
    return kind(**values)


def unit_chunks(n_units, units_per_job):
    """Consecutive chunks of a session's units, one per job.

    Parameters
    ----------
    n_units : int
    units_per_job : int
        Units per chunk; 0 puts every unit in one chunk.

    Returns
    -------
    chunks : list of slice
        ``[slice(0, k), slice(k, 2k), ...]`` covering ``range(n_units)`` (one empty
        chunk when there are no units).
    """
    n_units = as_int(n_units, "n_units", minimum=0)
    units_per_job = as_int(units_per_job, "units_per_job", minimum=0)
    if units_per_job == 0 or n_units == 0:
        return [slice(0, n_units)]
    return [slice(start, min(start + units_per_job, n_units))
            for start in range(0, n_units, units_per_job)]
