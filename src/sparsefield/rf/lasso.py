r"""L1-regularised (lasso) Poisson receptive fields: path, cross-validation, populations.

Objective
---------
For one neuron, with ``design`` of shape (n_rows, n_pixels) (row ``t`` is the
stimulus paired with ``counts[t]``, e.g. from
:func:`sparsefield.rf.ml.lagged_design`), ``counts`` and ``durations`` of
shape (n_rows,), the lasso estimate at penalty ``lam > 0`` minimises

.. math::

    F(w, b) = \mathrm{NLL}(w, b) + \lambda \lVert w \rVert_1 ,

where ``NLL`` is :func:`sparsefield.rf.poisson.poisson_nll`: the **mean** over
rows of the Poisson negative log-likelihood of
``counts_t ~ Poisson(durations_t * exp(design_t . w + b))`` (pure exp link,
per-frame exposure ``durations_t``, as in the ML fit).  The intercept ``b`` is
not penalised.  Because the NLL is a mean, ``lam`` is in units of the
per-row gradient and does not grow with the recording length.

``lambda_max(design, counts, durations) = max_j |d NLL / d w_j|`` at
``w = 0`` and the best intercept ``b = log(sum counts / sum durations)``: the
smallest penalty whose solution has every weight at 0.  Default grids run
log-spaced from ``lambda_max`` down to ``lambda_min_ratio * lambda_max``.

Convergence is stated on the optimality (KKT) conditions of ``F``: for every
pixel, ``|g_j + lam sign(w_j)|`` (non-zero weight) or ``max(|g_j| - lam, 0)``
(zero weight), and ``|g_b|`` for the intercept, where ``g`` is the NLL
gradient; a penalty has converged when the largest of these is at most
``tol * lambda_max`` (default ``tol = 1e-7``).

Other programs, same objective
------------------------------
glum
    ``glum.GeneralizedLinearRegressor(family="poisson", alpha=lam, l1_ratio=1,
    fit_intercept=True)`` fitted with ``offset=np.log(durations)``.  glum
    minimises ``deviance / (2 n) + alpha * l1_ratio * |w|_1`` (unit sample
    weights); the Poisson deviance is ``2 sum_t [counts log(counts / mu) -
    (counts - mu)]``, so ``deviance / (2 n) = NLL - mean_t[log(counts_t!) -
    counts_t log(counts_t) + counts_t]``: the same function of ``(w, b)`` up to
    a constant.  Hence **alpha = lam, no rescaling**.  Checked numerically: with
    ``gradient_tol=1e-6`` or tighter, glum's coefficients match
    :func:`lasso_path` to about 1e-7 relative on the real recording and on
    synthetic data (``tests/test_lasso.py`` asserts <= 1e-4 at every penalty
    with ``gradient_tol=1e-8``); at glum's default ``gradient_tol=1e-4`` the
    difference is 1e-5 to 1e-4.  glum's ``alpha_search=True, alphas=lambdas``
    is its warm-started path.
pyglmnet 1.1 (the last release)
    ``pyglmnet.GLM(distr="poisson", alpha=1.0, reg_lambda=lam * learning_rate,
    learning_rate=learning_rate)``.  Its objective is written as
    ``-(1/n) loglik + reg_lambda * |w|_1``, but its proximal step soft-thresholds
    by ``reg_lambda`` instead of ``learning_rate * reg_lambda`` (upstream
    issue #383, fixed on master, never released), so its fixed point is the
    lasso at ``lam = reg_lambda / learning_rate`` (5 * reg_lambda at the default
    learning rate 0.2).  Two further differences that no parameter removes:
    its ``"poisson"`` link is ``exp(eta)`` only for ``eta <= 2`` and linear
    above (``exp(2) * (eta - 1)``), and it has no offset, so frame durations
    are taken as constant (their mean, folded into the intercept).  See
    :mod:`sparsefield.rf.pyglmnet_compat`.
scikit-learn
    has no L1-penalised Poisson regression.  The ``"sklearn"`` backend of
    :func:`fit_lasso` is ``sklearn.linear_model.Lasso`` (Gaussian loss) on the
    rates ``counts / durations``, mapped to this objective to first order in
    the weights (a cruder, faster stand-in; see :func:`fit_lasso`).

Algorithms
----------
:func:`lasso_path` (one neuron) uses proximal Newton with coordinate descent
(as glmnet): at each outer step, the second-order model of the NLL plus the
L1 penalty is minimised by cyclic coordinate descent with the intercept
profiled out (weighted centring), over a working set (the ever-active
pixels, the sequential strong rule of Tibshirani et al. 2012, and every KKT
violator found by a full gradient), then a backtracking line search on
``F``.  Between steps only the working set's gradient is computed (in the
same pass as the next step's weighted column moments); the full gradient,
one pass over the design, is taken only to confirm convergence.  Three
Newton steps per penalty are typical with warm starts.  It runs on one
thread: its loops are too short (one column at a time) to pay for threads.

Why this and not FISTA: on the synthetic 20000 x 300 benchmark the
shared-metric proximal quasi-Newton below, run for one neuron, needs 4 to 10
iterations per penalty, each two passes over the design, against three
Newton steps whose coordinate descent touches only the working set.  FISTA
with backtracking (centred design, unpenalised intercept), tried on the same
problem, needed 38 to 51 iterations per penalty (two passes over the design
each) to reach the KKT tolerance of 1e-7, and over 3000 at one penalty where
its momentum oscillated (no restart).  ``bench/rf_lasso.py`` has the timings
against glum, pyglmnet and scikit-learn.

:func:`lasso_path_population` (many neurons, one design) cannot afford one
Hessian per neuron, so it uses a proximal quasi-Newton method whose metric
is shared: the design's covariance ``Xc' Xc / n`` (computed once) scaled per
neuron by its mean expected count, with the exact intercept row of the
Hessian.  Each iteration is two BLAS matrix-matrix products with the shared
design (gradients of all neurons, ``R @ Xc``; linear-predictor steps,
``D @ Xc.T``), a per-neuron coordinate descent on the small ``n_pixels x
n_pixels`` model (numba, parallel over neurons) and a per-neuron line search.
The metric is exact when the rate does not depend on the stimulus and close
for white-noise stimuli (3 to 10 iterations per penalty); both solvers stop
on the same KKT criterion, so they return the same solution to within the
tolerance.  A neuron that has not converged after ``max_quasi_newton``
iterations at a penalty (possible with fewer rows than pixels, where the
shared metric is a poor model of its Hessian) is finished by the exact
Newton solver of :func:`lasso_path`.  Products are float64: the KKT
tolerance of 1e-7 * lambda_max is below float32's rounding of the gradient.

Constant pixels
---------------
A pixel whose column is constant (for example always 0 in a stimulus
subset) gets weight exactly 0 at every penalty: a non-zero weight on it can
be moved into the intercept at no cost to the NLL and a saving in the
penalty, so 0 is the exact lasso solution.  It is reported as a zero weight,
not as an error.
"""

