r"""L1-regularised (lasso) Poisson receptive fields: the objective and one neuron's path.

The lasso is split by concept: this module (objective, penalty grid, ``lambda_max``,
one neuron's path, the data checks), :mod:`sparsefield.rf.lasso_cv` (cross-validation
and the choice of penalty), :mod:`sparsefield.rf.lasso_population` (many neurons
sharing one design), :mod:`sparsefield.rf.lasso_backends` (one penalty, with a choice
of solver) and :mod:`sparsefield.rf.lasso_lags` (a receptive field over frame lags).

Objective
---------
For one neuron, with ``design`` of shape (n_rows, n_pixels) (row ``t`` is the
stimulus paired with ``counts[t]``, e.g. from
:func:`sparsefield.rf.design.lagged_design`), ``counts`` and ``durations`` of
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
    :func:`sparsefield.rf.lasso_backends.fit_lasso_at_lambda` is
    ``sklearn.linear_model.Lasso`` (Gaussian loss) on the rates ``counts /
    durations``, mapped to this objective to first order in the weights (a
    cruder, faster stand-in).

Algorithm
---------
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
shared-metric proximal quasi-Newton of
:mod:`sparsefield.rf.lasso_population`, run for one neuron, needs 4 to 10
iterations per penalty, each two passes over the design, against three
Newton steps whose coordinate descent touches only the working set.  FISTA
with backtracking (centred design, unpenalised intercept), tried on the same
problem, needed 38 to 51 iterations per penalty (two passes over the design
each) to reach the KKT tolerance of 1e-7, and over 3000 at one penalty where
its momentum oscillated (no restart).  ``bench/rf_lasso.py`` has the timings
against glum, pyglmnet and scikit-learn.

Checked once
------------
The public functions of the lasso modules check their data once, at the boundary
(:func:`check_lasso_data`), and pass the checked arrays on: each takes
``check_input=True``, and a caller that holds checked arrays (float64, C-contiguous,
as :func:`check_lasso_data` returns them) passes ``check_input=False`` (scikit-learn's
convention).  Rows taken from checked arrays (a lag's pairs, a fold's training rows)
need only the lasso's own requirements, :func:`require_fittable`, which raises the
same messages at no cost when they hold.  Options (penalties, tolerances) are always
checked.

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
from typing import TypeAlias, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float, as_float_array, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import FitError, InputError
from sparsefield.rf import _lasso_kernels
from sparsefield.rf.poisson import PoissonProblem, check_data

#: Default ratio of the smallest to the largest penalty of a grid.
DEFAULT_LAMBDA_MIN_RATIO = 1e-2

#: Coordinate-descent sweeps allowed per Newton step (a safeguard).
MAX_SWEEPS = 10_000

Floats: TypeAlias = NDArray[np.float64]


# ----------------------------------------------------------------------------
# Validation


def check_lasso_data(design: ArrayLike, counts: ArrayLike, durations: ArrayLike, *,
                     counts_ndim: int = 1) -> tuple[Floats, Floats, Floats]:
    """:func:`sparsefield.rf.poisson.check_data` with the lasso's requirements.

    At least 2 rows and 1 pixel, and at least one spike per neuron.

    Parameters
    ----------
    design : array_like of shape (n_rows, n_pixels)
    counts : array_like of shape (n_rows,) or (n_rows, n_neurons)
    durations : array_like of shape (n_rows,)
    counts_ndim : {1, 2}, default 1

    Returns
    -------
    design : ndarray of shape (n_rows, n_pixels), float64, C-contiguous
    counts : ndarray of shape (n_rows,) or (n_rows, n_neurons), float64
    durations : ndarray of shape (n_rows,), float64

    Raises
    ------
    InputError
        As :func:`sparsefield.rf.poisson.check_data`.
    """
    return check_data(design, counts, durations, counts_ndim=counts_ndim, min_rows=2,
                      min_pixels=1, require_spikes=True)


def lasso_data(design: ArrayLike, counts: ArrayLike, durations: ArrayLike, check_input: bool,
               *, counts_ndim: int = 1) -> tuple[Floats, Floats, Floats]:
    """The data of a public lasso function: checked once, or as the caller checked them.

    Parameters
    ----------
    design, counts, durations : array_like
        As :func:`check_lasso_data` takes them.
    check_input : bool
        True: :func:`check_lasso_data`; False: the arrays are returned as they are, the
        caller having checked them (module docstring, "Checked once").
    counts_ndim : {1, 2}, default 1

    Returns
    -------
    design, counts, durations : ndarray
        As :func:`check_lasso_data` returns them.
    """
    if check_input:
        return check_lasso_data(design, counts, durations, counts_ndim=counts_ndim)
    return cast(Floats, design), cast(Floats, counts), cast(Floats, durations)


def require_fittable(design: Floats, counts: Floats, durations: Floats) -> None:
    """The lasso's requirements on rows taken from checked arrays.

    At least 2 rows and 1 pixel, and a spike in every column of ``counts``: the
    only conditions of :func:`check_lasso_data` that a subset of checked rows (a
    lag's pairs, a fold's training rows) can break.  Costs one sum of ``counts``
    when they hold; when one does not, raises exactly what
    :func:`check_lasso_data` raises.

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels), float64, C-contiguous
    counts : ndarray of shape (n_rows,) or (n_rows, n_neurons), float64
    durations : ndarray of shape (n_rows,), float64

    Raises
    ------
    InputError
        Too few rows or pixels, or a column of ``counts`` without spikes.
    """
    n_rows, n_pixels = design.shape
    if n_rows < 2 or n_pixels < 1 or np.any(np.atleast_1d(counts.sum(axis=0)) <= 0):
        check_lasso_data(design, counts, durations, counts_ndim=counts.ndim)


def check_lambdas(lambdas: ArrayLike, source: str = "lambdas") -> Floats:
    """Positive finite penalties, returned in decreasing order.

    Parameters
    ----------
    lambdas : array_like of shape (n_lambdas,)
    source : str
        What messages call them.

    Returns
    -------
    lambdas : ndarray of shape (n_lambdas,), float64, C-contiguous, decreasing

    Raises
    ------
    InputError
        An empty grid, or a penalty that is not finite and > 0.
    """
    lambdas = as_float_array(lambdas, source, 1, finite=False)
    if lambdas.size == 0:
        raise InputError(source, "is empty: give at least one penalty")
    if not np.all(np.isfinite(lambdas)) or np.any(lambdas <= 0):
        raise InputError(source, f"penalties must be finite and > 0, got {lambdas.tolist()}")
    return np.ascontiguousarray(np.sort(lambdas)[::-1])


def lambda_grid(lambda_max_value: float, n_lambdas: int = 10,
                lambda_min_ratio: float = DEFAULT_LAMBDA_MIN_RATIO) -> Floats:
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

    def __init__(self, design: Floats, counts: Floats, durations: Floats) -> None:
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


def lambda_max(design: ArrayLike, counts: ArrayLike, durations: ArrayLike, *,
               check_input: bool = True) -> float:
    """Smallest penalty at which every weight of the lasso is 0.

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows,)
    durations : ndarray of shape (n_rows,)
    check_input : bool, default True
        False: the data are already checked (module docstring, "Checked once").

    Returns
    -------
    lambda_max : float
        ``max_j |mean_t (mu_t - counts_t) design_tj|`` with
        ``mu_t = durations_t * sum(counts) / sum(durations)`` (constant pixels
        excluded).
    """
    return _Prepared(*lasso_data(design, counts, durations, check_input)).lambda_max


# ----------------------------------------------------------------------------
# Result containers


@dataclass(frozen=True)
class LassoPath(NpzMixin):
    """A lasso regularisation path for one neuron.

    Saved with ``sparsefield.io.save_npz(path, result.to_npz_dict())`` and rebuilt with
    ``LassoPath.from_npz(np.load(path, allow_pickle=False))`` (as every result
    container of the lasso; :class:`~sparsefield.rf.lasso_cv.LassoCV` stores its
    nested path under keys prefixed ``path_``).

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


