"""Numba kernels shared by both branches of the package (``rf`` and ``sparse``).

The lasso's coordinate update (soft thresholding) is written once, here: the Poisson
lasso of :mod:`sparsefield.rf.lasso_path` and the sparse-coding encoders of
:mod:`sparsefield.sparse.inference` both call it, so neither branch imports the
other's private kernels.  Inputs are trusted (the callers' Python wrappers validate).
"""

from sparsefield._numba import numba


@numba.njit(cache=True, inline="always")
def soft_threshold_step(score: float, lam: float, curvature: float) -> float:
    """Coordinate minimiser of ``curvature/2 w^2 - score w + lam |w|``.

    The one place the lasso's coordinate update (soft thresholding) is written.
    Inlined into the caller at numba IR level, so it compiles with the caller's
    fastmath flags.

    Parameters
    ----------
    score : float
        ``curvature * old_weight - gradient`` of the quadratic model.
    lam : float
    curvature : float
        Positive.

    Returns
    -------
    weight : float
    """
    if score > lam:
        return (score - lam) / curvature
    if score < -lam:
        return (score + lam) / curvature
    return 0.0


__all__ = ["soft_threshold_step"]
