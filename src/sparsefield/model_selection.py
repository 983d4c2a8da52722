"""Cross-validation splitters for time series of frames, in scikit-learn's convention.

Neighbouring frames of a recording are not independent, so the folds are
contiguous blocks of samples, never shuffled: the same blocks as the library's
own cross-validation (:func:`sparsefield.rf.lasso_cv.contiguous_folds`, used by
:func:`sparsefield.rf.lasso_cv.lasso_cv`), so that a
:class:`sklearn.model_selection.GridSearchCV` over
:class:`sparsefield.rf.estimators_glm.PoissonGLM` sees the folds
:class:`sparsefield.rf.estimators_lasso.PoissonLassoCV` sees.
"""

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.model_selection import BaseCrossValidator

from sparsefield._checks import as_int
from sparsefield.rf.lasso_cv import contiguous_folds

__all__ = ["ContiguousSplit"]


class ContiguousSplit(BaseCrossValidator):
    """K folds of contiguous, nearly equal blocks of samples, in order.

    Fold ``k`` tests samples ``edges[k]:edges[k + 1]`` with ``edges =
    contiguous_folds(n_samples, n_splits)`` (the first ``n_samples % n_splits``
    blocks one sample longer) and trains on all the others.  Unlike
    :class:`sklearn.model_selection.TimeSeriesSplit`, training rows lie on
    both sides of the test block, as in the library's cross-validation.

    Parameters
    ----------
    n_splits : int, default 5
        ``2 <= n_splits <= n_samples // 2`` (every block keeps 2 samples).

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sparsefield.rf import PoissonGLM
    >>> search = GridSearchCV(PoissonGLM(), {"alpha": [0.0, 0.1]}, cv=ContiguousSplit(5))
    """

    def __init__(self, n_splits: int = 5) -> None:
        self.n_splits = n_splits

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """Number of folds.

        Parameters
        ----------
        X, y, groups : ignored
            For scikit-learn's API.

        Returns
        -------
        n_splits : int
        """
        return as_int(self.n_splits, "n_splits", minimum=2)

    def split(self, X: Any, y: Any = None,
              groups: Any = None) -> Iterator[tuple[NDArray[np.int64], NDArray[np.int64]]]:
        """Training and test indices of each fold, folds in order.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Only its length is used.
        y, groups : ignored
            For scikit-learn's API.

        Yields
        ------
        train : ndarray of shape (n_samples - n_test,), int64
            The samples before and after the test block, in order.
        test : ndarray of shape (n_test,), int64
            One contiguous block.

        Raises
        ------
        InputError
            If ``n_splits`` is not an integer in ``[2, n_samples // 2]``.
        """
        n_samples = X.shape[0] if hasattr(X, "shape") else len(X)
        edges = contiguous_folds(n_samples, self.get_n_splits())
        indices = np.arange(n_samples, dtype=np.int64)
        for start, stop in zip(edges[:-1].tolist(), edges[1:].tolist(), strict=True):
            yield np.concatenate([indices[:start], indices[stop:]]), indices[start:stop]
