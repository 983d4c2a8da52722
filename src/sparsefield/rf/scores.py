r"""Held-out scores of spike-count predictions: bits per spike and pseudo-R².

Every estimate (a per-lag fit, the lasso, an LN model on the STA, an energy model on
the spike-triggered covariance) predicts the expected spike count of each row (frame)
it was not fitted to; these scores compare the prediction with the counts in the
units the field uses.  With counts :math:`y_t`, predictions :math:`\mu_t` and the
Poisson log-likelihood
:math:`LL(\mu) = \sum_t [y_t \log \mu_t - \mu_t - \log y_t!]` (nats),

* **bits per spike** (Paninski, Pillow & Simoncelli 2004; Pillow et al. 2008):
  :math:`(LL(\mu) - LL(\mu^0)) / (n_\mathrm{spikes} \ln 2)`, the gain over a
  homogeneous Poisson baseline :math:`\mu^0_t = \bar r\, d_t` whose rate
  :math:`\bar r = \sum y / \sum d` is fitted on the **training** rows (``d``: the row
  durations).  The baseline scores exactly 0; a model worse than a constant rate
  scores below 0.
* **pseudo-R²** (deviance explained, Cameron & Windmeijer 1996):
  :math:`1 - D(\mu) / D(\mu^0)` with the Poisson deviance
  :math:`D(\mu) = 2 \sum_t [y_t \log(y_t / \mu_t) - (y_t - \mu_t)]`, taken relative to
  the saturated model :math:`\mu = y` (whose deviance is 0, so it scores 1).  On
  held-out rows it can be negative.

:func:`blocked_scores` runs any fit function over ``K`` contiguous blocks of rows (the
blocks of :func:`sparsefield.rf.lasso_cv.contiguous_folds`; rows are never shuffled:
the stimulus is a time series): it refits without each block, predicts the block, and
scores every block and all of them pooled (the pooled bits per spike sums the
log-likelihood gains of the blocks, each over its own training baseline, and divides
by all held-out spikes; the pooled pseudo-R² sums the deviances).
"""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaln, xlogy

from sparsefield._checks import as_float, as_float_array
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.rf.lasso_cv import contiguous_folds

#: What a fit function of :func:`blocked_scores` takes and returns: training rows and
#: held-out rows (increasing indices), then the expected counts of the held-out rows.
FitPredict = Callable[[NDArray[np.intp], NDArray[np.intp]], ArrayLike]


@dataclass(frozen=True)
class HeldOutScore(NpzMixin):
    """Scores of one prediction of held-out counts (module docstring).

    Attributes
    ----------
    bits_per_spike : float
        ``(loglik - baseline_loglik) / (n_spikes ln 2)``; NaN without spikes.
    pseudo_r2 : float
        ``1 - deviance / baseline_deviance``; NaN when the baseline's deviance is 0.
    loglik, baseline_loglik : float
        Poisson log-likelihood in nats, summed over rows, constants included.
    deviance, baseline_deviance : float
        Poisson deviance, summed over rows.
    n_spikes : float
        Spikes in the held-out rows.
    """

    bits_per_spike: float
    pseudo_r2: float
    loglik: float
    baseline_loglik: float
    deviance: float
    baseline_deviance: float
    n_spikes: float


@dataclass(frozen=True)
class BlockScores(NpzMixin):
    """Held-out scores over contiguous blocks of rows (:func:`blocked_scores`).

    Attributes
    ----------
    fold_edges : ndarray of shape (n_folds + 1,), int64
        Block ``k`` holds out rows ``fold_edges[k]:fold_edges[k + 1]``.
    fold_bits_per_spike, fold_pseudo_r2 : ndarray of shape (n_folds,)
        Each block's scores (NaN for a block without spikes, or whose baseline
        deviance is 0).
    fold_loglik, fold_baseline_loglik : ndarray of shape (n_folds,)
        Each block's log-likelihood (nats) of the model and of its baseline.
    fold_deviance, fold_baseline_deviance : ndarray of shape (n_folds,)
    fold_n_spikes : ndarray of shape (n_folds,)
    bits_per_spike : float
        Pooled over blocks: summed gains over summed spikes, in bits.
    pseudo_r2 : float
        Pooled: ``1 - sum(fold_deviance) / sum(fold_baseline_deviance)``.
    predicted : ndarray of shape (n_rows,)
        Every row's expected count, predicted by the fit without its block.
    """

    fold_edges: np.ndarray
    fold_bits_per_spike: np.ndarray
    fold_pseudo_r2: np.ndarray
    fold_loglik: np.ndarray
    fold_baseline_loglik: np.ndarray
    fold_deviance: np.ndarray
    fold_baseline_deviance: np.ndarray
    fold_n_spikes: np.ndarray
    bits_per_spike: float
    pseudo_r2: float
    predicted: np.ndarray


