"""One row of numbers per recording: what was counted, where the RF peaks, and
(for simulated recordings) how well the truth was recovered."""

import numpy as np


def _peak(image_values, frame_shape, use_abs):
    """(row, col) of the largest (absolute) value of a flattened frame."""
    values = np.abs(image_values) if use_abs else image_values
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(values)), frame_shape))


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
        ``best_lag`` is the lag whose weights have the largest norm, with the pixel of
        largest absolute weight there; ``lag0_peak_*`` is the pixel of largest (signed)
        weight at lag 0 when lag 0 was fitted; ``sta_peak_*`` is where |z| is largest
        over delays and pixels.
    """
    shape = recording.frame_shape
    best = int(np.argmax(np.linalg.norm(fit.weights, axis=1)))
    best_row, best_col = _peak(fit.weights[best], shape, use_abs=True)
    tau_index, sta_pixel = np.unravel_index(int(np.argmax(np.abs(sta.zscore))), sta.zscore.shape)
    sta_row, sta_col = np.unravel_index(int(sta_pixel), shape)
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
        "best_lag": int(fit.lags[best]),
        "best_lag_peak_row": best_row,
        "best_lag_peak_col": best_col,
        "ml_separation_explained": float(ml_separation.explained),
        "sta_peak_ms": float(1000.0 * sta.taus[tau_index]),
        "sta_peak_row": int(sta_row),
        "sta_peak_col": int(sta_col),
        "sta_peak_z": float(sta.zscore[tau_index, sta_pixel]),
        "sta_separation_explained": float(sta_separation.explained),
    }
    lags = list(np.asarray(fit.lags))
    if 0 in lags:
        row, col = _peak(fit.weights[lags.index(0)], shape, use_abs=False)
        summary["lag0_peak_row"], summary["lag0_peak_col"] = row, col
    return summary
