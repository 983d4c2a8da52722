"""Pieces shared by the Poisson lasso kernels of one neuron and of a population.

The fastmath flags and the Armijo constant of the line searches, and the lasso's KKT
test (:func:`kkt_coordinate`, :func:`kkt_violation`), used by
:mod:`sparsefield.rf._lasso_kernels` (one neuron) and
:mod:`sparsefield.rf._lasso_population_kernels` (many neurons sharing one design), and
by :mod:`sparsefield.rf.lasso_backends` to measure any backend's solution.  Inputs
are trusted.
"""

from sparsefield._numba import numba

import numpy as np
from numpy.typing import NDArray

#: Fastmath flags of the lasso kernels.  Reassociation lets LLVM vectorise the
#: reductions; no-NaN/no-Inf flags are left out because the line search relies on
#: exp() overflowing to inf.
FASTMATH = {"reassoc", "contract", "nsz", "arcp"}

#: Armijo constant of the line searches.
ARMIJO = 1e-4


@numba.njit(cache=True, inline="always")
def kkt_coordinate(gradient: float, weight: float, lam: float) -> float:
    """Violation of one pixel's lasso optimality condition; the one place the rule is written.

    For a non-zero weight the condition is ``gradient + lam sign(weight) = 0``,
    for a zero weight ``|gradient| <= lam``.

    Parameters
    ----------
    gradient : float
        The NLL's partial derivative in the pixel's weight.
    weight : float
    lam : float

    Returns
    -------
    violation : float
        ``|gradient + lam sign(weight)|``, or ``|gradient| - lam`` (negative
        when the condition holds with room) for a zero weight.
    """
    if weight > 0.0:
        return abs(gradient + lam)
    if weight < 0.0:
        return abs(gradient - lam)
    return abs(gradient) - lam


@numba.njit(cache=True)
def kkt_violation(gradient: NDArray[np.float64], grad_intercept: float,
                  weights: NDArray[np.float64], lam: float) -> float:
    """Largest violation of the lasso optimality conditions.

    :func:`kkt_coordinate` over every pixel, and ``|grad_intercept|`` for the
    intercept (its condition is ``grad_intercept = 0``).

    Parameters
    ----------
    gradient : ndarray of shape (n_pixels,)
    grad_intercept : float
    weights : ndarray of shape (n_pixels,)
    lam : float

    Returns
    -------
    violation : float
    """
    violation = abs(grad_intercept)
    for pixel in range(weights.shape[0]):
        value = kkt_coordinate(gradient[pixel], weights[pixel], lam)
        if value > violation:
            violation = value
    return violation
