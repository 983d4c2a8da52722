r"""Held-out predictions of each estimate of a unit, refitted without the held-out block.

Every estimate is scored (:mod:`sparsefield.rf.units_scores`) on the same count frames,
:attr:`ScoredRows.frames`: those whose window of lags ``0 .. n_lags - 1`` lies in their
own trial (:func:`sparsefield.rf.joint.joint_frames`), split into the contiguous blocks
of the lasso's cross-validation (:func:`sparsefield.rf.lasso_lags.lag_folds`; the same
blocks when ``n_folds`` and the largest lag are the lasso's).  For each block, each
estimate is fitted on the scored frames outside it and predicts the expected counts of
the block's frames:

* ``ml``: the per-lag Poisson ML fit (:func:`sparsefield.rf.ml.fit_lag_pairs`) at one
  lag (the unit's best);
* ``lasso``: the lasso at one penalty (the one chosen by the lasso's cross-validation)
  at one lag (:func:`sparsefield.rf.lasso_backends.fit_lasso_at_lambda`);
* ``sta_ln``: an LN model on the spike-triggered average over the window's lags
  (counts-weighted mean of the centred stimulus windows of the training frames), its
  exponential link's gain and offset fitted on the same frames
  (:func:`sparsefield.rf.nonlinearity.fit_link`);
* ``joint``: the joint space-time GLM over every lag of the window
  (:mod:`sparsefield.rf.joint`): the rank-1 (space x time) fit
  (:func:`sparsefield.rf.joint_rank1.fit_rank1`, started from the rank-1 SVD of the
  training STA, which for white noise points along an LNP unit's filter), or the
  full filter with an L2 penalty of fixed strength
  (:func:`sparsefield.rf.joint_fit.fit_joint`);
* ``joint_subframe``: the rank-1 joint GLM at sub-frame resolution
  (:mod:`sparsefield.rf.joint_subframe`): each frame split into equal sub-bins, a
  continuous-delay temporal kernel, started from the spatial profile of the training
  STA's rank-1 SVD; a frame's expected count is the sum of its sub-bins'.

The lagged stimulus is used as it is, not centred (every model has a free intercept, so
centring would change no prediction); the STA of :func:`window_sta` is taken from the
centred windows.
"""

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sparsefield.errors import FitError, InputError
from sparsefield.rf.basis import identity_basis, raised_cosine_basis
from sparsefield.rf.joint import JointDesign, JointFit, joint_design
from sparsefield.rf.joint_fit import fit_joint
from sparsefield.rf.joint_rank1 import fit_rank1
from sparsefield.rf.joint_subframe import (
    SubframeDesign,
    expected_frame_counts,
    fit_subframe,
    subframe_design,
)
from sparsefield.rf.lasso_backends import fit_lasso_at_lambda
from sparsefield.rf.lasso_lags import lag_folds
from sparsefield.rf.ml import fit_lag_pairs
from sparsefield.rf.nonlinearity import fit_link

Floats = NDArray[np.float64]
Ints = NDArray[np.int64]

#: The variants of the joint GLM: ``"rank1"`` (space x time, maximum likelihood) or
#: ``"ridge"`` (the full filter, L2 of fixed strength); the workflow's
#: ``models.joint.fit`` choices.
JOINT_FITS = ("rank1", "ridge")


