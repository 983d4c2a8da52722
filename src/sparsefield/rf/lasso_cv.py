"""Choosing the lasso's penalty by cross-validation over contiguous blocks of rows.

The objective and the one-neuron path are those of :mod:`sparsefield.rf.lasso_path`.
The rows are never shuffled: the stimulus is a time series and neighbouring frames
are not independent, so each fold holds out one contiguous block
(:func:`contiguous_folds`).  A penalty is scored by the held-out Poisson
log-likelihood gain over a constant-rate model fitted on the same training rows, and
chosen by one of :data:`RULES` (:func:`choose_penalty`, :func:`chosen_index`).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float_array, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.rf.lasso_path import (
    DEFAULT_LAMBDA_MIN_RATIO,
    LassoPath,
    lasso_data,
    lasso_path,
    require_fittable,
)
from sparsefield.rf.poisson import PoissonProblem

#: Penalty selection rules of :func:`lasso_cv` (and :func:`chosen_index`): ``"1se"``,
#: the largest penalty within one standard error of the best held-out gain, or
#: ``"min"``, the best.  The workflow's ``lasso.rule`` choices.
RULES = ("1se", "min")

# An index of the penalty grid, or one per unit.
Index = TypeVar("Index", int, NDArray[np.int64])


@dataclass(frozen=True)
class LassoCV(NpzMixin):
    """K-fold cross-validation over contiguous blocks of rows, and the refit.

    Attributes
    ----------
    lambdas : ndarray of shape (n_lambdas,)
        Penalties, decreasing (the grid of the full-data ``lambda_max``).
    fold_edges : ndarray of shape (n_folds + 1,), int64
        Fold ``k`` holds out rows ``fold_edges[k]:fold_edges[k + 1]``.
    fold_loglik : ndarray of shape (n_folds, n_lambdas)
        Held-out Poisson log-likelihood per row (``-poisson_nll`` on the
        held-out rows, constants included) of the path fitted on the other
        folds.
    null_loglik : ndarray of shape (n_folds,)
        The same for the constant-rate model (intercept only) fitted on the
        same training rows.
    gain_mean, gain_se : ndarray of shape (n_lambdas,)
        Held-out gain over the constant-rate model, ``fold_loglik -
        null_loglik[:, None]`` (nats per row), averaged over folds, and its
        standard error (``std(ddof=1) / sqrt(n_folds)``).  The gain removes
        the fold-to-fold variation of the baseline rate, which would
        otherwise dominate the standard error (on the real recording the
        folds' log-likelihoods differ by about 0.2 nats per frame, the
        penalties by 0.01 to 0.1).
    index_min, index_1se : int
        ``index_min`` maximises ``gain_mean`` (equivalently the mean of ``fold_loglik``);
        ``index_1se`` is the largest penalty whose ``gain_mean`` is within
        ``gain_se[index_min]`` of that maximum.
    rule : str
        ``"min"`` or ``"1se"``: which one is chosen.
    path : LassoPath
        The full-data path over ``lambdas`` (the refit is its chosen entry).

    The chosen index, penalties and refit (``index_chosen``, ``lambda_min``,
    ``lambda_1se``, ``lambda_chosen``, ``weights``, ``intercept``) are derived
    from these, not stored.
    """

    lambdas: np.ndarray
    fold_edges: np.ndarray
    fold_loglik: np.ndarray
    null_loglik: np.ndarray
    gain_mean: np.ndarray
    gain_se: np.ndarray
    index_min: int
    index_1se: int
    rule: str
    path: LassoPath

    @property
    def index_chosen(self) -> int:
        """Index of the chosen penalty (:func:`chosen_index`)."""
        return chosen_index(self.index_min, self.index_1se, self.rule)

    @property
    def lambda_min(self) -> float:
        """The penalty of the best mean held-out gain."""
        return float(self.lambdas[self.index_min])

    @property
    def lambda_1se(self) -> float:
        """The largest penalty within one standard error of the best."""
        return float(self.lambdas[self.index_1se])

    @property
    def lambda_chosen(self) -> float:
        """The penalty chosen by ``rule``."""
        return float(self.lambdas[self.index_chosen])

    @property
    def weights(self) -> NDArray[np.float64]:
        """Full-data fit at ``lambda_chosen``, shape (n_pixels,)."""
        return self.path.weights[self.index_chosen]

    @property
    def intercept(self) -> float:
        """Full-data fit's intercept at ``lambda_chosen``."""
        return float(self.path.intercepts[self.index_chosen])

    def _pack_field(self, name: str, kind: Any, value: Any) -> dict[str, np.ndarray | np.generic]:
        """The nested path is stored as its own arrays, keys prefixed ``path_``."""
        if name == "path":
            return {"path_" + key: array for key, array in value.to_npz_dict().items()}
        return super()._pack_field(name, kind, value)

    @classmethod
    def _unpack_field(cls, name: str, kind: Any, npz: Mapping[str, ArrayLike]) -> Any:
        """Inverse of :meth:`_pack_field`."""
        if name == "path":
            prefix = "path_"
            return LassoPath.from_npz({key[len(prefix):]: npz[key] for key in npz
                                       if key.startswith(prefix)})
        return super()._unpack_field(name, kind, npz)


