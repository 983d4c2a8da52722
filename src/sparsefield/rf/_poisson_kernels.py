"""Numba kernels for the Poisson negative log-likelihood of :mod:`sparsefield.rf.poisson`.

The kernels return the *data part* of the mean NLL,

    mean_t [ durations_t * exp(eta_t) - counts_t * eta_t ],
    eta_t = design_t . weights + intercept,

without the constant ``mean_t [ log(counts_t!) - counts_t * log(durations_t) ]``,
which the Python wrapper adds.  Inputs are trusted: float64, C-contiguous,
matching shapes, at least one row.

Speed: the gradient kernel walks ``design`` in blocks of rows.  For each block
the linear predictor comes from a BLAS matrix-vector product (numba's
``np.dot``; without ``fastmath`` LLVM cannot vectorise a hand-written dot
product, and BLAS can), then the gradient is accumulated over the block's
rows while they are still in cache, so ``design`` is read from main memory
once per evaluation (numpy's ``X @ w`` then ``X.T @ r`` reads it twice).
"""

import math

from sparsefield._numba import numba

import numpy as np
from numpy.typing import NDArray

# Rows per block: 128 rows x 300 pixels x 8 bytes = 300 KiB, inside L2.
_BLOCK_ROWS = 128


@numba.njit(cache=True, inline="always")
def row_terms(eta: float, count: float, duration: float) -> tuple[float, float, float]:
    """One row's data term of the NLL and its derivatives in ``eta``.

    The one place the per-row formula is written; every kernel that
    evaluates the objective (here and in :mod:`sparsefield.rf._lasso_kernels`)
    calls it.  Inlined into the caller at numba IR level, so it compiles with
    the caller's fastmath flags and costs nothing.

    Parameters
    ----------
    eta : float
        Linear predictor ``design_t . weights + intercept``.
    count : float
    duration : float

    Returns
    -------
    term : float
        ``mu - count * eta`` with ``mu = duration * exp(eta)``.
    residual : float
        ``mu - count``, the derivative of ``term`` in ``eta``.
    expected : float
        ``mu``, the second derivative of ``term`` in ``eta``.
    """
    expected = duration * math.exp(eta)
    return expected - count * eta, expected - count, expected


@numba.njit(cache=True)
def _block_terms(linear: NDArray[np.float64], intercept: float, counts: NDArray[np.float64],
                 durations: NDArray[np.float64], start: int,
                 residuals: NDArray[np.float64]) -> float:
    """Sum of the data part of the NLL over one block of rows, and its residuals.

    Parameters
    ----------
    linear : ndarray of shape (n_block,)
        ``design_t . weights`` for rows ``start .. start + n_block - 1``.
    intercept : float
    counts, durations : ndarray of shape (n_rows,)
        All rows; the block reads ``[start, start + n_block)``.
    start : int
        First row of the block.
    residuals : ndarray of shape (>= n_block,)
        Output: ``residuals[offset] = mu_t - counts_t`` for ``t = start + offset``,
        with ``mu_t = durations_t * exp(eta_t)``.

    Returns
    -------
    total : float
        ``sum_t [mu_t - counts_t * eta_t]`` over the block.
    """
    total = 0.0
    for offset in range(linear.shape[0]):
        row = start + offset
        term, residual, _ = row_terms(linear[offset] + intercept, counts[row], durations[row])
        total += term
        residuals[offset] = residual
    return total


@numba.njit(cache=True)
def nll_data(weights: NDArray[np.float64], intercept: float, design: NDArray[np.float64],
             counts: NDArray[np.float64], durations: NDArray[np.float64]) -> float:
    """Data part of the mean Poisson NLL.

    Parameters
    ----------
    weights : ndarray of shape (n_pixels,)
    intercept : float
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows,), float64
    durations : ndarray of shape (n_rows,), float64, > 0

    Returns
    -------
    nll_data : float
        ``mean_t [durations_t * exp(eta_t) - counts_t * eta_t]``.
    """
    n_rows = design.shape[0]
    residuals = np.empty(n_rows)
    return _block_terms(np.dot(design, weights), intercept, counts, durations, 0,
                        residuals) / n_rows


@numba.njit(cache=True)
def nll_data_grad(weights: NDArray[np.float64], intercept: float, design: NDArray[np.float64],
                  counts: NDArray[np.float64], durations: NDArray[np.float64],
                  grad_weights: NDArray[np.float64]) -> tuple[float, float]:
    """Data part of the mean Poisson NLL and its gradient.

    Parameters
    ----------
    weights : ndarray of shape (n_pixels,)
    intercept : float
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows,), float64
    durations : ndarray of shape (n_rows,), float64, > 0
    grad_weights : ndarray of shape (n_pixels,)
        Output, overwritten: ``mean_t (mu_t - counts_t) * design_t`` with
        ``mu_t = durations_t * exp(eta_t)``.

    Returns
    -------
    nll_data : float
    grad_intercept : float
        ``mean_t (mu_t - counts_t)``.
    """
    n_rows, n_pixels = design.shape
    for pixel in range(n_pixels):
        grad_weights[pixel] = 0.0
    total = 0.0
    grad_intercept = 0.0
    residuals = np.empty(_BLOCK_ROWS)
    for start in range(0, n_rows, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, n_rows)
        linear = np.dot(design[start:stop], weights)
        total += _block_terms(linear, intercept, counts, durations, start, residuals)
        for offset in range(stop - start):
            residual = residuals[offset]
            grad_intercept += residual
            row = start + offset
            for pixel in range(n_pixels):
                grad_weights[pixel] += residual * design[row, pixel]
    scale = 1.0 / n_rows
    for pixel in range(n_pixels):
        grad_weights[pixel] *= scale
    return total * scale, grad_intercept * scale


@numba.njit(cache=True)
def expected_counts(weights: NDArray[np.float64], intercept: float, design: NDArray[np.float64],
                    durations: NDArray[np.float64]) -> NDArray[np.float64]:
    """Model mean ``durations_t * exp(design_t . weights + intercept)``.

    Parameters
    ----------
    weights : ndarray of shape (n_pixels,)
    intercept : float
    design : ndarray of shape (n_rows, n_pixels)
    durations : ndarray of shape (n_rows,)

    Returns
    -------
    expected : ndarray of shape (n_rows,)
    """
    linear = np.dot(design, weights)
    expected = np.empty(design.shape[0])
    for row in range(design.shape[0]):
        expected[row] = row_terms(linear[row] + intercept, 0.0, durations[row])[2]
    return expected
