r"""Held-out scores of every estimate of every unit of a session (issue 12, item 1).

For each fitted unit, each estimate of :data:`ESTIMATES` is refitted without each of
``n_folds`` contiguous blocks of frames and predicts the block
(:mod:`sparsefield.rf.model_predictions`: which frames, which blocks, how each estimate
is fitted); the predictions are scored by :func:`sparsefield.rf.scores.blocked_scores`
in bits per spike over a homogeneous Poisson baseline fitted on the same training
frames, and in pseudo-R² (deviance explained).  The baseline itself is an estimate
(``"baseline"``, :func:`sparsefield.rf.scores.constant_rate`): it scores 0 by
construction.  ``best`` is the estimate with the most pooled bits per spike.

``joint_subframe`` (:mod:`sparsefield.rf.joint_subframe`) models the counts of
sub-bins of each frame (``bin_counts``, :func:`sparsefield.rf.joint_subframe.subframe_counts`
from the spike times) and is scored on its frames' sums, on the same frames and blocks;
without ``bin_counts`` it is not fitted (NaN).

When the truth is known (simulated units), the true model's expected counts
(:func:`sparsefield.rf.simulate.expected_frame_counts`) are scored on the same blocks
and against the same baselines: the bits per spike a perfect estimate would reach.

Which lag and penalty each unit's per-lag estimates use comes from the session's fits
(:func:`unit_choices`): the ML fit at the unit's best lag (the lag of largest weight
norm, :attr:`sparsefield.rf.ml.MLFit.best_lag`), the lasso at its chosen penalty and
at the lag where its chosen weights have the largest norm.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits

from sparsefield._checks import as_float, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import FitError, InputError
from sparsefield.rf.binning import check_trial_starts
from sparsefield.rf.model_predictions import (
    JOINT_FITS,
    ScoredRows,
    predict_joint,
    predict_lasso,
    predict_ml,
    predict_sta_ln,
    predict_subframe,
    scored_rows,
    sta_spatial,
    training_design,
    training_subframe,
    window_sta,
    with_subframe,
)
from sparsefield.rf.poisson import check_data
from sparsefield.rf.scores import BlockScores, blocked_scores, constant_rate
from sparsefield.rf.units import unit_names, why_array
from sparsefield.rf.units_lasso import UnitsLasso
from sparsefield.rf.units_ml import UnitsML

Floats = NDArray[np.float64]

#: The estimates scored, in the order of the results' ``estimates`` axis.
ESTIMATES = ("baseline", "ml", "lasso", "sta_ln", "joint", "joint_subframe")


@dataclass(frozen=True)
class UnitsScores(NpzMixin):
    """Held-out scores of every estimate of every unit of a session (module docstring).

    Attributes
    ----------
    estimates : ndarray of shape (n_estimates,), str
        :data:`ESTIMATES`.
    fold_frames : ndarray of shape (n_folds + 1,), int64
        Block ``k`` holds out count frames ``fold_frames[k]:fold_frames[k + 1]``.
    n_lags : int
        The window of the STA and of the joint GLM: lags ``0 .. n_lags - 1``.
    joint_fit : str
        The joint GLM's variant (:data:`~sparsefield.rf.model_predictions.JOINT_FITS`).
    unit_ids : ndarray of shape (n_units,), int64
    scored : ndarray of shape (n_units,), bool
        Whether the unit was scored (its ML and lasso fits exist and every block's
        training frames hold a spike).
    bits_per_spike, pseudo_r2 : ndarray of shape (n_units, n_estimates)
        Pooled over blocks; NaN for units not scored.
    fold_bits_per_spike, fold_pseudo_r2 : ndarray of shape (n_units, n_estimates, n_folds)
    fold_n_spikes : ndarray of shape (n_units, n_folds)
        Held-out spikes of each block.
    best : ndarray of shape (n_units,), str
        The estimate with the most pooled bits per spike; "" for units not scored.
    ml_lag, lasso_lag : ndarray of shape (n_units,), int64
        The lag of the ``ml`` and ``lasso`` estimates; -1 for units not scored.
    truth_bits_per_spike, truth_pseudo_r2 : ndarray of shape (n_units,)
        Of the true model (simulated units); NaN without a truth.
    truth_fold_bits_per_spike : ndarray of shape (n_units, n_folds)
    why : ndarray of shape (n_units,), str
        Why a unit was not scored; "" for the others.
    notes : ndarray of shape (n_units,), str
        The fits of a scored unit that did not converge on some block (its estimate
        then has no score, NaN), e.g. an ML fit without a finite optimum on few
        spikes; "" when every fit converged.
    """

    #: Fields with a leading units axis (the rest are shared by every unit).
    UNIT_FIELDS = ("unit_ids", "scored", "bits_per_spike", "pseudo_r2", "fold_bits_per_spike",
                   "fold_pseudo_r2", "fold_n_spikes", "best", "ml_lag", "lasso_lag",
                   "truth_bits_per_spike", "truth_pseudo_r2", "truth_fold_bits_per_spike",
                   "why", "notes")

    estimates: np.ndarray
    fold_frames: np.ndarray
    n_lags: int
    joint_fit: str
    unit_ids: np.ndarray
    scored: np.ndarray
    bits_per_spike: np.ndarray
    pseudo_r2: np.ndarray
    fold_bits_per_spike: np.ndarray
    fold_pseudo_r2: np.ndarray
    fold_n_spikes: np.ndarray
    best: np.ndarray
    ml_lag: np.ndarray
    lasso_lag: np.ndarray
    truth_bits_per_spike: np.ndarray
    truth_pseudo_r2: np.ndarray
    truth_fold_bits_per_spike: np.ndarray
    why: np.ndarray
    notes: np.ndarray

    @property
    def n_units(self) -> int:
        """Number of units (scored or not)."""
        return int(self.unit_ids.size)


def unit_choices(ml: UnitsML, lasso: UnitsLasso) -> dict[str, NDArray[Any]]:
    """Each unit's lags and penalty of the per-lag estimates, from the session's fits.

    Parameters
    ----------
    ml : sparsefield.rf.units_ml.UnitsML
    lasso : sparsefield.rf.units_lasso.UnitsLasso
        Of the same units.

    Returns
    -------
    dict of str to ndarray of shape (n_units,)
        ``fitted`` (bool: both fits exist and the lasso chose a penalty),
        ``ml_lag`` (the ML fit's best lag), ``lasso_lag`` (the lag of largest
        norm of the lasso's chosen weights; the first lag when they are all 0),
        ``lasso_penalty`` (the chosen ``lambda``); -1 and NaN for units not fitted.
    """
    chosen = lasso.index_chosen
    fitted = ml.fitted & lasso.fitted & (chosen >= 0)
    n_units = fitted.size
    ml_lag = np.full(n_units, -1, dtype=np.int64)
    lasso_lag = np.full(n_units, -1, dtype=np.int64)
    penalty = np.full(n_units, np.nan)
    for unit in np.flatnonzero(fitted).tolist():
        ml_lag[unit] = ml.unit(unit).best_lag
        weights = lasso.weights[unit, chosen[unit]]
        lasso_lag[unit] = lasso.lags[int(np.argmax(np.linalg.norm(weights, axis=1)))]
        penalty[unit] = lasso.lambdas[unit, chosen[unit]]
    return {"fitted": fitted, "ml_lag": ml_lag, "lasso_lag": lasso_lag,
            "lasso_penalty": penalty}


def _check_options(n_folds: int, joint_fit: str, joint_alpha: float, joint_max_iter: int,
                   tol: float) -> tuple[int, float, int, float]:
    """The options of :func:`score_units`, checked."""
    n_folds = as_int(n_folds, "n_folds", 2)
    if joint_fit not in JOINT_FITS:
        raise InputError("joint_fit", f"must be one of {list(JOINT_FITS)}, got {joint_fit!r}")
    return (n_folds, as_float(joint_alpha, "joint_alpha", minimum=0.0),
            as_int(joint_max_iter, "joint_max_iter", 1),
            as_float(tol, "tol", minimum=0.0, strict=True))


def _unit_why(counts: Floats, rows: ScoredRows) -> str:
    """Why a fitted unit cannot be scored: a block whose training rows hold no spike."""
    for fold in range(rows.fold_edges.size - 1):
        if rows.training(counts, fold).sum() <= 0:
            return (f"block {fold} of the held-out scores: every spike of the scored frames "
                    "is in this block, so its training frames hold none (use fewer "
                    "models.n_folds)")
    return ""


def _predict(function: Any, notes: list[str], name: str, *args: Any,
             **kwargs: Any) -> Floats | None:
    """``function(*args, **kwargs)``, or None with the failure noted when a fit does not
    converge (e.g. an ML fit without a finite optimum on a block's training frames).
    """
    try:
        return np.asarray(function(*args, **kwargs), dtype=np.float64)
    except FitError as error:
        notes.append(f"{name}: {error}")
        return None


def _predictions(rows: ScoredRows, counts: Floats, lags: dict[str, Any],
                 options: dict[str, Any],
                 bin_counts: Floats | None = None) -> tuple[Floats, list[list[str]]]:
    """Held-out expected counts of every estimate but the baseline, of the units given.

    ``counts`` (n_rows, n_units); ``lags`` holds the units' ``ml_lag``, ``lasso_lag``,
    ``lasso_penalty``; ``bin_counts`` (n_rows, bins_per_frame, n_units) or None (no
    ``joint_subframe``); returns (n_units, n_estimates - 1, n_rows), in
    :data:`ESTIMATES` order after the baseline (NaN where a fit did not converge or
    was not made), and each unit's notes of such failures.  Blocks outside, units
    inside: one training copy of the joint (and sub-frame) design at a time.
    """
    n_units = counts.shape[1]
    predicted = np.full((n_units, len(ESTIMATES) - 1, rows.frames.size), np.nan)
    notes: list[list[str]] = [[] for _ in range(n_units)]
    rank1 = options["joint_fit"] == "rank1"
    joint = {"fit": options["joint_fit"], "alpha": options["joint_alpha"],
             "max_iter": options["joint_max_iter"] if rank1 else 100, "tol": options["tol"]}
    for fold in range(rows.fold_edges.size - 1):
        start, stop = rows.block(fold)
        training = training_design(rows, fold)
        subframe = None if bin_counts is None else training_subframe(rows, fold)
        # each lag's training rows, shared by the units (ML and lasso)
        lag_training = {lag: rows.training(rows.lag_design(lag), fold)
                        for lag in {*lags["ml_lag"].tolist(), *lags["lasso_lag"].tolist()}}
        for unit in range(n_units):
            unit_counts = np.ascontiguousarray(counts[:, unit])
            where = f"block {fold}"
            ml_lag, lasso_lag = int(lags["ml_lag"][unit]), int(lags["lasso_lag"][unit])
            sta = window_sta(rows, unit_counts, fold)
            results = (
                _predict(predict_ml, notes[unit], "ml", rows, unit_counts, fold, ml_lag,
                         max_iter=options["max_iter"], tol=options["ml_tol"],
                         label=f"{where}: ML fit (rf.max_iter, rf.tol)",
                         training=lag_training[ml_lag]),
                _predict(predict_lasso, notes[unit], "lasso", rows, unit_counts, fold, lasso_lag,
                         float(lags["lasso_penalty"][unit]), tol=options["lasso_tol"],
                         label=f"{where}: lasso fit (lasso.tol)",
                         training=lag_training[lasso_lag]),
                _predict(predict_sta_ln, notes[unit], "sta_ln", rows, unit_counts, fold),
                _predict(predict_joint, notes[unit], "joint", rows, training, unit_counts, fold,
                         sta, label=f"{where}: joint GLM (models.joint)", **joint),
                None if bin_counts is None or subframe is None else _predict(
                    predict_subframe, notes[unit], "joint_subframe", rows, subframe,
                    np.ascontiguousarray(bin_counts[:, :, unit]), fold, sta_spatial(sta),
                    max_iter=options["subframe_max_iter"], tol=options["tol"],
                    label=f"{where}: sub-frame GLM (models.subframe)"),
            )
            for index, expected in enumerate(results):
                if expected is not None:
                    predicted[unit, index, start:stop] = expected
    return predicted, notes


def _scores(rows: ScoredRows, counts: Floats, expected: Floats) -> BlockScores:
    """:func:`blocked_scores` of held-out predictions ``expected`` (n_rows,)."""
    return blocked_scores(lambda _train, test: expected[test], counts, rows.durations,
                          fold_edges=rows.fold_edges)


def score_units(stimulus: ArrayLike, counts: ArrayLike, durations: ArrayLike,
                choices: dict[str, NDArray[Any]], *, max_lag: int, n_folds: int = 5,
                joint_fit: str = "rank1", joint_alpha: float = 1e-3, joint_max_iter: int = 1,
                joint_bases: int = 0, tol: float = 1e-5, bin_counts: ArrayLike | None = None,
                subframe_bases: int = 8, subframe_span: float = 1.0,
                subframe_max_iter: int = 2,
                fit_options: dict[str, Any] | None = None, truth: ArrayLike | None = None,
                unit_ids: ArrayLike | None = None,
                trial_starts: ArrayLike | None = None) -> UnitsScores:
    """Held-out scores of every estimate of every unit (module docstring).

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
    counts : ndarray of shape (n_frames, n_units)
    durations : ndarray of shape (n_frames,)
        Frame durations in seconds.
    choices : dict of str to ndarray of shape (n_units,)
        :func:`unit_choices` of the units (``fitted``, ``ml_lag``, ``lasso_lag``,
        ``lasso_penalty``); only fitted units are scored.
    max_lag : int
        The window's largest lag, at least every lag of ``choices``: the scored frames
        are those with ``max_lag`` frames before them in their trial.
    n_folds : int, default 5
        Contiguous blocks (those of the lasso's cross-validation for the same
        ``n_folds`` and largest lag).
    joint_fit : {"rank1", "ridge"}, default "rank1"
    joint_alpha : float, default 1e-3
        L2 strength of ``"ridge"``.
    joint_max_iter : int, default 1
        Alternations of ``"rank1"`` (from the training STA's rank-1 SVD; on the default
        simulated session more than one changes no score by 0.001 bits per spike).
    joint_bases : int, default 0
        Temporal bases of the joint GLM: 0 for one weight per lag, else raised cosines.
    tol : float, default 1e-5
        Tolerance of the joint GLM (:func:`~sparsefield.rf.model_predictions.fit_joint_weights`)
        and of the sub-frame GLM.
    bin_counts : array_like of shape (n_frames, bins_per_frame, n_units), optional
        Spikes per sub-bin of each frame
        (:func:`sparsefield.rf.joint_subframe.subframe_counts`), summing to ``counts``;
        None: ``joint_subframe`` is not fitted (NaN).
    subframe_bases : int, default 8
        Raised-cosine temporal bases of the sub-frame GLM.
    subframe_span : float, default 1.0
        Longest delay of its temporal kernel in seconds.
    subframe_max_iter : int, default 2
        Its alternations (time step, then space step).
    fit_options : dict, optional
        ``max_iter`` and ``ml_tol`` of the ML fits (default 1000 and 1e-8), ``lasso_tol``
        of the lasso's (default 1e-7): the session's own.
    truth : ndarray of shape (n_frames, n_units), optional
        The true models' expected counts per frame; a column of NaN for a unit without.
    unit_ids : array_like of shape (n_units,), optional
    trial_starts : array_like of int of shape (n_trials,), optional

    Returns
    -------
    UnitsScores

    Raises
    ------
    InputError
        Bad data or options (naming the argument), too many blocks.
    """
    stimulus, counts, durations = check_data(stimulus, counts, durations, "stimulus",
                                             counts_ndim=2)
    n_folds, joint_alpha, joint_max_iter, tol = _check_options(
        n_folds, joint_fit, joint_alpha, joint_max_iter, tol)
    n_units = counts.shape[1]
    unit_names(unit_ids, n_units)  # one id per unit
    starts = check_trial_starts(trial_starts, stimulus.shape[0])
    rows = scored_rows(stimulus, durations, as_int(max_lag, "max_lag", 0), n_folds, starts,
                       as_int(joint_bases, "joint_bases", 0))
    row_counts = np.ascontiguousarray(counts[rows.frames])
    row_bins = _row_bins(bin_counts, counts, rows)
    if row_bins is not None:
        rows = with_subframe(rows, stimulus, durations, starts, bins_per_frame=row_bins.shape[1],
                             n_bases=subframe_bases, span_s=subframe_span)
    why = ["" if fitted else "not fitted (units.tsv says why)"
           for fitted in np.asarray(choices["fitted"], dtype=bool)]
    for unit in np.flatnonzero(choices["fitted"]).tolist():
        why[unit] = _unit_why(row_counts[:, unit], rows)
    scored = np.array([not reason for reason in why], dtype=bool)
    options = {"max_iter": 1000, "ml_tol": 1e-8, "lasso_tol": 1e-7, **(fit_options or {}),
               "joint_fit": joint_fit, "joint_alpha": joint_alpha,
               "joint_max_iter": joint_max_iter, "tol": tol,
               "subframe_max_iter": as_int(subframe_max_iter, "subframe_max_iter", 1)}
    units = np.flatnonzero(scored)
    with threadpool_limits(limits=1, user_api="blas"):
        predicted, notes = _predictions(
            rows, row_counts[:, units],
            {key: np.asarray(choices[key])[units]
             for key in ("ml_lag", "lasso_lag", "lasso_penalty")}, options,
            None if row_bins is None else row_bins[:, :, units])
    truth_rows = None if truth is None else np.asarray(truth, dtype=np.float64)[rows.frames]
    all_notes = [""] * n_units
    for position, unit in enumerate(units.tolist()):
        all_notes[unit] = "; ".join(notes[position])
    return _collect(rows, row_counts, units, predicted, truth_rows, choices, scored, why,
                    all_notes, unit_ids, joint_fit)


def _row_bins(bin_counts: ArrayLike | None, counts: Floats, rows: ScoredRows) -> Floats | None:
    """The sub-bin counts of the scored rows, (n_rows, bins_per_frame, n_units).

    Checked against the frame counts; None without them.
    """
    if bin_counts is None:
        return None
    bins = np.asarray(bin_counts, dtype=np.float64)
    if bins.ndim != 3 or bins.shape[0] != counts.shape[0] or bins.shape[2] != counts.shape[1]:
        raise InputError("bin_counts", f"must have shape (n_frames, bins_per_frame, n_units) = "
                         f"({counts.shape[0]}, k, {counts.shape[1]}), got {bins.shape}")
    if not np.array_equal(bins.sum(axis=1), counts):
        raise InputError("bin_counts", "sub-bins do not sum to the frame counts: not the "
                         "same spikes and frames")
    return np.ascontiguousarray(bins[rows.frames])


def _collect(rows: ScoredRows, counts: Floats, units: NDArray[np.intp], predicted: Floats,
             truth: Floats | None, choices: dict[str, NDArray[Any]], scored: NDArray[np.bool_],
             why: list[str], notes: list[str], unit_ids: ArrayLike | None,
             joint_fit: str) -> UnitsScores:
    """Score the held-out predictions of the scored ``units`` into :class:`UnitsScores`."""
    n_units, n_estimates = counts.shape[1], len(ESTIMATES)
    n_folds = rows.fold_edges.size - 1
    bits = np.full((n_units, n_estimates), np.nan)
    r2 = np.full((n_units, n_estimates), np.nan)
    fold_bits = np.full((n_units, n_estimates, n_folds), np.nan)
    fold_r2 = np.full((n_units, n_estimates, n_folds), np.nan)
    fold_spikes = np.full((n_units, n_folds), np.nan)
    truth_bits, truth_r2 = np.full(n_units, np.nan), np.full(n_units, np.nan)
    truth_fold = np.full((n_units, n_folds), np.nan)
    best = [""] * n_units
    for position, unit in enumerate(units.tolist()):
        unit_counts = np.ascontiguousarray(counts[:, unit])
        baseline = blocked_scores(constant_rate(unit_counts, rows.durations), unit_counts,
                                  rows.durations, fold_edges=rows.fold_edges)
        results = [baseline] + [_scores(rows, unit_counts, expected)
                                if np.all(np.isfinite(expected)) else None
                                for expected in predicted[position]]
        for index, result in enumerate(results):
            if result is None:  # a fit that did not converge on some block: no score
                continue
            bits[unit, index], r2[unit, index] = result.bits_per_spike, result.pseudo_r2
            fold_bits[unit, index] = result.fold_bits_per_spike
            fold_r2[unit, index] = result.fold_pseudo_r2
        fold_spikes[unit] = baseline.fold_n_spikes
        if np.any(np.isfinite(bits[unit])):
            best[unit] = ESTIMATES[int(np.nanargmax(bits[unit]))]
        if truth is not None and np.all(np.isfinite(truth[:, unit])):
            true = _scores(rows, unit_counts, truth[:, unit])
            truth_bits[unit], truth_r2[unit] = true.bits_per_spike, true.pseudo_r2
            truth_fold[unit] = true.fold_bits_per_spike
    ids = np.arange(n_units) if unit_ids is None else np.asarray(unit_ids).ravel()
    lags = {key: np.where(scored, np.asarray(choices[key]), -1).astype(np.int64)
            for key in ("ml_lag", "lasso_lag")}
    return UnitsScores(
        estimates=np.array(ESTIMATES), fold_frames=rows.fold_frames, n_lags=rows.n_lags,
        joint_fit=joint_fit, unit_ids=ids.astype(np.int64), scored=scored,
        bits_per_spike=bits, pseudo_r2=r2, fold_bits_per_spike=fold_bits,
        fold_pseudo_r2=fold_r2, fold_n_spikes=fold_spikes, best=np.array(best, dtype=str),
        ml_lag=lags["ml_lag"], lasso_lag=lags["lasso_lag"], truth_bits_per_spike=truth_bits,
        truth_pseudo_r2=truth_r2, truth_fold_bits_per_spike=truth_fold,
        why=why_array(why), notes=why_array(notes))


def truth_expected(truth: Mapping[str, Any], unit_ids: ArrayLike, stimulus: ArrayLike,
                   edges: ArrayLike) -> Floats:
    """The true models' expected counts per frame of a session's units, from its truth.

    Parameters
    ----------
    truth : mapping of str to ndarray
        A truth archive (:func:`sparsefield.rf.summary.truth_of_unit` reads it).
    unit_ids : array_like of shape (n_units,)
    stimulus : ndarray of shape (n_frames, n_pixels)
        The stored frame values (``Session.stimulus``).
    edges : ndarray of shape (n_frames + 1,)
        Frame edges in seconds.

    Returns
    -------
    expected : ndarray of shape (n_frames, n_units)
        :func:`sparsefield.rf.simulate.expected_frame_counts`; NaN columns for units
        the archive has no truth of.
    """
    from sparsefield.rf.simulate import expected_frame_counts
    from sparsefield.rf.summary import truth_of_unit

    ids = np.asarray(unit_ids).ravel().tolist()
    edges = np.asarray(edges, dtype=np.float64)
    expected = np.full((edges.size - 1, len(ids)), np.nan)
    found = [(column, truth_of_unit(truth, int(unit))) for column, unit in enumerate(ids)]
    known = [(column, unit_truth) for column, unit_truth in found if unit_truth is not None]
    if known:
        expected[:, [column for column, _ in known]] = expected_frame_counts(
            [unit_truth for _, unit_truth in known], np.asarray(stimulus), edges)
    return expected


def score_columns(scores: UnitsScores, index: int) -> dict[str, Any]:
    """The summary columns of one unit (:func:`sparsefield.rf.summary.unit_table`).

    Parameters
    ----------
    scores : UnitsScores
    index : int
        The unit's position.

    Returns
    -------
    dict
        ``bits_per_spike_<estimate>`` and ``pseudo_r2_<estimate>`` for each of
        :data:`ESTIMATES`, ``best_model``, ``models_notes`` when a fit did not
        converge (its estimate's scores are then NaN), and, with a truth,
        ``bits_per_spike_truth`` and ``pseudo_r2_truth``; empty for a unit not scored.
    """
    if not scores.scored[index]:
        return {}
    row: dict[str, Any] = {}
    for position, name in enumerate(scores.estimates.tolist()):
        row[f"bits_per_spike_{name}"] = float(scores.bits_per_spike[index, position])
        row[f"pseudo_r2_{name}"] = float(scores.pseudo_r2[index, position])
    row["best_model"] = str(scores.best[index])
    if scores.notes[index]:
        row["models_notes"] = str(scores.notes[index])
    if np.isfinite(scores.truth_bits_per_spike[index]):
        row["bits_per_spike_truth"] = float(scores.truth_bits_per_spike[index])
        row["pseudo_r2_truth"] = float(scores.truth_pseudo_r2[index])
    return row


__all__ = ["ESTIMATES", "UnitsScores", "score_columns", "score_units", "truth_expected",
           "unit_choices"]