@dataclass(frozen=True)
class ScoredRows:
    """The frames every estimate of a session is scored on, and what the fits share.

    Attributes
    ----------
    frames : ndarray of shape (n_rows,), int64
        The scored count frames (module docstring).
    durations : ndarray of shape (n_rows,)
        Their durations in seconds.
    lagged : ndarray of shape (n_rows, n_lags * n_pixels)
        The stimulus (not centred) ``k`` frames before each row at columns
        ``k * n_pixels .. (k + 1) * n_pixels - 1``, lags ``0 .. n_lags - 1``.
    stimulus_mean : ndarray of shape (n_pixels,)
        The stimulus's mean per pixel over all frames.
    fold_frames : ndarray of shape (n_folds + 1,), int64
        Block ``k`` holds out count frames ``fold_frames[k]:fold_frames[k + 1]``.
    fold_edges : ndarray of shape (n_folds + 1,), int64
        The same blocks over ``frames``: rows ``fold_edges[k]:fold_edges[k + 1]``.
    joint : JointDesign
        The joint design of the scored rows, counts zero (its ``design`` is
        ``lagged`` itself for the identity basis).
    subframe : SubframeDesign or None
        The sub-bins of the scored rows (:func:`with_subframe`); None: the sub-frame
        GLM is not fitted.
    """

    frames: np.ndarray
    durations: np.ndarray
    lagged: np.ndarray
    stimulus_mean: np.ndarray
    fold_frames: np.ndarray
    fold_edges: np.ndarray
    joint: JointDesign
    subframe: SubframeDesign | None = None

    @property
    def n_lags(self) -> int:
        """Lags ``0 .. n_lags - 1`` of the window (of the STA and the joint GLM)."""
        return int(self.joint.basis.shape[0])

    @property
    def n_pixels(self) -> int:
        """Pixels per frame."""
        return int(self.stimulus_mean.size)

    def block(self, fold: int) -> tuple[int, int]:
        """Rows ``start:stop`` held out by block ``fold``."""
        return int(self.fold_edges[fold]), int(self.fold_edges[fold + 1])

    def training(self, values: NDArray[Any], fold: int) -> NDArray[Any]:
        """The training rows of ``values`` (leading axis n_rows) for block ``fold``, a copy."""
        start, stop = self.block(fold)
        return np.concatenate([values[:start], values[stop:]])

    def lag_design(self, lag: int) -> Floats:
        """The stimulus ``lag`` frames before each row, (n_rows, n_pixels), a view."""
        return self.lagged[:, lag * self.n_pixels:(lag + 1) * self.n_pixels]


def scored_rows(stimulus: Floats, durations: Floats, max_lag: int, n_folds: int,
                trial_starts: Ints, n_bases: int = 0) -> ScoredRows:
    """The scored frames, their blocks and the joint design of a session.

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
        Checked, float64.
    durations : ndarray of shape (n_frames,)
        Checked, > 0.
    max_lag : int
        The window's largest lag (the largest lag any estimate uses).
    n_folds : int
        Blocks, ``>= 2``.
    trial_starts : ndarray of shape (n_trials,), int64
        Checked.
    n_bases : int, default 0
        Temporal bases of the joint GLM: 0 for one weight per lag (the identity),
        else raised cosines over the window
        (:func:`sparsefield.rf.basis.raised_cosine_basis`, ``n_bases <= max_lag + 1``).

    Returns
    -------
    ScoredRows

    Raises
    ------
    InputError
        Too many blocks for the frames (naming ``n_folds``), or a bad basis (naming
        ``models.joint.n_bases``).
    """
    n_frames = stimulus.shape[0]
    n_lags = max_lag + 1
    fold_frames = lag_folds(n_frames, max_lag, n_folds, trial_starts)
    lagged = joint_design(stimulus, np.zeros(n_frames), durations, identity_basis(n_lags),
                          trial_starts=trial_starts)
    joint = lagged
    if n_bases:
        interval = float(np.median(durations))
        basis = raised_cosine_basis(n_bases, n_lags * interval, interval, n_frames=n_frames,
                                    key="models.joint")
        joint = joint_design(stimulus, np.zeros(n_frames), durations, basis,
                             trial_starts=trial_starts)
    fold_edges = np.searchsorted(lagged.frames, fold_frames).astype(np.int64)
    return ScoredRows(frames=lagged.frames, durations=lagged.durations, lagged=lagged.design,
                      stimulus_mean=stimulus.mean(axis=0), fold_frames=fold_frames,
                      fold_edges=fold_edges, joint=joint)


