"""One row of numbers per recording: what was counted, where the RF peaks, and
(for simulated recordings) how well the truth was recovered."""

import numpy as np


def peak_pixel(values, frame_shape, use_abs=True):
    """Where a map (or a stack of maps) has its largest value.

    Parameters
    ----------
    values : array_like of shape (..., n_pixels)
        One flattened frame, or a stack of them (e.g. ``(n_lags, n_pixels)``
        weights or ``(n_taus, n_pixels)`` z-scores); pixels in C order,
        ``n_pixels = height * width``.  NaN entries are ignored.
    frame_shape : tuple of int
        ``(height, width)``.
    use_abs : bool, default True
        Look for the largest ``|value|`` instead of the largest value.

    Returns
    -------
    index : int
        Flat index over the leading axes (the lag or tau row of a stack;
        0 for a single frame).
    row, col : int
        Pixel of the peak.
    """
    values = np.asarray(values, dtype=np.float64)
    n_pixels = int(frame_shape[0]) * int(frame_shape[1])
    flat = np.abs(values) if use_abs else values
    index, pixel = divmod(int(np.nanargmax(flat.reshape(-1))), n_pixels)
    row, col = divmod(pixel, int(frame_shape[1]))
    return index, row, col


def recording_summary(recording, binned, fit, ml_separation, sta, sta_separation):
    """Summary numbers of one recording.

    Parameters
    ----------
    recording : sparsefield.io.Recording
    binned : sparsefield.rf.binning.BinnedCounts
    fit : sparsefield.rf.ml.MLFit
    ml_separation, sta_separation : sparsefield.rf.separation.Separation
        Rank-1 separations of ``fit.weights`` and of the STA.
    sta : sparsefield.rf.sta.STA

    Returns
    -------
    dict of str to int, float or str
        ``best_lag`` is :attr:`MLFit.best_lag` (the lag whose weights have the largest
        norm), with the pixel of largest absolute weight there; ``lag0_peak_*`` is the
        pixel of largest (signed) weight at lag 0 when lag 0 was fitted; ``sta_peak_*``
        is where |z| is largest over delays and pixels.
    """
    shape = recording.frame_shape
    best_lag = fit.best_lag
    _, best_row, best_col = peak_pixel(fit.weights[fit.lag_position(best_lag)], shape)
    tau_index, sta_row, sta_col = peak_pixel(sta.zscore, shape)
    total_time = float(binned.durations.sum())
    summary = {
        "recording_id": recording.recording_id,
        "n_spikes": int(recording.spike_times.size),
        "n_triggers": int(recording.trigger_times.size),
        "n_frames_used": int(binned.counts.size),
        "n_frames_dropped": int(recording.n_frames_dropped),
        "spikes_counted": int(binned.counts.sum()),
        "spikes_before": int(binned.n_before),
        "spikes_after": int(binned.n_after),
        "duration_s": total_time,
        "mean_rate_hz": float(binned.counts.sum()) / total_time,
        "best_lag": best_lag,
        "best_lag_peak_row": best_row,
        "best_lag_peak_col": best_col,
        "ml_separation_explained": float(ml_separation.explained),
        "sta_peak_ms": float(1000.0 * sta.taus[tau_index]),
        "sta_peak_row": sta_row,
        "sta_peak_col": sta_col,
        "sta_peak_z": float(sta.zscore[tau_index, sta_row * shape[1] + sta_col]),
        "sta_separation_explained": float(sta_separation.explained),
    }
    if 0 in fit.lags:
        _, row, col = peak_pixel(fit.weights[fit.lag_position(0)], shape, use_abs=False)
        summary["lag0_peak_row"], summary["lag0_peak_col"] = row, col
    return summary


def lasso_summary(lasso, separation, frame_shape):
    """Summary numbers of the lasso receptive field of one recording.

    Parameters
    ----------
    lasso : sparsefield.rf.lasso_lags.LassoLags
    separation : sparsefield.rf.separation.Separation
        Rank-1 separation of ``lasso.chosen_weights``.
    frame_shape : tuple of int
        (height, width).

    Returns
    -------
    dict of str to int or float
        The chosen penalty and the two candidates, the number of non-zero weights
        at the chosen penalty, the peak pixel of the separated spatial map, the lag
        of largest |temporal| weight, and the share of the squared norm the rank-1
        term carries. When the chosen fit kept no weight, the peak entries are None
        (empty cells in the table): there is no receptive field to locate.
    """
    if np.any(separation.spatial):
        _, row, col = peak_pixel(separation.spatial, frame_shape)
        peak_lag = int(lasso.lags[np.argmax(np.abs(separation.temporal))])
    else:
        row = col = peak_lag = None
    return {
        "lasso_lambda": lasso.lambda_chosen,
        "lasso_lambda_min": float(lasso.lambdas[lasso.index_min]),
        "lasso_lambda_1se": float(lasso.lambdas[lasso.index_1se]),
        "lasso_nonzero": int(np.count_nonzero(lasso.chosen_weights)),
        "lasso_peak_row": row,
        "lasso_peak_col": col,
        "lasso_peak_lag": peak_lag,
        "lasso_separation_explained": float(separation.explained),
    }
