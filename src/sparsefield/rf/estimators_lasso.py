"""scikit-learn estimators over the Poisson lasso: one penalty, cross-validated, populations.

Conventions (data, ``exposure``, ``predict``, and ``score``: the mean Poisson
log-likelihood per sample, ``-log(y!)`` included) are those of
:mod:`sparsefield.rf.estimators_glm`.  The penalty ``alpha`` is the lasso's
``lam`` of :mod:`sparsefield.rf.lasso_path`: the objective is the **mean** Poisson
NLL plus ``alpha * |coef_|_1`` (intercept not penalised), glum's ``alpha`` with
``l1_ratio=1``.
"""

from typing import Self

import numpy as np
from numpy.typing import ArrayLike

from sparsefield._checks import as_float
from sparsefield.errors import InputError
from sparsefield.rf.estimators_glm import PoissonRegressorBase, check_choice
from sparsefield.rf.lasso_cv import RULES, lasso_cv
from sparsefield.rf.lasso_path import DEFAULT_LAMBDA_MIN_RATIO, lasso_path
from sparsefield.rf.units_lasso import UNIT_SOLVERS, fit_lasso_units

__all__ = ["PoissonLasso", "PoissonLassoCV", "PopulationPoissonLassoCV"]


class PoissonLasso(PoissonRegressorBase):
    r"""Poisson lasso at one penalty, with this package's solver.

    Minimises ``NLL + alpha * |coef_|_1`` with the **mean** NLL of
    :mod:`sparsefield.rf.lasso_path` (intercept not penalised): glum's
    ``GeneralizedLinearRegressor(family="poisson", alpha=alpha, l1_ratio=1)``
    with ``offset=log(exposure)``, the same ``alpha``.  Solved by
    :func:`sparsefield.rf.lasso_path.lasso_path` at ``lambdas=[alpha]`` (proximal
    Newton, as :func:`sparsefield.rf.lasso_backends.fit_lasso_at_lambda` does).

    Parameters
    ----------
    alpha : float, default 0.1
        Penalty, ``> 0``; every weight is 0 from ``lambda_max_`` up.
    tol : float, default 1e-7
        KKT tolerance relative to ``max(lambda_max, alpha)``.
    max_iter : int, default 100
        Newton steps allowed.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
    intercept_ : float
    n_iter_ : int
        Newton steps (0 when zero weights already are the solution).
    kkt_violation_ : float
    lambda_max_ : float
        Smallest penalty at which every weight is 0.
    n_features_in_ : int

    Notes
    -----
    ``check_estimator`` checks skipped: as
    :class:`~sparsefield.rf.estimators_glm.PoissonGLM`.  Needs at least 2
    samples and a spike.
    """

    _min_samples = 2

    def __init__(self, alpha: float = 0.1, *, tol: float = 1e-7, max_iter: int = 100) -> None:
        self.alpha = alpha
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X: ArrayLike, y: ArrayLike, exposure: ArrayLike | None = None) -> Self:
        """Fit the lasso at ``alpha``.

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
        alpha = as_float(self.alpha, "alpha", minimum=0.0, strict=True)
        path = lasso_path(X, y, exposure, lambdas=[alpha], tol=self.tol, max_iter=self.max_iter)
        self.coef_ = path.weights[0]
        self.intercept_ = float(path.intercepts[0])
        self.n_iter_ = int(path.n_iter[0])
        self.kkt_violation_ = float(path.kkt_violation[0])
        self.lambda_max_ = float(path.lambda_max)
        return self


class PoissonLassoCV(PoissonRegressorBase):
    """Poisson lasso with the penalty chosen by cross-validation over contiguous blocks.

    :func:`sparsefield.rf.lasso_cv.lasso_cv`: a decreasing log-spaced grid from
    ``lambda_max`` (or ``alphas``), ``n_folds`` contiguous blocks of samples
    (never shuffled; :func:`sparsefield.rf.lasso_cv.contiguous_folds`, the folds
    of :class:`sparsefield.model_selection.ContiguousSplit`), the held-out
    log-likelihood gain over a constant rate, the penalty by ``rule``, then
    the full-data path at the chosen penalty.  Objective and ``alpha`` scale
    as :class:`PoissonLasso`.

    Parameters
    ----------
    n_lambdas : int, default 10
    lambda_min_ratio : float, default ``DEFAULT_LAMBDA_MIN_RATIO`` (0.01)
        Smallest penalty of the grid relative to ``lambda_max``.
    alphas : array_like of shape (n_alphas,), optional
        Explicit penalties instead of the grid (fitted in decreasing order).
    n_folds : int, default 5
    rule : one of :data:`sparsefield.rf.lasso_cv.RULES`, default "1se"
        ``"1se"``: the largest penalty within one standard error of the best
        mean gain; ``"min"``: the best.
    tol : float, default 1e-7
    max_iter : int, default 100
        As in :class:`PoissonLasso`.

    Attributes
    ----------
    alphas_ : ndarray of shape (n_alphas,)
        The grid, decreasing.
    alpha_ : float
        The chosen penalty; ``alpha_min_`` and ``alpha_1se_`` both rules'.
    coef_ : ndarray of shape (n_features,)
        Full-data fit at ``alpha_``.
    intercept_ : float
    coef_path_ : ndarray of shape (n_alphas, n_features)
        Full-data fits along ``alphas_`` (``intercept_path_`` (n_alphas,)).
    cv_loglik_ : ndarray of shape (n_folds, n_alphas)
        Held-out log-likelihood per sample (``score``'s normalisation).
    cv_gain_mean_, cv_gain_se_ : ndarray of shape (n_alphas,)
        Held-out gain over a constant rate: mean over folds and standard error.
    fold_edges_ : ndarray of shape (n_folds + 1,), int64
    n_iter_ : int
        Newton steps of the full-data fit at ``alpha_``.
    cv_result_ : sparsefield.rf.lasso_cv.LassoCV
        The library's result, everything above included.
    n_features_in_ : int

    Notes
    -----
    ``check_estimator`` checks skipped: as
    :class:`~sparsefield.rf.estimators_glm.PoissonGLM`.  Needs at least
    ``2 * n_folds`` samples.
    """

    _min_samples = 2

    def __init__(self, *, n_lambdas: int = 10,
                 lambda_min_ratio: float = DEFAULT_LAMBDA_MIN_RATIO,
                 alphas: ArrayLike | None = None, n_folds: int = 5, rule: str = "1se",
                 tol: float = 1e-7, max_iter: int = 100) -> None:
        self.n_lambdas = n_lambdas
        self.lambda_min_ratio = lambda_min_ratio
        self.alphas = alphas
        self.n_folds = n_folds
        self.rule = rule
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X: ArrayLike, y: ArrayLike, exposure: ArrayLike | None = None) -> Self:
        """Cross-validate the penalty and fit the full data at it.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Rows in time order (folds are contiguous blocks).
        y : array_like of shape (n_samples,)
            Spike counts, >= 0; every training set needs a spike.
        exposure : array_like of shape (n_samples,), optional
            Frame durations in seconds; default ones.

        Returns
        -------
        self
        """
        X, y, exposure = self._check_xy(X, y, exposure, reset=True)
        cv = lasso_cv(X, y, exposure, n_folds=self.n_folds, n_lambdas=self.n_lambdas,
                      lambda_min_ratio=self.lambda_min_ratio, lambdas=self.alphas,
                      rule=check_choice(self.rule, "rule", RULES), tol=self.tol,
                      max_iter=self.max_iter)
        self.cv_result_ = cv
        self.alphas_ = cv.lambdas
        self.alpha_ = cv.lambda_chosen
        self.alpha_min_, self.alpha_1se_ = cv.lambda_min, cv.lambda_1se
        self.coef_ = cv.weights.copy()
        self.intercept_ = cv.intercept
        self.coef_path_ = cv.path.weights
        self.intercept_path_ = cv.path.intercepts
        self.cv_loglik_ = cv.fold_loglik
        self.cv_gain_mean_, self.cv_gain_se_ = cv.gain_mean, cv.gain_se
        self.fold_edges_ = cv.fold_edges
        self.n_iter_ = int(cv.path.n_iter[cv.index_chosen])
        return self


# ----------------------------------------------------------------------------
# Many units, one design


class PopulationPoissonLassoCV(PoissonRegressorBase):
    """:class:`PoissonLassoCV` for many units that share one design, fitted together.

    :func:`sparsefield.rf.units_lasso.fit_lasso_units` with ``X`` as the
    stimulus at lag 0 (the workflow's population fit): per unit its own grid
    from its ``lambda_max``, shared contiguous folds (those of
    :class:`PoissonLassoCV`), each unit's penalty chosen by ``rule``; the
    paths of all units at once by the batched population solver
    (:func:`sparsefield.rf.lasso_population.lasso_path_population`) or unit by unit.
    ``coef_[u]`` equals ``PoissonLassoCV(...).fit(X, y[:, u]).coef_`` to within
    the solvers' KKT tolerance.

    Parameters
    ----------
    n_lambdas, lambda_min_ratio, n_folds, rule, tol
        As in :class:`PoissonLassoCV`.
    solver : one of :data:`sparsefield.rf.units_lasso.UNIT_SOLVERS`, default "population"
        ``"population"``: one shared-metric call for all units (units it does
        not converge for are refitted one by one); ``"per_unit"``: each unit's
        :func:`~sparsefield.rf.lasso_path.lasso_path`.

    Attributes
    ----------
    alphas_ : ndarray of shape (n_units, n_alphas)
        Each unit's grid, decreasing.
    alpha_ : ndarray of shape (n_units,)
    coef_ : ndarray of shape (n_units, n_features)
    intercept_ : ndarray of shape (n_units,)
    coef_path_ : ndarray of shape (n_units, n_alphas, n_features)
    intercept_path_ : ndarray of shape (n_units, n_alphas)
    cv_gain_mean_, cv_gain_se_ : ndarray of shape (n_units, n_alphas)
    fold_edges_ : ndarray of shape (n_folds + 1,), int64
    result_ : sparsefield.rf.units_lasso.UnitsLasso
        The library's result (one lag).
    n_features_in_ : int

    Notes
    -----
    ``score`` is the mean over units of each unit's score.  ``check_estimator``
    checks skipped: as :class:`~sparsefield.rf.estimators_glm.PoissonGLM`, and
    ``check_regressor_multioutput``, which fits targets from ``make_regression``
    as they are, negative values included (it ignores
    ``target_tags.positive_only``): spike counts must be >= 0, and negative
    ones are refused.  A unit without a spike, or whose
    data carry no signal (``lambda_max`` 0), or without a spike in some fold's
    training rows, is refused (as :class:`PoissonLassoCV` refuses it).
    """

    _population = True
    _min_samples = 2

    def __init__(self, *, n_lambdas: int = 10,
                 lambda_min_ratio: float = DEFAULT_LAMBDA_MIN_RATIO, n_folds: int = 5,
                 rule: str = "1se", tol: float = 1e-7, solver: str = "population") -> None:
        self.n_lambdas = n_lambdas
        self.lambda_min_ratio = lambda_min_ratio
        self.n_folds = n_folds
        self.rule = rule
        self.tol = tol
        self.solver = solver

    def fit(self, X: ArrayLike, y: ArrayLike, exposure: ArrayLike | None = None) -> Self:
        """Cross-validate each unit's penalty and fit the full data at it.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
        y : array_like of shape (n_samples, n_units)
            Spike counts, >= 0; every unit needs a spike in every training set.
        exposure : array_like of shape (n_samples,), optional
            Frame durations in seconds; default ones.

        Returns
        -------
        self
        """
        X, y, exposure = self._check_xy(X, y, exposure, reset=True)
        n_units = y.shape[1]
        result = fit_lasso_units(
            X, y, exposure, [0], fitted=np.ones(n_units, dtype=bool), n_lambdas=self.n_lambdas,
            lambda_min_ratio=self.lambda_min_ratio, n_folds=self.n_folds,
            rule=check_choice(self.rule, "rule", RULES), tol=self.tol,
            solver=check_choice(self.solver, "solver", UNIT_SOLVERS))
        index = result.index_chosen
        refused = np.flatnonzero(~result.fitted | (index < 0))
        if refused.size:
            why = [result.why[unit] or "a fold's training rows hold no spike"
                   for unit in refused[:5]]
            raise InputError("y", f"unit(s) {refused[:10].tolist()} cannot be fitted: "
                                  + "; ".join(why))
        units = np.arange(n_units)
        self.result_ = result
        self.alphas_ = result.lambdas
        self.alpha_ = result.lambdas[units, index]
        self.coef_path_ = result.weights[:, :, 0, :]
        self.intercept_path_ = result.intercepts[:, :, 0]
        self.coef_ = self.coef_path_[units, index]
        self.intercept_ = self.intercept_path_[units, index]
        self.cv_gain_mean_ = result.total_gain_mean
        self.cv_gain_se_ = result.total_gain_se
        self.fold_edges_ = result.fold_frames
        return self