def with_subframe(rows: ScoredRows, stimulus: Floats, durations: Floats, trial_starts: Ints,
                  *, bins_per_frame: int, n_bases: int, span_s: float) -> ScoredRows:
    """``rows`` with the sub-frame design of its frames (:attr:`ScoredRows.subframe`).

    Parameters
    ----------
    rows : ScoredRows
    stimulus : ndarray of shape (n_frames, n_pixels)
    durations : ndarray of shape (n_frames,)
        Every frame's duration (seconds): the frames are contiguous in time.
    trial_starts : ndarray of shape (n_trials,), int64
        What ``rows`` was made from (:func:`scored_rows`).
    bins_per_frame, n_bases, span_s
        Of :func:`sparsefield.rf.joint_subframe.subframe_design`.

    Returns
    -------
    ScoredRows
    """
    edges = np.concatenate([[0.0], np.cumsum(durations)])
    design = subframe_design(stimulus, edges, rows.frames, trial_starts,
                             bins_per_frame=bins_per_frame, n_bases=n_bases, span_s=span_s)
    return dataclasses.replace(rows, subframe=design)


def _exposed(rows: ScoredRows, eta: Floats, fold: int) -> Floats:
    """``durations * exp(eta)`` of the held-out rows of ``fold``; ``eta`` of them."""
    start, stop = rows.block(fold)
    return np.asarray(rows.durations[start:stop] * np.exp(eta), dtype=np.float64)


def predict_ml(rows: ScoredRows, counts: Floats, fold: int, lag: int, *, max_iter: int,
               tol: float, label: str, training: Floats | None = None) -> Floats:
    """Held-out expected counts of the per-lag ML fit at ``lag``.

    Parameters
    ----------
    rows : ScoredRows
    counts : ndarray of shape (n_rows,)
        The unit's counts of the scored rows.
    fold : int
        The held-out block.
    lag : int
        In ``0 .. n_lags - 1``.
    max_iter, tol
        As in :func:`sparsefield.rf.ml.fit_ml`.
    label : str
        What messages call the fit (e.g. ``"unit 7: ML fit, block 2"``).
    training : ndarray of shape (n_train, n_pixels), optional
        ``rows.training(rows.lag_design(lag), fold)``, when the caller keeps it for
        every unit.

    Returns
    -------
    expected : ndarray of shape (n_test,)
        For the block's rows.
    """
    design = rows.lag_design(lag)
    if training is None:
        training = rows.training(design, fold)
    weights, intercept, _, _ = fit_lag_pairs(
        training, rows.training(counts, fold),
        rows.training(rows.durations, fold), lag, max_iter, tol, label, int(rows.frames[-1]) + 1,
        None)
    start, stop = rows.block(fold)
    return _exposed(rows, design[start:stop] @ weights + intercept, fold)


def predict_lasso(rows: ScoredRows, counts: Floats, fold: int, lag: int, penalty: float, *,
                  tol: float, label: str, training: Floats | None = None) -> Floats:
    """Held-out expected counts of the lasso at ``penalty`` and ``lag``.

    Parameters
    ----------
    rows : ScoredRows
    counts : ndarray of shape (n_rows,)
    fold : int
    lag : int
    penalty : float
        The lasso's ``lambda`` (> 0; the objective of :mod:`sparsefield.rf.lasso_path`).
    tol : float
        KKT tolerance.
    label : str
    training : ndarray of shape (n_train, n_pixels), optional
        As in :func:`predict_ml`.

    Returns
    -------
    expected : ndarray of shape (n_test,)
    """
    design = rows.lag_design(lag)
    if training is None:
        training = rows.training(design, fold)
    try:
        fit = fit_lasso_at_lambda(training, rows.training(counts, fold),
                                  rows.training(rows.durations, fold), penalty, tol=tol,
                                  check_input=False)
    except FitError as error:
        raise FitError(f"{label}: {error}") from None
    start, stop = rows.block(fold)
    return _exposed(rows, design[start:stop] @ fit.weights + fit.intercept, fold)


