r"""Numba kernels for the batched lasso encoders of :mod:`sparsefield.sparse.inference`.

Every kernel solves, for each signal ``i`` on its own (``numba.prange`` over
signals, so the thread count is the caller's ``NUMBA_NUM_THREADS``),

.. math::

    \min_b \; \tfrac12 b^\top G b - c_i^\top b + \tau \lVert b \rVert_1
    \quad (= \tfrac12 \lVert y_i - \Theta b \rVert^2 + \tau \lVert b \rVert_1
    - \tfrac12 \lVert y_i \rVert^2),

from the Gram matrix ``gram = Θᵀ Θ`` of shape (n_atoms, n_atoms) and the
correlations ``correlations[i] = Θᵀ y_i``, shape (n_signals, n_atoms), both
computed once per call with BLAS by the Python wrapper; the gradient of the
smooth part is ``gram @ b - c_i``.  ``gram`` must be symmetric (its rows are
read as columns).  Products ``gram @ b`` skip the zero entries of ``b``, so
they cost ``n_atoms * nnz(b)`` instead of ``n_atoms**2``: the codes the
proximal-gradient methods multiply by are their sparse iterates.  ADMM's
kernels (:mod:`sparsefield.sparse._admm_kernels`) use :func:`gram_product`
and :func:`solved` from here.

Inputs are trusted (validated by the wrapper): float64, C-contiguous,
matching shapes, ``tau >= 0``, ``step > 0``.  ``codes`` holds
the starting codes on entry and the result on exit.
"""

import math
from typing import TypeAlias

from sparsefield._numba import numba

import numpy as np
from numpy.typing import NDArray

from sparsefield._kernels import soft_threshold_step

Floats: TypeAlias = NDArray[np.float64]
Ints: TypeAlias = NDArray[np.int64]
Bools: TypeAlias = NDArray[np.bool_]

# Reassociation lets LLVM vectorise the dot products and axpys.
_FAST = {"reassoc", "contract", "nsz", "arcp"}


@numba.njit(cache=True, fastmath=_FAST)
def gram_product(gram: Floats, codes: Floats, out: Floats) -> None:
    """``out = gram @ codes``, skipping the zero entries of ``codes``.

    Parameters
    ----------
    gram : ndarray of shape (n_atoms, n_atoms), symmetric
    codes : ndarray of shape (n_atoms,)
    out : ndarray of shape (n_atoms,)
        Output.
    """
    n_atoms = gram.shape[0]
    for atom in range(n_atoms):
        out[atom] = 0.0
    for atom in range(n_atoms):
        value = codes[atom]
        if value != 0.0:
            for other in range(n_atoms):
                out[other] += value * gram[atom, other]


@numba.njit(cache=True, fastmath=_FAST, inline="always")
def duality_gap(codes: Floats, gram_codes: Floats, correlation: Floats, sq_norm: float,
                tau: float) -> tuple[float, float, float, float]:
    """Objective and duality gap of the lasso at ``codes``.

    With residual ``r = y - Θ b`` and gradient ``g = G b - c = -Θᵀ r``, the
    dual point ``ν = s r``, ``s = min(1, tau / max|g|)``, is feasible
    (``max|Θᵀ ν| <= tau``), and the gap between the primal objective
    ``P(b) = ½‖r‖² + tau ‖b‖₁`` and the dual ``D(ν) = yᵀν - ½‖ν‖²``
    simplifies to

        gap = tau ‖b‖₁ + s bᵀg + ½ (1 - s)² ‖r‖²,

    a sum with no ``‖y‖²``-sized cancellation (it is exactly 0 at the
    solution).  ``P(b) - P* <= gap``.  For ``tau = 0`` the dual point is 0
    and the gap is the whole objective.

    Parameters
    ----------
    codes, gram_codes, correlation : ndarray of shape (n_atoms,)
        ``b``, ``G b`` and ``c``.
    sq_norm : float
        ``‖y‖²``.
    tau : float

    Returns
    -------
    primal, gap : float
        ``P(b)`` and the gap.
    largest_gradient, largest_correlation : float
        ``max|g|`` and ``max|c|``.
    """
    l1_norm = 0.0
    codes_gradient = 0.0
    codes_correlation = 0.0
    codes_gram_codes = 0.0
    largest_gradient = 0.0
    largest_correlation = 0.0
    for atom in range(codes.shape[0]):
        value = codes[atom]
        gradient = gram_codes[atom] - correlation[atom]
        l1_norm += abs(value)
        codes_gradient += value * gradient
        codes_correlation += value * correlation[atom]
        codes_gram_codes += value * gram_codes[atom]
        largest_gradient = max(largest_gradient, abs(gradient))
        largest_correlation = max(largest_correlation, abs(correlation[atom]))
    residual_sq = max(sq_norm - 2.0 * codes_correlation + codes_gram_codes, 0.0)
    primal = 0.5 * residual_sq + tau * l1_norm
    scale = 1.0 if largest_gradient <= tau else tau / largest_gradient
    gap = tau * l1_norm + scale * codes_gradient + 0.5 * (1.0 - scale) ** 2 * residual_sq
    return primal, gap, largest_gradient, largest_correlation