import math
from dataclasses import dataclass

import numpy as np

from sparsefield._checks import as_float, as_float_array, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import FitError, InputError
from sparsefield.rf import _lasso_kernels
from sparsefield.rf.poisson import PoissonProblem, check_data

#: Default ratio of the smallest to the largest penalty of a grid.
DEFAULT_LAMBDA_MIN_RATIO = 1e-2

#: Coordinate-descent sweeps allowed per Newton step (a safeguard).
_MAX_SWEEPS = 10_000

#: Backends of :func:`fit_lasso`.
BACKENDS = ("sparsefield", "pyglmnet", "sklearn")

#: Penalty selection rules of :func:`lasso_cv` (and :func:`chosen_index`): ``"1se"``,
#: the largest penalty within one standard error of the best held-out gain, or
#: ``"min"``, the best.  The workflow's ``lasso.rule`` choices.
RULES = ("1se", "min")


# ----------------------------------------------------------------------------
# Validation


def _check_data(design, counts, durations, *, counts_ndim=1):
    """:func:`sparsefield.rf.poisson.check_data` with the lasso's requirements.

    At least 2 rows and 1 pixel, and at least one spike per neuron.
    """
    return check_data(design, counts, durations, counts_ndim=counts_ndim, min_rows=2,
                      min_pixels=1, require_spikes=True)


def _check_lambdas(lambdas, source="lambdas"):
    """Positive finite penalties, returned in decreasing order."""
    lambdas = as_float_array(lambdas, source, 1, finite=False)
    if lambdas.size == 0:
        raise InputError(source, "is empty: give at least one penalty")
    if not np.all(np.isfinite(lambdas)) or np.any(lambdas <= 0):
        raise InputError(source, f"penalties must be finite and > 0, got {lambdas.tolist()}")
    return np.ascontiguousarray(np.sort(lambdas)[::-1])


def lambda_grid(lambda_max_value, n_lambdas=10, lambda_min_ratio=DEFAULT_LAMBDA_MIN_RATIO):
    """Log-spaced penalties from ``lambda_max_value`` down to ``lambda_min_ratio`` times it.

    Parameters
    ----------
    lambda_max_value : float
    n_lambdas : int
    lambda_min_ratio : float
        In (0, 1].

    Returns
    -------
    lambdas : ndarray of shape (n_lambdas,)
        Decreasing; ``lambdas[0] = lambda_max_value``.
    """
    n_lambdas = as_int(n_lambdas, "n_lambdas", minimum=1)
    lambda_min_ratio = as_float(lambda_min_ratio, "lambda_min_ratio", minimum=0.0, strict=True,
                                maximum=1.0)
    if not (math.isfinite(lambda_max_value) and lambda_max_value > 0):
        raise InputError(
            "lambda_max_value",
            f"must be finite and > 0, got {lambda_max_value!r} (lambda_max is 0 when the "
            "counts do not vary with any pixel, e.g. a constant stimulus: no signal)",
        )
    return lambda_max_value * np.logspace(0.0, np.log10(lambda_min_ratio), n_lambdas)


class _Prepared:
    """Transposed design, usable pixels, zero-weight start and lambda_max (one neuron)."""

    def __init__(self, design, counts, durations):
        self.design_t = np.ascontiguousarray(design.T)
        self.usable = _lasso_kernels.varying_columns(design)
        self.counts = counts
        self.durations = durations
        self.intercept_start = math.log(counts.sum() / durations.sum())
        expected = durations * math.exp(self.intercept_start)
        gradient = np.empty(design.shape[1])
        _lasso_kernels.full_gradient(self.design_t, expected, counts, gradient)
        self.gradient_start = np.where(self.usable, gradient, 0.0)
        self.lambda_max = float(np.abs(self.gradient_start).max())


def lambda_max(design, counts, durations):
    """Smallest penalty at which every weight of the lasso is 0.

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows,)
    durations : ndarray of shape (n_rows,)

    Returns
    -------
    lambda_max : float
        ``max_j |mean_t (mu_t - counts_t) design_tj|`` with
        ``mu_t = durations_t * sum(counts) / sum(durations)`` (constant pixels
        excluded).
    """
    design, counts, durations = _check_data(design, counts, durations)
    return _Prepared(design, counts, durations).lambda_max


# ----------------------------------------------------------------------------
# Result containers


