r"""Numba kernels of the batched ADMM encoder of :mod:`sparsefield.sparse.inference`.

Scaled-form ADMM (Boyd et al. 2011, sections 3.4.3 and 6.4) on the split
``b = z`` of

.. math::

    \min_b \; \tfrac12 b^\top G b - c_i^\top b + \tau \lVert b \rVert_1 ,

for every signal ``i``, with over-relaxation ``alpha`` and the scaled dual
``u``::

    x     = (G + rho I)^-1 (c + rho (z - u))        # one GEMM for all signals
    x_hat = alpha x + (1 - alpha) z
    z_new = soft_threshold(x_hat + u, tau / rho)
    u     = u + x_hat - z_new

The signals advance in lock step so that the ``x``-update of all those still
running is one BLAS matrix product (``dense = targets @ inverse``, made by
:func:`sparsefield.sparse._admm.run_admm` between calls of :func:`admm_step`);
the kernels run the rest per signal (``numba.prange``).  Rows of the work
arrays ``targets`` and ``dense`` are the running signals in the order of
``active``, packed at the top.

Inputs are trusted (validated by the wrapper): float64, C-contiguous,
matching shapes, ``tau >= 0``, ``rho > 0``, ``0 < alpha < 2``.
"""

import math
from typing import TypeAlias

from sparsefield._numba import numba

import numpy as np
from numpy.typing import NDArray

from sparsefield._kernels import soft_threshold_step
from sparsefield.sparse._inference_kernels import gram_product, solved

Floats: TypeAlias = NDArray[np.float64]
Ints: TypeAlias = NDArray[np.int64]
Bools: TypeAlias = NDArray[np.bool_]

_FAST = {"reassoc", "contract", "nsz", "arcp"}


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def admm_start(gram: Floats, correlations: Floats, sq_norms: Floats, tau: float, rho: float,
               tol: float, codes: Floats, dual: Floats, converged: Bools) -> None:
    """Scaled dual of the start, and the stopping test there.

    ``rho u = clip(c - G z, -tau, tau)``: the dual the optimality conditions
    ask for at ``z``, made feasible, so a start at the solution is a fixed
    point.  A start that passes the duality-gap test
    (:func:`sparsefield.sparse._inference_kernels.solved`) is marked converged.

    Parameters
    ----------
    gram : ndarray of shape (n_atoms, n_atoms), symmetric
    correlations : ndarray of shape (n_signals, n_atoms)
    sq_norms : ndarray of shape (n_signals,)
        ``‖y_i‖²``.
    tau, rho, tol : float
    codes : ndarray of shape (n_signals, n_atoms)
        Starting ``z``.
    dual : ndarray of shape (n_signals, n_atoms)
        Output: ``u``.
    converged : ndarray of shape (n_signals,), bool
        Output.
    """
    n_signals, n_atoms = correlations.shape
    for signal in numba.prange(n_signals):
        correlation = correlations[signal]
        gram_codes = np.empty(n_atoms)
        gram_product(gram, codes[signal], gram_codes)
        converged[signal] = solved(codes[signal], gram_codes, correlation, sq_norms[signal],
                                   tau, tol)
        for atom in range(n_atoms):
            dual[signal, atom] = min(max(correlation[atom] - gram_codes[atom], -tau),
                                     tau) / rho


@numba.njit(cache=True, fastmath=_FAST, inline="always")
def _fill_target(correlations: Floats, codes: Floats, dual: Floats, rho: float, signal: int,
                 targets: Floats, row: int) -> None:
    """``targets[row] = c + rho (z - u)`` of one signal."""
    for atom in range(correlations.shape[1]):
        targets[row, atom] = correlations[signal, atom] + rho * (codes[signal, atom]
                                                                 - dual[signal, atom])


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def admm_targets(correlations: Floats, codes: Floats, dual: Floats, rho: float,
                 active: Ints, targets: Floats) -> None:
    """Right-hand sides of the ``x``-update, ``c + rho (z - u)``, of the running signals.

    Parameters
    ----------
    correlations, codes, dual : ndarray of shape (n_signals, n_atoms)
        ``c``, ``z`` and ``u``.
    rho : float
    active : ndarray of shape (n_active,), int64
        The running signals.
    targets : ndarray of shape (n_signals, n_atoms)
        Output: row ``j < n_active`` for signal ``active[j]``.
    """
    for row in numba.prange(active.shape[0]):
        _fill_target(correlations, codes, dual, rho, active[row], targets, row)


