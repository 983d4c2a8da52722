"""Lasso paths of many neurons that share one design, fitted together.

The objective, its KKT conditions and the penalty grids are those of
:mod:`sparsefield.rf.lasso_path`; the kernels are in
:mod:`sparsefield.rf._lasso_population_kernels`.

:func:`lasso_path_population` (many neurons, one design) cannot afford one
Hessian per neuron, so it uses a proximal quasi-Newton method whose metric
is shared: the design's covariance ``Xc' Xc / n`` (computed once) scaled per
neuron by its mean expected count, with the exact intercept row of the
Hessian.  Each iteration is two BLAS matrix-matrix products with the shared
design (gradients of all neurons, ``R @ Xc``; linear-predictor steps,
``D @ Xc.T``), a per-neuron coordinate descent on the small ``n_pixels x
n_pixels`` model (numba, parallel over neurons) and a per-neuron line search.
The metric is exact when the rate does not depend on the stimulus and close
for white-noise stimuli (3 to 10 iterations per penalty); both solvers stop
on the same KKT criterion, so they return the same solution to within the
tolerance.  A neuron that has not converged after ``max_quasi_newton``
iterations at a penalty (possible with fewer rows than pixels, where the
shared metric is a poor model of its Hessian) is finished by the exact
Newton solver of :func:`~sparsefield.rf.lasso_path.lasso_path`.  Products are
float64: the KKT tolerance of 1e-7 * lambda_max is below float32's rounding of the
gradient.
"""

from dataclasses import dataclass
from types import SimpleNamespace
from typing import TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import FitError, InputError
from sparsefield.rf import _lasso_kernels, _lasso_population_kernels
from sparsefield.rf.lasso_path import (
    DEFAULT_LAMBDA_MIN_RATIO,
    MAX_SWEEPS,
    check_lambdas,
    lambda_grid,
    lasso_data,
)

Floats: TypeAlias = NDArray[np.float64]
Ints: TypeAlias = NDArray[np.int64]
Bools: TypeAlias = NDArray[np.bool_]


@dataclass(frozen=True)
class PopulationLassoPath(NpzMixin):
    """Lasso paths of many neurons that share one design.

    Attributes
    ----------
    lambdas : ndarray of shape (n_neurons, n_lambdas)
        Each neuron's penalties, decreasing.
    weights : ndarray of shape (n_neurons, n_lambdas, n_pixels)
    intercepts : ndarray of shape (n_neurons, n_lambdas)
    n_iter : ndarray of shape (n_neurons, n_lambdas), int64
        Outer iterations per penalty (shared-metric quasi-Newton steps plus
        any exact Newton steps of the hand-over).
    converged : ndarray of shape (n_neurons, n_lambdas), bool
    kkt_violation : ndarray of shape (n_neurons, n_lambdas)
    lambda_max : ndarray of shape (n_neurons,)
    tol : float
        Convergence: ``kkt_violation <= tol * max(lambda_max, lambdas[:, 0])``.
    """

    lambdas: np.ndarray
    weights: np.ndarray
    intercepts: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    kkt_violation: np.ndarray
    lambda_max: np.ndarray
    tol: float


def _population_lambdas(lambdas: ArrayLike | None, lambda_max_values: Floats, n_lambdas: int,
                        lambda_min_ratio: float) -> Floats:
    """Per-neuron decreasing grids, shape (n_neurons, n_lambdas)."""
    n_neurons = lambda_max_values.shape[0]
    if lambdas is None:
        return np.stack([lambda_grid(value, n_lambdas, lambda_min_ratio)
                         for value in lambda_max_values])
    lambdas = np.asarray(lambdas, dtype=np.float64)
    if lambdas.ndim == 1:
        return np.tile(check_lambdas(lambdas), (n_neurons, 1))
    if lambdas.ndim != 2 or lambdas.shape[0] != n_neurons:
        raise InputError(
            "lambdas",
            f"expected shape (n_lambdas,) or ({n_neurons}, n_lambdas), got {lambdas.shape}",
        )
    return np.stack([check_lambdas(row, f"lambdas row {index}")
                     for index, row in enumerate(lambdas)])