def poisson_loglik(counts: NDArray[np.float64], expected: NDArray[np.float64]) -> float:
    """Poisson log-likelihood of counts under expected counts, summed, in nats.

    Parameters
    ----------
    counts : ndarray of shape (n_rows,)
        Non-negative counts (checked by the caller).
    expected : ndarray of shape (n_rows,)
        Non-negative expected counts; a row with ``expected = 0`` contributes 0 when
        its count is 0 and ``-inf`` otherwise.

    Returns
    -------
    float
        ``sum(counts log expected - expected - log(counts!))``.
    """
    with np.errstate(divide="ignore"):
        return float(np.sum(xlogy(counts, expected) - expected - gammaln(counts + 1.0)))


def poisson_deviance(counts: NDArray[np.float64], expected: NDArray[np.float64]) -> float:
    """Poisson deviance relative to the saturated model, summed.

    Parameters
    ----------
    counts, expected : ndarray of shape (n_rows,)
        As in :func:`poisson_loglik`.

    Returns
    -------
    float
        ``2 sum(counts log(counts / expected) - (counts - expected))``; 0 for
        ``expected = counts``.
    """
    with np.errstate(divide="ignore"):
        terms = xlogy(counts, counts) - xlogy(counts, expected) - (counts - expected)
    return float(2.0 * np.sum(terms))


def _ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator``, NaN when the denominator is 0."""
    return numerator / denominator if denominator > 0 else math.nan


def _score_checked(counts: NDArray[np.float64], expected: NDArray[np.float64],
                   durations: NDArray[np.float64], baseline_rate: float) -> HeldOutScore:
    """:func:`held_out_score` on checked arrays."""
    baseline = baseline_rate * durations
    loglik = poisson_loglik(counts, expected)
    baseline_loglik = poisson_loglik(counts, baseline)
    deviance = poisson_deviance(counts, expected)
    baseline_deviance = poisson_deviance(counts, baseline)
    n_spikes = float(counts.sum())
    return HeldOutScore(
        bits_per_spike=_ratio(loglik - baseline_loglik, n_spikes * math.log(2.0)),
        pseudo_r2=1.0 - _ratio(deviance, baseline_deviance),
        loglik=loglik, baseline_loglik=baseline_loglik, deviance=deviance,
        baseline_deviance=baseline_deviance, n_spikes=n_spikes,
    )


def _check_counts(counts: ArrayLike, durations: ArrayLike
                  ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Counts (>= 0) and durations (> 0) of the same length."""
    counts = as_float_array(counts, "counts", 1)
    durations = as_float_array(durations, "durations", 1, length=counts.size)
    if np.any(counts < 0):
        raise InputError("counts", "contains negative values")
    if np.any(durations <= 0):
        raise InputError("durations", "must be positive (seconds)")
    return counts, durations


def _check_expected(expected: ArrayLike, n_rows: int, name: str) -> NDArray[np.float64]:
    """Expected counts: finite, >= 0, one per row."""
    expected = as_float_array(expected, name, 1, length=n_rows)
    if np.any(expected < 0):
        raise InputError(name, "expected counts must be >= 0")
    return expected


def held_out_score(counts: ArrayLike, expected: ArrayLike, durations: ArrayLike,
                   baseline_rate: float) -> HeldOutScore:
    """Bits per spike and pseudo-R² of predicted counts (module docstring).

    Parameters
    ----------
    counts : ndarray of shape (n_rows,)
        Observed spike counts of the held-out rows, >= 0.
    expected : ndarray of shape (n_rows,)
        The model's expected counts of the same rows, >= 0.
    durations : ndarray of shape (n_rows,)
        Row durations in seconds, > 0 (the baseline's exposure).
    baseline_rate : float
        The homogeneous Poisson baseline's rate in spikes per second, fitted on the
        training rows (``sum(counts) / sum(durations)`` there), > 0.

    Returns
    -------
    HeldOutScore

    Raises
    ------
    InputError
        On wrong shapes, negative counts or expected counts, non-positive durations,
        or a baseline rate that is not positive.
    """
    counts, durations = _check_counts(counts, durations)
    expected = _check_expected(expected, counts.size, "expected")
    baseline_rate = as_float(baseline_rate, "baseline_rate", minimum=0.0, strict=True)
    return _score_checked(counts, expected, durations, baseline_rate)


