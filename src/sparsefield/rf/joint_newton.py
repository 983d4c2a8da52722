r"""Maximum likelihood and L2 on a wide Poisson design: Newton-CG with a block preconditioner.

The ridge objective of :func:`sparsefield.rf.estimators_glm.fit_ridge`,

.. math::

    F(w, b) = \mathrm{NLL}(w, b) + \tfrac{\alpha}{2} \lVert w \rVert_2^2 ,

(``NLL`` the mean Poisson negative log-likelihood of :mod:`sparsefield.rf.poisson`,
exposure = durations, intercept not penalised; glum's ``alpha`` with ``l1_ratio=0``),
for designs too wide to form the Hessian at every step: the joint design of
:mod:`sparsefield.rf.joint` has ``n_bases * n_pixels`` columns (3000 for 10 lags x 300
pixels), and ``X' diag(mu) X`` costs ``n_rows * n_columns^2`` per Newton step (the
work of glum's IRLS and of :func:`~sparsefield.rf.estimators_glm.fit_ridge`).

Here each Newton direction comes from preconditioned conjugate gradients on
Hessian-vector products (:func:`sparsefield.rf._joint_kernels.hessian_vector`, one
pass over the design each), truncated at a relative residual
``min(0.5, sqrt(|g|))`` (an inexact Newton method, superlinear near the optimum),
then a backtracking (Armijo) line search on ``F``.  The design is centred on the fly
(the intercept decouples) and never copied.  The preconditioner is block Jacobi: for
each pixel the exact ``n_bases x n_bases`` block of the Hessian (its columns through
the different temporal bases are strongly coupled: neighbouring raised cosines
overlap), and one block for the post-spike columns with the intercept; blocks between
pixels are left out (for a white-noise stimulus they are small: the Hessian is
``E[mu] (Sigma + rank one)`` for a Gaussian stimulus, so few CG steps are needed).

Convergence: the largest entry of the gradient of ``F`` (weights and intercept) is at
most ``tol`` (glum's ``gradient_tol`` rule for its L-BFGS solver).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from numpy.typing import NDArray

from sparsefield.errors import FitError
from sparsefield.rf import _joint_kernels, _lasso_kernels
from sparsefield.rf.poisson import PoissonProblem

Floats = NDArray[np.float64]

#: Relative jitter added to the preconditioner's blocks (a constant pixel has a zero block).
_JITTER = 1e-10

#: Predicted decrease of ``F`` below which the full step is taken without a line search:
#: smaller than ``F``'s rounding, and Newton converges fast there.
_PURE_NEWTON = 1e-13


@dataclass(frozen=True)
class NewtonCGResult:
    """Solution of :func:`newton_cg_ridge`.

    Attributes
    ----------
    weights : ndarray of shape (n_columns,)
    intercept : float
        For the design as given (not centred).
    nll : float
        Mean NLL at the solution.
    n_iter : int
        Newton steps.
    n_cg : int
        Conjugate-gradient steps (Hessian-vector products) over all Newton steps.
    gradient_max : float
        Largest entry of the gradient of ``F`` at the solution.
    """

    weights: np.ndarray
    intercept: float
    nll: float
    n_iter: int
    n_cg: int
    gradient_max: float


class CentredRidge:
    """``F`` on the design centred on the fly, over ``theta = [w, b~]``.

    ``b~`` is the intercept of the centred design, ``b = b~ - centre . w``.  The
    weights of constant columns are held at 0 (their gradient, Hessian products and
    preconditioner are masked): such a weight only trades off with the intercept,
    and 0 is what the lasso reports for it too.

    Parameters
    ----------
    problem : sparsefield.rf.poisson.PoissonProblem
        Checked data (the design as given).
    alpha : float
        ``>= 0``.
    n_bases, n_pixels : int
        Block layout of the first ``n_bases * n_pixels`` columns
        (:mod:`sparsefield.rf.joint`); the rest form the tail block.
    """

    def __init__(self, problem: PoissonProblem, alpha: float, n_bases: int,
                 n_pixels: int) -> None:
        self.problem = problem
        self.alpha = alpha
        self.n_bases = n_bases
        self.n_pixels = n_pixels
        self.centre = problem.design.mean(axis=0)
        #: Parameters that may move: varying columns, and the intercept (last).
        self.free = np.append(_lasso_kernels.varying_columns(problem.design), True)

    def split(self, theta: Floats) -> tuple[Floats, float]:
        """``(w, b)`` for the design as given."""
        weights = theta[:-1]
        return weights, float(theta[-1] - self.centre @ weights)

    def value_grad(self, theta: Floats) -> tuple[float, Floats]:
        """``F`` and its gradient, shape (n_columns + 1,); ``inf`` where ``F`` overflows."""
        weights, intercept = self.split(theta)
        with np.errstate(over="ignore", invalid="ignore"):
            nll, grad_weights, grad_intercept = self.problem.nll_grad(weights, intercept)
        if not math.isfinite(nll):
            return math.inf, np.zeros_like(theta)
        gradient = np.empty_like(theta)
        gradient[:-1] = grad_weights - self.centre * grad_intercept + self.alpha * weights
        gradient[-1] = grad_intercept
        gradient[~self.free] = 0.0
        return nll + 0.5 * self.alpha * float(weights @ weights), gradient

    def expected(self, theta: Floats) -> Floats:
        """Model mean counts, shape (n_rows,)."""
        return self.problem.expected_counts(*self.split(theta))

    def hessian_vector(self, expected: Floats, vector: Floats) -> Floats:
        """``H v`` (the penalty included), shape (n_columns + 1,)."""
        out = np.empty_like(vector)
        out[-1] = _joint_kernels.hessian_vector(self.problem.design, self.centre, expected,
                                                np.ascontiguousarray(vector[:-1]),
                                                float(vector[-1]), out[:-1])
        out[:-1] += self.alpha * vector[:-1]
        out[~self.free] = 0.0
        return out

    def preconditioner(self, expected: Floats) -> Callable[[Floats], Floats]:
        """The block-Jacobi inverse at ``expected`` (module docstring), as a function."""
        n_bases, n_pixels = self.n_bases, self.n_pixels
        n_stimulus = n_bases * n_pixels
        n_tail = self.problem.design.shape[1] - n_stimulus
        pixel_blocks = np.empty((n_bases, n_bases, n_pixels))
        tail_block = np.empty((n_tail + 1, n_tail + 1))
        _joint_kernels.block_hessian(self.problem.design, self.centre, expected, n_bases,
                                     n_pixels, pixel_blocks, tail_block)
        blocks = pixel_blocks.transpose(2, 0, 1)
        scale = float(np.mean(np.trace(blocks, axis1=1, axis2=2))) / n_bases if n_pixels else 0.0
        blocks = blocks + (self.alpha + _JITTER * scale + 1e-300) * np.eye(n_bases)
        tail_block[:n_tail, :n_tail] += (self.alpha + _JITTER * scale + 1e-300) * np.eye(n_tail)
        inverse_blocks = np.linalg.inv(blocks)
        inverse_tail = np.linalg.pinv(tail_block)

        def apply(vector: Floats) -> Floats:
            out = np.empty_like(vector)
            stimulus = vector[:n_stimulus].reshape(n_bases, n_pixels)
            out[:n_stimulus] = np.einsum("pji,ip->jp", inverse_blocks, stimulus).ravel()
            out[n_stimulus:] = inverse_tail @ vector[n_stimulus:]
            out[~self.free] = 0.0
            return out

        return apply


def conjugate_gradient(multiply: Callable[[Floats], Floats],
                       precondition: Callable[[Floats], Floats], right: Floats,
                       tolerance: float, max_steps: int) -> tuple[Floats, int]:
    """Preconditioned conjugate gradients for ``A x = right`` from ``x = 0``.

    Parameters
    ----------
    multiply : callable
        ``v -> A v``, ``A`` symmetric positive semi-definite.
    precondition : callable
        ``v -> M^-1 v``, ``M`` symmetric positive definite.
    right : ndarray of shape (n,)
    tolerance : float
        Stop when ``|right - A x|_2 <= tolerance``.
    max_steps : int

    Returns
    -------
    x : ndarray of shape (n,)
    n_steps : int
    """
    solution = np.zeros_like(right)
    residual = right.copy()
    preconditioned = precondition(residual)
    direction = preconditioned.copy()
    product = float(residual @ preconditioned)
    for step in range(max_steps):
        if float(np.linalg.norm(residual)) <= tolerance:
            return solution, step
        image = multiply(direction)
        curvature = float(direction @ image)
        if curvature <= 0.0:
            # Flat (or rounding-negative) direction: keep what was found.
            return (solution if step else direction), step + 1
        size = product / curvature
        solution += size * direction
        residual -= size * image
        preconditioned = precondition(residual)
        new_product = float(residual @ preconditioned)
        direction = preconditioned + (new_product / product) * direction
        product = new_product
    return solution, max_steps


def newton_cg_ridge(problem: PoissonProblem, alpha: float, *, n_bases: int, n_pixels: int,
                    tol: float, max_iter: int, label: str,
                    start: tuple[Floats, float] | None = None) -> NewtonCGResult:
    """Minimise ``F = NLL + alpha / 2 |w|^2`` by Newton-CG (module docstring).

    Parameters
    ----------
    problem : sparsefield.rf.poisson.PoissonProblem
        Checked data, at least one spike.
    alpha : float
        ``>= 0``.
    n_bases, n_pixels : int
        Block layout of the preconditioner (``n_bases * n_pixels <= n_columns``;
        ``1, n_columns`` for a diagonal one).
    tol : float
        Stop when the largest gradient entry is at most ``tol``.
    max_iter : int
        Newton steps allowed.
    label : str
        What error messages call the fit.
    start : (ndarray of shape (n_columns,), float), optional
        Weights and intercept (for the design as given) to start from; default: zero
        weights and the constant rate's intercept.

    Returns
    -------
    NewtonCGResult

    Raises
    ------
    FitError
        No convergence within ``max_iter`` steps, or no descent along a direction.
    """
    ridge = CentredRidge(problem, alpha, n_bases, n_pixels)
    theta = np.zeros(problem.design.shape[1] + 1)
    theta[-1] = math.log(problem.counts.sum() / problem.durations.sum())
    if start is not None:
        theta[:-1] = np.where(ridge.free[:-1], start[0], 0.0)
        theta[-1] = start[1] + ridge.centre @ theta[:-1]
    value, gradient = ridge.value_grad(theta)
    if not math.isfinite(value):  # a start that overflows: the default one
        theta[:] = 0.0
        theta[-1] = math.log(problem.counts.sum() / problem.durations.sum())
        value, gradient = ridge.value_grad(theta)
    n_cg = 0
    for n_iter in range(max_iter + 1):
        gradient_max = float(np.abs(gradient).max())
        if gradient_max <= tol:
            weights, intercept = ridge.split(theta)
            return NewtonCGResult(weights=weights, intercept=intercept,
                                  nll=value - 0.5 * alpha * float(weights @ weights),
                                  n_iter=n_iter, n_cg=n_cg, gradient_max=gradient_max)
        if n_iter == max_iter:
            break
        expected = ridge.expected(theta)
        norm = float(np.linalg.norm(gradient))
        direction, steps = conjugate_gradient(
            partial(ridge.hessian_vector, expected), ridge.preconditioner(expected), -gradient,
            min(0.5, math.sqrt(norm)) * norm, theta.size)
        n_cg += steps
        theta, value, gradient = _line_search(ridge, theta, value, gradient, direction,
                                              f"{label}: Newton step {n_iter + 1}")
    raise FitError(f"{label} did not converge in {max_iter} Newton steps (largest gradient "
                   f"entry {gradient_max:.2e} > tol {tol:g}); raise max_iter or tol")


def _line_search(ridge: CentredRidge, theta: Floats, value: float, gradient: Floats,
                 direction: Floats, label: str) -> tuple[Floats, float, Floats]:
    """Backtracking (Armijo, 1e-4 of the predicted decrease) along ``direction``."""
    slope = float(gradient @ direction)
    if slope >= 0.0:
        direction, slope = -gradient, -float(gradient @ gradient)
    step = 1.0
    while True:
        trial = theta + step * direction
        trial_value, trial_gradient = ridge.value_grad(trial)
        if -slope <= _PURE_NEWTON * max(1.0, abs(value)) and math.isfinite(trial_value):
            return trial, trial_value, trial_gradient
        if trial_value <= value + 1e-4 * step * slope:
            return trial, trial_value, trial_gradient
        step *= 0.5
        if step < 1e-12:
            raise FitError(f"{label}: no descent along the Newton direction (slope "
                           f"{slope:.2e}); loosen tol")


__all__ = ["CentredRidge", "NewtonCGResult", "conjugate_gradient", "newton_cg_ridge"]