def window_sta(rows: ScoredRows, counts: Floats, fold: int | None = None) -> Floats:
    """The spike-triggered average of the centred stimulus over the window's lags.

    Parameters
    ----------
    rows : ScoredRows
    counts : ndarray of shape (n_rows,)
    fold : int, optional
        Average over the training rows of this block; None: over all rows.

    Returns
    -------
    sta : ndarray of shape (n_lags, n_pixels)
        ``sum_t counts[t] (stimulus[t - k] - stimulus_mean) / sum_t counts[t]`` at lag
        ``k``.
    """
    if fold is None:
        total, spikes = rows.lagged.T @ counts, float(counts.sum())
    else:
        start, stop = rows.block(fold)
        total = rows.lagged[:start].T @ counts[:start] + rows.lagged[stop:].T @ counts[stop:]
        spikes = float(counts[:start].sum() + counts[stop:].sum())
    return total.reshape(rows.n_lags, rows.n_pixels) / spikes - rows.stimulus_mean


def predict_sta_ln(rows: ScoredRows, counts: Floats, fold: int) -> Floats:
    """Held-out expected counts of the LN model on the training rows' STA.

    Parameters
    ----------
    rows : ScoredRows
    counts : ndarray of shape (n_rows,)
    fold : int

    Returns
    -------
    expected : ndarray of shape (n_test,)
        ``durations * exp(a g + b)`` with ``g`` the generator (the window projected
        on the STA) and ``a, b`` fitted on the training rows
        (:func:`sparsefield.rf.nonlinearity.fit_link`).
    """
    generator = rows.lagged @ window_sta(rows, counts, fold).ravel()
    gain, offset = fit_link("exp", rows.training(generator, fold), rows.training(counts, fold),
                            rows.training(rows.durations, fold))
    start, stop = rows.block(fold)
    return _exposed(rows, gain * generator[start:stop] + offset, fold)


def _filter_start(joint: JointDesign, filter_: Floats) -> JointFit:
    """A filter as the full fit :func:`fit_rank1` starts from (it reads only the filter
    and its weights in the basis).
    """
    weights, *_ = np.linalg.lstsq(joint.basis, filter_, rcond=None)
    return JointFit(weights=weights.ravel(), intercept=float("nan"),
                    filter=joint.basis @ weights, history_filter=np.zeros(0), penalty="none",
                    alpha=0.0, nll=float("nan"), n_iter=0, gradient_max=float("nan"))


def fit_joint_weights(joint: JointDesign, *, fit: str, alpha: float, tol: float,
                      max_iter: int, start: Floats, label: str) -> tuple[Floats, float]:
    """The joint GLM's weights on ``joint.design`` and its intercept (module docstring).

    Parameters
    ----------
    joint : JointDesign
        With the unit's counts.
    fit : {"rank1", "ridge"}
        :data:`JOINT_FITS`.
    alpha : float
        L2 strength of ``"ridge"`` (glum's ``alpha``), >= 0.
    tol : float
        ``"rank1"``: relative change of the NLL that ends the alternation, and the
        gradient tolerance of its sub-problems; ``"ridge"``: the gradient tolerance.
    max_iter : int
        Alternations (``"rank1"``) or Newton steps (``"ridge"``).
    start : ndarray of shape (n_lags, n_pixels)
        The filter whose rank-1 SVD ``"rank1"`` starts from (e.g. the STA).
    label : str

    Returns
    -------
    weights : ndarray of shape (n_bases * n_pixels,)
    intercept : float
    """
    try:
        if fit == "rank1":
            rank1 = fit_rank1(joint, full=_filter_start(joint, start), tol=tol,
                              max_iter=max_iter, newton_tol=tol)
            return np.outer(rank1.temporal_weights, rank1.spatial).ravel(), rank1.intercept
        if fit == "ridge":
            full = fit_joint(joint, alpha=alpha, tol=tol, max_iter=max_iter)
            return full.weights, full.intercept
    except FitError as error:
        raise FitError(f"{label}: {error}") from None
    raise InputError("fit", f"must be one of {list(JOINT_FITS)}, got {fit!r}")


