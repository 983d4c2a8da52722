r"""Batched sparse inference: lasso codes of many signals under one dictionary.

Problem
-------
For each row ``y`` of ``signals`` (n_signals, n_samples) and a dictionary
``Θ`` of shape (n_samples, n_atoms) (one atom per column), the codes ``b``
of shape (n_atoms,) minimise

.. math::

    P(b) = \tfrac12 \lVert y - \Theta b \rVert^2 + \tau \lVert b \rVert_1 .

The signals are independent.  :func:`encode` computes, once per call and
with BLAS, the Gram matrix ``G = Θᵀ Θ`` (n_atoms, n_atoms) and the
correlations ``C = Y Θ`` (n_signals, n_atoms); the iterations then work
with ``G`` and one row of ``C`` per signal (gradient ``G b - c``) in numba
kernels (:mod:`sparsefield.sparse._inference_kernels`) that run the
signals in parallel (``numba.prange``; set the thread count with
``NUMBA_NUM_THREADS``, and the BLAS threads of the two products with
``OMP_NUM_THREADS``/threadpoolctl).  Everything is float64.

Same objective elsewhere: ``sklearn.linear_model.Lasso(alpha=tau / n_samples,
fit_intercept=False)`` fitted on ``(Θ, y)`` (scikit-learn minimises
``1/(2 n_samples) ‖y - Xw‖² + alpha ‖w‖₁``, i.e. ``P / n_samples``).

Methods
-------
``"ista"``, ``"fista"``
    Proximal gradient with step ``1/L``, ``L = λ_max(G)`` (= ``‖Θ‖₂²``, the
    Lipschitz constant of the gradient), computed exactly once per call
    with LAPACK (``scipy.linalg.eigvalsh``, largest eigenvalue only).
    FISTA is Beck & Teboulle's (2009) momentum with the adaptive gradient
    restart of O'Donoghue & Candès (2015): whenever the step and the
    generalised gradient make an acute angle the momentum is reset, which
    removes FISTA's oscillations and restores linear convergence on the
    strongly convex pieces the lasso's active set produces (``restart=False``
    gives the plain method).  Each iteration costs one product of ``G``
    with the current sparse codes, ``n_atoms * nnz`` operations.
``"admm"``
    Scaled-form ADMM (Boyd et al. 2011, section 6.4) on the split ``b = z``,
    over-relaxed (section 3.4.3, ``alpha =`` :data:`ADMM_RELAXATION`), with
    ``rho`` adapted by residual balancing (section 3.4.1, on the residuals
    relative to their tolerances as in Wohlberg 2017; ``rho`` doubled or
    halved when one exceeds 10 times the other, at most 16 times per call;
    ``adaptive_rho=False`` keeps it fixed).  The signals run in lock step
    so that the ``x``-update of all those still running is one BLAS product
    with ``(G + rho I)⁻¹``; that inverse comes from a Cholesky factorisation
    (LAPACK ``potrf``/``potri``) made once per dictionary and ``rho`` and kept
    for the next calls (the last 4 pairs; a call with an equal dictionary,
    e.g. the next chunk of signals, does not factor again).  Each
    iteration costs ``n_atoms²`` per signal, against ``n_atoms * nnz`` for
    FISTA, and ADMM needs fewer of them.  The codes returned are the
    **sparse** variable ``z`` (exact zeros); returning the least-squares
    iterate ``x``, as the original compressed-dictionary-learning code did,
    gives dense codes that solve neither problem.  Default ``rho =
    trace(G) / n_atoms``, the mean eigenvalue of ``G`` (1 for unit-norm
    atoms; :func:`default_rho`).  On the workflow's problem (the default
    config's patches and dictionaries, batches of 100, ``tau = 0.1``, ``tol
    = 1e-3``; ``bench/admm.py``) ADMM took 11 to 19 iterations on average
    per signal against 31 to 54 for FISTA (without over-relaxation 1.7 times
    as many), and 0.9 to 1.1 times FISTA's time per batch.  An
    eigendecomposition of ``G`` would give ``(G + rho I)⁻¹`` for every
    ``rho`` with one matrix product each, but costs about 5 Cholesky
    inverses (measured at 256 atoms), and ``rho`` rarely moves from the
    default there (in one batch in eight, or never without compression),
    so it is not used.
``"cd"``
    Cyclic coordinate descent on ``G`` with exact one-dimensional updates and
    an active set (:func:`sparsefield.sparse._inference_kernels.coordinate_descent`):
    a full sweep over the atoms, then sweeps over the non-zero codes only.
    The residual correlation ``c - G b`` is kept up to date, one row of ``G``
    per changed code, so with sparse codes a sweep costs little more than
    ``n_atoms`` comparisons.  ``max_iter`` counts full sweeps.  The fastest
    method here for sparse codes; it is what dictionary learning uses by
    default.

Stopping rules (``tol``)
------------------------
Every method stops a signal when the **duality gap is at most ``tol`` times
the objective** (see :func:`_inference_kernels.solved
<sparsefield.sparse._inference_kernels.solved>`): the gap bounds
``P(b) - P*`` from above, so the returned codes are certified to have a
relative objective error of at most ``tol / (1 - tol)``
(:attr:`EncodeInfo.gap` reports it).  Computing it costs ``O(n_atoms)``
per iteration from quantities the iteration already has (ADMM: one product
of ``G`` with the sparse ``z``).  The bound is conservative: measured errors
were 4 to 100 times below ``tol`` (random and coherent 256 x 256
dictionaries, ``tau = 0.1`` and ``0.02``), so ``tol = 1e-4`` guarantees, and
``1e-3`` usually gives, a relative error below 1e-4.  A rule on the change
of the codes (the original code's relative change < 1e-3) bounds nothing: a
slow iteration makes small changes far from the solution.  For ``tau = 0``
the gap is uninformative (the feasible dual point is 0) and the rule is
stationarity, ``max|G b - c| <= tol * max|c|``.

ADMM also stops, as a fallback, on Boyd et al.'s primal and dual residuals
with ``eps_rel = tol / 100`` and absolute terms ``tol / 100`` times ``‖c‖ /
λ`` (primal, code units; ``λ`` Gershgorin's bound on ``λ_max(G)``) and
``‖c‖`` (dual, gradient units); see
:func:`sparsefield.sparse._admm_kernels.admm_step`.  That rule is not a
certificate; it is there for iterates that rounding keeps from certifying.
On 300 signals of the workflow's problem (three learned dictionaries, ``tol``
1e-3 and 1e-6) the gap always fired first.

A signal that does not meet its rule within ``max_iter`` iterations keeps
its last iterate; ``return_info=True`` reports which.

Starting point
--------------
Zero codes by default (the original started FISTA at ``Θᵀ y``).  Zero is
the solution whenever ``tau >= max|Θᵀ y|``, it is as sparse as a start can
be (the first product with ``G`` is free) and ``P(0) = ½‖y‖²`` is a known
upper bound; ``Θᵀ y`` is dense, not scaled like a code (it is off by the
atoms' squared norms and their overlaps) and can have a larger objective
than 0.  Give ``warm_start`` (for example the previous codes of the same
signals in dictionary learning) to start elsewhere: a start that already
meets the rule returns after 0 iterations (ADMM: its dual starts at
``clip(Θᵀy - G z, -tau, tau) / rho``, so a start at the solution stays
there).
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, overload

import numpy as np
import scipy.linalg
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float, as_float_array, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import InputError
from sparsefield.sparse import _admm, _inference_kernels

# ----------------------------------------------------------------------------
# Validation


def _check_problem(signals: ArrayLike,
                   dictionary: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Finite 2-D float64 ``signals`` (n, M) and ``dictionary`` (M, K) that match."""
    signals = as_float_array(signals, "signals", 2)
    dictionary = as_float_array(dictionary, "dictionary", 2, allow_empty=False)
    if dictionary.shape[0] != signals.shape[1]:
        raise InputError(
            "dictionary",
            f"has {dictionary.shape[0]} rows but the signals have {signals.shape[1]} samples "
            f"(signals {signals.shape}, dictionary {dictionary.shape}); expected signals of "
            "shape (n_signals, n_samples) and a dictionary of shape (n_samples, n_atoms)",
        )
    if not np.any(dictionary):
        raise InputError("dictionary", "is all zeros")
    return signals, dictionary