@dataclass(frozen=True)
class LassoPath(NpzMixin):
    """A lasso regularisation path for one neuron.

    Saved with ``sparsefield.io.save_npz(path, result.to_npz_dict())`` and rebuilt with
    ``LassoPath.from_npz(np.load(path, allow_pickle=False))`` (as every
    result container here; :class:`LassoCV` stores its nested path under
    keys prefixed ``path_``).

    Attributes
    ----------
    lambdas : ndarray of shape (n_lambdas,)
        Penalties, decreasing.
    weights : ndarray of shape (n_lambdas, n_pixels)
    intercepts : ndarray of shape (n_lambdas,)
        For the design as given (not centred).
    objective : ndarray of shape (n_lambdas,)
        ``poisson_nll + lam * |weights|_1`` at each solution.
    n_iter : ndarray of shape (n_lambdas,), int64
        Outer (Newton) iterations per penalty.
    converged : ndarray of shape (n_lambdas,), bool
    kkt_violation : ndarray of shape (n_lambdas,)
        Largest violation of the optimality conditions (module docstring).
    lambda_max : float
        Of the data the path was fitted on.
    tol : float
        Convergence: ``kkt_violation <= tol * lambda_max``.
    """

    lambdas: np.ndarray
    weights: np.ndarray
    intercepts: np.ndarray
    objective: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    kkt_violation: np.ndarray
    lambda_max: float
    tol: float

# ----------------------------------------------------------------------------
# One neuron


def _path(prepared, lambdas, tol, max_iter):
    """Run the Newton kernel over ``lambdas`` (decreasing); raw arrays."""
    n_lambdas = lambdas.shape[0]
    n_pixels = prepared.design_t.shape[0]
    weights = np.zeros((n_lambdas, n_pixels))
    intercepts = np.zeros(n_lambdas)
    n_iter = np.zeros(n_lambdas, dtype=np.int64)
    kkt = np.zeros(n_lambdas)
    converged = np.zeros(n_lambdas, dtype=bool)
    scale = max(prepared.lambda_max, float(lambdas[0]))
    _lasso_kernels.path_newton_cd(
        prepared.design_t, prepared.counts, prepared.durations, lambdas,
        max(prepared.lambda_max, float(lambdas[0])), prepared.usable, np.zeros(n_pixels),
        prepared.intercept_start, tol * scale, max_iter, _MAX_SWEEPS,
        weights, intercepts, n_iter, kkt, converged,
    )
    return weights, intercepts, n_iter, kkt, converged, scale


def _raise_unconverged(lambdas, kkt, converged, scale, tol, what="lasso_path"):
    if not np.all(converged):
        bad = np.flatnonzero(~converged)
        details = ", ".join(f"lam={lambdas[i]:.4g} (KKT {kkt[i]:.2e})" for i in bad[:5])
        raise FitError(
            f"{what}: did not reach KKT violation <= {tol * scale:.2e} at {bad.size} "
            f"penalt{'y' if bad.size == 1 else 'ies'}: {details}; raise max_iter or tol"
        )


def lasso_path(design, counts, durations, *, n_lambdas=10,
               lambda_min_ratio=DEFAULT_LAMBDA_MIN_RATIO, lambdas=None, tol=1e-7,
               max_iter=100):
    """Warm-started lasso path of one neuron (proximal Newton + coordinate descent).

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows,)
        Spike counts (at least one spike).
    durations : ndarray of shape (n_rows,)
        Row durations in seconds (> 0).
    n_lambdas : int
        Size of the default grid (ignored when ``lambdas`` is given).
    lambda_min_ratio : float
        Smallest penalty of the default grid, relative to ``lambda_max``.
    lambdas : array_like of shape (n_lambdas,), optional
        Explicit positive penalties; fitted (and returned) in decreasing order.
    tol : float
        Each penalty stops when its KKT violation is at most
        ``tol * max(lambda_max, lambdas[0])``.
    max_iter : int
        Newton steps allowed per penalty.

    Returns
    -------
    LassoPath

    Raises
    ------
    InputError
        Bad data, penalties <= 0 or an empty grid.
    FitError
        A penalty did not converge within ``max_iter`` steps.
    """
    design, counts, durations = _check_data(design, counts, durations)
    tol = as_float(tol, "tol", minimum=0.0, strict=True)
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    prepared = _Prepared(design, counts, durations)
    if lambdas is None:
        lambdas = lambda_grid(prepared.lambda_max, n_lambdas, lambda_min_ratio)
    else:
        lambdas = _check_lambdas(lambdas)
    weights, intercepts, n_iter, kkt, converged, scale = _path(prepared, lambdas, tol, max_iter)
    _raise_unconverged(lambdas, kkt, converged, scale, tol)
    problem = PoissonProblem.from_checked(design, counts, durations)
    objective = np.array([
        problem.nll(weights[index], intercepts[index])
        + lambdas[index] * np.abs(weights[index]).sum()
        for index in range(lambdas.shape[0])
    ])
    return LassoPath(
        lambdas=lambdas, weights=weights, intercepts=intercepts, objective=objective,
        n_iter=n_iter, converged=converged, kkt_violation=kkt,
        lambda_max=prepared.lambda_max, tol=tol,
    )


# ----------------------------------------------------------------------------
# Cross-validation