def lasso_path_population(design: ArrayLike, counts: ArrayLike, durations: ArrayLike, *,
                          n_lambdas: int = 10,
                          lambda_min_ratio: float = DEFAULT_LAMBDA_MIN_RATIO,
                          lambdas: ArrayLike | None = None, tol: float = 1e-7,
                          max_iter: int = 100, max_quasi_newton: int = 30,
                          check_input: bool = True) -> PopulationLassoPath:
    """Lasso paths of many neurons sharing one design, fitted together.

    The inner loops are matrix-matrix products with the shared design (see the
    module docstring); each neuron keeps its own penalties, working set, line
    search and convergence test, and neurons that have converged at a penalty
    drop out of the products.  The result equals
    :func:`~sparsefield.rf.lasso_path.lasso_path` per neuron to within the KKT
    tolerance.

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows, n_neurons)
        Every neuron needs at least one spike.
    durations : ndarray of shape (n_rows,)
    n_lambdas, lambda_min_ratio
        Default grids, per neuron from its own ``lambda_max``.
    lambdas : array_like of shape (n_lambdas,) or (n_neurons, n_lambdas), optional
        Explicit penalties, shared or per neuron.
    tol : float
        As in :func:`~sparsefield.rf.lasso_path.lasso_path` (per neuron, with its
        own ``lambda_max``).
    max_iter : int
        Exact Newton steps allowed per penalty for a neuron handed over
        after ``max_quasi_newton`` shared-metric iterations (this happens
        when the shared metric is a poor model of the neuron's Hessian,
        e.g. with fewer rows than pixels; such neurons are finished one at
        a time with :func:`~sparsefield.rf.lasso_path.lasso_path`'s solver).
    max_quasi_newton : int
        Shared-metric iterations per penalty before that hand-over.
    check_input : bool, default True
        False: the data are already checked
        (:mod:`sparsefield.rf.lasso_path`, "Checked once").

    Returns
    -------
    PopulationLassoPath

    Raises
    ------
    InputError
        Bad data or options.
    FitError
        Some neuron did not converge at some penalty.
    """
    design, counts, durations = lasso_data(design, counts, durations, check_input,
                                           counts_ndim=2)
    tol = as_float(tol, "tol", minimum=0.0, strict=True)
    max_iter = as_int(max_iter, "max_iter", minimum=1)
    max_quasi_newton = as_int(max_quasi_newton, "max_quasi_newton", minimum=1)
    population = _Population(design, counts, durations, max_iter, max_quasi_newton)
    # lambda_max from the gradient at the start (zero weights, best intercepts).
    gradient_last = population.residual @ population.centred / population.n_rows
    lambda_max_values = np.abs(gradient_last).max(axis=1)
    grids = _population_lambdas(lambdas, lambda_max_values, n_lambdas, lambda_min_ratio)
    scale_tol = tol * np.maximum(lambda_max_values, grids[:, 0])
    out = _empty_outputs(population.n_neurons, grids.shape[1], population.n_pixels)
    previous = np.maximum(lambda_max_values, grids[:, 0])
    for index_lambda in range(grids.shape[1]):
        lam_all = grids[:, index_lambda]
        n_iter = population.fit_penalty(lam_all, previous, gradient_last, scale_tol, out,
                                        index_lambda)
        out.weights[:, index_lambda] = population.weights
        out.intercepts[:, index_lambda] = (population.intercepts
                                           - population.weights @ population.centre)
        out.n_iter[:, index_lambda] = n_iter
        previous = lam_all
    _raise_unconverged(grids, out, tol)
    return PopulationLassoPath(
        lambdas=grids, weights=out.weights, intercepts=out.intercepts, n_iter=out.n_iter,
        converged=out.converged, kkt_violation=out.kkt, lambda_max=lambda_max_values, tol=tol,
    )


def _empty_outputs(n_neurons: int, n_grid: int, n_pixels: int) -> SimpleNamespace:
    """Arrays of the result, filled penalty by penalty."""
    return SimpleNamespace(
        weights=np.zeros((n_neurons, n_grid, n_pixels)),
        intercepts=np.zeros((n_neurons, n_grid)),
        n_iter=np.zeros((n_neurons, n_grid), dtype=np.int64),
        kkt=np.zeros((n_neurons, n_grid)),
        converged=np.zeros((n_neurons, n_grid), dtype=bool),
    )


def _raise_unconverged(grids: Floats, out: SimpleNamespace, tol: float) -> None:
    """FitError naming the (neuron, penalty) pairs that did not converge, if any."""
    bad = ~out.converged
    if np.any(bad):
        neurons, penalties = np.nonzero(bad)
        details = ", ".join(
            f"neuron {n} lam={grids[n, k]:.4g} (KKT {out.kkt[n, k]:.2e})"
            for n, k in zip(neurons[:5], penalties[:5], strict=True))
        raise FitError(
            f"lasso_path_population: {bad.sum()} (neuron, penalty) pairs did not reach the "
            f"KKT tolerance {tol} * lambda_max: {details}; raise max_iter or tol"
        )