def _check_codes(codes: ArrayLike, name: str, shape: tuple[int, int]) -> NDArray[np.float64]:
    """Finite float64 C-contiguous codes of the given shape (may be ``codes`` itself)."""
    codes = as_float_array(codes, name, 2)
    if codes.shape != shape:
        raise InputError(name, f"expected shape {shape} (n_signals, n_atoms), got {codes.shape}")
    return codes


# ----------------------------------------------------------------------------
# Objective


def lasso_objective(signals: ArrayLike, dictionary: ArrayLike, codes: ArrayLike,
                    tau: float) -> NDArray[np.float64]:
    """Lasso objective of each signal.

    Parameters
    ----------
    signals : array_like of shape (n_signals, n_samples)
    dictionary : array_like of shape (n_samples, n_atoms)
    codes : array_like of shape (n_signals, n_atoms)
    tau : float
        L1 weight, ``>= 0``.

    Returns
    -------
    objective : ndarray of shape (n_signals,)
        ``½ ‖y_i - Θ b_i‖² + tau ‖b_i‖₁``.

    Raises
    ------
    InputError
        Non-finite or mis-shaped arrays, or ``tau < 0``.
    """
    signals, dictionary = _check_problem(signals, dictionary)
    codes = _check_codes(codes, "codes", (signals.shape[0], dictionary.shape[1]))
    tau = as_float(tau, "tau", minimum=0.0)
    residual = signals - codes @ dictionary.T
    return 0.5 * np.einsum("ij,ij->i", residual, residual) + tau * np.abs(codes).sum(axis=1)