@dataclass(frozen=True)
class LassoCV(NpzMixin):
    """K-fold cross-validation over contiguous blocks of rows, and the refit.

    Attributes
    ----------
    lambdas : ndarray of shape (n_lambdas,)
        Penalties, decreasing (the grid of the full-data ``lambda_max``).
    fold_edges : ndarray of shape (n_folds + 1,), int64
        Fold ``k`` holds out rows ``fold_edges[k]:fold_edges[k + 1]``.
    fold_loglik : ndarray of shape (n_folds, n_lambdas)
        Held-out Poisson log-likelihood per row (``-poisson_nll`` on the
        held-out rows, constants included) of the path fitted on the other
        folds.
    null_loglik : ndarray of shape (n_folds,)
        The same for the constant-rate model (intercept only) fitted on the
        same training rows.
    gain_mean, gain_se : ndarray of shape (n_lambdas,)
        Held-out gain over the constant-rate model, ``fold_loglik -
        null_loglik[:, None]`` (nats per row), averaged over folds, and its
        standard error (``std(ddof=1) / sqrt(n_folds)``).  The gain removes
        the fold-to-fold variation of the baseline rate, which would
        otherwise dominate the standard error (on the real recording the
        folds' log-likelihoods differ by about 0.2 nats per frame, the
        penalties by 0.01 to 0.1).
    index_min, index_1se : int
        ``index_min`` maximises ``gain_mean`` (equivalently ``loglik_mean``);
        ``index_1se`` is the largest penalty whose ``gain_mean`` is within
        ``gain_se[index_min]`` of that maximum.
    rule : str
        ``"min"`` or ``"1se"``: which one is chosen.
    path : LassoPath
        The full-data path over ``lambdas`` (the refit is its chosen entry).

    The chosen index, penalties and refit (``index_chosen``, ``lambda_min``,
    ``lambda_1se``, ``lambda_chosen``, ``weights``, ``intercept``) and
    ``loglik_mean`` are derived from these, not stored.
    """

    lambdas: np.ndarray
    fold_edges: np.ndarray
    fold_loglik: np.ndarray
    null_loglik: np.ndarray
    gain_mean: np.ndarray
    gain_se: np.ndarray
    index_min: int
    index_1se: int
    rule: str
    path: LassoPath

    @property
    def index_chosen(self):
        """Index of the chosen penalty (:func:`chosen_index`)."""
        return chosen_index(self.index_min, self.index_1se, self.rule)

    @property
    def lambda_min(self):
        return float(self.lambdas[self.index_min])

    @property
    def lambda_1se(self):
        return float(self.lambdas[self.index_1se])

    @property
    def lambda_chosen(self):
        return float(self.lambdas[self.index_chosen])

    @property
    def weights(self):
        """Full-data fit at ``lambda_chosen``, shape (n_pixels,)."""
        return self.path.weights[self.index_chosen]

    @property
    def intercept(self):
        return float(self.path.intercepts[self.index_chosen])

    @property
    def loglik_mean(self):
        """``fold_loglik.mean(axis=0)``, shape (n_lambdas,)."""
        return self.fold_loglik.mean(axis=0)

    def _pack_field(self, name, kind, value):
        """The nested path is stored as its own arrays, keys prefixed ``path_``."""
        if name == "path":
            return {"path_" + key: array for key, array in value.to_npz_dict().items()}
        return super()._pack_field(name, kind, value)

    @classmethod
    def _unpack_field(cls, name, kind, npz):
        """Inverse of :meth:`_pack_field`."""
        if name == "path":
            prefix = "path_"
            return LassoPath.from_npz({key[len(prefix):]: npz[key] for key in npz
                                       if key.startswith(prefix)})
        return super()._unpack_field(name, kind, npz)


@dataclass(frozen=True)
class PenaltyChoice(NpzMixin):
    """Penalty chosen from held-out log-likelihood gains.

    Attributes
    ----------
    gain_mean, gain_se : ndarray of shape (n_lambdas,)
        Mean over folds of the held-out gain and its standard error
        (``std(ddof=1) / sqrt(n_folds)``).
    index_min : int
        Index of the largest ``gain_mean``.
    index_1se : int
        Smallest index (largest penalty, the grid being decreasing) whose
        ``gain_mean`` is at least ``gain_mean[index_min] - gain_se[index_min]``.
    """

    gain_mean: np.ndarray
    gain_se: np.ndarray
    index_min: int
    index_1se: int


def chosen_index(index_min, index_1se, rule):
    """The index a selection rule picks: ``index_1se`` for ``"1se"``, else ``index_min``."""
    return index_1se if rule == "1se" else index_min


def choose_penalty(fold_gain):
    """``lambda_min`` and ``lambda_1se`` indices from per-fold held-out gains.

    Parameters
    ----------
    fold_gain : ndarray of shape (n_folds, n_lambdas)
        Held-out log-likelihood gain over a constant-rate model, per fold
        and penalty, penalties in decreasing order (see :class:`LassoCV`).
        Gains of independent models may be summed first (e.g. over lags).

    Returns
    -------
    PenaltyChoice

    Raises
    ------
    InputError
        If ``fold_gain`` is not finite, 2-D, with at least 2 folds.
    """
    fold_gain = as_float_array(fold_gain, "fold_gain", 2)
    n_folds = fold_gain.shape[0]
    if n_folds < 2 or fold_gain.shape[1] < 1:
        raise InputError("fold_gain",
                         f"needs at least 2 folds and 1 penalty, got shape {fold_gain.shape}")
    gain_mean = fold_gain.mean(axis=0)
    gain_se = fold_gain.std(axis=0, ddof=1) / math.sqrt(n_folds)
    index_min = int(np.argmax(gain_mean))
    threshold = gain_mean[index_min] - gain_se[index_min]
    index_1se = int(np.flatnonzero(gain_mean >= threshold)[0])
    return PenaltyChoice(gain_mean=gain_mean, gain_se=gain_se, index_min=index_min,
                         index_1se=index_1se)