@numba.njit(cache=True, fastmath=_FAST, inline="always")
def _update_signal(gram: Floats, correlation: Floats, sq_norm: float, tau: float, rho: float,
                   alpha: float, tol: float, residual_tol: float, code_scale: float,
                   dense: Floats, sparse: Floats, scaled_dual: Floats,
                   residuals: Floats) -> bool:
    """``z``- and ``u``-updates of one signal from its ``x`` (``dense``); True when it stops.

    Writes ``‖x - z‖²``, ``rho² ‖z - z_old‖²``, ``max(‖x‖², ‖z‖²)`` and
    ``rho² ‖u‖²`` into ``residuals`` (4,).
    """
    n_atoms = correlation.shape[0]
    threshold = tau / rho
    primal_sq = 0.0
    change_sq = 0.0
    dense_sq = 0.0
    sparse_sq = 0.0
    dual_sq = 0.0
    correlation_sq = 0.0
    for atom in range(n_atoms):
        value = dense[atom]
        point = alpha * value + (1.0 - alpha) * sparse[atom] + scaled_dual[atom]
        new = soft_threshold_step(point, threshold, 1.0)
        change_sq += (new - sparse[atom]) ** 2
        sparse[atom] = new
        scaled_dual[atom] = point - new
        primal_sq += (value - new) ** 2
        dense_sq += value * value
        sparse_sq += new * new
        dual_sq += scaled_dual[atom] ** 2
        correlation_sq += correlation[atom] ** 2
    residuals[0] = primal_sq
    residuals[1] = rho * rho * change_sq
    residuals[2] = max(dense_sq, sparse_sq)
    residuals[3] = rho * rho * dual_sq
    gram_codes = np.empty(n_atoms)
    gram_product(gram, sparse, gram_codes)
    if solved(sparse, gram_codes, correlation, sq_norm, tau, tol):
        return True
    primal_ok = math.sqrt(primal_sq) <= residual_tol * (math.sqrt(max(dense_sq, sparse_sq))
                                                        + code_scale)
    dual_ok = rho * math.sqrt(change_sq) <= residual_tol * (rho * math.sqrt(dual_sq)
                                                            + math.sqrt(correlation_sq))
    return primal_ok and dual_ok


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def admm_step(gram: Floats, correlations: Floats, sq_norms: Floats, tau: float, rho: float,
              alpha: float, tol: float, residual_tol: float, code_scale: Floats, iteration: int,
              active: Ints, n_active: int, dense: Floats, codes: Floats, dual: Floats,
              n_iter: Ints, converged: Bools, residuals: Floats, targets: Floats,
              sums: Floats) -> int:
    """One iteration after the ``x``-update: ``z``, ``u``, the stopping tests, the next targets.

    A signal stops when the duality gap at ``z`` is at most ``tol`` times
    the objective (:func:`sparsefield.sparse._inference_kernels.solved`, the
    certificate of the other methods), or, as a fallback, when Boyd et al.'s
    residual rule (section 3.3.1) holds with ``eps_rel = residual_tol``:

    - primal ``‖x - z‖ <= residual_tol * (max(‖x‖, ‖z‖) + code_scale)``,
    - dual ``rho ‖z - z_old‖ <= residual_tol * (rho ‖u‖ + ‖c‖)``.

    The signals still running are then packed at the top of ``active`` (in
    their order), their residuals summed into ``sums`` and their next
    targets ``c + rho (z - u)`` written to the top rows of ``targets``.

    Parameters
    ----------
    gram : ndarray of shape (n_atoms, n_atoms), symmetric
    correlations : ndarray of shape (n_signals, n_atoms)
    sq_norms : ndarray of shape (n_signals,)
    tau, rho, alpha, tol, residual_tol : float
    code_scale : ndarray of shape (n_signals,)
        Absolute term of the primal residual rule.
    iteration : int
        Recorded in ``n_iter``.
    active : ndarray of shape (n_signals,), int64
        The first ``n_active`` entries: the running signals; compacted.
    n_active : int
    dense : ndarray of shape (n_signals, n_atoms)
        Row ``j < n_active``: ``x`` of signal ``active[j]``.
    codes, dual : ndarray of shape (n_signals, n_atoms)
        ``z`` and ``u``, updated.
    n_iter : ndarray of shape (n_signals,), int64
        Output.
    converged : ndarray of shape (n_signals,), bool
        Output: True for a signal that stopped.
    residuals : ndarray of shape (n_signals, 4)
        Scratch: per running signal, the squared primal and dual residuals
        ``‖x - z‖²`` and ``rho² ‖z - z_old‖²`` and their scales
        ``max(‖x‖², ‖z‖²)`` and ``rho² ‖u‖²``.
    targets : ndarray of shape (n_signals, n_atoms)
        Output: the next right-hand sides of the signals still running.
    sums : ndarray of shape (4,)
        Output: the four residual columns summed over the signals still running.

    Returns
    -------
    n_running : int
        Signals still running (the new ``n_active``).
    """
    for row in numba.prange(n_active):
        signal = active[row]
        converged[signal] = _update_signal(
            gram, correlations[signal], sq_norms[signal], tau, rho, alpha, tol, residual_tol,
            code_scale[signal], dense[row], codes[signal], dual[signal], residuals[row])
        n_iter[signal] = iteration
    n_running = 0
    sums[:] = 0.0
    for row in range(n_active):
        signal = active[row]
        if not converged[signal]:
            active[n_running] = signal
            for column in range(4):
                sums[column] += residuals[row, column]
            n_running += 1
    for row in numba.prange(n_running):
        _fill_target(correlations, codes, dual, rho, active[row], targets, row)
    return n_running


@numba.njit(cache=True)
def mirror_lower(matrix: Floats) -> None:
    """Copy the lower triangle of a square matrix onto its upper triangle, in place.

    Parameters
    ----------
    matrix : ndarray of shape (n, n)
        Lower triangle valid on entry (LAPACK ``potri``'s output); symmetric on exit.
    """
    size = matrix.shape[0]
    for column in range(size):
        for row in range(column + 1, size):
            matrix[column, row] = matrix[row, column]