# ----------------------------------------------------------------------------
# Methods


@dataclass(frozen=True)
class _Batch:
    """What every method needs, computed once per call.

    Attributes
    ----------
    gram : ndarray of shape (n_atoms, n_atoms)
        ``Θᵀ Θ``, symmetrised.
    correlations : ndarray of shape (n_signals, n_atoms)
        ``Y Θ``.
    sq_norms : ndarray of shape (n_signals,)
        ``‖y_i‖²``.
    tau : float
    """

    gram: np.ndarray
    correlations: np.ndarray
    sq_norms: np.ndarray
    tau: float

    @classmethod
    def of(cls, signals: NDArray[np.float64], dictionary: NDArray[np.float64],
           tau: float) -> "_Batch":
        """The Gram matrix (BLAS, symmetrised), correlations and norms of checked inputs."""
        gram = dictionary.T @ dictionary
        return cls(gram=np.ascontiguousarray(0.5 * (gram + gram.T)),
                   correlations=np.ascontiguousarray(signals @ dictionary),
                   sq_norms=np.einsum("ij,ij->i", signals, signals), tau=tau)

    def report(self, codes: NDArray[np.float64], n_iter: NDArray[np.int64],
               converged: NDArray[np.bool_]) -> "EncodeInfo":
        """:class:`EncodeInfo` of the returned ``codes`` (objectives and gaps)."""
        objective, gap = np.empty(codes.shape[0]), np.empty(codes.shape[0])
        _inference_kernels.objectives(self.gram, self.correlations, self.sq_norms, self.tau,
                                      codes, objective)
        _inference_kernels.gaps(self.gram, self.correlations, self.sq_norms, self.tau, codes, gap)
        return EncodeInfo(n_iter=n_iter, converged=converged, objective=objective, gap=gap)

    def largest_eigenvalue(self) -> float:
        """``λ_max(G) = ‖Θ‖₂²``, exact (LAPACK, largest eigenvalue only)."""
        n_atoms = self.gram.shape[0]
        return float(scipy.linalg.eigvalsh(self.gram, subset_by_index=[n_atoms - 1,
                                                                       n_atoms - 1])[0])


