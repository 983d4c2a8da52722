"""One row of numbers per recording: what was counted, where the RF peaks, and
(for simulated recordings) how well the truth was recovered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from sparsefield.io.recording import Recording
    from sparsefield.io.session import Session
    from sparsefield.rf.binning import BinnedCounts, UnitCounts
    from sparsefield.rf.lasso_lags import LassoLags
    from sparsefield.rf.ml import MLFit
    from sparsefield.rf.separation import Separation, UnitsSeparation
    from sparsefield.rf.sta import STA
    from sparsefield.rf.units_lasso import UnitsLasso
    from sparsefield.rf.units_ml import UnitsML
    from sparsefield.rf.units_scores import UnitsScores
    from sparsefield.rf.units_sta import UnitsSTA
    from sparsefield.rf.units_stc import UnitsSTC


def peak_pixel(values: ArrayLike, frame_shape: Sequence[int],
               use_abs: bool = True) -> tuple[int, int, int]:
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


def recording_summary(recording: Recording, binned: BinnedCounts, fit: MLFit,
                      ml_separation: Separation, sta: STA,
                      sta_separation: Separation) -> dict[str, Any]:
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
        is where ``|z|`` is largest over delays and pixels.
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


def lasso_summary(lasso: LassoLags, separation: Separation,
                  frame_shape: tuple[int, int]) -> dict[str, Any]:
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
        of largest ``|temporal|`` weight, and the share of the squared norm the rank-1
        term carries. When the chosen fit kept no weight, the peak entries are None
        (empty cells in the table): there is no receptive field to locate.
    """
    row: int | None
    col: int | None
    peak_lag: int | None
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


# --- sessions of many units ------------------------------------------------------------


#: What each flag of :func:`unit_table`'s ``flags`` means, and what to do about it.
FLAG_MEANINGS = {
    "best_lag_last": "the ML receptive field is strongest at the last fitted lag, so it may "
                     "peak later; consider a longer window (rf.window)",
    "best_lag_first": "the ML receptive field is strongest at the first fitted lag, so it may "
                      "peak earlier; consider a window that starts earlier (rf.window)",
    "sta_peak_last": "the STA peaks at the longest delay, so it may peak later; consider a "
                     "longer sta.tau_max",
    "sta_peak_first": "the STA peaks at delay 0 s: a response faster than one delay step "
                      "is unlikely; check that the spike and frame times are aligned",
    "few_spikes": "fewer spikes than a fit at one lag has parameters (pixels + 1): the ML "
                  "estimate may not exist (its weights then grow until the optimiser stops) "
                  "and the lasso's cross-validation has little to go on; raise "
                  "sessions.min_spikes (or the sheet's min_spikes) to leave such units out",
}


def fitted_units(counts: ArrayLike, min_spikes: int) -> tuple[NDArray[np.bool_], list[str]]:
    """Which units have enough spikes to be fitted, and why the others are not.

    Parameters
    ----------
    counts : ndarray of shape (n_frames, n_units)
        Spikes per frame and unit.
    min_spikes : int
        Fewest spikes (inside the frames) a fitted unit needs; at least 1.

    Returns
    -------
    fitted : ndarray of shape (n_units,), bool
    reasons : list of str
        ``""`` for a fitted unit, else e.g. ``"12 spikes < min_spikes 50"``.
    """
    totals = np.asarray(counts).sum(axis=0)
    needed = max(int(min_spikes), 1)
    fitted = totals >= needed
    reasons = ["" if ok else f"{int(total)} spikes < min_spikes {needed}"
               for ok, total in zip(fitted, totals, strict=True)]
    return fitted, reasons


def unit_status(counts: NDArray[np.float64], min_spikes: int, ml: UnitsML, lasso: UnitsLasso,
                sta: UnitsSTA,
                trial_starts: ArrayLike | None = None) -> tuple[NDArray[np.bool_], list[str]]:
    """Which units the summary reports as fitted, and why the others are not.

    A unit is fitted when it has ``min_spikes`` spikes (:func:`fitted_units`), its ML
    and lasso fits exist (a fit leaves a unit out when its data give nothing to
    estimate, saying why: no signal; or when it has no spike after the largest lag; see
    :mod:`sparsefield.rf.units`), a lasso penalty was chosen and its STA has a finite
    value.

    Parameters
    ----------
    counts : ndarray of shape (n_frames, n_units)
    min_spikes : int
    ml : sparsefield.rf.units_ml.UnitsML
    lasso : sparsefield.rf.units_lasso.UnitsLasso
    sta : sparsefield.rf.units_sta.UnitsSTA
    trial_starts : array_like of int of shape (n_trials,), optional
        The session's first frame of each trial (the frames a lag pairs); None for
        one trial.

    Returns
    -------
    fitted : ndarray of shape (n_units,), bool
    reasons : list of str
        ``""`` for a fitted unit, else why not (the first reason found).
    """
    from sparsefield.rf.design import frames_at_lag_words
    from sparsefield.rf.units import spikes_at_lag

    fitted, reasons = fitted_units(counts, min_spikes)
    chosen = lasso.index_chosen
    for index in np.flatnonzero(fitted).tolist():
        why = ""
        for name, result in (("ML", ml), ("lasso", lasso)):
            if not result.fitted[index]:
                max_lag = int(result.lags.max())
                why = str(result.why[index])
                if not why and not spikes_at_lag(counts[:, index], max_lag, trial_starts):
                    why = (f"no spike in {frames_at_lag_words(max_lag, trial_starts)} "
                           f"(needed for a fit at lag {max_lag})")
                why = why or f"the {name} fit left it out"
                break
        if not why and chosen[index] < 0:
            why = (f"no lasso penalty could be chosen: {int(lasso.n_folds_used[index])} "
                   "cross-validation folds have spikes in their training frames, 2 needed")
        if not why and not np.isfinite(sta.zscore[index]).any():
            why = "its spike-triggered average has no finite value (no spike saw a frame)"
        if why:
            fitted[index] = False
            reasons[index] = why
    return fitted, reasons


