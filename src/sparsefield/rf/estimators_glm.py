r"""scikit-learn estimators over the Poisson receptive-field fits: conventions, the GLM.

Thin classes in the scikit-learn convention (``__init__`` only stores its
arguments; ``get_params``/``set_params``; fitted attributes end in ``_``) that
call this package's functions, which the workflow keeps calling directly (the
lasso classes are in :mod:`sparsefield.rf.estimators_lasso`; all are exported
lazily by :mod:`sparsefield.rf`):

================================  ===========================================================
estimator                         function
================================  ===========================================================
:class:`PoissonGLM`               :func:`fit_ridge` (Newton on :mod:`sparsefield.rf.poisson`)
``PoissonLasso``                  :func:`sparsefield.rf.lasso_path.lasso_path` at one penalty
``PoissonLassoCV``                :func:`sparsefield.rf.lasso_cv.lasso_cv`
``PopulationPoissonLassoCV``      :func:`sparsefield.rf.units_lasso.fit_lasso_units` at lag 0
================================  ===========================================================

Data
----
``X`` (n_samples, n_features) holds one design row per frame (e.g.
:func:`sparsefield.rf.design.lagged_design`), ``y`` (n_samples,) the spike counts
(non-negative; (n_samples, n_units) for the population), ``exposure``
(n_samples,) the frame durations in seconds (default: ones).  The model is

.. math::

    y_t \sim \mathrm{Poisson}(\mu_t), \qquad
    \mu_t = \mathrm{exposure}_t \exp(X_t \cdot \mathrm{coef\_} + \mathrm{intercept\_}),

the objective of :mod:`sparsefield.rf.poisson` (the **mean** negative
log-likelihood over samples), with the penalty of each class.  ``predict(X,
exposure=None)`` returns the expected counts ``mu``.

Score
-----
``score(X, y, exposure=None)`` is the **mean over samples of the Poisson
log-likelihood, the** ``-log(y!)`` **term included**:
``mean_t [y_t log mu_t - mu_t - log(y_t!)]`` = ``-sparsefield.rf.poisson.poisson_nll``
(the ``fold_loglik`` of :class:`sparsefield.rf.lasso_cv.LassoCV`), in nats per
sample; higher is better, so :class:`sklearn.model_selection.GridSearchCV`
maximises it.  For the population, the mean over units of that.  It is not
scikit-learn's R² (nor the D² of :class:`sklearn.linear_model.PoissonRegressor`).

Exposure in cross-validation: scikit-learn hands fit parameters
(``GridSearchCV(...).fit(X, y, exposure=e)``) to ``fit`` only, and scores the
held-out rows with ``exposure`` = ones.  To score with the held-out rows'
exposure too, turn on metadata routing
(``sklearn.set_config(enable_metadata_routing=True)``) and request it:
``PoissonGLM().set_fit_request(exposure=True).set_score_request(exposure=True)``.
"""


from collections.abc import Callable
from typing import Any, Self

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from sparsefield._checks import as_float, as_float_array, as_int
from sparsefield.errors import FitError, InputError
from sparsefield.rf.poisson import PoissonProblem, check_data

__all__ = ["PoissonGLM", "PoissonRegressorBase", "RidgeProblem", "check_choice",
           "check_exposure", "damped_newton", "fit_ridge", "newton_direction"]

Vector = NDArray[np.float64]


# ----------------------------------------------------------------------------
# Helpers