def _run_proximal_gradient(batch: _Batch, codes: NDArray[np.float64], tol: float, max_iter: int, *,
                           momentum: bool, step: float | None = None,
                           restart: bool = True) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """ISTA or FISTA through :func:`_inference_kernels.proximal_gradient`; step ``1 / λ_max``."""
    if step is None:
        step = 1.0 / batch.largest_eigenvalue()
    n_signals = codes.shape[0]
    n_iter = np.zeros(n_signals, dtype=np.int64)
    converged = np.zeros(n_signals, dtype=bool)
    _inference_kernels.proximal_gradient(
        batch.gram, batch.correlations, batch.sq_norms, batch.tau, step, momentum,
        bool(restart), tol, max_iter, codes, n_iter, converged)
    return n_iter, converged


def _run_ista(batch: _Batch, codes: NDArray[np.float64], tol: float, max_iter: int, *,
              step: float | None = None) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """ISTA; ``step`` defaults to ``1 / λ_max(G)`` (converges for ``step < 2 / λ_max``)."""
    return _run_proximal_gradient(batch, codes, tol, max_iter, momentum=False, step=step)


def _run_fista(batch: _Batch, codes: NDArray[np.float64], tol: float, max_iter: int, *,
               step: float | None = None,
               restart: bool = True) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """FISTA with optional gradient restart; ``step`` at most ``1 / λ_max(G)``."""
    return _run_proximal_gradient(batch, codes, tol, max_iter, momentum=True, step=step,
                                  restart=restart)


def _run_cd(batch: _Batch, codes: NDArray[np.float64], tol: float,
            max_iter: int) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """Coordinate descent through :func:`_inference_kernels.coordinate_descent`."""
    n_signals = codes.shape[0]
    n_iter = np.zeros(n_signals, dtype=np.int64)
    converged = np.zeros(n_signals, dtype=bool)
    _inference_kernels.coordinate_descent(batch.gram, batch.correlations, batch.sq_norms,
                                          batch.tau, tol, max_iter, codes, n_iter, converged)
    return n_iter, converged


def default_rho(gram: NDArray[np.float64]) -> float:
    """ADMM penalty: the mean eigenvalue of a Gram matrix.

    Parameters
    ----------
    gram : ndarray of shape (n_atoms, n_atoms)
        ``Θᵀ Θ``.

    Returns
    -------
    rho : float
        ``trace(gram) / n_atoms``, the mean squared norm of the atoms (1
        for unit-norm atoms).
    """
    return float(np.trace(gram)) / gram.shape[0]


#: ADMM's over-relaxation ``alpha`` (Boyd et al. 2011, section 3.4.3, suggest 1.5 to 1.8).
ADMM_RELAXATION = _admm.RELAXATION


def _run_admm(batch: _Batch, codes: NDArray[np.float64], tol: float, max_iter: int, *,
              rho: float | None = None, relaxation: float | None = None,
              adaptive_rho: bool | None = None) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    """ADMM through :func:`sparsefield.sparse._admm.run_admm`; ``rho`` defaults to
    :func:`default_rho`, ``relaxation`` to :data:`ADMM_RELAXATION`, ``adaptive_rho``
    to True.
    """
    return _admm.run_admm(batch.gram, batch.correlations, batch.sq_norms, batch.tau, codes,
                          tol, max_iter, rho=default_rho(batch.gram) if rho is None else rho,
                          relaxation=ADMM_RELAXATION if relaxation is None else relaxation,
                          adaptive=True if adaptive_rho is None else adaptive_rho)