def truth_of_unit(truth: Mapping[str, Any], unit_id: int) -> dict[str, Any] | None:
    """One unit's ground truth from a truth archive.

    Parameters
    ----------
    truth : mapping of str to ndarray
        A one-neuron truth (:func:`sparsefield.rf.simulate.simulate_recording`) or a
        session truth: ``unit_ids`` plus each unit's arrays under ``u<id>_<name>``.
    unit_id : int

    Returns
    -------
    dict or None
        The unit's truth (one-neuron layout), or None when the archive has none for it.
    """
    if "unit_ids" not in truth:
        return dict(truth)
    prefix = f"u{int(unit_id)}_"
    found = {key[len(prefix):]: value for key, value in truth.items() if key.startswith(prefix)}
    return found or None


def unit_table(session: Session, binned: UnitCounts, ml: UnitsML, ml_separation: UnitsSeparation,
               sta: UnitsSTA, sta_separation: UnitsSeparation, lasso: UnitsLasso,
               lasso_separation: UnitsSeparation,
               truth: Mapping[str, Any] | None = None,
               models: UnitsScores | None = None,
               stc: UnitsSTC | None = None) -> list[dict[str, Any]]:
    """One row of summary numbers per unit of a session.

    Parameters
    ----------
    session : sparsefield.io.session.Session
    binned : sparsefield.rf.binning.UnitCounts
    ml : sparsefield.rf.units_ml.UnitsML
    ml_separation, sta_separation, lasso_separation : sparsefield.rf.separation.UnitsSeparation
    sta : sparsefield.rf.units_sta.UnitsSTA
    lasso : sparsefield.rf.units_lasso.UnitsLasso
    truth : mapping, optional
        Ground truth of a simulated session (:func:`truth_of_unit`).
    models : sparsefield.rf.units_scores.UnitsScores, optional
        Held-out scores of the session's units (the same units, in order).
    stc : sparsefield.rf.units_stc.UnitsSTC, optional
        Spike-triggered covariance of the session's units (the same units, in order).

    Returns
    -------
    rows : list of dict
        Per unit: ``recording_id``, ``unit_id``, ``label``, ``n_spikes`` (inside the
        frames), ``spikes_left_out``, ``mean_rate_hz``, ``fitted`` and ``why`` (why
        not: fewer than ``min_spikes`` spikes, or a fit that found nothing to
        estimate, :func:`unit_status`), then for fitted units what
        :func:`recording_summary` and :func:`lasso_summary` give, ``best_lag_ms``,
        ``lasso_cv_gain`` (held-out gain over a constant rate at the chosen penalty,
        nats per frame summed over lags),
        ``rf_centre_row``/``rf_centre_col`` (moment fit of the lasso spatial map),
        ``flags`` (``best_lag_last``, ``sta_peak_first``...: the estimate sits at the
        end of what was fitted, so the lags or delays may be too short;
        ``few_spikes``: fewer spikes in the frames the largest lag pairs (those after
        it, within each trial) than one lag's fit has parameters, see
        :data:`FLAG_MEANINGS`), with a truth, ``truth_*``
        recovery metrics and, with ``models``, the held-out scores
        (:func:`sparsefield.rf.units_scores.score_columns`: ``bits_per_spike_<estimate>``,
        ``pseudo_r2_<estimate>``, ``best_model``, ``bits_per_spike_truth``...) and, with
        ``stc``, its columns (:func:`sparsefield.rf.units_stc.stc_columns`: ``stc_*``,
        ``bits_per_spike_energy``).
    """
    from sparsefield.rf.units_scores import score_columns
    from sparsefield.rf.units_stc import rf_centre, stc_columns

    fitted, reasons = unit_status(binned.counts, session.min_spikes, ml, lasso, sta,
                                  session.trial_starts)
    total_time = float(binned.durations.sum())
    frame_duration = float(np.median(binned.durations))
    rows = []
    for index, unit_id in enumerate(session.unit_ids.tolist()):
        n_spikes = int(binned.counts[:, index].sum())
        row: dict[str, Any] = {
            "recording_id": session.session_id,
            "unit_id": int(unit_id),
            "label": str(session.unit_labels[index]) if session.unit_labels.size else "",
            "n_spikes": n_spikes,
            "spikes_left_out": int(session.n_spikes_left_out[index]),
            "n_frames": int(binned.counts.shape[0]),
            "frames_left_out": int(session.n_frames_left_out),
            "mean_rate_hz": n_spikes / total_time,
            "fitted": bool(fitted[index]),
            "why": reasons[index],
        }
        if not fitted[index]:
            rows.append(row)
            continue
        recording = session.unit_recording(index)
        unit_ml, unit_sta, unit_lasso = ml.unit(index), sta.unit(index), lasso.unit(index)
        numbers = recording_summary(recording, binned.unit(index), unit_ml,
                                    ml_separation.unit(index), unit_sta,
                                    sta_separation.unit(index))
        for key in ("recording_id", "n_spikes", "n_triggers", "n_frames_used",
                    "n_frames_dropped", "spikes_counted", "spikes_before", "spikes_after",
                    "mean_rate_hz"):
            numbers.pop(key, None)
        row.update(numbers)
        row["best_lag_ms"] = 1000.0 * row["best_lag"] * frame_duration
        row.update(lasso_summary(unit_lasso, lasso_separation.unit(index), session.frame_shape))
        row["lasso_cv_gain"] = float(unit_lasso.total_gain_mean[unit_lasso.index_chosen])
        centre = rf_centre(lasso_separation.spatial[index], session.frame_shape)
        if np.all(np.isfinite(centre)):
            row["rf_centre_row"], row["rf_centre_col"] = (float(value) for value in centre)
        row["flags"] = _unit_flags(binned.counts[:, index], session.trial_starts, unit_ml,
                                   unit_sta, session.frame_shape)
        if models is not None:
            row.update(score_columns(models, index))
        if stc is not None:
            row.update(stc_columns(stc, index))
        unit_truth = truth_of_unit(truth, unit_id) if truth is not None else None
        if unit_truth is not None:
            row.update(_truth_columns(unit_truth, row, index, unit_ml, unit_sta, unit_lasso,
                                      ml_separation, sta_separation, lasso_separation))
        rows.append(row)
    return rows


