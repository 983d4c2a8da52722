"""ADMM's driver for :mod:`sparsefield.sparse.inference`: loop, ``rho``, ``(G + rho I)⁻¹``.

The iteration itself is in :mod:`sparsefield.sparse._admm_kernels`; here are
what it runs between the kernels (one BLAS product per iteration for all the
signals still running), the penalty with its residual balancing, and the
factorisations, kept across calls by an :class:`InverseCache`.  Inputs are
trusted (checked by :func:`sparsefield.sparse.inference.encode`).
"""

import math
import threading

import numpy as np
import scipy.linalg.lapack
from numpy.typing import NDArray

from sparsefield.errors import InputError
from sparsefield.sparse import _admm_kernels

#: Over-relaxation ``alpha`` (Boyd et al. 2011, section 3.4.3, suggest 1.5 to 1.8); 1.8
#: needed the fewest iterations on the workflow's problem (1.0: 1.7 times as many).
RELAXATION = 1.8

#: Residual balancing (Boyd et al. 2011, section 3.4.1, on relative residuals): ``rho`` is
#: multiplied or divided by ``_RHO_FACTOR`` when one residual exceeds ``_BALANCE`` times the
#: other, at most ``_RHO_CHANGES`` times per call (a range of 2**16 either way).
_BALANCE, _RHO_FACTOR, _RHO_CHANGES = 10.0, 2.0, 16

#: Guards the relative residuals against division by zero.
_TINY = 1e-300

#: ADMM's fallback rule: Boyd et al.'s residual rule with ``eps_rel`` this fraction of ``tol``.
_RESIDUAL_FALLBACK = 1e-2

#: ``(G + rho I)^-1`` of Gram matrices up to this size (bytes: 1024 atoms) are kept between
#: calls, so the cache holds at most 4 x 2 x 8 MiB.
_CACHED_BYTES = 8 * 2**20


def penalised_inverse(gram: NDArray[np.float64], rho: float) -> NDArray[np.float64]:
    """``(gram + rho I)^-1`` from its Cholesky factor (LAPACK ``potrf`` and ``potri``)."""
    factor, info = scipy.linalg.lapack.dpotrf(gram + rho * np.eye(gram.shape[0]), lower=True)
    if info == 0:
        factor, info = scipy.linalg.lapack.dpotri(factor, lower=True)
    if info != 0:
        raise InputError("rho", f"{rho:g} is too small for this dictionary: Θᵀ Θ + rho I is "
                                "not positive definite in floating point")
    _admm_kernels.mirror_lower(factor)
    # Symmetric and Fortran-ordered: its transpose is the same matrix, C-ordered.
    return np.ascontiguousarray(factor.T)


class InverseCache:
    """``(G + rho I)^-1`` of the last few (Gram matrix, ``rho``) pairs, across calls.

    A dictionary used for several calls (chunks of signals, an estimator's
    ``transform``, ADMM going back to an earlier ``rho``) is factored once;
    a dictionary that changes between calls (dictionary learning) costs one
    comparison of a fingerprint per entry.  Thread-safe; the inverses handed
    out are read-only.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: list[tuple[tuple[float, ...], NDArray[np.float64],
                                  NDArray[np.float64]]] = []
        self._lock = threading.Lock()

    def inverse(self, gram: NDArray[np.float64], rho: float) -> NDArray[np.float64]:
        """``(gram + rho I)^-1``, from the cache when ``gram`` and ``rho`` are in it."""
        key = (float(gram.shape[0]), rho, float(np.trace(gram)), float(gram.sum()))
        with self._lock:
            for index, (entry_key, entry_gram, entry_inverse) in enumerate(self._entries):
                if entry_key == key and np.array_equal(entry_gram, gram):
                    self._entries.append(self._entries.pop(index))
                    return entry_inverse
        inverse = penalised_inverse(gram, rho)
        inverse.flags.writeable = False
        if gram.nbytes <= _CACHED_BYTES:
            with self._lock:
                self._entries.append((key, gram.copy(), inverse))
                del self._entries[:-self.size]
        return inverse

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._entries.clear()


#: The cache every call uses.
INVERSES = InverseCache(4)


class Penalty:
    """ADMM's ``rho`` and ``(G + rho I)^-1``, with residual balancing."""

    def __init__(self, gram: NDArray[np.float64], rho: float, adaptive: bool) -> None:
        self.gram = gram
        self.rho = rho
        self.changes_left = _RHO_CHANGES if adaptive else 0
        self.inverse = INVERSES.inverse(gram, rho)

    def balance(self, sums: NDArray[np.float64], dual: NDArray[np.float64]) -> bool:
        """Boyd et al.'s rule on the stacked relative residuals of the running signals.

        ``sums`` (4,) holds, summed over them, ``‖x - z‖²``, ``rho² ‖z -
        z_old‖²``, ``max(‖x‖², ‖z‖²)`` and ``‖rho u‖²``: the primal and dual
        residuals, each compared with the scale of its tolerance in the
        stopping rule (Wohlberg 2017's normalised balancing, which does not
        depend on the units of ``Θ`` and ``y``).  The scaled dual ``u`` (all
        signals) is rescaled with ``rho`` so that ``rho u`` stays the same.
        Returns whether ``rho`` changed.
        """
        if self.changes_left == 0:
            return False
        primal = math.sqrt(sums[0] / max(sums[2], _TINY))
        dual_residual = math.sqrt(sums[1] / max(sums[3], _TINY))
        if primal > _BALANCE * dual_residual:
            factor = _RHO_FACTOR
        elif dual_residual > _BALANCE * primal:
            factor = 1.0 / _RHO_FACTOR
        else:
            return False
        self.rho *= factor
        dual /= factor
        self.changes_left -= 1
        self.inverse = INVERSES.inverse(self.gram, self.rho)
        return True


