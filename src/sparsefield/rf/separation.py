"""Space-time separation of a lag-by-pixel receptive field by SVD (written once, here).

A space-time separable receptive field is ``rf[lag, pixel] = temporal[lag] *
spatial[pixel]``.  The best rank-1 approximation in the least-squares
(Frobenius) sense is given by the leading singular triplet of the matrix:

    matrix = U @ diag(S) @ Vt,
    spatial = Vt[0]                       (unit norm),
    temporal = U[:, 0] * S[0]             (carries the scale),
    outer(temporal, spatial) = S[0] * outer(U[:, 0], Vt[0])   (the rank-1 approximation).

Singular vectors are defined up to a joint sign; here the sign is fixed so the
spatial entry of largest magnitude is positive (an ON-centre cell gets a
positive centre; an OFF-centre cell a positive centre with negative temporal
weights).
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from sparsefield._checks import as_float_array
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError

CENTERINGS = ("none", "pixel", "global")


@dataclass(frozen=True)
class Separation(NpzMixin):
    """Rank-1 space-time separation of a receptive field.

    Attributes
    ----------
    spatial : ndarray of shape (n_pixels,)
        Unit-norm spatial profile; its entry of largest magnitude is positive.
    temporal : ndarray of shape (n_lags,)
        Temporal profile including the scale: ``temporal = u * singular_value``
        for the first left singular vector ``u``, so
        ``np.outer(temporal, spatial)`` is the rank-1 approximation of the
        centred matrix and ``norm(temporal) == singular_value``.
    singular_value : float
        Largest singular value of the centred matrix.
    explained : float
        ``singular_value**2 / ||centred matrix||_F**2``: fraction of the
        squared Frobenius norm (after centring) captured by rank 1.
    centering : str
        ``"none"``, ``"pixel"`` or ``"global"`` (see :func:`separate`).
    """

    spatial: np.ndarray
    temporal: np.ndarray
    singular_value: float
    explained: float
    centering: str


def separate(matrix: ArrayLike, centering: str = "none") -> Separation:
    """Rank-1 (space-time separable) approximation of a receptive field.

    Parameters
    ----------
    matrix : ndarray of shape (n_lags, n_pixels)
        E.g. :attr:`MLFit.weights` or an STA, one row per lag.
    centering : {"none", "pixel", "global"}, default "none"
        What to subtract before the SVD: nothing; each pixel's mean over
        lags (``matrix - matrix.mean(axis=0)``); or the grand mean.

    Returns
    -------
    Separation
        ``np.outer(result.temporal, result.spatial)`` approximates the
        centred matrix; for an exactly rank-1 matrix (and ``"none"``) it
        reproduces it.

    Raises
    ------
    InputError
        If ``matrix`` is not a finite 2-D array or ``centering`` is unknown.

    Notes
    -----
    A centred matrix of zeros (a lasso fit that kept no weight, or a single
    lag with ``"pixel"``) has no receptive field to separate: the result is
    then zeros with ``singular_value`` 0 and ``explained`` NaN, so that a
    neuron without a detectable receptive field is reported, not an error.
    """
    if centering not in CENTERINGS:
        raise InputError("centering", f"must be one of {CENTERINGS}, got {centering!r}")
    matrix = as_float_array(matrix, "matrix", 2, allow_empty=False)
    if centering == "pixel":
        centred = matrix - matrix.mean(axis=0)
    elif centering == "global":
        centred = matrix - matrix.mean()
    else:
        centred = matrix
    left, singular_values, right = np.linalg.svd(centred, full_matrices=False)
    total = float(np.sum(singular_values**2))
    if total == 0.0:
        return Separation(
            spatial=np.zeros(matrix.shape[1]),
            temporal=np.zeros(matrix.shape[0]),
            singular_value=0.0,
            explained=float("nan"),
            centering=centering,
        )
    spatial = right[0].copy()
    temporal = left[:, 0] * singular_values[0]
    if spatial[np.argmax(np.abs(spatial))] < 0:
        spatial = -spatial
        temporal = -temporal
    return Separation(
        spatial=spatial,
        temporal=temporal,
        singular_value=float(singular_values[0]),
        explained=float(singular_values[0] ** 2 / total),
        centering=centering,
    )


@dataclass(frozen=True)
class UnitsSeparation(NpzMixin):
    """Rank-1 separations of the receptive fields of many units.

    Attributes
    ----------
    spatial : ndarray of shape (n_units, n_pixels)
    temporal : ndarray of shape (n_units, n_lags)
    singular_value, explained : ndarray of shape (n_units,)
    centering : str

    Units without a receptive field (not fitted: NaN input) have NaN rows.
    """

    #: Fields with a leading units axis (``centering`` is shared).
    UNIT_FIELDS = ("spatial", "temporal", "singular_value", "explained")

    spatial: np.ndarray
    temporal: np.ndarray
    singular_value: np.ndarray
    explained: np.ndarray
    centering: str

    def unit(self, index: int) -> Separation:
        """The :class:`Separation` of the unit at position ``index``."""
        return Separation(spatial=self.spatial[index], temporal=self.temporal[index],
                          singular_value=float(self.singular_value[index]),
                          explained=float(self.explained[index]), centering=self.centering)


def separate_units(matrices: ArrayLike, centering: str = "none") -> UnitsSeparation:
    """:func:`separate` applied to every unit's receptive field.

    Parameters
    ----------
    matrices : ndarray of shape (n_units, n_lags, n_pixels)
        One ``(n_lags, n_pixels)`` receptive field per unit; a unit whose
        matrix holds NaN (not fitted) gets NaN rows.
    centering : {"none", "pixel", "global"}

    Returns
    -------
    UnitsSeparation
    """
    matrices = np.asarray(matrices, dtype=np.float64)
    if matrices.ndim != 3:
        raise InputError("matrices", f"expected shape (n_units, n_lags, n_pixels), got "
                         f"{matrices.shape}")
    n_units, n_lags, n_pixels = matrices.shape
    spatial = np.full((n_units, n_pixels), np.nan)
    temporal = np.full((n_units, n_lags), np.nan)
    singular_value = np.full(n_units, np.nan)
    explained = np.full(n_units, np.nan)
    for index in range(n_units):
        if not np.all(np.isfinite(matrices[index])):
            continue
        result = separate(matrices[index], centering)
        spatial[index], temporal[index] = result.spatial, result.temporal
        singular_value[index], explained[index] = result.singular_value, result.explained
    if centering not in CENTERINGS:
        raise InputError("centering", f"must be one of {CENTERINGS}, got {centering!r}")
    return UnitsSeparation(spatial=spatial, temporal=temporal, singular_value=singular_value,
                           explained=explained, centering=centering)