def _truth_columns(unit_truth: Mapping[str, Any], row: Mapping[str, Any], index: int,
                   unit_ml: MLFit, unit_sta: STA, unit_lasso: LassoLags,
                   ml_separation: UnitsSeparation, sta_separation: UnitsSeparation,
                   lasso_separation: UnitsSeparation) -> dict[str, Any]:
    """The ``truth_*`` recovery metrics of one fitted unit (:func:`unit_table`)."""
    from sparsefield.rf.metrics import recovery_metrics, separation_metrics

    metrics = recovery_metrics(unit_truth, unit_ml, ml_separation.temporal[index],
                               sta_separation.spatial[index], sta_separation.temporal[index],
                               unit_sta.taus)
    for key, value in separation_metrics(unit_truth, unit_lasso.lags,
                                         lasso_separation.unit(index)).items():
        metrics[f"lasso_{key}"] = value
    if "model_center_row" in unit_truth and "rf_centre_row" in row:
        metrics["centre_error_px"] = float(np.hypot(
            row["rf_centre_row"] - float(unit_truth["model_center_row"]),
            row["rf_centre_col"] - float(unit_truth["model_center_col"])))
    return {f"truth_{key}": value for key, value in metrics.items()}


def _unit_flags(counts: NDArray[np.float64], trial_starts: ArrayLike | None, unit_ml: MLFit,
                unit_sta: STA, frame_shape: tuple[int, int]) -> str:
    """The flags of one fitted unit (:data:`FLAG_MEANINGS`), separated by spaces.

    ``counts`` is the unit's spike counts per frame, shape (n_frames,).
    """
    from sparsefield.rf.lags import edge_lag_flags
    from sparsefield.rf.units import spikes_at_lag

    flags = []
    if int(spikes_at_lag(counts, int(unit_ml.lags.max()),
                         trial_starts)) < unit_ml.weights.shape[1] + 1:
        flags.append("few_spikes")
    best_position = unit_ml.lag_position(unit_ml.best_lag)
    edge = edge_lag_flags(best_position, unit_ml.lags.size,
                          first_is_edge=bool(unit_ml.lags[0] > 0))
    if edge:
        flags.append(f"best_lag_{edge}")
    tau_index = peak_pixel(unit_sta.zscore, frame_shape)[0]
    edge = edge_lag_flags(tau_index, unit_sta.taus.size)
    if edge:
        flags.append(f"sta_peak_{edge}")
    return " ".join(flags)
