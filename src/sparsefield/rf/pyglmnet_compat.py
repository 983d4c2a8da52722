"""Run pyglmnet 1.1 (the last PyPI release) on current numpy, with our penalty scaling.

pyglmnet 1.1 does not run as released on numpy >= 1.24, and on numpy 2.x it
fails even earlier.  This module makes it run *without editing its source*:

1. ``np.float`` (used in ``_grad_L2loss``) and ``np.int`` (used by
   ``GLMCV``) were removed from numpy.  :func:`numpy_aliases` defines them as
   the builtins ``float`` and ``int`` **only when they are missing**, and
   **only while a fit runs** (a context manager that removes exactly what it
   added on exit).  While it is active the aliases are visible to the whole
   process (numpy is one module object), so do not run it concurrently with
   code that relies on ``np.float`` being absent; nothing in this package
   does.
2. ``GLM.fit`` initialises the intercept with ``beta[0] = c *
   rng.normal(0, 1, 1)``: assigning a 1-element array to a scalar slot,
   an error on numpy 2.x.  :class:`ScalarNormalRandomState` is a
   ``numpy.random.RandomState`` whose ``normal(..., size=1)`` returns that
   one draw as a Python float (the same stream: it draws exactly one
   number); :func:`make_glm` installs it as the estimator's ``rng``.

Penalty scaling (see :mod:`sparsefield.rf.lasso_path`): pyglmnet 1.1's proximal
step soft-thresholds by ``reg_lambda * alpha`` rather than
``learning_rate * reg_lambda * alpha`` (upstream issue #383), so its
solution is the lasso at ``lam = reg_lambda / learning_rate``.
:func:`fit_pyglmnet` therefore passes ``reg_lambda = lam * learning_rate``
with ``alpha = 1`` (pure L1).  Two differences remain by construction:

- ``distr="poisson"`` uses ``exp(eta)`` only for ``eta <= 2`` (its ``eta``
  parameter) and the tangent line ``exp(2) * (eta - 1)`` above, so fits
  agree with the pure-exp lasso only where (almost) no row has a linear
  predictor above 2, i.e. at low rates per row;
- it has no offset: the exposure is taken as the mean duration, folded
  into the intercept (``intercept = beta0 - log(mean(durations))``), so the
  variation of frame durations is ignored.
"""

import contextlib
import math
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield.errors import FitError, InputError

#: The pyglmnet release this shim was written for.
SUPPORTED_VERSION = "1.1"

_ALIASES = {"float": float, "int": int}


_ALIASES_LOCK = threading.Lock()
_ALIASES_USERS = 0
_ALIASES_ADDED: tuple[str, ...] = ()


@contextlib.contextmanager
def numpy_aliases() -> Iterator[tuple[str, ...]]:
    """Temporarily define the removed aliases ``np.float`` and ``np.int``.

    Only names that are missing are added, and exactly those are removed when
    the last user leaves (also on error), so numpy is left as it was found.
    Thread-safe: nested or concurrent uses share one reference count, so one
    thread leaving cannot remove the aliases while another is inside.

    Yields
    ------
    added : tuple of str
        The names that this shim has added (and will remove).
    """
    global _ALIASES_USERS, _ALIASES_ADDED
    with _ALIASES_LOCK:
        if _ALIASES_USERS == 0:
            added = []
            for name, value in _ALIASES.items():
                if name not in np.__dict__:
                    try:
                        getattr(np, name)
                    except AttributeError:
                        setattr(np, name, value)
                        added.append(name)
            _ALIASES_ADDED = tuple(added)
        _ALIASES_USERS += 1
    try:
        yield _ALIASES_ADDED
    finally:
        with _ALIASES_LOCK:
            _ALIASES_USERS -= 1
            if _ALIASES_USERS == 0:
                for name in _ALIASES_ADDED:
                    if name in np.__dict__:
                        delattr(np, name)
                _ALIASES_ADDED = ()


class ScalarNormalRandomState(np.random.RandomState):
    """``RandomState`` whose ``normal(loc, scale, size=1)`` returns a float.

    Same stream as ``numpy.random.RandomState(seed)``: one draw is taken
    either way.
    """

    # (numpy's stubs overload normal() by argument types; this one returns a float for
    # size 1 or (1,), which is the point of the class)
    def normal(self, loc: float = 0.0, scale: float = 1.0,  # type: ignore[override]
               size: int | tuple[int, ...] | None = None) -> Any:
        """Normal draws; a Python float when ``size`` is 1 or ``(1,)``.

        Parameters
        ----------
        loc, scale : float
        size : int or tuple of int, optional

        Returns
        -------
        draws : float or ndarray
        """
        if size == 1 or size == (1,):
            return float(super().normal(loc, scale, 1)[0])
        return super().normal(loc, scale, size)