class _Population:
    """The solver's state: the shared centred design, each neuron's iterate, buffers.

    Arrays with a leading ``n_neurons`` axis hold one neuron per row; ``todo`` lists
    the neurons still iterating at the current penalty (the kernels' layout).

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels)
    counts : ndarray of shape (n_rows, n_neurons)
    durations : ndarray of shape (n_rows,)
    max_iter, max_quasi_newton : int
        As in :func:`lasso_path_population`.
    """

    def __init__(self, design: Floats, counts: Floats, durations: Floats, max_iter: int,
                 max_quasi_newton: int) -> None:
        self.n_rows, self.n_pixels = design.shape
        self.n_neurons = counts.shape[1]
        self.durations = durations
        self.max_iter, self.max_quasi_newton = max_iter, max_quasi_newton
        self.centre = design.mean(axis=0)
        centred = design - self.centre
        self.usable = _lasso_kernels.varying_columns(design)
        centred[:, ~self.usable] = 0.0
        self.centred = centred
        self.centred_t: Floats | None = None  # made when a neuron is first handed over to Newton
        self.gram = centred.T @ centred / self.n_rows
        self.counts_rows = np.ascontiguousarray(counts.T)
        self.counts_design = self.counts_rows @ centred / self.n_rows
        # Start: zero weights, best intercepts.
        self.intercepts = np.log(self.counts_rows.sum(axis=1) / durations.sum())
        self.weights = np.zeros((self.n_neurons, self.n_pixels))
        self.eta = np.repeat(self.intercepts[:, None], self.n_rows, axis=1)
        self.residual = np.empty_like(self.eta)
        self.objective = np.empty(self.n_neurons)
        self.grad_intercept = np.empty(self.n_neurons)
        self.scale = np.empty(self.n_neurons)
        _lasso_population_kernels.population_start(
            self.eta, self.counts_rows, durations, self.residual, self.objective,
            self.grad_intercept, self.scale)
        self.residual_buffer: Floats | None = None
        self.step_buffer = np.empty((self.n_neurons, self.n_rows))
        self.working = np.zeros((self.n_neurons, self.n_pixels), dtype=bool)

    def fit_penalty(self, lam_all: Floats, previous: Floats, gradient_last: Floats,
                    scale_tol: Floats, out: SimpleNamespace, index_lambda: int) -> Ints:
        """Iterate every neuron to convergence at its penalty ``lam_all[neuron]``.

        Writes ``out.kkt`` and ``out.converged`` at ``index_lambda`` and updates
        ``gradient_last`` (n_neurons, n_pixels), the last gradient of each neuron.

        Returns
        -------
        n_iter : ndarray of shape (n_neurons,), int64
        """
        # Sequential strong rule plus the ever-active set.
        self.working |= self.usable & (
            (self.weights != 0.0)
            | (np.abs(gradient_last) >= (2.0 * lam_all - previous)[:, None]))
        todo = np.arange(self.n_neurons, dtype=np.int64)
        n_iter = np.zeros(self.n_neurons, dtype=np.int64)
        while todo.size:
            scale = self.scale[todo]
            grad_intercept = self.grad_intercept[todo]
            gradient = self.gradients(todo)
            lam = lam_all[todo]
            gradient_last[todo] = gradient
            violation = np.empty(todo.size)
            _lasso_population_kernels.kkt_violation_rows(gradient, grad_intercept,
                                                         self.weights, lam, todo, violation)
            converged = violation <= scale_tol[todo]
            slow = ~converged & (n_iter[todo] >= self.max_quasi_newton)
            if np.any(slow):
                # Rare (p > n, very strong modulation): finish with exact Newton steps.
                self.hand_over(todo, slow, converged, violation, lam_all, previous,
                               scale_tol, n_iter)
            done = converged | slow
            if np.any(done):
                finished = todo[done]
                out.kkt[finished, index_lambda] = violation[done]
                out.converged[finished, index_lambda] = converged[done]
                keep = ~done
                todo = todo[keep]
                if not todo.size:
                    break
                gradient, grad_intercept = gradient[keep], grad_intercept[keep]
                scale, violation, lam = scale[keep], violation[keep], lam[keep]
            self.quasi_newton_step(todo, gradient, grad_intercept, scale, violation, lam,
                                   scale_tol, n_iter)
        return n_iter

    def gradients(self, todo: Ints) -> Floats:
        """Weight gradients of the neurons in ``todo``, shape (n_todo, n_pixels)."""
        n_todo = todo.size
        if n_todo == self.n_neurons:
            residual = self.residual
        else:
            if self.residual_buffer is None:
                self.residual_buffer = np.empty((self.n_neurons, self.n_rows))
            residual = self.residual_buffer[:n_todo]
            _lasso_population_kernels.gather_rows(self.residual, todo, residual)
        gradient = residual @ self.centred
        gradient /= self.n_rows
        return gradient

    def hand_over(self, todo: Ints, slow: Bools, converged: Bools, violation: Floats,
                  lam_all: Floats, previous: Floats, scale_tol: Floats, n_iter: Ints) -> None:
        """Finish the ``slow`` neurons of ``todo`` with exact Newton steps.

        Updates their iterate, ``n_iter`` (n_neurons,) and their entries of
        ``converged`` and ``violation`` (n_todo,).
        """
        if self.centred_t is None:
            self.centred_t = np.ascontiguousarray(self.centred.T)
        for neuron in todo[slow]:
            violation_neuron, steps = _finish_newton(
                self.centred_t, self.counts_rows[neuron], self.durations, lam_all[neuron],
                previous[neuron], self.usable, self.weights, self.intercepts, neuron,
                scale_tol[neuron], self.max_iter)
            n_iter[neuron] += steps
            converged[todo == neuron] = violation_neuron <= scale_tol[neuron]
            violation[todo == neuron] = violation_neuron
            self.eta[neuron] = self.centred @ self.weights[neuron] + self.intercepts[neuron]
            one = slice(neuron, neuron + 1)
            _lasso_population_kernels.population_start(
                self.eta[one], self.counts_rows[one], self.durations, self.residual[one],
                self.objective[one], self.grad_intercept[one], self.scale[one])

    def quasi_newton_step(self, todo: Ints, gradient: Floats, grad_intercept: Floats,
                          scale: Floats, violation: Floats, lam: Floats, scale_tol: Floats,
                          n_iter: Ints) -> None:
        """One shared-metric proximal quasi-Newton step of each neuron in ``todo``.

        Arrays of shape (n_todo, ...) belong to ``todo``; ``n_iter`` (n_neurons,) counts
        the step, and is set to ``max_quasi_newton`` for a neuron whose line search
        failed (no descent along the direction: it is handed over to Newton next).
        """
        n_todo = todo.size
        self.working[todo] |= self.usable & (np.abs(gradient) > lam[:, None])
        coupling = gradient + self.counts_design[todo]
        inner_tol = np.maximum(0.5 * scale_tol[todo], 1e-3 * violation)
        new_weights = np.empty((n_todo, self.n_pixels))
        intercept_step = np.empty(n_todo)
        decrease = np.empty(n_todo)
        _lasso_population_kernels.population_directions(
            self.gram, scale, coupling, gradient, grad_intercept, self.weights, lam,
            self.working, todo, inner_tol, MAX_SWEEPS, new_weights, intercept_step, decrease)
        step_eta = self.step_predictor(new_weights - self.weights[todo])
        accepted = np.empty(n_todo, dtype=bool)
        _lasso_population_kernels.population_line_search(
            self.eta, self.residual, self.counts_rows, self.durations, self.weights,
            self.intercepts, self.objective, self.grad_intercept, self.scale, todo, step_eta,
            new_weights, intercept_step, decrease, lam, accepted)
        n_iter[todo] += 1
        if not np.all(accepted):
            n_iter[todo[~accepted]] = self.max_quasi_newton

    def step_predictor(self, direction: Floats) -> Floats:
        """``direction @ centred.T`` (n_todo, n_rows), over the pixels that moved only."""
        moved = np.flatnonzero(np.any(direction != 0.0, axis=0))
        step_eta = self.step_buffer[:direction.shape[0]]
        if moved.size == self.n_pixels:
            np.matmul(direction, self.centred.T, out=step_eta)
        elif moved.size:
            np.matmul(direction[:, moved], self.centred[:, moved].T, out=step_eta)
        else:
            step_eta[:] = 0.0
        return step_eta


