r"""Fits of the joint GLM (:mod:`sparsefield.rf.joint`): maximum likelihood, L2, L1.

All minimise the mean Poisson negative log-likelihood of
:mod:`sparsefield.rf.poisson` on the joint design (exposure = frame durations,
intercept not penalised) plus a penalty on every weight (stimulus and post-spike):

=====================  ===========================================  ============================
function               objective                                    glum equivalent
=====================  ===========================================  ============================
:func:`fit_joint`      ``NLL + alpha / 2 * |w|_2^2`` (alpha >= 0)   ``alpha=alpha, l1_ratio=0``
:func:`joint_lasso`    ``NLL + alpha * |w|_1``                      ``alpha=alpha, l1_ratio=1``
=====================  ===========================================  ============================

(glum: ``GeneralizedLinearRegressor(family="poisson", ...)`` fitted with
``offset=np.log(durations)``; its ``deviance / 2n`` is the NLL up to a constant, so the
``alpha`` is the same, no rescaling.)  ``alpha = 0`` in :func:`fit_joint` is maximum
likelihood.  The L2 fit runs Newton-CG (:mod:`sparsefield.rf.joint_newton`); the L1
fits are the package's lasso path and its contiguous-block cross-validation
(:mod:`sparsefield.rf.lasso_path`, :mod:`sparsefield.rf.lasso_cv`) on the joint
design: the principled form of summing per-lag gains.  :func:`joint_ridge_cv` chooses
the L2 strength by the same contiguous-block cross-validation (held-out
log-likelihood gain over a constant rate, rule ``"1se"`` or ``"min"``).

Each result is read back as filters (:class:`sparsefield.rf.joint.JointFit`: the
spatio-temporal filter ``basis @ weights`` of shape (n_lags, n_pixels), the post-spike
filter of shape (n_history_lags,)).
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.rf.joint import JointDesign, JointFit
from sparsefield.rf.joint_newton import newton_cg_ridge
from sparsefield.rf.lasso_cv import (
    RULES,
    LassoCV,
    choose_penalty,
    chosen_index,
    contiguous_folds,
    lasso_cv,
)
from sparsefield.rf.lasso_path import LassoPath, check_lambdas, check_lasso_data, lasso_path
from sparsefield.rf.poisson import PoissonProblem


def joint_problem(joint: JointDesign) -> PoissonProblem:
    """The Poisson data of the joint design, checked for a fit (at least one spike).

    Parameters
    ----------
    joint : JointDesign

    Returns
    -------
    sparsefield.rf.poisson.PoissonProblem
    """
    if joint.counts.sum() <= 0:
        raise InputError("counts", "has no spikes in the frames of the joint design: the "
                         "Poisson fit has no finite intercept")
    return PoissonProblem.from_checked(joint.design, joint.counts, joint.durations)


def fit_joint(joint: JointDesign, *, alpha: float = 0.0, tol: float = 1e-8,
              max_iter: int = 100) -> JointFit:
    """Maximum likelihood (``alpha = 0``) or L2 fit of the joint GLM.

    Minimises ``NLL + alpha / 2 * |w|_2^2`` by Newton-CG with a block-Jacobi
    preconditioner (:func:`sparsefield.rf.joint_newton.newton_cg_ridge`): the Hessian
    is never formed, each conjugate-gradient step is one pass over the design.

    Parameters
    ----------
    joint : JointDesign
        From :func:`sparsefield.rf.joint.joint_design`.
    alpha : float, default 0.0
        L2 strength (glum's ``alpha`` with ``l1_ratio=0``), ``>= 0``.
    tol : float, default 1e-8
        Stop when the largest entry of the gradient of the objective (weights and
        intercept) is at most ``tol``.
    max_iter : int, default 100
        Newton steps allowed.

    Returns
    -------
    sparsefield.rf.joint.JointFit
        ``penalty`` ``"none"`` or ``"l2"``.

    Raises
    ------
    InputError
        Bad options, or no spike in the design's frames.
    FitError
        No convergence (e.g. maximum likelihood without a finite optimum: a weight
        whose column is zero wherever there are spikes).
    """
    alpha = as_float(alpha, "alpha", minimum=0.0)
    tol = as_float(tol, "tol", minimum=0.0, strict=True)
    max_iter = as_int(max_iter, "max_iter", 1)
    result = newton_cg_ridge(joint_problem(joint), alpha, n_bases=joint.n_bases,
                             n_pixels=joint.n_pixels, tol=tol, max_iter=max_iter,
                             label=f"joint GLM (alpha={alpha:g})")
    filter_, history_filter = joint.filters(result.weights)
    return JointFit(weights=result.weights, intercept=result.intercept, filter=filter_,
                    history_filter=history_filter, penalty="l2" if alpha > 0 else "none",
                    alpha=alpha, nll=result.nll, n_iter=result.n_iter,
                    gradient_max=result.gradient_max)


def lasso_fit(joint: JointDesign, path: LassoPath, index: int) -> JointFit:
    """One penalty of a lasso path on the joint design, as a :class:`JointFit`.

    Parameters
    ----------
    joint : JointDesign
        The design the path was fitted on.
    path : sparsefield.rf.lasso_path.LassoPath
    index : int
        Index of the penalty in ``path.lambdas``.

    Returns
    -------
    sparsefield.rf.joint.JointFit
        ``penalty`` ``"l1"``, ``alpha = path.lambdas[index]``; ``gradient_max`` is
        the path's KKT violation there.
    """
    weights = np.ascontiguousarray(path.weights[index])
    intercept = float(path.intercepts[index])
    filter_, history_filter = joint.filters(weights)
    nll = PoissonProblem.from_checked(joint.design, joint.counts,
                                      joint.durations).nll(weights, intercept)
    return JointFit(weights=weights, intercept=intercept, filter=filter_,
                    history_filter=history_filter, penalty="l1",
                    alpha=float(path.lambdas[index]), nll=nll,
                    n_iter=int(path.n_iter[index]),
                    gradient_max=float(path.kkt_violation[index]))


def _checked(joint: JointDesign) -> tuple[NDArray[np.float64], ...]:
    """The joint data with the lasso's requirements (at least 2 rows, a spike)."""
    return check_lasso_data(joint.design, joint.counts, joint.durations)


def joint_lasso_path(joint: JointDesign, **options: Any) -> LassoPath:
    """The L1 path on the joint design (:func:`sparsefield.rf.lasso_path.lasso_path`).

    Parameters
    ----------
    joint : JointDesign
    **options
        ``n_lambdas``, ``lambda_min_ratio``, ``lambdas``, ``tol``, ``max_iter``, as
        :func:`~sparsefield.rf.lasso_path.lasso_path` takes them.

    Returns
    -------
    sparsefield.rf.lasso_path.LassoPath
        Weights on the joint design; read one penalty with :func:`lasso_fit`.
    """
    return lasso_path(*_checked(joint), check_input=False, **options)


def joint_lasso(joint: JointDesign, alpha: float, *, tol: float = 1e-7,
                max_iter: int = 100) -> JointFit:
    """The L1 fit at one penalty (``NLL + alpha * |w|_1``; glum's ``l1_ratio=1``).

    Parameters
    ----------
    joint : JointDesign
    alpha : float
        ``> 0``.
    tol : float, default 1e-7
        KKT violation allowed, relative to ``max(lambda_max, alpha)``
        (:mod:`sparsefield.rf.lasso_path`).
    max_iter : int, default 100
        Newton steps allowed.

    Returns
    -------
    sparsefield.rf.joint.JointFit
    """
    alpha = as_float(alpha, "alpha", minimum=0.0, strict=True)
    path = joint_lasso_path(joint, lambdas=[alpha], tol=tol, max_iter=max_iter)
    return lasso_fit(joint, path, 0)


def joint_lasso_cv(joint: JointDesign, **options: Any) -> tuple[LassoCV, JointFit]:
    """Choose the L1 penalty by contiguous-block cross-validation on the joint design.

    :func:`sparsefield.rf.lasso_cv.lasso_cv` on the joint design's rows (blocks of
    kept frames, never shuffled).

    Parameters
    ----------
    joint : JointDesign
    **options
        ``n_folds``, ``n_lambdas``, ``lambda_min_ratio``, ``lambdas``, ``rule``,
        ``tol``, ``max_iter``, ``fold_edges``, as
        :func:`~sparsefield.rf.lasso_cv.lasso_cv` takes them.

    Returns
    -------
    cv : sparsefield.rf.lasso_cv.LassoCV
    fit : sparsefield.rf.joint.JointFit
        The full-data fit at the chosen penalty.
    """
    cv = lasso_cv(*_checked(joint), check_input=False, **options)
    return cv, lasso_fit(joint, cv.path, cv.index_chosen)


@dataclass(frozen=True)
class JointRidgeCV(NpzMixin):
    """The L2 strength chosen by contiguous-block cross-validation, and the refit.

    Attributes
    ----------
    alphas : ndarray of shape (n_alphas,)
        L2 strengths, decreasing.
    fold_edges : ndarray of shape (n_folds + 1,), int64
        Fold ``k`` holds out rows ``fold_edges[k]:fold_edges[k + 1]``.
    fold_loglik : ndarray of shape (n_folds, n_alphas)
        Held-out Poisson log-likelihood per row (constants included) of the fit on
        the other folds.
    null_loglik : ndarray of shape (n_folds,)
        The same for a constant rate fitted on the training rows.
    gain_mean, gain_se : ndarray of shape (n_alphas,)
        Mean over folds of ``fold_loglik - null_loglik`` (nats per row) and its
        standard error.
    index_min, index_1se : int
        Best mean gain; largest ``alpha`` within one standard error of it.
    rule : str
        ``"min"`` or ``"1se"``.
    fit : JointFit
        The full-data fit at the chosen ``alpha``.
    """

    alphas: np.ndarray
    fold_edges: np.ndarray
    fold_loglik: np.ndarray
    null_loglik: np.ndarray
    gain_mean: np.ndarray
    gain_se: np.ndarray
    index_min: int
    index_1se: int
    rule: str
    fit: JointFit

    @property
    def alpha_chosen(self) -> float:
        """The ``alpha`` chosen by ``rule``."""
        return float(self.alphas[chosen_index(self.index_min, self.index_1se, self.rule)])

    def _pack_field(self, name: str, kind: Any, value: Any) -> dict[str, np.ndarray | np.generic]:
        """The refit is stored as its own arrays, keys prefixed ``fit_``."""
        if name == "fit":
            return {"fit_" + key: array for key, array in value.to_npz_dict().items()}
        return super()._pack_field(name, kind, value)

    @classmethod
    def _unpack_field(cls, name: str, kind: Any, npz: Any) -> Any:
        """Inverse of :meth:`_pack_field`."""
        if name == "fit":
            return JointFit.from_npz({key[4:]: npz[key] for key in npz
                                      if key.startswith("fit_")})
        return super()._unpack_field(name, kind, npz)


def joint_ridge_cv(joint: JointDesign, alphas: ArrayLike, *, n_folds: int = 5,
                   rule: str = "1se", tol: float = 1e-8, max_iter: int = 100) -> JointRidgeCV:
    """Choose the L2 strength of :func:`fit_joint` by held-out log-likelihood.

    The rows are split into ``n_folds`` contiguous blocks
    (:func:`sparsefield.rf.lasso_cv.contiguous_folds`, never shuffled); for each
    block and ``alpha`` the model is fitted on the other blocks and scored on the
    block by its log-likelihood gain over a constant rate fitted on the same rows;
    ``alpha`` is chosen by ``rule`` (:func:`sparsefield.rf.lasso_cv.choose_penalty`)
    and refitted on all rows.

    Parameters
    ----------
    joint : JointDesign
    alphas : array_like of shape (n_alphas,)
        L2 strengths, > 0 (fitted and returned in decreasing order).
    n_folds : int, default 5
    rule : {"1se", "min"}, default "1se"
        ``"1se"``: the largest ``alpha`` within one standard error of the best mean
        gain (the smoother fit); ``"min"``: the best.
    tol, max_iter
        As in :func:`fit_joint`.

    Returns
    -------
    JointRidgeCV

    Raises
    ------
    InputError
        Bad options, more folds than blocks of two rows, or a training set
        without spikes.
    FitError
        A fit did not converge.
    """
    alphas = check_lambdas(alphas, "alphas")
    if rule not in RULES:
        raise InputError("rule", f"must be '1se' or 'min', got {rule!r}")
    tol = as_float(tol, "tol", minimum=0.0, strict=True)
    max_iter = as_int(max_iter, "max_iter", 1)
    problem = joint_problem(joint)
    n_rows = joint.design.shape[0]
    fold_edges = contiguous_folds(n_rows, n_folds)
    fold_loglik = np.empty((fold_edges.size - 1, alphas.size))
    null_loglik = np.empty(fold_edges.size - 1)
    for fold in range(fold_edges.size - 1):
        start, stop = fold_edges[fold], fold_edges[fold + 1]
        train = np.r_[0:start, stop:n_rows]
        if joint.counts[train].sum() <= 0:
            raise InputError("n_folds", f"fold {fold}: the training rows contain no spikes")
        training = PoissonProblem.from_checked(joint.design[train], joint.counts[train],
                                               joint.durations[train])
        held_out = PoissonProblem.from_checked(joint.design[start:stop],
                                               joint.counts[start:stop],
                                               joint.durations[start:stop])
        for index, alpha in enumerate(alphas):
            result = newton_cg_ridge(training, float(alpha), n_bases=joint.n_bases,
                                     n_pixels=joint.n_pixels, tol=tol, max_iter=max_iter,
                                     label=f"joint GLM fold {fold} (alpha={alpha:g})")
            fold_loglik[fold, index] = -held_out.nll(result.weights, result.intercept)
        null_intercept = math.log(training.counts.sum() / training.durations.sum())
        null_loglik[fold] = -held_out.nll(np.zeros(problem.n_pixels), null_intercept)
    choice = choose_penalty(fold_loglik - null_loglik[:, None])
    chosen = alphas[chosen_index(choice.index_min, choice.index_1se, rule)]
    return JointRidgeCV(
        alphas=alphas, fold_edges=fold_edges, fold_loglik=fold_loglik, null_loglik=null_loglik,
        gain_mean=choice.gain_mean, gain_se=choice.gain_se, index_min=choice.index_min,
        index_1se=choice.index_1se, rule=rule,
        fit=fit_joint(joint, alpha=float(chosen), tol=tol, max_iter=max_iter))


__all__ = ["JointRidgeCV", "fit_joint", "joint_lasso", "joint_lasso_cv", "joint_lasso_path",
           "joint_problem", "joint_ridge_cv", "lasso_fit"]
