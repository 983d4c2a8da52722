r"""scikit-learn estimators over dictionary learning, plain and compressed.

Thin classes in the scikit-learn convention (``__init__`` only stores its
arguments; fitted attributes end in ``_``) over
:func:`sparsefield.sparse.dictionary.learn_dictionary` and
:func:`sparsefield.sparse.inference.encode`; the workflow keeps calling the
functions.  ``X`` (n_samples, n_features) holds one patch per row (pixels in
raster order, already whitened; see :mod:`sparsefield.sparse.prepare`).

Objective: a patch ``x`` (or its measurement ``y = Φx``) is coded by

.. math::

    \min_b \tfrac12 \lVert x - D^\top b \rVert^2 + \tau \lVert b \rVert_1

with the atoms as rows of ``D`` = ``components_`` (unit norm).  This is
:class:`sklearn.decomposition.MiniBatchDictionaryLearning`'s per-sample
objective with ``alpha = tau``.  Learning scales every training patch (or
measurement) to unit norm when ``normalise`` is True (the library's
``normalise_measurements``); ``transform`` does not: it codes ``X`` as given.
"""

import numbers
from typing import Any, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from sparsefield.sparse.compression import compression_matrix
from sparsefield.sparse.dictionary import LearningSettings, learn_dictionary
from sparsefield.sparse.inference import encode

__all__ = ["CompressedDictionaryLearner", "DictionaryLearner"]

#: The library's defaults (:class:`~sparsefield.sparse.dictionary.LearningSettings`).
_DEFAULTS = LearningSettings()


def learning_seed(random_state: Any) -> int:
    """The library's integer seed from a scikit-learn ``random_state``.

    Parameters
    ----------
    random_state : None, int or numpy.random.RandomState
        An int is used as it is (the library's ``seed``); None or a
        RandomState draws one.

    Returns
    -------
    seed : int
    """
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