def _finish_newton(centred_t: Floats, counts: Floats, durations: Floats, lam: float,
                   previous: float, usable: Bools, weights: Floats, intercepts: Floats,
                   neuron: int, tol_abs: float, max_newton: int) -> tuple[float, int]:
    """Exact proximal Newton steps for one neuron of a population, in place.

    Updates ``weights[neuron]`` and ``intercepts[neuron]`` (centred design);
    the caller recomputes the neuron's linear predictor.

    Returns
    -------
    violation : float
    n_steps : int
    """
    n_pixels = centred_t.shape[0]
    new_weights = np.zeros((1, n_pixels))
    new_intercept = np.zeros(1)
    n_steps = np.zeros(1, dtype=np.int64)
    violation = np.zeros(1)
    converged = np.zeros(1, dtype=bool)
    _lasso_kernels.path_newton_cd(
        centred_t, counts, durations, np.array([lam]), previous, usable,
        weights[neuron].copy(), float(intercepts[neuron]), tol_abs, max_newton, MAX_SWEEPS,
        new_weights, new_intercept, n_steps, violation, converged)
    weights[neuron] = new_weights[0]
    intercepts[neuron] = new_intercept[0]
    return float(violation[0]), int(n_steps[0])


__all__ = ["PopulationLassoPath", "lasso_path_population"]