def check_choice(value: Any, name: str, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of ``allowed`` (a library constant), else InputError."""
    if not isinstance(value, str) or value not in allowed:
        raise InputError(name, f"must be one of {', '.join(allowed)}, got {value!r}")
    return value


def check_exposure(exposure: ArrayLike | None, n_samples: int) -> Vector:
    """Frame durations in seconds: ones when None, else finite and > 0.

    Returns
    -------
    exposure : ndarray of shape (n_samples,), float64
    """
    if exposure is None:
        return np.ones(n_samples)
    exposure = as_float_array(exposure, "exposure", 1, length=n_samples)
    if np.any(exposure <= 0):
        raise InputError("exposure", "must be positive (frame durations in seconds)")
    return exposure


# ----------------------------------------------------------------------------
# Ridge: damped Newton


#: Squared Newton decrement below which full Newton steps are taken without a line
#: search: there ``F`` decreases by about half of it, too little to compare with
#: ``F``'s rounding (1e-16 relative), and Newton converges quadratically.
_PURE_NEWTON = 1e-10


def newton_direction(hessian: NDArray[np.float64], gradient: Vector) -> Vector:
    """``-hessian^-1 gradient`` (Cholesky; the minimum-norm solution when singular).

    Parameters
    ----------
    hessian : ndarray of shape (n, n)
        Symmetric, positive semi-definite.
    gradient : ndarray of shape (n,)

    Returns
    -------
    direction : ndarray of shape (n,)
    """
    try:
        return -scipy.linalg.cho_solve(scipy.linalg.cho_factor(hessian), gradient)
    except np.linalg.LinAlgError:
        return -np.asarray(np.linalg.lstsq(hessian, gradient, rcond=None)[0], dtype=np.float64)


def damped_newton(value_grad: Callable[[Vector], tuple[float, Vector]],
                  hessian: Callable[[Vector], NDArray[np.float64]], start: Vector, tol: float,
                  max_iter: int, label: str) -> tuple[Vector, int]:
    """Minimise a smooth convex function by Newton steps with a backtracking line search.

    Armijo backtracking (sufficient decrease 1/4 of the predicted one) while the
    squared Newton decrement ``-gradient . direction`` exceeds 1e-10, full steps
    below; stops when the decrement is at most ``tol`` (``F - min F`` is about
    half its square, whatever the scale of the variables).

    Parameters
    ----------
    value_grad : callable
        ``theta (n,) -> (F, gradient (n,))``; ``inf`` where ``F`` overflows.
    hessian : callable
        ``theta (n,) -> (n, n)`` symmetric positive semi-definite.
    start : ndarray of shape (n,)
    tol : float
    max_iter : int
        Newton steps allowed.
    label : str
        What error messages call the fit.

    Returns
    -------
    theta : ndarray of shape (n,)
    n_iter : int
        Newton steps taken (0 when ``start`` already meets ``tol``).

    Raises
    ------
    FitError
        No convergence within ``max_iter`` steps, or no descent along a direction.
    """
    theta = start
    value, gradient = value_grad(theta)
    for n_iter in range(max_iter + 1):
        direction = newton_direction(hessian(theta), gradient)
        slope = float(gradient @ direction)
        if -slope <= tol**2:
            return theta, n_iter
        if n_iter == max_iter:
            break
        step = 1.0
        while True:
            trial = theta + step * direction
            trial_value, trial_gradient = value_grad(trial)
            # Near the optimum (pure Newton phase) the decrease is below rounding.
            if -slope <= _PURE_NEWTON or trial_value <= value + 0.25 * step * slope:
                break
            step *= 0.5
            if step < 1e-12:
                raise FitError(f"{label}: no descent along the Newton direction at step "
                               f"{n_iter + 1} (Newton decrement {np.sqrt(-slope):.2e}); "
                               f"loosen tol, now {tol:g}")
        theta, value, gradient = trial, trial_value, trial_gradient
    raise FitError(f"{label} did not converge in {max_iter} Newton steps (Newton decrement "
                   f"{np.sqrt(-slope):.2e} > tol {tol:g}); raise max_iter or tol")


class RidgeProblem:
    """``F(theta) = NLL(w, b) + alpha / 2 * |w|^2`` with ``theta = [w, b]``, and its derivatives.

    Parameters
    ----------
    problem : sparsefield.rf.poisson.PoissonProblem
        Checked data (the design centred, for conditioning).
    alpha : float
        ``>= 0``.
    """

    def __init__(self, problem: PoissonProblem, alpha: float) -> None:
        self.problem = problem
        self.alpha = alpha

    def value_grad(self, theta: Vector) -> tuple[float, Vector]:
        """``F`` and its gradient, shape (n_pixels + 1,)."""
        nll, gradient = self.problem.nll_grad_theta(theta)
        weights = theta[:-1]
        gradient[:-1] += self.alpha * weights
        return nll + 0.5 * self.alpha * float(weights @ weights), gradient

    def hessian(self, theta: Vector) -> NDArray[np.float64]:
        """``[X 1]' diag(mu) [X 1] / n + alpha I`` (no ``alpha`` on the intercept)."""
        design = self.problem.design
        n_rows, n_pixels = design.shape
        expected = self.problem.expected_counts(theta[:-1], theta[-1])
        weighted = design * expected[:, None]
        matrix = np.empty((n_pixels + 1, n_pixels + 1))
        matrix[:-1, :-1] = design.T @ weighted / n_rows
        matrix[:-1, -1] = matrix[-1, :-1] = weighted.sum(axis=0) / n_rows
        matrix[-1, -1] = expected.sum() / n_rows
        matrix[np.arange(n_pixels), np.arange(n_pixels)] += self.alpha
        return matrix


def fit_ridge(design: ArrayLike, counts: ArrayLike, durations: ArrayLike, alpha: float, *,
              tol: float = 1e-8, max_iter: int = 100) -> tuple[Vector, float, int]:
    r"""Poisson GLM with an L2 (ridge) penalty on the weights.

    Minimises ``F(w, b) = NLL(w, b) + alpha / 2 * |w|_2^2`` over weights ``w``
    and an unpenalised intercept ``b``, where ``NLL`` is
    :func:`sparsefield.rf.poisson.poisson_nll` (mean over rows, exp link,
    ``durations`` as exposure).  This is glum's
    ``GeneralizedLinearRegressor(family="poisson", alpha=alpha, l1_ratio=0)``
    fitted with ``offset=log(durations)`` (glum's ``deviance / 2n`` is the NLL
    up to a constant): the same ``alpha``, no rescaling.  ``alpha = 0`` is the
    maximum-likelihood fit of :func:`sparsefield.rf.ml.fit_ml` (one lag).

    :func:`damped_newton` on :class:`RidgeProblem` (the NLL and its gradient
    from :class:`sparsefield.rf.poisson.PoissonProblem`, the analytic Hessian),
    from zero weights and the intercept of the mean rate, with the design
    centred per column (the intercept is reported for the design as given).

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows,)
        Spike counts, >= 0, at least one spike.
    durations : ndarray of shape (n_rows,)
        Row durations in seconds, > 0.
    alpha : float
        ``>= 0`` (0: maximum likelihood).
    tol : float, default 1e-8
        Stop when the Newton decrement is at most ``tol``.
    max_iter : int, default 100
        Newton steps allowed.

    Returns
    -------
    weights : ndarray of shape (n_pixels,)
    intercept : float
    n_iter : int
        Newton steps taken (0 when the start already meets ``tol``).

    Raises
    ------
    InputError
        Bad data or options.
    FitError
        No convergence within ``max_iter`` steps, or no descent along a
        Newton direction.
    """
    design, counts, durations = check_data(design, counts, durations, require_spikes=True)
    alpha = as_float(alpha, "alpha", minimum=0.0)
    tol = as_float(tol, "tol", minimum=0.0, strict=True)
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    return _fit_ridge_checked(design, counts, durations, alpha, tol, max_iter)


def _fit_ridge_checked(design: NDArray[np.float64], counts: Vector, durations: Vector,
                       alpha: float, tol: float, max_iter: int) -> tuple[Vector, float, int]:
    """:func:`fit_ridge` on checked data and options: :func:`damped_newton` on the
    centred design, the intercept reported for the design as given.
    """
    centre = design.mean(axis=0)
    ridge = RidgeProblem(PoissonProblem.from_checked(design - centre, counts, durations), alpha)
    start = np.zeros(design.shape[1] + 1)
    start[-1] = np.log(counts.sum() / durations.sum())
    theta, n_iter = damped_newton(ridge.value_grad, ridge.hessian, start, tol, max_iter,
                                  f"ridge Poisson fit (alpha={alpha:g})")
    weights = theta[:-1]
    return weights, float(theta[-1] - centre @ weights), n_iter


# ----------------------------------------------------------------------------
# Shared behaviour


class PoissonRegressorBase(RegressorMixin, BaseEstimator):
    """Checks, ``predict`` and ``score`` shared by the Poisson estimators.

    Subclasses set ``coef_`` (n_features,) or (n_units, n_features) and
    ``intercept_`` (float or (n_units,)) in ``fit``.
    """

    #: Whether ``y`` is (n_samples, n_units) rather than (n_samples,).
    _population = False
    #: Fewest samples ``fit`` accepts (the solvers' own minimum).
    _min_samples = 1

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.positive_only = True
        if self._population:
            tags.target_tags.multi_output = True
            tags.target_tags.single_output = False
        return tags

    def _check_xy(self, X: ArrayLike, y: ArrayLike, exposure: ArrayLike | None, *,
                  reset: bool) -> tuple[NDArray[np.float64], NDArray[np.float64], Vector]:
        """X (n_samples, n_features) float64 C-contiguous, y counts, exposure."""
        design, counts = validate_data(self, X, y, reset=reset, y_numeric=True,
                                       dtype=np.float64, order="C",
                                       multi_output=self._population,
                                       ensure_min_samples=self._min_samples if reset else 1)
        if self._population and counts.ndim != 2:
            raise InputError("y", f"expected spike counts of shape (n_samples, n_units), got "
                                  f"shape {counts.shape}; use PoissonLassoCV for one unit")
        if np.any(counts < 0):
            raise InputError("y", "spike counts must be >= 0")
        return (design, np.ascontiguousarray(counts, dtype=np.float64),
                check_exposure(exposure, len(design)))

    def _units(self) -> tuple[NDArray[np.float64], Vector]:
        """(coef (n_units, n_features), intercepts (n_units,)) whatever the shape."""
        return np.atleast_2d(self.coef_), np.atleast_1d(self.intercept_)

    def predict(self, X: ArrayLike, exposure: ArrayLike | None = None) -> NDArray[np.float64]:
        """Expected spike counts.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
        exposure : array_like of shape (n_samples,), optional
            Frame durations in seconds; default ones.

        Returns
        -------
        mu : ndarray of shape (n_samples,) or (n_samples, n_units)
            ``exposure * exp(X @ coef_.T + intercept_)``.
        """
        check_is_fitted(self)
        design = validate_data(self, X, reset=False, dtype=np.float64, order="C")
        durations = check_exposure(exposure, len(design))
        problem = PoissonProblem.from_checked(design, np.zeros(len(design)), durations)
        coef, intercepts = self._units()
        mu = np.stack([problem.expected_counts(row, value)
                       for row, value in zip(coef, intercepts, strict=True)], axis=1)
        return mu if self._population else mu[:, 0]

    def score(self, X: ArrayLike, y: ArrayLike, exposure: ArrayLike | None = None) -> float:
        """Mean Poisson log-likelihood per sample, ``-log(y!)`` included (higher is better).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
        y : array_like of shape (n_samples,) or (n_samples, n_units)
            Spike counts, >= 0.
        exposure : array_like of shape (n_samples,), optional
            Frame durations in seconds; default ones.

        Returns
        -------
        loglik : float
            ``mean_t [y_t log mu_t - mu_t - log(y_t!)]`` =
            ``-sparsefield.rf.poisson.poisson_nll(coef_, intercept_, X, y, exposure)``
            (nats per sample); for a population, the mean of that over units.
        """
        check_is_fitted(self)
        X, y, exposure = self._check_xy(X, y, exposure, reset=False)
        coef, intercepts = self._units()
        counts = y.reshape(len(X), -1)
        return float(np.mean([
            -PoissonProblem.from_checked(X, np.ascontiguousarray(counts[:, unit]),
                                         exposure).nll(coef[unit], intercepts[unit])
            for unit in range(coef.shape[0])
        ]))


# ----------------------------------------------------------------------------
# One unit


class PoissonGLM(PoissonRegressorBase):
    """Poisson GLM (exp link, exposure) by maximum likelihood, with an optional L2 penalty.

    Minimises the mean Poisson NLL plus ``alpha / 2 * |coef_|^2`` (intercept
    not penalised; glum's ``alpha`` with ``l1_ratio=0``) by Newton's method,
    :func:`fit_ridge`.  With ``alpha=0`` this is the maximum-likelihood fit of
    :func:`sparsefield.rf.ml.fit_ml` at lag 0, solved to a tighter tolerance
    (the workflow's L-BFGS-B stops on a relative change of the objective, about
    1e-5 relative from the optimum in the weights; Newton here stops on the
    Newton decrement), so that every ``alpha`` of a grid search has the same
    solver.

    Parameters
    ----------
    alpha : float, default 0.0
        Ridge penalty, ``>= 0``.
    tol : float, default 1e-8
        Newton stops when the Newton decrement is at most ``tol``.
    max_iter : int, default 100
        Newton steps allowed.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
        For ``X`` as given (not centred).
    n_iter_ : int
        Newton steps (0 when the constant-rate start already is the optimum).
    n_features_in_ : int

    Notes
    -----
    ``check_estimator`` checks skipped (``expected_failed_checks`` in
    ``tests/test_estimators.py``), for every estimator of this module and of
    :mod:`sparsefield.rf.estimators_lasso`:

    ``check_regressors_train``
        asserts ``score > 0.5``, an R² threshold; ``score`` here is a mean
        log-likelihood (negative for counts), which that threshold does not
        apply to.  The rest of that check (bad lengths refused, list input,
        prediction shape) is tested in ``tests/test_estimators.py``.
    """

    def __init__(self, alpha: float = 0.0, *, tol: float = 1e-8, max_iter: int = 100) -> None:
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X: ArrayLike, y: ArrayLike, exposure: ArrayLike | None = None) -> Self:
        """Fit the GLM.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
        y : array_like of shape (n_samples,)
            Spike counts, >= 0, at least one spike.
        exposure : array_like of shape (n_samples,), optional
            Frame durations in seconds; default ones.

        Returns
        -------
        self
        """
        X, y, exposure = self._check_xy(X, y, exposure, reset=True)
        self.coef_, self.intercept_, self.n_iter_ = fit_ridge(
            X, y, exposure, self.alpha, tol=self.tol, max_iter=self.max_iter)
        return self