def _path(prepared: _Prepared, lambdas: Floats, tol: float, max_iter: int
          ) -> tuple[Floats, Floats, NDArray[np.int64], Floats, NDArray[np.bool_], float]:
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
        prepared.intercept_start, tol * scale, max_iter, MAX_SWEEPS,
        weights, intercepts, n_iter, kkt, converged,
    )
    return weights, intercepts, n_iter, kkt, converged, scale


def _raise_unconverged(lambdas: Floats, kkt: Floats, converged: NDArray[np.bool_], scale: float,
                       tol: float, what: str = "lasso_path") -> None:
    if not np.all(converged):
        bad = np.flatnonzero(~converged)
        details = ", ".join(f"lam={lambdas[i]:.4g} (KKT {kkt[i]:.2e})" for i in bad[:5])
        raise FitError(
            f"{what}: did not reach KKT violation <= {tol * scale:.2e} at {bad.size} "
            f"penalt{'y' if bad.size == 1 else 'ies'}: {details}; raise max_iter or tol"
        )


def lasso_path(design: ArrayLike, counts: ArrayLike, durations: ArrayLike, *,
               n_lambdas: int = 10, lambda_min_ratio: float = DEFAULT_LAMBDA_MIN_RATIO,
               lambdas: ArrayLike | None = None, tol: float = 1e-7, max_iter: int = 100,
               check_input: bool = True) -> LassoPath:
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
    check_input : bool, default True
        False: the data are already checked (module docstring, "Checked once").

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
    design, counts, durations = lasso_data(design, counts, durations, check_input)
    tol = as_float(tol, "tol", minimum=0.0, strict=True)
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    prepared = _Prepared(design, counts, durations)
    if lambdas is None:
        lambdas = lambda_grid(prepared.lambda_max, n_lambdas, lambda_min_ratio)
    else:
        lambdas = check_lambdas(lambdas)
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


__all__ = [
    "DEFAULT_LAMBDA_MIN_RATIO", "LassoPath", "MAX_SWEEPS", "check_lambdas",
    "check_lasso_data", "lambda_grid", "lambda_max", "lasso_data", "lasso_path",
    "require_fittable",
]