@dataclass(frozen=True)
class _Method:
    """One entry of the method table: its runner and the options it accepts.

    ``run(batch, codes, tol, max_iter, **options)`` updates ``codes``
    (n_signals, n_atoms) in place from the start they hold and returns
    ``(n_iter, converged)``, both of shape (n_signals,).
    """

    run: Callable
    options: tuple


#: Encoders by name.
_METHODS = {
    "cd": _Method(_run_cd, ()),
    "ista": _Method(_run_ista, ("step",)),
    "fista": _Method(_run_fista, ("step", "restart")),
    "admm": _Method(_run_admm, ("rho", "relaxation", "adaptive_rho")),
}

#: Names accepted by :func:`encode`'s ``method``.
METHODS = tuple(_METHODS)


# ----------------------------------------------------------------------------
# Public API


@dataclass(frozen=True)
class EncodeInfo(NpzMixin):
    """Per-signal convergence report of :func:`encode`.

    Attributes
    ----------
    n_iter : ndarray of shape (n_signals,), int64
        Iterations run (0: the start already met the stopping rule).
    converged : ndarray of shape (n_signals,), bool
        False where ``max_iter`` ran out first (the codes are the last
        iterate).
    objective : ndarray of shape (n_signals,)
        ``½ ‖y_i - Θ b_i‖² + tau ‖b_i‖₁`` at the returned codes (from ``G``
        and ``c``, visiting only the non-zero codes).
    gap : ndarray of shape (n_signals,)
        Duality gap at the returned codes, an upper bound on ``objective``
        minus the optimum (see :func:`encode`'s stopping rules; for ``tau =
        0`` it is the whole objective and bounds nothing useful).
    """

    n_iter: np.ndarray
    converged: np.ndarray
    objective: np.ndarray
    gap: np.ndarray


def _method_options(entry: _Method, method: str, **given: float | bool | None
                    ) -> dict[str, float | bool]:
    """The options given (not None) as the method's runner takes them, checked."""
    options: dict[str, float | bool] = {}
    for name, value in given.items():
        if value is None:
            continue
        if name not in entry.options:
            raise InputError(name, f"is not an option of method={method!r} "
                                   f"(it takes {', '.join(entry.options) or 'none'})")
        if name in ("restart", "adaptive_rho"):
            if not isinstance(value, (bool, np.bool_)):
                raise InputError(name, f"must be True or False, got {value!r}")
            options[name] = bool(value)
        elif name == "relaxation":
            options[name] = as_float(value, name, minimum=0.0, strict=True, maximum=2.0)
            if options[name] == 2.0:
                raise InputError(name, "must be below 2 (ADMM diverges at 2)")
        else:
            options[name] = as_float(value, name, minimum=0.0, strict=True)
    return options


@overload
def encode(signals: ArrayLike, dictionary: ArrayLike, tau: float, *, method: str = ...,
           max_iter: int = ..., tol: float = ..., warm_start: ArrayLike | None = ...,
           step: float | None = ..., rho: float | None = ..., restart: bool | None = ...,
           relaxation: float | None = ..., adaptive_rho: bool | None = ...,
           return_info: Literal[False] = ...) -> NDArray[np.float64]: ...


@overload
def encode(signals: ArrayLike, dictionary: ArrayLike, tau: float, *, method: str = ...,
           max_iter: int = ..., tol: float = ..., warm_start: ArrayLike | None = ...,
           step: float | None = ..., rho: float | None = ..., restart: bool | None = ...,
           relaxation: float | None = ..., adaptive_rho: bool | None = ...,
           return_info: Literal[True]) -> tuple[NDArray[np.float64], EncodeInfo]: ...