def blocked_scores(fit_predict: FitPredict, counts: ArrayLike, durations: ArrayLike, *,
                   n_folds: int = 5, fold_edges: ArrayLike | None = None) -> BlockScores:
    """Score a fit on each of ``n_folds`` contiguous blocks of rows, refitted without it.

    For each block ``k`` (rows ``fold_edges[k]:fold_edges[k + 1]``), ``fit_predict``
    is called with the training rows (all the others) and the held-out rows, and
    returns the expected counts of the held-out rows; these are scored against a
    homogeneous Poisson baseline whose rate is fitted on the same training rows
    (:func:`held_out_score`).

    Parameters
    ----------
    fit_predict : callable
        ``fit_predict(train, test) -> expected`` with ``train`` and ``test`` increasing
        int arrays of row indices and ``expected`` of shape (len(test),), >= 0.
        It fits whatever it fits on the rows ``train`` only.
    counts : ndarray of shape (n_rows,)
        Spike counts per row, >= 0.
    durations : ndarray of shape (n_rows,)
        Row durations in seconds, > 0.
    n_folds : int, default 5
        Blocks of :func:`sparsefield.rf.lasso_cv.contiguous_folds`
        (``2 <= n_folds <= n_rows // 2``).
    fold_edges : array_like of int of shape (n_folds + 1,), optional
        Explicit block boundaries (increasing, from 0 to ``n_rows``) instead;
        ``n_folds`` is then ignored.

    Returns
    -------
    BlockScores

    Raises
    ------
    InputError
        Bad counts, durations or blocks; a training set without spikes (naming
        ``n_folds``); expected counts of the wrong shape, negative or not finite
        (naming ``fit_predict``).
    """
    counts, durations = _check_counts(counts, durations)
    n_rows = counts.size
    edges = _fold_edges(n_rows, n_folds, fold_edges)
    n_blocks = edges.size - 1
    scores = []
    predicted = np.empty(n_rows)
    for fold in range(n_blocks):
        start, stop = int(edges[fold]), int(edges[fold + 1])
        train = np.r_[0:start, stop:n_rows].astype(np.intp)
        test = np.arange(start, stop, dtype=np.intp)
        train_spikes = counts[train].sum()
        if train_spikes <= 0:
            raise InputError("n_folds", f"block {fold}: the training rows hold no spike (every "
                             "spike is in the held-out block), so the baseline has no rate")
        expected = _check_expected(fit_predict(train, test), test.size, "fit_predict")
        predicted[start:stop] = expected
        rate = train_spikes / durations[train].sum()
        scores.append(_score_checked(counts[test], expected, durations[test], rate))
    return pooled_scores(edges, scores, predicted)


def _fold_edges(n_rows: int, n_folds: int, fold_edges: ArrayLike | None) -> NDArray[np.int64]:
    """:func:`contiguous_folds`, or explicit boundaries checked."""
    if fold_edges is None:
        return contiguous_folds(n_rows, n_folds)
    edges = np.asarray(fold_edges)
    if (edges.ndim != 1 or edges.size < 3 or edges.dtype.kind not in "iu" or edges[0] != 0
            or edges[-1] != n_rows or np.any(np.diff(edges) < 1)):
        raise InputError("fold_edges", f"must be increasing integers from 0 to {n_rows} (at "
                         f"least 2 blocks), got {edges.tolist()}")
    return edges.astype(np.int64)


def pooled_scores(fold_edges: NDArray[np.int64], scores: list[HeldOutScore],
                  predicted: NDArray[np.float64]) -> BlockScores:
    """Collect per-block scores and pool them (module docstring).

    Parameters
    ----------
    fold_edges : ndarray of shape (n_folds + 1,), int64
    scores : list of HeldOutScore
        One per block, in order.
    predicted : ndarray of shape (n_rows,)
        Held-out expected counts of every row.

    Returns
    -------
    BlockScores
    """
    def column(name: str) -> NDArray[np.float64]:
        return np.array([getattr(score, name) for score in scores], dtype=np.float64)

    loglik, baseline_loglik = column("loglik"), column("baseline_loglik")
    deviance, baseline_deviance = column("deviance"), column("baseline_deviance")
    n_spikes = column("n_spikes")
    return BlockScores(
        fold_edges=fold_edges, fold_bits_per_spike=column("bits_per_spike"),
        fold_pseudo_r2=column("pseudo_r2"), fold_loglik=loglik,
        fold_baseline_loglik=baseline_loglik, fold_deviance=deviance,
        fold_baseline_deviance=baseline_deviance, fold_n_spikes=n_spikes,
        bits_per_spike=_ratio(float(np.sum(loglik - baseline_loglik)),
                              float(n_spikes.sum()) * math.log(2.0)),
        pseudo_r2=1.0 - _ratio(float(deviance.sum()), float(baseline_deviance.sum())),
        predicted=predicted,
    )


def constant_rate(counts: ArrayLike, durations: ArrayLike) -> FitPredict:
    """The homogeneous Poisson baseline as a fit function of :func:`blocked_scores`.

    It scores exactly 0 bits per spike and a pseudo-R² of exactly 0.

    Parameters
    ----------
    counts : ndarray of shape (n_rows,)
    durations : ndarray of shape (n_rows,)

    Returns
    -------
    callable
        ``fit_predict(train, test)``: ``sum(counts[train]) / sum(durations[train])``
        times ``durations[test]``.
    """
    counts, durations = _check_counts(counts, durations)

    def fit_predict(train: NDArray[np.intp], test: NDArray[np.intp]) -> NDArray[np.float64]:
        rate = counts[train].sum() / durations[train].sum()
        return np.asarray(rate * durations[test], dtype=np.float64)

    return fit_predict


__all__ = ["BlockScores", "FitPredict", "HeldOutScore", "blocked_scores", "constant_rate",
           "held_out_score", "poisson_deviance", "poisson_loglik", "pooled_scores"]