@numba.njit(cache=True, fastmath=_FAST)
def solved(codes: Floats, gram_codes: Floats, correlation: Floats, sq_norm: float, tau: float,
           tol: float) -> bool:
    """Stopping test of every method at ``codes``.

    For ``tau > 0``: the duality gap (:func:`duality_gap`) at most ``tol``
    times the objective, which certifies a relative objective error of at
    most ``tol / (1 - tol)``.  For ``tau = 0`` (least squares) the gap is the
    whole objective, so the test is stationarity instead:
    ``max|g| <= tol * max|c|``.

    Parameters
    ----------
    codes, gram_codes, correlation : ndarray of shape (n_atoms,)
        ``b``, ``G b`` and ``c``.
    sq_norm : float
        ``‖y‖²``.
    tau, tol : float

    Returns
    -------
    bool
    """
    primal, gap, largest_gradient, largest_correlation = duality_gap(
        codes, gram_codes, correlation, sq_norm, tau)
    if tau == 0.0:
        return largest_gradient <= tol * largest_correlation
    return gap <= tol * primal


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def proximal_gradient(gram: Floats, correlations: Floats, sq_norms: Floats, tau: float,
                      step: float, momentum: bool, restart: bool, tol: float, max_iter: int,
                      codes: Floats, n_iter: Ints, converged: Bools) -> None:
    """ISTA (``momentum=False``) or FISTA (``momentum=True``) for every signal.

    One iteration from the point ``p`` (``p = b`` for ISTA, the momentum
    point for FISTA)::

        b_new = soft_threshold(p - step * (G p - c), step * tau)

    FISTA (Beck & Teboulle 2009): ``p_{k+1} = b_k + (t_k - 1) / t_{k+1}
    (b_k - b_{k-1})``, ``t_1 = 1``, ``t_{k+1} = (1 + sqrt(1 + 4 t_k²)) / 2``.
    With ``restart`` (O'Donoghue & Candès 2015, gradient scheme) the momentum
    is dropped (``t`` reset to 1, as if FISTA started afresh from ``b_k``)
    whenever ``(p - b_new) . (b_new - b) > 0``, i.e. when the step makes an
    acute angle with the generalised gradient.  ``G p`` is formed from
    ``G b_k`` and ``G b_{k-1}`` (linearity), so each iteration costs one
    product of ``G`` with the sparse ``b_new``.  The stopping test
    (:func:`solved`) runs on the start and after every iteration.

    Parameters
    ----------
    gram : ndarray of shape (n_atoms, n_atoms), symmetric
    correlations : ndarray of shape (n_signals, n_atoms)
    sq_norms : ndarray of shape (n_signals,)
        ``‖y_i‖²``.
    tau, step : float
    momentum, restart : bool
    tol : float
    max_iter : int
    codes : ndarray of shape (n_signals, n_atoms)
        Starting codes on entry, result on exit.
    n_iter : ndarray of shape (n_signals,), int64
        Output: iterations run (0 when the start passes the test).
    converged : ndarray of shape (n_signals,), bool
        Output.
    """
    n_signals, n_atoms = correlations.shape
    threshold = step * tau
    for signal in numba.prange(n_signals):
        correlation = correlations[signal]
        current = codes[signal]
        gram_current = np.empty(n_atoms)
        gram_product(gram, current, gram_current)
        n_iter[signal] = 0
        converged[signal] = solved(current, gram_current, correlation, sq_norms[signal],
                                    tau, tol)
        if converged[signal]:
            continue
        previous = current.copy()
        gram_previous = gram_current.copy()
        proposal = np.empty(n_atoms)
        gram_proposal = np.empty(n_atoms)
        t = 1.0
        beta = 0.0
        for iteration in range(1, max_iter + 1):
            angle = 0.0
            for atom in range(n_atoms):
                point = current[atom] + beta * (current[atom] - previous[atom])
                gradient = (gram_current[atom] + beta * (gram_current[atom]
                                                         - gram_previous[atom])
                            - correlation[atom])
                new = soft_threshold_step(point - step * gradient, threshold, 1.0)
                proposal[atom] = new
                angle += (point - new) * (new - current[atom])
            gram_product(gram, proposal, gram_proposal)
            for atom in range(n_atoms):
                previous[atom] = current[atom]
                current[atom] = proposal[atom]
                gram_previous[atom] = gram_current[atom]
                gram_current[atom] = gram_proposal[atom]
            n_iter[signal] = iteration
            if solved(current, gram_current, correlation, sq_norms[signal], tau, tol):
                converged[signal] = True
                break
            if momentum:
                if restart and angle > 0.0:
                    t = 1.0
                    beta = 0.0
                else:
                    t_next = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * t * t))
                    beta = (t - 1.0) / t_next
                    t = t_next