def encode(
    signals: ArrayLike,
    dictionary: ArrayLike,
    tau: float,
    *,
    method: str = "fista",
    max_iter: int = 500,
    tol: float = 1e-6,
    warm_start: ArrayLike | None = None,
    step: float | None = None,
    rho: float | None = None,
    restart: bool | None = None,
    relaxation: float | None = None,
    adaptive_rho: bool | None = None,
    return_info: bool = False,
) -> NDArray[np.float64] | tuple[NDArray[np.float64], EncodeInfo]:
    """Lasso codes of many signals under one dictionary.

    Minimises ``½ ‖y_i - Θ b_i‖² + tau ‖b_i‖₁`` for each signal separately;
    see the module docstring for the methods, their defaults and the
    stopping rules.

    Parameters
    ----------
    signals : array_like of shape (n_signals, n_samples)
        One signal per row (``n_signals`` may be 0).
    dictionary : array_like of shape (n_samples, n_atoms)
        One atom per column.
    tau : float
        L1 weight, ``>= 0``.
    method : {"cd", "ista", "fista", "admm"}, default "fista"
    max_iter : int, default 500
        Iterations allowed per signal.
    tol : float, default 1e-6
        Largest duality gap relative to the objective (a certified bound on
        the relative objective error); ``tau = 0``: gradient relative to
        ``max|Θᵀ y|``.  ADMM also stops on its residual rule at ``eps_rel =
        tol / 100`` (a fallback).  ``0`` runs ``max_iter`` iterations.
    warm_start : array_like of shape (n_signals, n_atoms), optional
        Starting codes (ADMM: starting ``z``).  Default: zeros.  Not
        modified.
    step : float, optional
        ISTA/FISTA only: step size, default ``1 / λ_max(Θᵀ Θ)``.  FISTA
        needs ``step <= 1 / λ_max``, ISTA ``step < 2 / λ_max``.
    rho : float, optional
        ADMM only: (starting) penalty ``> 0``, default the mean eigenvalue
        of ``Θᵀ Θ`` (:func:`default_rho`).
    restart : bool, optional
        FISTA only: adaptive gradient restart, default True.
    relaxation : float, optional
        ADMM only: over-relaxation ``alpha`` in ``(0, 2)``, default
        :data:`ADMM_RELAXATION` (1 is plain ADMM).
    adaptive_rho : bool, optional
        ADMM only: residual balancing of ``rho``, default True; False keeps
        ``rho`` fixed.
    return_info : bool, default False
        Also return an :class:`EncodeInfo`.

    Returns
    -------
    codes : ndarray of shape (n_signals, n_atoms)
    info : EncodeInfo
        Only with ``return_info=True``.

    Raises
    ------
    InputError
        Non-finite or mis-shaped ``signals``, ``dictionary`` or
        ``warm_start``; ``tau < 0``; an unknown ``method``; an option the
        method does not take; out-of-range ``max_iter``, ``tol``, ``step``,
        ``rho`` or ``relaxation``; a ``rho`` so small that ``Θᵀ Θ + rho I``
        is singular in floating point.  The message names the parameter.
    """
    signals, dictionary = _check_problem(signals, dictionary)
    tau = as_float(tau, "tau", minimum=0.0)
    if not isinstance(method, str) or method not in _METHODS:
        raise InputError("method", f"must be one of {METHODS}, got {method!r}")
    entry = _METHODS[method]
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    tol = as_float(tol, "tol", minimum=0.0)
    options = _method_options(entry, method, step=step, rho=rho, restart=restart,
                              relaxation=relaxation, adaptive_rho=adaptive_rho)
    shape = (signals.shape[0], dictionary.shape[1])
    if warm_start is None:
        codes = np.zeros(shape)
    else:
        # A copy: the kernels write the result into it.
        codes = _check_codes(warm_start, "warm_start", shape).copy()
    batch = _Batch.of(signals, dictionary, tau)
    if shape[0] == 0:
        n_iter, converged = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=bool)
    else:
        n_iter, converged = entry.run(batch, codes, tol, max_iter, **options)
    if return_info:
        return codes, batch.report(codes, n_iter, converged)
    return codes