class DictionaryLearnerBase(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Settings, ``transform`` and feature names shared by the dictionary learners.

    Subclasses store the learning parameters under the names below and set
    ``components_`` (n_components, n_features) in ``fit``.
    """

    n_components: int | None
    tau: float
    solver: str
    update: str
    n_epochs: int
    batch_size: int
    learning_rate: float
    decay: float
    tol: float
    max_iter: int
    normalise: bool
    random_state: Any
    components_: NDArray[np.float64]

    def _settings(self, n_features: int, seed: int, *, n_epochs: int | None = None,
                  learning_rate: float | None = None) -> LearningSettings:
        """The library's :class:`LearningSettings` (it checks every value)."""
        return LearningSettings(
            n_atoms=n_features if self.n_components is None else self.n_components,
            tau=self.tau, n_epochs=self.n_epochs if n_epochs is None else n_epochs,
            batch_size=self.batch_size, update=self.update,
            learning_rate=self.learning_rate if learning_rate is None else learning_rate,
            decay=self.decay, solver=self.solver, tol=self.tol, max_iter=self.max_iter,
            normalise_measurements=self.normalise, seed=seed)

    @property
    def _n_features_out(self) -> int:
        """Number of codes per sample (for ``get_feature_names_out``)."""
        return self.components_.shape[0]

    def transform(self, X: ArrayLike) -> NDArray[np.float64]:
        """Sparse codes of the patches under ``components_``.

        :func:`sparsefield.sparse.inference.encode` with ``tau``, ``solver``
        (its ``method``), ``tol`` and ``max_iter``: the inference used while
        learning.  ``X`` is not rescaled.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
            Minimise ``½‖x - codes @ components_‖² + tau ‖codes‖₁`` per row.
        """
        check_is_fitted(self)
        patches = validate_data(self, X, reset=False, dtype=np.float64, order="C")
        return encode(patches, self.components_.T, self.tau, method=self.solver, tol=self.tol,
                      max_iter=self.max_iter)


class DictionaryLearner(DictionaryLearnerBase):
    """Sparse-coding dictionary learned from patches (Olshausen & Field).

    :func:`sparsefield.sparse.dictionary.learn_dictionary` without compression:
    per batch, codes by ``solver`` then an update of the unit-norm atoms by
    ``update``, for ``n_epochs`` passes.

    Parameters
    ----------
    n_components : int, optional
        Atoms; default ``n_features`` (a complete dictionary).
    tau : float, default ``LearningSettings.tau`` (0.1)
        Sparsity penalty, ``>= 0``.
    solver : one of :data:`sparsefield.sparse.dictionary.SOLVERS`, default "fista"
        Code inference (learning and ``transform``).
    update : one of :data:`sparsefield.sparse.dictionary.UPDATES`, default "gradient"
    n_epochs : int, default 10
    batch_size : int, default 100
    learning_rate, decay : float, default 0.8 and 0.975
        ``"gradient"``: the step of epoch ``e`` is ``learning_rate * decay**e``.
    tol : float, default 1e-3
    max_iter : int, default 500
        Inference tolerance and iteration limit.
    normalise : bool, default True
        Scale every training patch to unit norm.
    random_state : None, int or numpy.random.RandomState
        Seeds the initial atoms and the batch order (an int is the library's
        ``seed``: ``fit`` then equals ``learn_dictionary(..., seed=random_state)``).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Unit-norm atoms.
    run_ : sparsefield.sparse.dictionary.DictionaryRun
        The library's record (training loss per epoch, ...) of the last
        ``fit`` or ``partial_fit``.
    n_iter_ : int
        Epochs run: ``n_epochs`` after ``fit``; ``partial_fit`` adds 1.
    n_features_in_ : int

    Notes
    -----
    ``partial_fit(X)`` runs one epoch over ``X`` from the current atoms, with
    the step ``learning_rate * decay**n_iter_`` (each call counts as an
    epoch).  The ``"online"`` update's statistics start afresh at each call.

    Every ``check_estimator`` check applies and passes
    (``tests/test_estimators_sparse.py``).
    """

    def __init__(self, n_components: int | None = None, *, tau: float = _DEFAULTS.tau,
                 solver: str = _DEFAULTS.solver, update: str = _DEFAULTS.update,
                 n_epochs: int = _DEFAULTS.n_epochs, batch_size: int = _DEFAULTS.batch_size,
                 learning_rate: float = _DEFAULTS.learning_rate, decay: float = _DEFAULTS.decay,
                 tol: float = _DEFAULTS.tol, max_iter: int = _DEFAULTS.max_iter,
                 normalise: bool = _DEFAULTS.normalise_measurements,
                 random_state: Any = None) -> None:
        self.n_components = n_components
        self.tau = tau
        self.solver = solver
        self.update = update
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.decay = decay
        self.tol = tol
        self.max_iter = max_iter
        self.normalise = normalise
        self.random_state = random_state

    def fit(self, X: ArrayLike, y: Any = None) -> Self:
        """Learn the dictionary.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Training patches.
        y : ignored

        Returns
        -------
        self
        """
        patches = validate_data(self, X, dtype=np.float64, order="C")
        settings = self._settings(patches.shape[1], learning_seed(self.random_state))
        self.run_ = learn_dictionary(patches, settings)
        self.components_ = np.ascontiguousarray(self.run_.theta.T)
        self.n_iter_ = settings.n_epochs
        return self

    def partial_fit(self, X: ArrayLike, y: Any = None) -> Self:
        """One epoch over ``X`` from the current atoms (random ones on the first call).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
        y : ignored

        Returns
        -------
        self
        """
        first = not hasattr(self, "components_")
        patches = validate_data(self, X, reset=first, dtype=np.float64, order="C")
        done = 0 if first else self.n_iter_
        seed = learning_seed(self.random_state)
        if isinstance(self.random_state, numbers.Integral):
            seed += done  # a new batch order for every epoch, reproducibly
        settings = self._settings(patches.shape[1], seed, n_epochs=1,
                                  learning_rate=self.learning_rate * self.decay**done)
        self.run_ = learn_dictionary(patches, settings,
                                     initial_atoms=None if first else self.components_.T)
        self.components_ = np.ascontiguousarray(self.run_.theta.T)
        self.n_iter_ = done + 1
        return self


class CompressedDictionaryLearner(DictionaryLearnerBase):
    """Dictionary learned from compressed patches ``y = Φx`` (Fallah et al. 2020).

    Draws Φ with :func:`sparsefield.sparse.compression.compression_matrix`,
    learns Θ in the compressed space and recovers the pixel-space atoms Ψ from
    the correlation patches (:func:`sparsefield.sparse.dictionary.learn_dictionary`
    with ``compression=Φ``).  With the scheme ``"none"`` (Φ = I) nothing is
    compressed and Ψ = Θ: the result equals :class:`DictionaryLearner`'s (as
    in the workflow).

    Parameters
    ----------
    n_components : int, optional
        Atoms; default ``n_features``.
    scheme : one of :data:`sparsefield.sparse.compression.SCHEMES`, default "dense"
    n_measurements : int, optional
        ``M <= n_features``; default ``n_features`` for ``"none"``, else
        ``n_features // 2`` (the paper's ratio), at least 2 (with one
        measurement every unit-norm ``y`` is ±1 and nothing can be learned).
    localization : int, default 1
        ``J`` of ``"bdm"``/``"brm"``.
    order : one of :data:`sparsefield.sparse.compression.ORDERS`, default "raster"
    patch_size : int, optional
        Patch side for ``order="hilbert"``.
    compression_normalise : str, default "expected"
        Φ's column normalisation, one of
        :data:`sparsefield.sparse.compression.NORMALISATIONS`.
    tau, solver, update, n_epochs, batch_size, learning_rate, decay, tol, max_iter, normalise
        As in :class:`DictionaryLearner` (``normalise`` scales every
        measurement ``y`` to unit norm).
    random_state : None, int or numpy.random.RandomState
        Seeds the learning as in :class:`DictionaryLearner`, and Φ with
        ``numpy.random.default_rng([1, seed])`` (a stream apart from the
        learning's).

    Attributes
    ----------
    components_ : ndarray of shape (n_components, n_features)
        Recovered pixel-space atoms Ψ (unit norm; an atom no correlation code
        uses stays 0).
    compressed_components_ : ndarray of shape (n_components, n_measurements)
        Learned compressed-space atoms Θ.
    compression_matrix_ : ndarray of shape (n_measurements, n_features)
        Φ.
    run_ : sparsefield.sparse.dictionary.DictionaryRun
    n_iter_ : int
        Epochs run.
    n_features_in_ : int

    Notes
    -----
    ``transform`` codes pixel-space patches under Ψ (as the library's
    validation loss does).  No ``partial_fit``: learning restarts from a
    pixel-space dictionary, which Θ cannot be resumed from.
    ``check_estimator`` (``tests/test_estimators_sparse.py``) skips
    ``check_fit2d_1sample``: it fits one patch with one atom
    (``n_components=1``) and ``random_state=1``, whose random start is nearly
    orthogonal to the compressed patch (``|θ · y| < tau``): every code is 0,
    nothing can be learned, and the library refuses the run with an error
    naming ``tau`` (not the number of samples the check looks for).
    """

    def __init__(self, n_components: int | None = None, *, scheme: str = "dense",
                 n_measurements: int | None = None, localization: int = 1,
                 order: str = "raster", patch_size: int | None = None,
                 compression_normalise: str = "expected", tau: float = _DEFAULTS.tau,
                 solver: str = _DEFAULTS.solver, update: str = _DEFAULTS.update,
                 n_epochs: int = _DEFAULTS.n_epochs, batch_size: int = _DEFAULTS.batch_size,
                 learning_rate: float = _DEFAULTS.learning_rate, decay: float = _DEFAULTS.decay,
                 tol: float = _DEFAULTS.tol, max_iter: int = _DEFAULTS.max_iter,
                 normalise: bool = _DEFAULTS.normalise_measurements,
                 random_state: Any = None) -> None:
        self.n_components = n_components
        self.scheme = scheme
        self.n_measurements = n_measurements
        self.localization = localization
        self.order = order
        self.patch_size = patch_size
        self.compression_normalise = compression_normalise
        self.tau = tau
        self.solver = solver
        self.update = update
        self.n_epochs = n_epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.decay = decay
        self.tol = tol
        self.max_iter = max_iter
        self.normalise = normalise
        self.random_state = random_state

    def _compression(self, n_features: int, seed: int) -> NDArray[np.float64]:
        """Φ of shape (n_measurements, n_features)."""
        n_measurements = self.n_measurements
        if n_measurements is None:
            n_measurements = (n_features if self.scheme == "none"
                              else max(n_features // 2, min(n_features, 2)))
        return compression_matrix(self.scheme, n_measurements, n_features, self.localization,
                                  seed=np.random.default_rng([1, seed]), order=self.order,
                                  patch_size=self.patch_size,
                                  normalise=self.compression_normalise)

    def fit(self, X: ArrayLike, y: Any = None, correlation: ArrayLike | None = None) -> Self:
        """Learn Θ from the compressed patches and recover Ψ.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Training patches (pixel space; compressed here).
        y : ignored
        correlation : array_like of shape (n_correlation, n_features), optional
            Patches for recovering Ψ (the paper: patches not used for training);
            default ``X``.

        Returns
        -------
        self
        """
        patches = validate_data(self, X, dtype=np.float64, order="C")
        seed = learning_seed(self.random_state)
        phi = self._compression(patches.shape[1], seed)
        settings = self._settings(patches.shape[1], seed)
        compressed = self.scheme != "none"
        self.run_ = learn_dictionary(patches, settings, compression=phi if compressed else None,
                                     correlation=patches if correlation is None else correlation)
        self.compression_matrix_ = phi
        self.compressed_components_ = np.ascontiguousarray(self.run_.theta.T)
        self.components_ = np.ascontiguousarray(self.run_.phi[-1].T)
        self.n_iter_ = settings.n_epochs
        return self
