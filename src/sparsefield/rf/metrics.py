"""How well an estimated receptive field recovers a simulated one."""

import numpy as np

from sparsefield.errors import InputError


def correlation(a, b):
    """Pearson correlation of two arrays, flattened.

    Parameters
    ----------
    a, b : array_like
        Same number of elements (>= 2).

    Returns
    -------
    float
        In [-1, 1]; NaN when either array is constant.
    """
    a = np.asarray(a, dtype=np.float64).ravel()
    b = np.asarray(b, dtype=np.float64).ravel()
    if a.size != b.size or a.size < 2:
        raise InputError("correlation", f"needs two arrays of the same size >= 2, got "
                         f"{a.size} and {b.size} elements")
    a = a - a.mean()
    b = b - b.mean()
    denominator = np.sqrt(np.dot(a, a) * np.dot(b, b))
    if denominator == 0.0:
        return float("nan")
    return float(np.clip(np.dot(a, b) / denominator, -1.0, 1.0))


def recovery_metrics(truth, ml_weights, lags, ml_temporal, sta_spatial, sta_temporal,
                     sta_taus):
    """Compare ML and STA receptive-field estimates with the simulated truth.

    Parameters
    ----------
    truth : Mapping
        The truth from :func:`sparsefield.rf.simulate.simulate_recording`
        (or its saved npz): ``spatial`` (n_pixels,), ``lags`` and
        ``temporal_lags`` (n_truth_lags,), ``sta_taus`` and ``sta_temporal``
        (n_sta_taus,).
    ml_weights : ndarray of shape (n_lags, n_pixels)
        Per-lag ML weights.
    lags : ndarray of shape (n_lags,)
        Frame lags of the rows of ``ml_weights`` (each in ``truth["lags"]``).
    ml_temporal : ndarray of shape (n_lags,)
        Temporal part of the rank-1 separation of ``ml_weights``.
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
        ``best_lag`` (int): the lag whose weight vector has the largest
        Euclidean norm.
        ``spatial_corr_best_lag``: correlation of the ML weights at
        ``best_lag`` with ``truth["spatial"]``.
        ``temporal_corr_svd``: correlation of ``ml_temporal`` with
        ``truth["temporal_lags"]`` at the same lags.
        ``sta_spatial_corr``: correlation of ``sta_spatial`` with
        ``truth["spatial"]``.
        ``sta_temporal_corr``: correlation of ``sta_temporal`` with
        ``truth["sta_temporal"]`` interpolated linearly at ``sta_taus``.
        Correlations are Pearson and signed: a sign flip scores -1.
    """
    ml_weights = np.asarray(ml_weights, dtype=np.float64)
    lags = np.asarray(lags)
    truth_lags = np.asarray(truth["lags"])
    if ml_weights.ndim != 2 or ml_weights.shape[0] != lags.size:
        raise InputError("recovery_metrics(ml_weights)",
                         f"must have shape (n_lags, n_pixels) with n_lags = {lags.size}, "
                         f"got {ml_weights.shape}")
    missing = sorted(set(lags.tolist()) - set(truth_lags.tolist()))
    if missing:
        raise InputError("recovery_metrics(lags)", f"lags {missing} are not in the truth "
                         f"(which has lags {truth_lags.min()}..{truth_lags.max()})")
    sta_taus = np.asarray(sta_taus, dtype=np.float64)
    truth_taus = np.asarray(truth["sta_taus"], dtype=np.float64)
    if sta_taus.min() < truth_taus[0] - 1e-12 or sta_taus.max() > truth_taus[-1] + 1e-12:
        raise InputError("recovery_metrics(sta_taus)",
                         f"must lie within the truth's {truth_taus[0]}..{truth_taus[-1]} s")

    spatial = np.asarray(truth["spatial"], dtype=np.float64)
    best = int(np.argmax(np.linalg.norm(ml_weights, axis=1)))
    truth_temporal = np.asarray(truth["temporal_lags"], dtype=np.float64)
    position = {lag: index for index, lag in enumerate(truth_lags.tolist())}
    truth_at_lags = truth_temporal[[position[lag] for lag in lags.tolist()]]
    truth_sta = np.interp(sta_taus, truth_taus, np.asarray(truth["sta_temporal"]))
    return {
        "best_lag": int(lags[best]),
        "spatial_corr_best_lag": correlation(ml_weights[best], spatial),
        "temporal_corr_svd": correlation(ml_temporal, truth_at_lags),
        "sta_spatial_corr": correlation(sta_spatial, spatial),
        "sta_temporal_corr": correlation(sta_temporal, truth_sta),
    }