def run_admm(gram: NDArray[np.float64], correlations: NDArray[np.float64],
             sq_norms: NDArray[np.float64], tau: float, codes: NDArray[np.float64], tol: float,
             max_iter: int, *, rho: float, relaxation: float,
             adaptive: bool) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Scaled-form ADMM for every signal, all in lock step.

    Parameters
    ----------
    gram : ndarray of shape (n_atoms, n_atoms)
        ``G = Θᵀ Θ``, symmetric.
    correlations : ndarray of shape (n_signals, n_atoms)
        ``c_i = Θᵀ y_i``.
    sq_norms : ndarray of shape (n_signals,)
        ``‖y_i‖²``.
    tau : float
    codes : ndarray of shape (n_signals, n_atoms)
        Starting ``z`` on entry, result on exit.
    tol : float
        Relative duality gap; the residual fallback uses ``tol *``
        :data:`_RESIDUAL_FALLBACK`.
    max_iter : int
    rho, relaxation : float
        Starting penalty and over-relaxation ``alpha``.
    adaptive : bool
        Residual balancing of ``rho``.

    Returns
    -------
    n_iter : ndarray of shape (n_signals,), int64
    converged : ndarray of shape (n_signals,), bool
    """
    penalty = Penalty(gram, rho, adaptive)
    # Absolute term of the primal residual rule: ‖c‖ over a bound of λ_max (Gershgorin).
    code_scale = (np.sqrt(np.einsum("ij,ij->i", correlations, correlations))
                  / np.abs(gram).sum(axis=1).max())
    n_signals = codes.shape[0]
    n_iter = np.zeros(n_signals, dtype=np.int64)
    converged = np.zeros(n_signals, dtype=bool)
    dual = np.empty_like(codes)
    _admm_kernels.admm_start(gram, correlations, sq_norms, tau, penalty.rho, tol, codes, dual,
                             converged)
    targets, dense = np.empty_like(codes), np.empty_like(codes)
    residuals, sums = np.empty((n_signals, 4)), np.empty(4)
    active = np.flatnonzero(~converged)
    n_active = active.shape[0]
    _admm_kernels.admm_targets(correlations, codes, dual, penalty.rho, active, targets)
    for iteration in range(1, max_iter + 1):
        if n_active == 0:
            break
        np.dot(targets[:n_active], penalty.inverse, out=dense[:n_active])
        n_active = _admm_kernels.admm_step(
            gram, correlations, sq_norms, tau, penalty.rho, relaxation, tol,
            tol * _RESIDUAL_FALLBACK, code_scale, iteration, active, n_active, dense, codes,
            dual, n_iter, converged, residuals, targets, sums)
        if n_active and penalty.balance(sums, dual):
            _admm_kernels.admm_targets(correlations, codes, dual, penalty.rho,
                                       active[:n_active], targets)
    return n_iter, converged