def contiguous_folds(n_rows, n_folds):
    """Row boundaries of ``n_folds`` contiguous, nearly equal blocks.

    Parameters
    ----------
    n_rows : int
    n_folds : int
        ``2 <= n_folds <= n_rows // 2`` (every training and held-out set
        keeps at least two rows).

    Returns
    -------
    fold_edges : ndarray of shape (n_folds + 1,), int64
        Fold ``k`` is rows ``fold_edges[k]:fold_edges[k + 1]``.
    """
    n_folds = as_int(n_folds, "n_folds", minimum=2)
    if n_folds > n_rows // 2:
        raise InputError(
            "n_folds",
            f"{n_folds} folds need at least {2 * n_folds} rows (2 per block), "
            f"the design has {n_rows}",
        )
    sizes = np.full(n_folds, n_rows // n_folds, dtype=np.int64)
    sizes[: n_rows % n_folds] += 1
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def _check_fold_edges(fold_edges, n_rows):
    """Explicit fold boundaries: int64, 0 ... n_rows, each block at least one row."""
    edges = np.asarray(fold_edges)
    if (edges.ndim != 1 or edges.size < 3 or not np.issubdtype(edges.dtype, np.integer)
            or edges[0] != 0 or edges[-1] != n_rows or np.any(np.diff(edges) < 1)):
        raise InputError(
            "fold_edges",
            f"must be increasing integers from 0 to {n_rows} (at least 2 folds), "
            f"got {edges.tolist()}",
        )
    return edges.astype(np.int64)


def lasso_cv(design, counts, durations, *, n_folds=5, n_lambdas=10,
             lambda_min_ratio=DEFAULT_LAMBDA_MIN_RATIO, lambdas=None, rule="1se", tol=1e-7,
             max_iter=100, fold_edges=None):
    """Choose the penalty by k-fold cross-validation over contiguous blocks of rows.

    The rows are split into ``n_folds`` contiguous blocks (never shuffled:
    the stimulus is a time series, and neighbouring frames are not
    independent).  For each block, the path over the full-data grid is
    fitted on the other blocks and scored by the held-out Poisson
    log-likelihood per row, and by its gain over a constant-rate model fitted
    on the same rows (the selection uses the gain; see :class:`LassoCV`).
    Then the full data are fitted over the same grid and the fit at the
    chosen penalty is returned.

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows,)
    durations : ndarray of shape (n_rows,)
    n_folds : int
        ``2 <= n_folds <= n_rows // 2``.
    n_lambdas, lambda_min_ratio, lambdas, tol, max_iter
        As in :func:`lasso_path`.
    rule : {"1se", "min"}
        ``"1se"``: the largest penalty within one standard error of the best
        mean held-out log-likelihood (sparser, the glmnet convention);
        ``"min"``: the best mean.
    fold_edges : array_like of int of shape (n_folds + 1,), optional
        Explicit contiguous blocks instead of :func:`contiguous_folds`:
        increasing row boundaries from 0 to ``n_rows`` (e.g. the same blocks of
        frames for designs at several lags); ``n_folds`` is then ignored.

    Returns
    -------
    LassoCV

    Raises
    ------
    InputError
        Bad data or options, more folds than blocks of two rows, or a
        training set without spikes.
    FitError
        A path did not converge.
    """
    design, counts, durations = _check_data(design, counts, durations)
    if rule not in RULES:
        raise InputError("rule", f"must be '1se' or 'min', got {rule!r}")
    n_rows = design.shape[0]
    if fold_edges is None:
        fold_edges = contiguous_folds(n_rows, n_folds)
    else:
        fold_edges = _check_fold_edges(fold_edges, n_rows)
    full = lasso_path(design, counts, durations, n_lambdas=n_lambdas,
                      lambda_min_ratio=lambda_min_ratio, lambdas=lambdas, tol=tol,
                      max_iter=max_iter)
    grid = full.lambdas
    n_folds = fold_edges.size - 1
    fold_loglik = np.empty((n_folds, grid.size))
    null_loglik = np.empty(n_folds)
    for fold in range(n_folds):
        start, stop = fold_edges[fold], fold_edges[fold + 1]
        train = np.r_[0:start, stop:n_rows]
        if counts[train].sum() <= 0:
            raise InputError("n_folds", f"fold {fold}: the training rows contain no spikes (every "
                             "spike is in its held-out block: too few spikes, or too few "
                             "spread out, for cross-validation)")
        fold_path = lasso_path(design[train], counts[train], durations[train], lambdas=grid,
                               tol=tol, max_iter=max_iter)
        held_out = PoissonProblem.from_checked(design[start:stop], counts[start:stop],
                                               durations[start:stop])
        for index in range(grid.size):
            fold_loglik[fold, index] = -held_out.nll(fold_path.weights[index],
                                                     fold_path.intercepts[index])
        null_intercept = math.log(counts[train].sum() / durations[train].sum())
        null_loglik[fold] = -held_out.nll(np.zeros(design.shape[1]), null_intercept)
    choice = choose_penalty(fold_loglik - null_loglik[:, None])
    return LassoCV(
        lambdas=grid, fold_edges=fold_edges, fold_loglik=fold_loglik,
        null_loglik=null_loglik, gain_mean=choice.gain_mean, gain_se=choice.gain_se,
        index_min=choice.index_min, index_1se=choice.index_1se, rule=rule, path=full,
    )


# ----------------------------------------------------------------------------
# Many neurons, one design


@dataclass(frozen=True)
class PopulationLassoPath(NpzMixin):
    """Lasso paths of many neurons that share one design.

    Attributes
    ----------
    lambdas : ndarray of shape (n_neurons, n_lambdas)
        Each neuron's penalties, decreasing.
    weights : ndarray of shape (n_neurons, n_lambdas, n_pixels)
    intercepts : ndarray of shape (n_neurons, n_lambdas)
    n_iter : ndarray of shape (n_neurons, n_lambdas), int64
        Outer iterations per penalty (shared-metric quasi-Newton steps plus
        any exact Newton steps of the hand-over).
    converged : ndarray of shape (n_neurons, n_lambdas), bool
    kkt_violation : ndarray of shape (n_neurons, n_lambdas)
    lambda_max : ndarray of shape (n_neurons,)
    tol : float
        Convergence: ``kkt_violation <= tol * max(lambda_max, lambdas[:, 0])``.
    """

    lambdas: np.ndarray
    weights: np.ndarray
    intercepts: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    kkt_violation: np.ndarray
    lambda_max: np.ndarray
    tol: float

    def neuron(self, index):
        """The path of one neuron.

        Parameters
        ----------
        index : int

        Returns
        -------
        LassoPath
            With ``objective`` set to NaN (not computed for populations).
        """
        return LassoPath(
            lambdas=self.lambdas[index], weights=self.weights[index],
            intercepts=self.intercepts[index],
            objective=np.full(self.lambdas.shape[1], np.nan), n_iter=self.n_iter[index],
            converged=self.converged[index], kkt_violation=self.kkt_violation[index],
            lambda_max=float(self.lambda_max[index]), tol=self.tol,
        )

def _population_lambdas(lambdas, lambda_max_values, n_lambdas, lambda_min_ratio):
    """Per-neuron decreasing grids, shape (n_neurons, n_lambdas)."""
    n_neurons = lambda_max_values.shape[0]
    if lambdas is None:
        return np.stack([lambda_grid(value, n_lambdas, lambda_min_ratio)
                         for value in lambda_max_values])
    lambdas = np.asarray(lambdas, dtype=np.float64)
    if lambdas.ndim == 1:
        return np.tile(_check_lambdas(lambdas), (n_neurons, 1))
    if lambdas.ndim != 2 or lambdas.shape[0] != n_neurons:
        raise InputError(
            "lambdas",
            f"expected shape (n_lambdas,) or ({n_neurons}, n_lambdas), got {lambdas.shape}",
        )
    return np.stack([_check_lambdas(row, f"lambdas row {index}")
                     for index, row in enumerate(lambdas)])


def lasso_path_population(design, counts, durations, *, n_lambdas=10,
                          lambda_min_ratio=DEFAULT_LAMBDA_MIN_RATIO, lambdas=None, tol=1e-7,
                          max_iter=100, max_quasi_newton=30):
    """Lasso paths of many neurons sharing one design, fitted together.

    The inner loops are matrix-matrix products with the shared design (see
    the module docstring, "Algorithms"); each neuron keeps its own
    penalties, working set, line search and convergence test, and neurons
    that have converged at a penalty drop out of the products.  The result
    equals :func:`lasso_path` per neuron to within the KKT tolerance.

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows, n_neurons)
        Every neuron needs at least one spike.
    durations : ndarray of shape (n_rows,)
    n_lambdas, lambda_min_ratio
        Default grids, per neuron from its own ``lambda_max``.
    lambdas : array_like of shape (n_lambdas,) or (n_neurons, n_lambdas), optional
        Explicit penalties, shared or per neuron.
    tol : float
        As in :func:`lasso_path` (per neuron, with its own ``lambda_max``).
    max_iter : int
        Exact Newton steps allowed per penalty for a neuron handed over
        after ``max_quasi_newton`` shared-metric iterations (this happens
        when the shared metric is a poor model of the neuron's Hessian,
        e.g. with fewer rows than pixels; such neurons are finished one at
        a time with :func:`lasso_path`'s solver).
    max_quasi_newton : int
        Shared-metric iterations per penalty before that hand-over.

    Returns
    -------
    PopulationLassoPath

    Raises
    ------
    InputError
        Bad data or options.
    FitError
        Some neuron did not converge at some penalty.
    """
    design, counts, durations = _check_data(design, counts, durations, counts_ndim=2)
    tol = as_float(tol, "tol", minimum=0.0, strict=True)
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    max_quasi_newton = as_int(max_quasi_newton, "max_quasi_newton", minimum=1)
    n_rows, n_pixels = design.shape
    n_neurons = counts.shape[1]
    centre = design.mean(axis=0)
    centred = design - centre
    usable = _lasso_kernels.varying_columns(design)
    centred[:, ~usable] = 0.0
    gram = centred.T @ centred / n_rows
    counts_rows = np.ascontiguousarray(counts.T)
    counts_design = counts_rows @ centred / n_rows

    # Start: zero weights, best intercepts; lambda_max from the first gradient.
    intercepts = np.log(counts_rows.sum(axis=1) / durations.sum())
    weights = np.zeros((n_neurons, n_pixels))
    eta = np.repeat(intercepts[:, None], n_rows, axis=1)
    residual_all = np.empty_like(eta)
    data_objective = np.empty(n_neurons)
    grad_intercept_all = np.empty(n_neurons)
    scale_all = np.empty(n_neurons)
    _lasso_kernels.population_start(eta, counts_rows, durations, residual_all, data_objective,
                                    grad_intercept_all, scale_all)
    gradient_start = residual_all @ centred / n_rows
    lambda_max_values = np.abs(gradient_start).max(axis=1)
    grids = _population_lambdas(lambdas, lambda_max_values, n_lambdas, lambda_min_ratio)
    n_grid = grids.shape[1]
    scale_tol = tol * np.maximum(lambda_max_values, grids[:, 0])

    out_weights = np.zeros((n_neurons, n_grid, n_pixels))
    out_intercepts = np.zeros((n_neurons, n_grid))
    out_iter = np.zeros((n_neurons, n_grid), dtype=np.int64)
    out_kkt = np.zeros((n_neurons, n_grid))
    out_converged = np.zeros((n_neurons, n_grid), dtype=bool)

    residual_buffer = None
    step_buffer = np.empty((n_neurons, n_rows))
    working = np.zeros((n_neurons, n_pixels), dtype=bool)
    centred_t = None
    previous = np.maximum(lambda_max_values, grids[:, 0])
    gradient_last = gradient_start
    for index_lambda in range(n_grid):
        lam_all = grids[:, index_lambda]
        # Sequential strong rule plus the ever-active set.
        working |= usable & ((weights != 0.0)
                             | (np.abs(gradient_last) >= (2.0 * lam_all - previous)[:, None]))
        todo = np.arange(n_neurons, dtype=np.int64)
        n_iter = np.zeros(n_neurons, dtype=np.int64)
        while todo.size:
            n_todo = todo.size
            if n_todo == n_neurons:
                residual = residual_all
            else:
                if residual_buffer is None:
                    residual_buffer = np.empty((n_neurons, n_rows))
                residual = residual_buffer[:n_todo]
                _lasso_kernels.gather_rows(residual_all, todo, residual)
            scale = scale_all[todo]
            grad_intercept = grad_intercept_all[todo]
            gradient = residual @ centred
            gradient /= n_rows
            lam = lam_all[todo]
            gradient_last[todo] = gradient
            violation = np.empty(n_todo)
            _lasso_kernels.kkt_violation_rows(gradient, grad_intercept, weights, lam, todo,
                                              violation)
            converged = violation <= scale_tol[todo]
            slow = ~converged & (n_iter[todo] >= max_quasi_newton)
            if np.any(slow):
                # Rare (p > n, very strong modulation): finish with exact Newton steps.
                if centred_t is None:
                    centred_t = np.ascontiguousarray(centred.T)
                for neuron in todo[slow]:
                    violation_neuron, steps = _finish_newton(
                        centred_t, counts_rows[neuron], durations, lam_all[neuron],
                        previous[neuron], usable, weights, intercepts, neuron,
                        scale_tol[neuron], max_iter)
                    n_iter[neuron] += steps
                    converged[todo == neuron] = violation_neuron <= scale_tol[neuron]
                    violation[todo == neuron] = violation_neuron
                    eta[neuron] = centred @ weights[neuron] + intercepts[neuron]
                    _lasso_kernels.population_start(
                        eta[neuron:neuron + 1], counts_rows[neuron:neuron + 1], durations,
                        residual_all[neuron:neuron + 1], data_objective[neuron:neuron + 1],
                        grad_intercept_all[neuron:neuron + 1], scale_all[neuron:neuron + 1])
            done = converged | slow
            if np.any(done):
                finished = todo[done]
                out_kkt[finished, index_lambda] = violation[done]
                out_converged[finished, index_lambda] = converged[done]
                keep = ~done
                todo = todo[keep]
                if not todo.size:
                    break
                gradient = gradient[keep]
                grad_intercept = grad_intercept[keep]
                scale = scale[keep]
                violation = violation[keep]
                lam = lam[keep]
            n_todo = todo.size
            working[todo] |= usable & (np.abs(gradient) > lam[:, None])
            coupling = gradient + counts_design[todo]
            inner_tol = np.maximum(0.5 * scale_tol[todo], 1e-3 * violation)
            new_weights = np.empty((n_todo, n_pixels))
            intercept_step = np.empty(n_todo)
            decrease = np.empty(n_todo)
            _lasso_kernels.population_directions(
                gram, scale, coupling, gradient, grad_intercept, weights, lam, working, todo,
                inner_tol, _MAX_SWEEPS, new_weights, intercept_step, decrease)
            direction = new_weights - weights[todo]
            moved = np.flatnonzero(np.any(direction != 0.0, axis=0))
            step_eta = step_buffer[:n_todo]
            if moved.size == n_pixels:
                np.matmul(direction, centred.T, out=step_eta)
            elif moved.size:
                np.matmul(direction[:, moved], centred[:, moved].T, out=step_eta)
            else:
                step_eta[:] = 0.0
            accepted = np.empty(n_todo, dtype=bool)
            _lasso_kernels.population_line_search(
                eta, residual_all, counts_rows, durations, weights, intercepts, data_objective,
                grad_intercept_all, scale_all, todo, step_eta, new_weights, intercept_step,
                decrease, lam, accepted)
            n_iter[todo] += 1
            if not np.all(accepted):
                # No descent along the quasi-Newton direction: hand over to Newton.
                n_iter[todo[~accepted]] = max_quasi_newton
        out_weights[:, index_lambda] = weights
        out_intercepts[:, index_lambda] = intercepts - weights @ centre
        out_iter[:, index_lambda] = n_iter
        previous = lam_all
    bad = ~out_converged
    if np.any(bad):
        neurons, penalties = np.nonzero(bad)
        details = ", ".join(
            f"neuron {n} lam={grids[n, k]:.4g} (KKT {out_kkt[n, k]:.2e})"
            for n, k in zip(neurons[:5], penalties[:5]))
        raise FitError(
            f"lasso_path_population: {bad.sum()} (neuron, penalty) pairs did not reach the "
            f"KKT tolerance {tol} * lambda_max: {details}; raise max_iter or tol"
        )
    return PopulationLassoPath(
        lambdas=grids, weights=out_weights, intercepts=out_intercepts, n_iter=out_iter,
        converged=out_converged, kkt_violation=out_kkt, lambda_max=lambda_max_values, tol=tol,
    )


def _finish_newton(centred_t, counts, durations, lam, previous, usable, weights, intercepts,
                   neuron, tol_abs, max_newton):
    """Exact proximal Newton steps for one neuron of a population, in place.

    Updates ``weights[neuron]`` and ``intercepts[neuron]`` (centred design);
    the caller recomputes the neuron's linear predictor.

    Returns
    -------
    violation : float
    n_steps : int
    """
    n_pixels = centred_t.shape[0]
    new_weights = np.zeros((1, n_pixels))
    new_intercept = np.zeros(1)
    n_steps = np.zeros(1, dtype=np.int64)
    violation = np.zeros(1)
    converged = np.zeros(1, dtype=bool)
    _lasso_kernels.path_newton_cd(
        centred_t, counts, durations, np.array([lam]), previous, usable,
        weights[neuron].copy(), float(intercepts[neuron]), tol_abs, max_newton, _MAX_SWEEPS,
        new_weights, new_intercept, n_steps, violation, converged)
    weights[neuron] = new_weights[0]
    intercepts[neuron] = new_intercept[0]
    return float(violation[0]), int(n_steps[0])


# ----------------------------------------------------------------------------
# One penalty, three backends


@dataclass(frozen=True)
class LassoFit(NpzMixin):
    """A lasso fit at one penalty.

    Attributes
    ----------
    lam : float
    weights : ndarray of shape (n_pixels,)
    intercept : float
    backend : str
    objective : float
        ``poisson_nll + lam * |weights|_1`` (this module's objective, whatever
        the backend minimised).
    kkt_violation : float
        Of this module's objective: 0 at its exact minimum; how far another
        backend's answer is from it.
    """

    lam: float
    weights: np.ndarray
    intercept: float
    backend: str
    objective: float
    kkt_violation: float

def _sklearn_fit(design, counts, durations, lam, tol, max_iter):
    """Gaussian lasso on rates, mapped to the Poisson weights to first order."""
    from sklearn.linear_model import Lasso

    rates = counts / durations
    mean_duration = float(durations.mean())
    model = Lasso(alpha=lam / mean_duration, fit_intercept=True, tol=tol, max_iter=max_iter)
    model.fit(design, rates)
    centre = design.mean(axis=0)
    rate_at_centre = float(model.intercept_ + centre @ model.coef_)
    if rate_at_centre <= 0:
        raise FitError(
            f"sklearn backend: the Gaussian fit predicts a non-positive rate "
            f"({rate_at_centre:.3g} /s) at the mean stimulus; use backend='sparsefield'"
        )
    weights = model.coef_ / rate_at_centre
    intercept = math.log(rate_at_centre) - centre @ weights
    return weights, intercept


def fit_lasso(design, counts, durations, lam, *, backend="sparsefield", tol=None,
              max_iter=None):
    """Lasso fit at one penalty with a choice of solver.

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows,)
    durations : ndarray of shape (n_rows,)
    lam : float
        Penalty of this module's objective (> 0).
    backend : {"sparsefield", "pyglmnet", "sklearn"}
        ``"sparsefield"``: :func:`lasso_path` at ``[lam]`` (exact).
        ``"pyglmnet"``: pyglmnet 1.1 through
        :func:`sparsefield.rf.pyglmnet_compat.fit_pyglmnet` with
        ``reg_lambda = lam * learning_rate``; it differs by its linearised
        link above ``eta = 2`` and by ignoring the variation of
        ``durations`` (no offset).
        ``"sklearn"``: ``sklearn.linear_model.Lasso`` (Gaussian loss) on
        ``rates = counts / durations`` with ``alpha = lam / mean(durations)``;
        its coefficients are divided by the fitted rate at the mean stimulus
        to be in log-rate units.  This matches the Poisson lasso only to
        first order in the weights (small modulation); cruder but fast.
    tol, max_iter : optional
        Passed to the backend (``tol`` is the KKT tolerance for
        ``"sparsefield"``, pyglmnet's relative-change tolerance, sklearn's
        duality-gap tolerance); backend defaults when None.

    Returns
    -------
    LassoFit

    Raises
    ------
    InputError
        Bad data, ``lam <= 0`` or an unknown backend.
    FitError
        The backend did not converge.
    """
    design, counts, durations = _check_data(design, counts, durations)
    lam = as_float(lam, "lam", minimum=0.0, strict=True)
    if backend == "sparsefield":
        path = lasso_path(design, counts, durations, lambdas=[lam],
                          tol=1e-7 if tol is None else tol,
                          max_iter=100 if max_iter is None else max_iter)
        weights, intercept = path.weights[0], float(path.intercepts[0])
    elif backend == "pyglmnet":
        from sparsefield.rf.pyglmnet_compat import fit_pyglmnet

        options = {}
        if tol is not None:
            options["tol"] = tol
        if max_iter is not None:
            options["max_iter"] = max_iter
        weights, intercept, _ = fit_pyglmnet(design, counts, durations, lam, **options)
    elif backend == "sklearn":
        weights, intercept = _sklearn_fit(design, counts, durations, lam,
                                          1e-6 if tol is None else tol,
                                          10_000 if max_iter is None else max_iter)
    else:
        raise InputError("backend", f"must be one of {BACKENDS}, got {backend!r}")
    problem = PoissonProblem.from_checked(design, counts, durations)
    nll, gradient, grad_intercept = problem.nll_grad(weights, intercept)
    # A constant pixel's weight is pinned at 0 and its gradient is its value times
    # grad_intercept, which the intercept's condition already covers.
    gradient[~_lasso_kernels.varying_columns(design)] = 0.0
    violation = float(_lasso_kernels.kkt_violation(
        gradient, grad_intercept, np.ascontiguousarray(weights, dtype=np.float64), lam))
    return LassoFit(
        lam=lam, weights=np.asarray(weights, dtype=np.float64), intercept=float(intercept),
        backend=backend, objective=float(nll + lam * np.abs(weights).sum()),
        kkt_violation=violation,
    )


__all__ = [
    "BACKENDS", "DEFAULT_LAMBDA_MIN_RATIO", "LassoCV", "LassoFit", "LassoPath",
    "PenaltyChoice", "PopulationLassoPath", "RULES", "choose_penalty", "chosen_index", "contiguous_folds", "fit_lasso",
    "lambda_grid", "lambda_max",
    "lasso_cv", "lasso_path", "lasso_path_population",
]