def _import_pyglmnet() -> Any:
    with warnings.catch_warnings():
        # pyglmnet 1.1 imports distutils (deprecated).
        warnings.simplefilter("ignore", DeprecationWarning)
        import pyglmnet
    return pyglmnet


def make_glm(**params: Any) -> Any:
    """A ``pyglmnet.GLM`` that can fit on numpy 2.x.

    Parameters
    ----------
    **params
        Passed to ``pyglmnet.GLM``.

    Returns
    -------
    glm : pyglmnet.GLM
        With ``rng`` replaced by a :class:`ScalarNormalRandomState` seeded
        with ``params.get("random_state", 0)``.  Call its ``fit`` inside
        :func:`numpy_aliases`.
    """
    pyglmnet = _import_pyglmnet()
    glm = pyglmnet.GLM(**params)
    glm.rng = ScalarNormalRandomState(params.get("random_state", 0))
    return glm


def reg_lambda_for(lam: float, learning_rate: float = 0.2) -> float:
    """The ``reg_lambda`` of pyglmnet 1.1 that solves the lasso at our ``lam``.

    Parameters
    ----------
    lam : float
        Penalty of :mod:`sparsefield.rf.lasso_path`'s objective.
    learning_rate : float
        pyglmnet's ``learning_rate``.

    Returns
    -------
    reg_lambda : float
        ``lam * learning_rate``.
    """
    return lam * learning_rate


def fit_pyglmnet(design: ArrayLike, counts: ArrayLike, durations: NDArray[np.float64],
                 lam: float, *,
                 learning_rate: float = 0.2, max_iter: int = 1000, tol: float = 1e-6,
                 eta: float = 2.0, random_state: int = 0,
                 centre: bool = True) -> tuple[NDArray[np.float64], float, int]:
    """Fit the lasso at ``lam`` with pyglmnet 1.1 (batch gradient, pure L1).

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows,)
    durations : ndarray of shape (n_rows,)
        Only their mean is used (pyglmnet has no offset).
    lam : float
        Penalty of :mod:`sparsefield.rf.lasso_path`'s objective.
    learning_rate : float
        pyglmnet's fixed gradient step.
    max_iter : int
    tol : float
        pyglmnet's stopping rule: relative change of the parameters.
    eta : float
        pyglmnet's linearisation threshold of the Poisson link.
    random_state : int
        Seed of pyglmnet's random initialisation.
    centre : bool
        Fit on the column-centred design (the lasso weights do not change;
        the intercept is converted back).  pyglmnet's fixed step diverges on
        uncentred non-negative stimuli at a few counts per row; centring
        removes the large mean eigenvalue that causes it.

    Returns
    -------
    weights : ndarray of shape (n_pixels,)
    intercept : float
        For the design as given and the model ``durations * exp(...)``.
    n_iter : int

    Raises
    ------
    InputError
        When the installed pyglmnet is not version 1.1.
    FitError
        When pyglmnet returns non-finite coefficients.
    """
    pyglmnet = _import_pyglmnet()
    if pyglmnet.__version__ != SUPPORTED_VERSION:
        raise InputError(
            "pyglmnet",
            f"the compatibility shim is for pyglmnet {SUPPORTED_VERSION}, "
            f"found {pyglmnet.__version__}",
        )
    design = np.asarray(design, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.float64)
    centre_values = design.mean(axis=0) if centre else np.zeros(design.shape[1])
    glm = make_glm(distr="poisson", alpha=1.0, reg_lambda=reg_lambda_for(lam, learning_rate),
                   learning_rate=learning_rate, max_iter=max_iter, tol=tol, eta=eta,
                   random_state=random_state, solver="batch-gradient", fit_intercept=True)
    with numpy_aliases(), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        glm.fit(np.ascontiguousarray(design - centre_values), counts)
    weights = np.asarray(glm.beta_, dtype=np.float64)
    beta0 = float(glm.beta0_)
    if not (np.all(np.isfinite(weights)) and math.isfinite(beta0)):
        raise FitError(
            f"pyglmnet diverged at lam={lam:.4g} (learning_rate={learning_rate}); "
            "lower learning_rate"
        )
    intercept = beta0 - math.log(float(np.mean(durations))) - float(centre_values @ weights)
    return weights, intercept, int(glm.n_iter_)
