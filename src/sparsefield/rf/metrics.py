"""How well an estimated receptive field recovers a simulated one."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield.errors import InputError

if TYPE_CHECKING:
    from sparsefield.rf.ml import MLFit
    from sparsefield.rf.separation import Separation


def correlation(a: ArrayLike, b: ArrayLike) -> float:
    """Pearson correlation of two arrays, flattened.

    Parameters
    ----------
    a, b : array_like
        Same number of elements (>= 1).

    Returns
    -------
    float
        In [-1, 1]; NaN when either array is constant, or has a single element (a
        full-field stimulus's one-pixel "map": there is no spatial shape to compare).
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.size != b.size or a.size < 1:
        raise InputError("correlation", f"needs two arrays of the same size >= 1, got "
                         f"{a.size} and {b.size} elements")
    if a.size == 1:
        return float("nan")
    a = a - a.mean()
    b = b - b.mean()
    denominator = np.sqrt(np.dot(a, a) * np.dot(b, b))
    if denominator == 0.0:
        return float("nan")
    return float(np.clip(np.dot(a, b) / denominator, -1.0, 1.0))


def recovery_metrics(truth: Mapping[str, Any], fit: MLFit, ml_temporal: NDArray[np.float64],
                     sta_spatial: NDArray[np.float64], sta_temporal: NDArray[np.float64],
                     sta_taus: NDArray[np.float64]) -> dict[str, float]:
    """Compare ML and STA receptive-field estimates with the simulated truth.

    Parameters
    ----------
    truth : Mapping
        The truth from :func:`sparsefield.rf.simulate.simulate_recording`
        (or its saved npz): ``spatial`` (n_pixels,), ``lags`` and
        ``temporal_lags`` (n_truth_lags,), ``sta_taus`` and ``sta_temporal``
        (n_sta_taus,).
    fit : sparsefield.rf.ml.MLFit
        Per-lag ML fits; ``fit.lags`` must all be in ``truth["lags"]``.
    ml_temporal : ndarray of shape (n_lags,)
        Temporal part of the rank-1 separation of ``fit.weights``.
    sta_spatial : ndarray of shape (n_pixels,)
        Spatial part of a separation of the STA (or the STA at its peak).
    sta_temporal : ndarray of shape (n_sta,)
        Temporal part of the STA, at ``sta_taus``.
    sta_taus : ndarray of shape (n_sta,)
        Delays in seconds of ``sta_temporal`` (within the range of
        ``truth["sta_taus"]``).

    Returns
    -------
    dict
        ``best_lag`` (int): :attr:`MLFit.best_lag`, the lag whose weight
        vector has the largest Euclidean norm.
        ``spatial_corr_best_lag``: correlation of the ML weights at
        ``best_lag`` with the true weights there, ``truth["spatial"]`` times the
        sign of ``truth["temporal_lags"]`` at that lag (negative for an OFF unit).
        ``temporal_corr_svd``: correlation of ``ml_temporal`` with
        ``truth["temporal_lags"]`` at the same lags.
        ``sta_spatial_corr``: correlation of ``sta_spatial`` with
        ``truth["spatial"]``.
        ``sta_temporal_corr``: correlation of ``sta_temporal`` with
        ``truth["sta_temporal"]`` interpolated linearly at ``sta_taus``.
        Correlations are Pearson and signed: a sign flip scores -1.
    """
    lags = np.asarray(fit.lags)
    truth_lags = np.asarray(truth["lags"])
    missing = sorted(set(lags.tolist()) - set(truth_lags.tolist()))
    if missing:
        raise InputError("fit.lags", f"lags {missing} are not in the truth "
                         f"(which has lags {truth_lags.min()}..{truth_lags.max()})")
    sta_taus = np.asarray(sta_taus, dtype=np.float64)
    truth_taus = np.asarray(truth["sta_taus"], dtype=np.float64)
    if sta_taus.min() < truth_taus[0] - 1e-12 or sta_taus.max() > truth_taus[-1] + 1e-12:
        raise InputError("sta_taus",
                         f"must lie within the truth's {truth_taus[0]}..{truth_taus[-1]} s")

    spatial = np.asarray(truth["spatial"], dtype=np.float64)
    best_lag = fit.best_lag
    truth_temporal = np.asarray(truth["temporal_lags"], dtype=np.float64)
    position = {lag: index for index, lag in enumerate(truth_lags.tolist())}
    truth_at_lags = truth_temporal[[position[lag] for lag in lags.tolist()]]
    truth_sta = np.interp(sta_taus, truth_taus, np.asarray(truth["sta_temporal"]))
    # The true weights at a lag are temporal_lags[lag] * spatial: an OFF unit's (or a
    # rebound lag's) map is the spatial map with its sign flipped.
    sign_at_best = 1.0 if truth_temporal[position[best_lag]] >= 0 else -1.0
    return {
        "best_lag": best_lag,
        "spatial_corr_best_lag": correlation(fit.weights[fit.lag_position(best_lag)],
                                             sign_at_best * spatial),
        "temporal_corr_svd": correlation(ml_temporal, truth_at_lags),
        "sta_spatial_corr": correlation(sta_spatial, spatial),
        "sta_temporal_corr": correlation(sta_temporal, truth_sta),
    }


def separation_metrics(truth: Mapping[str, Any], lags: ArrayLike,
                       separation: Separation) -> dict[str, float]:
    """Compare a rank-1 separation over frame lags with the simulated truth.

    Parameters
    ----------
    truth : Mapping
        As in :func:`recovery_metrics` (``spatial``, ``lags``, ``temporal_lags``).
    lags : array_like of shape (n_lags,)
        Frame lags of the separated matrix, all in ``truth["lags"]``.
    separation : sparsefield.rf.separation.Separation

    Returns
    -------
    dict
        ``spatial_corr`` and ``temporal_corr``: signed Pearson correlations of the
        separation's spatial map and temporal kernel with the truth.
    """
    truth_lags = np.asarray(truth["lags"]).tolist()
    missing = sorted(set(np.asarray(lags).tolist()) - set(truth_lags))
    if missing:
        raise InputError("lags", f"lags {missing} are not in the truth")
    truth_temporal = np.asarray(truth["temporal_lags"], dtype=np.float64)
    at_lags = truth_temporal[[truth_lags.index(lag) for lag in np.asarray(lags).tolist()]]
    return {
        "spatial_corr": correlation(separation.spatial, truth["spatial"]),
        "temporal_corr": correlation(separation.temporal, at_lags),
    }