def predict_joint(rows: ScoredRows, training: JointDesign, counts: Floats, fold: int,
                  start: Floats, **options: Any) -> Floats:
    """Held-out expected counts of the joint GLM (:func:`fit_joint_weights`).

    Parameters
    ----------
    rows : ScoredRows
    training : JointDesign
        ``rows.joint``'s training rows of this block (:func:`training_design`).
    counts : ndarray of shape (n_rows,)
    fold : int
    start : ndarray of shape (n_lags, n_pixels)
        Where ``"rank1"`` starts (e.g. the full-data rank-1 filter).
    **options
        ``fit``, ``alpha``, ``tol``, ``max_iter``, ``label`` of :func:`fit_joint_weights`.

    Returns
    -------
    expected : ndarray of shape (n_test,)
    """
    joint = dataclasses.replace(training, counts=rows.training(counts, fold))
    weights, intercept = fit_joint_weights(joint, start=start, **options)
    start_row, stop_row = rows.block(fold)
    return _exposed(rows, rows.joint.design[start_row:stop_row] @ weights + intercept, fold)


def sta_spatial(sta: Floats) -> Floats:
    """The spatial profile of an STA's rank-1 SVD (first right singular vector).

    Parameters
    ----------
    sta : ndarray of shape (n_lags, n_pixels)

    Returns
    -------
    spatial : ndarray of shape (n_pixels,)
        Unit norm.
    """
    _, _, right = np.linalg.svd(sta, full_matrices=False)
    return np.asarray(right[0], dtype=np.float64)


def predict_subframe(rows: ScoredRows, training: SubframeDesign, bin_counts: Floats, fold: int,
                     start: Floats, *, max_iter: int, tol: float, label: str) -> Floats:
    """Held-out expected counts of the sub-frame GLM (:mod:`sparsefield.rf.joint_subframe`).

    Parameters
    ----------
    rows : ScoredRows
        With its :attr:`~ScoredRows.subframe` design.
    training : SubframeDesign
        Its training sub-bins of this block (:func:`training_subframe`).
    bin_counts : ndarray of shape (n_rows, bins_per_frame)
        The unit's spikes per sub-bin of the scored rows.
    fold : int
    start : ndarray of shape (n_pixels,)
        The spatial profile the alternation starts from (e.g. :func:`sta_spatial` of
        the training STA).
    max_iter, tol, label
        Of :func:`sparsefield.rf.joint_subframe.fit_subframe`.

    Returns
    -------
    expected : ndarray of shape (n_test,)
    """
    assert rows.subframe is not None
    fit = fit_subframe(training, rows.training(bin_counts, fold).ravel(), start,
                       max_iter=max_iter, tol=tol, label=label)
    start_row, stop_row = rows.block(fold)
    return expected_frame_counts(rows.subframe.take(np.arange(start_row, stop_row)), fit)


def training_subframe(rows: ScoredRows, fold: int) -> SubframeDesign:
    """The sub-frame design's training sub-bins of block ``fold`` (a copy).

    Parameters
    ----------
    rows : ScoredRows
        With its :attr:`~ScoredRows.subframe` design.
    fold : int

    Returns
    -------
    SubframeDesign
    """
    assert rows.subframe is not None
    return rows.subframe.take(rows.training(np.arange(rows.frames.size), fold))


def training_design(rows: ScoredRows, fold: int) -> JointDesign:
    """The joint design's training rows of block ``fold`` (a copy; counts zero).

    Parameters
    ----------
    rows : ScoredRows
    fold : int

    Returns
    -------
    JointDesign
    """
    joint = rows.joint
    return dataclasses.replace(joint, design=rows.training(joint.design, fold),
                               counts=rows.training(joint.counts, fold),
                               durations=rows.training(joint.durations, fold),
                               frames=rows.training(joint.frames, fold))


__all__ = ["JOINT_FITS", "ScoredRows", "fit_joint_weights", "predict_joint", "predict_lasso",
           "predict_ml", "predict_sta_ln", "predict_subframe", "scored_rows", "sta_spatial",
           "training_design", "training_subframe", "window_sta", "with_subframe"]