@dataclass(frozen=True)
class PenaltyChoice(NpzMixin):
    """Penalty chosen from held-out log-likelihood gains.

    Attributes
    ----------
    gain_mean, gain_se : ndarray of shape (n_lambdas,)
        Mean over folds of the held-out gain and its standard error
        (``std(ddof=1) / sqrt(n_folds)``).
    index_min : int
        Index of the largest ``gain_mean``.
    index_1se : int
        Smallest index (largest penalty, the grid being decreasing) whose
        ``gain_mean`` is at least ``gain_mean[index_min] - gain_se[index_min]``.
    """

    gain_mean: np.ndarray
    gain_se: np.ndarray
    index_min: int
    index_1se: int


def chosen_index(index_min: Index, index_1se: Index, rule: str) -> Index:
    """The index a selection rule picks: ``index_1se`` for ``"1se"``, else ``index_min``.

    Parameters
    ----------
    index_min, index_1se : int or ndarray of int
        The indices of the two rules (one per unit for an array).
    rule : str
        One of :data:`RULES`.

    Returns
    -------
    int or ndarray of int
        ``index_1se`` or ``index_min``, as given.
    """
    return index_1se if rule == "1se" else index_min


def choose_penalty(fold_gain: ArrayLike) -> PenaltyChoice:
    """``lambda_min`` and ``lambda_1se`` indices from per-fold held-out gains.

    Parameters
    ----------
    fold_gain : ndarray of shape (n_folds, n_lambdas)
        Held-out log-likelihood gain over a constant-rate model, per fold
        and penalty, penalties in decreasing order (see :class:`LassoCV`).
        Gains of independent models may be summed first (e.g. over lags).

    Returns
    -------
    PenaltyChoice

    Raises
    ------
    InputError
        If ``fold_gain`` is not finite, 2-D, with at least 2 folds.
    """
    fold_gain = as_float_array(fold_gain, "fold_gain", 2)
    n_folds = fold_gain.shape[0]
    if n_folds < 2 or fold_gain.shape[1] < 1:
        raise InputError("fold_gain",
                         f"needs at least 2 folds and 1 penalty, got shape {fold_gain.shape}")
    gain_mean = fold_gain.mean(axis=0)
    gain_se = fold_gain.std(axis=0, ddof=1) / math.sqrt(n_folds)
    index_min = int(np.argmax(gain_mean))
    threshold = gain_mean[index_min] - gain_se[index_min]
    index_1se = int(np.flatnonzero(gain_mean >= threshold)[0])
    return PenaltyChoice(gain_mean=gain_mean, gain_se=gain_se, index_min=index_min,
                         index_1se=index_1se)