@numba.njit(cache=True, fastmath=_FAST, inline="always")
def _coordinate(gram: Floats, residual: Floats, codes: Floats, atom: int, tau: float) -> float:
    """Exact minimisation over ``codes[atom]``; returns ``|change|``.

    ``residual`` holds ``c - G b`` and is kept up to date (one row of ``G``
    per change).
    """
    diagonal = gram[atom, atom]
    if diagonal <= 0.0:
        return 0.0
    old = codes[atom]
    new = soft_threshold_step(old + residual[atom] / diagonal, tau / diagonal, 1.0)
    change = new - old
    if change == 0.0:
        return 0.0
    codes[atom] = new
    for other in range(residual.shape[0]):
        residual[other] -= change * gram[atom, other]
    return abs(change)


@numba.njit(cache=True, fastmath=_FAST)
def _coordinate_solved(codes: Floats, residual: Floats, correlation: Floats, sq_norm: float,
                       tau: float, tol: float, gram_codes: Floats) -> bool:
    """:func:`solved` from the residual ``c - G b`` (``gram_codes`` is scratch)."""
    for atom in range(codes.shape[0]):
        gram_codes[atom] = correlation[atom] - residual[atom]
    return solved(codes, gram_codes, correlation, sq_norm, tau, tol)


#: Sweeps over the active set between two full sweeps, at most.
_ACTIVE_SWEEPS = 50


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def coordinate_descent(gram: Floats, correlations: Floats, sq_norms: Floats, tau: float,
                       tol: float, max_iter: int, codes: Floats, n_iter: Ints,
                       converged: Bools) -> None:
    """Cyclic coordinate descent on the Gram matrix for every signal.

    The update of one code is exact: ``b_k = S(b_k + r_k / G_kk, tau / G_kk)``
    with the residual correlation ``r = c - G b`` kept up to date (one row
    of ``G`` per change, so a sweep that changes few codes is cheap).  One
    iteration is a full sweep over every atom, then sweeps over the non-zero
    codes only (at most :data:`_ACTIVE_SWEEPS`, until the largest change is
    a tenth of the full sweep's); the stopping test (:func:`solved`: the
    duality gap at most ``tol`` times the objective) runs on the start and
    after both parts of every iteration.

    Parameters
    ----------
    gram : ndarray of shape (n_atoms, n_atoms), symmetric
    correlations : ndarray of shape (n_signals, n_atoms)
    sq_norms : ndarray of shape (n_signals,)
    tau, tol : float
    max_iter : int
        Full sweeps allowed.
    codes : ndarray of shape (n_signals, n_atoms)
        Starting codes on entry, result on exit.
    n_iter : ndarray of shape (n_signals,), int64
        Output: full sweeps run.
    converged : ndarray of shape (n_signals,), bool
        Output.
    """
    n_signals, n_atoms = correlations.shape
    for signal in numba.prange(n_signals):
        current = codes[signal]
        correlation = correlations[signal]
        scratch = np.empty(n_atoms)
        gram_product(gram, current, scratch)
        residual = np.empty(n_atoms)
        for atom in range(n_atoms):
            residual[atom] = correlation[atom] - scratch[atom]
        n_iter[signal] = 0
        done = solved(current, scratch, correlation, sq_norms[signal], tau, tol)
        active = np.empty(n_atoms, dtype=np.int64)
        for iteration in range(1, max_iter + 1):
            if done:
                break
            n_iter[signal] = iteration
            full_change = 0.0
            n_active = 0
            for atom in range(n_atoms):
                full_change = max(full_change, _coordinate(gram, residual, current, atom, tau))
                if current[atom] != 0.0:
                    active[n_active] = atom
                    n_active += 1
            done = _coordinate_solved(current, residual, correlation, sq_norms[signal], tau,
                                      tol, scratch)
            if done:
                break
            for _ in range(_ACTIVE_SWEEPS):
                change = 0.0
                for position in range(n_active):
                    change = max(change, _coordinate(gram, residual, current, active[position],
                                                     tau))
                if change <= 0.1 * full_change:
                    break
            done = _coordinate_solved(current, residual, correlation, sq_norms[signal], tau,
                                      tol, scratch)
        converged[signal] = done


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def objectives(gram: Floats, correlations: Floats, sq_norms: Floats, tau: float, codes: Floats,
               out: Floats) -> None:
    """``½‖y_i − Θ b_i‖² + tau‖b_i‖₁ = ½‖y_i‖² − b_iᵀc_i + ½ b_iᵀ G b_i + tau‖b_i‖₁``.

    Only the non-zero codes are visited (``nnz²`` per signal).

    Parameters
    ----------
    gram : ndarray of shape (n_atoms, n_atoms)
    correlations, codes : ndarray of shape (n_signals, n_atoms)
    sq_norms : ndarray of shape (n_signals,)
    tau : float
    out : ndarray of shape (n_signals,)
        Output.
    """
    n_signals, n_atoms = codes.shape
    for signal in numba.prange(n_signals):
        row = codes[signal]
        active = np.empty(n_atoms, dtype=np.int64)
        n_active = 0
        linear = 0.0
        l1_norm = 0.0
        for atom in range(n_atoms):
            if row[atom] != 0.0:
                active[n_active] = atom
                n_active += 1
                linear += row[atom] * correlations[signal, atom]
                l1_norm += abs(row[atom])
        quadratic = 0.0
        for first in range(n_active):
            atom = active[first]
            inner = 0.0
            for second in range(n_active):
                inner += gram[atom, active[second]] * row[active[second]]
            quadratic += row[atom] * inner
        out[signal] = max(0.5 * sq_norms[signal] - linear + 0.5 * quadratic, 0.0) + tau * l1_norm


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def gaps(gram: Floats, correlations: Floats, sq_norms: Floats, tau: float, codes: Floats,
         out: Floats) -> None:
    """Duality gap (:func:`duality_gap`) of every signal at ``codes``.

    Parameters
    ----------
    gram : ndarray of shape (n_atoms, n_atoms), symmetric
    correlations, codes : ndarray of shape (n_signals, n_atoms)
    sq_norms : ndarray of shape (n_signals,)
    tau : float
    out : ndarray of shape (n_signals,)
        Output.
    """
    n_signals, n_atoms = codes.shape
    for signal in numba.prange(n_signals):
        gram_codes = np.empty(n_atoms)
        gram_product(gram, codes[signal], gram_codes)
        out[signal] = duality_gap(codes[signal], gram_codes, correlations[signal],
                                  sq_norms[signal], tau)[1]
