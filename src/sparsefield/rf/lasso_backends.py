"""The lasso of one neuron at one penalty, with a choice of solver (backend).

:func:`fit_lasso_at_lambda` fits the objective of :mod:`sparsefield.rf.lasso_path` at
one penalty with sparsefield's own solver or with a peer (pyglmnet 1.1 through
:mod:`sparsefield.rf.pyglmnet_compat`, scikit-learn's Gaussian lasso), and reports
every answer on sparsefield's objective (its value and KKT violation), so that the
peers can be compared with the exact optimum.  How each peer's objective relates to
this one is in :mod:`sparsefield.rf.lasso_path` ("Other programs, same objective").
"""

import math
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float
from sparsefield._npz import NpzMixin
from sparsefield.errors import FitError, InputError
from sparsefield.rf import _lasso_kernels, _lasso_shared_kernels
from sparsefield.rf.lasso_path import lasso_data, lasso_path
from sparsefield.rf.poisson import PoissonProblem

#: Backends of :func:`fit_lasso_at_lambda` (the workflow's ``lasso.backend`` choices).
BACKENDS = ("sparsefield", "pyglmnet", "sklearn")

Floats: TypeAlias = NDArray[np.float64]


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
        ``poisson_nll + lam * |weights|_1`` (the objective of
        :mod:`sparsefield.rf.lasso_path`, whatever the backend minimised).
    kkt_violation : float
        Of that objective: 0 at its exact minimum; how far another backend's
        answer is from it.
    """

    lam: float
    weights: np.ndarray
    intercept: float
    backend: str
    objective: float
    kkt_violation: float


def _sklearn_fit(design: Floats, counts: Floats, durations: Floats, lam: float, tol: float,
                 max_iter: int) -> tuple[Floats, float]:
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


def fit_lasso_at_lambda(design: ArrayLike, counts: ArrayLike, durations: ArrayLike, lam: float,
                        *, backend: str = "sparsefield", tol: float | None = None,
                        max_iter: int | None = None, check_input: bool = True) -> LassoFit:
    """Lasso fit of one neuron at one penalty, with a choice of solver.

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows,)
    durations : ndarray of shape (n_rows,)
    lam : float
        Penalty of the objective of :mod:`sparsefield.rf.lasso_path` (> 0).
    backend : {"sparsefield", "pyglmnet", "sklearn"}
        ``"sparsefield"``: :func:`~sparsefield.rf.lasso_path.lasso_path` at
        ``[lam]`` (exact).
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
    check_input : bool, default True
        False: the data are already checked
        (:mod:`sparsefield.rf.lasso_path`, "Checked once").

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
    design, counts, durations = lasso_data(design, counts, durations, check_input)
    lam = as_float(lam, "lam", minimum=0.0, strict=True)
    if backend == "sparsefield":
        path = lasso_path(design, counts, durations, lambdas=[lam],
                          tol=1e-7 if tol is None else tol,
                          max_iter=100 if max_iter is None else max_iter, check_input=False)
        weights, intercept = path.weights[0], float(path.intercepts[0])
    elif backend == "pyglmnet":
        from sparsefield.rf.pyglmnet_compat import fit_pyglmnet

        options: dict[str, Any] = {}
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
    violation = float(_lasso_shared_kernels.kkt_violation(
        gradient, grad_intercept, np.ascontiguousarray(weights, dtype=np.float64), lam))
    return LassoFit(
        lam=lam, weights=np.asarray(weights, dtype=np.float64), intercept=float(intercept),
        backend=backend, objective=float(nll + lam * np.abs(weights).sum()),
        kkt_violation=violation,
    )


__all__ = ["BACKENDS", "LassoFit", "fit_lasso_at_lambda"]
