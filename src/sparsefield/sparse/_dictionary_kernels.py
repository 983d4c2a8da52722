"""Numba kernels of dictionary learning (:mod:`sparsefield.sparse.dictionary`).

Mairal et al.'s sufficient statistics and block-coordinate atom update (the
codes come from :mod:`sparsefield.sparse.inference`).  Atoms are stored as
rows, ``atoms`` of shape (n_atoms, n_features), so one atom is one
contiguous row of memory.  Inputs are trusted: float64, C-contiguous,
matching shapes, validated by the Python wrappers.
"""

from sparsefield._numba import numba

import numpy as np
from numpy.typing import NDArray

# Reassociation lets LLVM vectorise the dot products and axpys.
_FAST = {"reassoc", "contract", "nsz", "arcp"}

#: Atoms whose usage ``A[k, k]`` is at most this are "unused" (the value of
#: SPAMS and scikit-learn).
UNUSED = 1e-6


@numba.njit(cache=True, fastmath=_FAST)
def update_atoms_bcd(atoms: NDArray[np.float64], usage: NDArray[np.float64],
                     products: NDArray[np.float64]) -> NDArray[np.bool_]:
    """One pass of Mairal et al.'s block-coordinate atom update, in place.

    For each atom ``k`` in turn, with ``D`` the current atoms::

        d_k <- d_k + (B_k - sum_j A[k, j] d_j) / A[k, k],   then ‖d_k‖ = 1.

    Atoms with ``A[k, k] <= UNUSED`` are left as they are and flagged.

    Parameters
    ----------
    atoms : ndarray of shape (n_atoms, n_features)
        Unit-norm rows; updated in place.
    usage : ndarray of shape (n_atoms, n_atoms)
        ``A = sum_i b_i b_iᵀ`` (weighted).
    products : ndarray of shape (n_atoms, n_features)
        ``B`` transposed: ``sum_i b_i x_iᵀ`` (weighted).

    Returns
    -------
    unused : ndarray of shape (n_atoms,), bool
    """
    n_atoms, n_features = atoms.shape
    unused = np.zeros(n_atoms, dtype=np.bool_)
    update = np.empty(n_features)
    for k in range(n_atoms):
        diagonal = usage[k, k]
        if diagonal <= UNUSED:
            unused[k] = True
            continue
        for f in range(n_features):
            update[f] = products[k, f]
        for j in range(n_atoms):
            weight = usage[k, j]
            if weight != 0.0:
                for f in range(n_features):
                    update[f] -= weight * atoms[j, f]
        norm = 0.0
        for f in range(n_features):
            update[f] = atoms[k, f] + update[f] / diagonal
            norm += update[f] * update[f]
        if norm > 0.0:
            norm = np.sqrt(norm)
            for f in range(n_features):
                atoms[k, f] = update[f] / norm
        else:
            unused[k] = True
    return unused


@numba.njit(cache=True, fastmath=_FAST)
def accumulate_statistics(codes: NDArray[np.float64], signals: NDArray[np.float64],
                          usage: NDArray[np.float64], products: NDArray[np.float64], forget: float,
                          scale: float) -> None:
    """``A ← forget·A + scale·Σ b bᵀ`` and ``B ← forget·B + scale·Σ b yᵀ``, in place.

    Only the non-zero codes of each signal are visited, so the cost is
    ``n_signals · nnz · (nnz + n_features)`` instead of dense products.

    Parameters
    ----------
    codes : ndarray of shape (n_signals, n_atoms)
    signals : ndarray of shape (n_signals, n_features)
    usage : ndarray of shape (n_atoms, n_atoms)
    products : ndarray of shape (n_atoms, n_features)
    forget, scale : float
    """
    n_signals, n_atoms = codes.shape
    n_features = signals.shape[1]
    for k in range(n_atoms):
        for j in range(n_atoms):
            usage[k, j] *= forget
        for f in range(n_features):
            products[k, f] *= forget
    active = np.empty(n_atoms, dtype=np.int64)
    for i in range(n_signals):
        n_active = 0
        for k in range(n_atoms):
            if codes[i, k] != 0.0:
                active[n_active] = k
                n_active += 1
        for a in range(n_active):
            k = active[a]
            weight = scale * codes[i, k]
            for b in range(n_active):
                usage[k, active[b]] += weight * codes[i, active[b]]
            for f in range(n_features):
                products[k, f] += weight * signals[i, f]
