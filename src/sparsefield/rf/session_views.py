"""What the session figures show: each fitted unit's map, kernel or centre, and the order.

Plain arrays in, plain arrays out; :mod:`sparsefield.plots.session` draws them.  A unit is
shown when its estimate is finite (units below ``min_spikes`` are not fitted: NaN).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from sparsefield.rf.shape import moment_fit, stimulus_geometry

if TYPE_CHECKING:
    from sparsefield.rf.separation import UnitsSeparation
    from sparsefield.rf.units_lasso import UnitsLasso


def _polarity(temporal: NDArray[np.float64]) -> int:
    """+1 / -1: sign of the temporal kernel at its largest magnitude (0 when all zero)."""
    if not np.any(temporal):
        return 0
    return int(np.sign(temporal[np.argmax(np.abs(temporal))]))


def shown_units(separation: UnitsSeparation) -> NDArray[np.intp]:
    """Indices of the units whose separation is finite (fitted), shape (n_shown,)."""
    return np.flatnonzero(np.all(np.isfinite(separation.spatial), axis=1))


def atlas_maps(
    frame_shape: tuple[int, int],
    lasso: UnitsLasso,
    separation: UnitsSeparation,
) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.intp]]:
    """Each fitted unit's lasso receptive field for the atlas, and the drawing order.

    Parameters
    ----------
    frame_shape : tuple of int
    lasso : sparsefield.rf.units_lasso.UnitsLasso
    separation : sparsefield.rf.separation.UnitsSeparation
        Rank-1 separations of the lasso fits at the chosen penalties.

    Returns
    -------
    maps : ndarray
        Grid: signed spatial maps (n_shown, n_pixels) (the separation's map times the
        sign of its temporal peak: ON positive, OFF negative).  Bars: the chosen fits,
        lag x position (n_shown, n_lags, n_pixels).  Full field: the chosen fits'
        temporal kernels (n_shown, n_lags).
    order : ndarray of shape (n_shown,), int
        Drawing order: by RF centre (row, then column) for a grid, by position for bars,
        by peak lag for a full field.
    units : ndarray of shape (n_shown,), int
        Unit positions in the session of the rows of ``maps``.
    """
    units = shown_units(separation)
    geometry = stimulus_geometry(frame_shape)
    if geometry == "grid":
        signs = np.array([_polarity(separation.temporal[unit]) or 1 for unit in units])
        maps = separation.spatial[units] * signs[:, None]
        centres = np.array([moment_fit(np.abs(separation.spatial[unit]), frame_shape).centre
                            for unit in units]).reshape(-1, 2)
        order = np.lexsort((np.nan_to_num(centres[:, 1]), np.nan_to_num(centres[:, 0])))
        return maps, order, units
    chosen = np.stack([lasso.unit(unit).chosen_weights for unit in units]) if units.size \
        else np.zeros((0, lasso.lags.size, int(np.prod(frame_shape))))
    if geometry == "bars":
        positions = np.array([np.argmax(np.abs(separation.spatial[unit])) for unit in units])
        return chosen, np.argsort(positions, kind="stable"), units
    kernels = chosen[:, :, 0]
    peaks = np.argmax(np.abs(kernels), axis=1) if units.size else np.zeros(0, dtype=int)
    return kernels, np.argsort(peaks, kind="stable"), units


def kernel_rows(
    separation: UnitsSeparation,
) -> tuple[NDArray[np.float64], NDArray[np.intp], NDArray[np.intp]]:
    """Temporal kernels of the fitted units for the heat map, sorted by peak delay.

    Parameters
    ----------
    separation : sparsefield.rf.separation.UnitsSeparation
        E.g. the separations of the spike-triggered averages (temporal over delays).

    Returns
    -------
    kernels : ndarray of shape (n_shown, n_delays)
    order : ndarray of shape (n_shown,), int
    units : ndarray of shape (n_shown,), int
    """
    units = shown_units(separation)
    kernels = separation.temporal[units]
    peaks = np.argmax(np.abs(kernels), axis=1) if units.size else np.zeros(0, dtype=int)
    return kernels, np.argsort(peaks, kind="stable"), units


def mosaic_fits(
    frame_shape: tuple[int, int],
    separation: UnitsSeparation,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.intp]]:
    """Centres, 1-sigma ellipses and polarities of the fitted units' spatial maps.

    Parameters
    ----------
    frame_shape : tuple of int
    separation : sparsefield.rf.separation.UnitsSeparation

    Returns
    -------
    centres : ndarray of shape (n_shown, 2)
        ``(row, col)`` from :func:`sparsefield.rf.shape.moment_fit` of ``|spatial|``.
    ellipses : ndarray of shape (n_shown, 3)
        ``(major, minor, angle_deg)``.
    polarity : ndarray of shape (n_shown,)
        +1 ON, -1 OFF (sign of the temporal kernel at its peak).
    units : ndarray of shape (n_shown,), int
    """
    units = shown_units(separation)
    # |map|: the whole RF (a Gabor's envelope, not only its strongest lobe); the
    # polarity comes from the temporal kernel.
    fits = [moment_fit(np.abs(separation.spatial[unit]), frame_shape) for unit in units]
    centres = np.array([fit.centre for fit in fits], dtype=np.float64).reshape(-1, 2)
    ellipses = np.array([fit.ellipse for fit in fits], dtype=np.float64).reshape(-1, 3)
    polarity = np.array([_polarity(separation.temporal[unit]) for unit in units], dtype=float)
    return centres, ellipses, polarity, units