def contiguous_folds(n_rows: int, n_folds: int) -> NDArray[np.int64]:
    """Row boundaries of ``n_folds`` contiguous, nearly equal blocks.

    Parameters
    ----------
    n_rows : int
    n_folds : int
        ``2 <= n_folds <= n_rows // 2`` (every training and held-out set
        keeps at least two rows).

    Returns
    -------
    fold_edges : ndarray of shape (n_folds + 1,), int64
        Fold ``k`` is rows ``fold_edges[k]:fold_edges[k + 1]``.
    """
    n_folds = as_int(n_folds, "n_folds", minimum=2)
    if n_folds > n_rows // 2:
        raise InputError(
            "n_folds",
            f"{n_folds} folds need at least {2 * n_folds} rows (2 per block), "
            f"the design has {n_rows}",
        )
    sizes = np.full(n_folds, n_rows // n_folds, dtype=np.int64)
    sizes[: n_rows % n_folds] += 1
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def _check_fold_edges(fold_edges: ArrayLike, n_rows: int) -> NDArray[np.int64]:
    """Explicit fold boundaries: int64, 0 ... n_rows, each block at least one row."""
    edges = np.asarray(fold_edges)
    if (edges.ndim != 1 or edges.size < 3 or not np.issubdtype(edges.dtype, np.integer)
            or edges[0] != 0 or edges[-1] != n_rows or np.any(np.diff(edges) < 1)):
        raise InputError(
            "fold_edges",
            f"must be increasing integers from 0 to {n_rows} (at least 2 folds), "
            f"got {edges.tolist()}",
        )
    return edges.astype(np.int64)


def lasso_cv(design: ArrayLike, counts: ArrayLike, durations: ArrayLike, *, n_folds: int = 5,
             n_lambdas: int = 10, lambda_min_ratio: float = DEFAULT_LAMBDA_MIN_RATIO,
             lambdas: ArrayLike | None = None, rule: str = "1se", tol: float = 1e-7,
             max_iter: int = 100, fold_edges: ArrayLike | None = None,
             check_input: bool = True) -> LassoCV:
    """Choose the penalty by k-fold cross-validation over contiguous blocks of rows.

    The rows are split into ``n_folds`` contiguous blocks (never shuffled:
    the stimulus is a time series, and neighbouring frames are not
    independent).  For each block, the path over the full-data grid is
    fitted on the other blocks and scored by the held-out Poisson
    log-likelihood per row, and by its gain over a constant-rate model fitted
    on the same rows (the selection uses the gain; see :class:`LassoCV`).
    Then the full data are fitted over the same grid and the fit at the
    chosen penalty is returned.

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows,)
    durations : ndarray of shape (n_rows,)
    n_folds : int
        ``2 <= n_folds <= n_rows // 2``.
    n_lambdas, lambda_min_ratio, lambdas, tol, max_iter
        As in :func:`lasso_path`.
    rule : {"1se", "min"}
        ``"1se"``: the largest penalty within one standard error of the best
        mean held-out log-likelihood (sparser, the glmnet convention);
        ``"min"``: the best mean.
    fold_edges : array_like of int of shape (n_folds + 1,), optional
        Explicit contiguous blocks instead of :func:`contiguous_folds`:
        increasing row boundaries from 0 to ``n_rows`` (e.g. the same blocks of
        frames for designs at several lags); ``n_folds`` is then ignored.
    check_input : bool, default True
        False: the data are already checked
        (:mod:`sparsefield.rf.lasso_path`, "Checked once").

    Returns
    -------
    LassoCV

    Raises
    ------
    InputError
        Bad data or options, more folds than blocks of two rows, or a
        training set without spikes.
    FitError
        A path did not converge.
    """
    design, counts, durations = lasso_data(design, counts, durations, check_input)
    if rule not in RULES:
        raise InputError("rule", f"must be '1se' or 'min', got {rule!r}")
    n_rows = design.shape[0]
    if fold_edges is None:
        fold_edges = contiguous_folds(n_rows, n_folds)
    else:
        fold_edges = _check_fold_edges(fold_edges, n_rows)
    full = lasso_path(design, counts, durations, n_lambdas=n_lambdas,
                      lambda_min_ratio=lambda_min_ratio, lambdas=lambdas, tol=tol,
                      max_iter=max_iter, check_input=False)
    grid = full.lambdas
    n_folds = fold_edges.size - 1
    fold_loglik = np.empty((n_folds, grid.size))
    null_loglik = np.empty(n_folds)
    for fold in range(n_folds):
        start, stop = fold_edges[fold], fold_edges[fold + 1]
        train = np.r_[0:start, stop:n_rows]
        if counts[train].sum() <= 0:
            raise InputError("n_folds", f"fold {fold}: the training rows contain no spikes (every "
                             "spike is in its held-out block: too few spikes, or too few "
                             "spread out, for cross-validation)")
        require_fittable(design[train], counts[train], durations[train])
        fold_path = lasso_path(design[train], counts[train], durations[train], lambdas=grid,
                               tol=tol, max_iter=max_iter, check_input=False)
        held_out = PoissonProblem.from_checked(design[start:stop], counts[start:stop],
                                               durations[start:stop])
        for index in range(grid.size):
            fold_loglik[fold, index] = -held_out.nll(fold_path.weights[index],
                                                     fold_path.intercepts[index])
        null_intercept = math.log(counts[train].sum() / durations[train].sum())
        null_loglik[fold] = -held_out.nll(np.zeros(design.shape[1]), null_intercept)
    choice = choose_penalty(fold_loglik - null_loglik[:, None])
    return LassoCV(
        lambdas=grid, fold_edges=fold_edges, fold_loglik=fold_loglik,
        null_loglik=null_loglik, gain_mean=choice.gain_mean, gain_se=choice.gain_se,
        index_min=choice.index_min, index_1se=choice.index_1se, rule=rule, path=full,
    )


__all__ = [
    "LassoCV", "PenaltyChoice", "RULES", "choose_penalty", "chosen_index",
    "contiguous_folds", "lasso_cv",
]
