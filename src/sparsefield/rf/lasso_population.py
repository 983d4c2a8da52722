"""Lasso paths of many neurons that share one design, fitted together.

The objective, its KKT conditions and the penalty grids are those of
:mod:`sparsefield.rf.lasso_path`; the kernels are in
:mod:`sparsefield.rf._lasso_population_kernels`.

Algorithm
---------
:func:`lasso_path_population` (many neurons, one design) cannot afford one Hessian per
neuron (one weighted Gram product, ``n_rows * n_pixels**2`` flops, per neuron and
step), so it uses a proximal quasi-Newton method whose metric is shared: the design's
covariance ``Xc' Xc / n`` (computed once), turned per neuron into the covariance under
the rows weighted by its expected counts (each pixel's weighted variance is exact for
two-valued columns such as binary white noise and taken unchanged for others, as for
Gaussian stimuli; the correlations are shared), with the exact intercept row of the
Hessian (see :func:`~sparsefield.rf._lasso_population_kernels.population_directions`).
It is close to the Hessian for white-noise stimuli (3 to 5 steps per penalty, against
3 for exact Newton).  Each step is two products with the shared design (gradients of
all neurons, ``R @ Xc``, BLAS; linear-predictor steps ``D @ Xc.T``, BLAS for
directions that move many pixels and a sparse kernel for those that move few), a
per-neuron coordinate descent on the small ``n_pixels x n_pixels`` model and a
per-neuron line search.

Each neuron walks its own penalties: at its penalty ``k`` it keeps its working set
(the ever-active pixels, the sequential strong rule of Tibshirani et al. 2012 from
the gradient at the previous solution, and every KKT violator found since), and once
its full gradient meets the KKT tolerance it moves on to penalty ``k + 1`` at once,
starting from that gradient (no product).  So every product works on all the neurons
still on their path, not on the few slow ones of a penalty, and the gradient that
confirms one penalty opens the next.  Convergence is the KKT criterion of
:func:`~sparsefield.rf.lasso_path.lasso_path` over every pixel, so both return the same
solution to within the tolerance.  A neuron that has not converged after
``max_quasi_newton`` steps at a penalty, or whose steps stall (:data:`STALL_STEPS`;
few rows per pixel and strong modulation, where the shared metric is a poor model of
its Hessian), is finished by the exact Newton solver of
:func:`~sparsefield.rf.lasso_path.lasso_path`.  Products are float64: the KKT tolerance
of 1e-7 * lambda_max is below float32's rounding of the gradient.  Populations whose
row arrays would pass :data:`MAX_BATCH_BYTES` are fitted in batches of neurons.

Speed: ``bench/rf_lasso.py`` (c), 1000 neurons x 5 lags on 20000 x 300, 10 penalties,
2 threads, on a loaded 2-core machine: 114 s against 155 s for the previous solver
(shared covariance minus a rank-one term, all neurons at one penalty at a time) in the
same conditions; 3.8 steps per penalty.  On one core a lag takes 21 s, 57 % of it in
the two products (64 GFLOP/s) and 23 % in the line searches (memory-bound): the
products alone, 38 steps per path, put the floor of this method near 35 s on two
such cores.  The single-unit path's exact Newton needs about 29 steps per path.
Measured again in one process, the previous solver and this one alternating (2-core
machine shared with other jobs, load 3 to 6, so ratios only): the first 200 of (c)'s
neurons x 5 lags, 2 threads: 114 s against 29 s (3.9x; 3.9 and 3.8 steps per
penalty); 100 neurons x 2 lags, 1 thread: 16.8 s against 7.7 s (2.2x); both within
2.2e-7 relative of the single-unit path.  Strongly modulated units
(:func:`~sparsefield.rf.simulate_session.session_models`, one thread): the default
session at one lag (33 units x 4000 frames) 2.0 s against 23.6 s for the previous
solver and 3.4 s for :func:`~sparsefield.rf.lasso_path.lasso_path` per unit; 37 units x
6000 frames at 60 Hz through :func:`~sparsefield.rf.units_lasso.fit_lasso_units` (lags
0-2, 5 folds) 69 s against 1230 s and 120 s per unit (same penalties chosen, weights
within 3.5e-7).  There, half of the (unit, penalty) pairs are handed over to exact
Newton after :data:`STALL_STEPS` steps, and those Newton steps take three quarters of
the time.

Threads: ``numba.get_num_threads()`` (``NUMBA_NUM_THREADS``) threads share out the
neurons of every kernel and product, with BLAS on one thread inside them.  The same
call gives the same bytes whether the kernels were compiled in the process or loaded
from numba's cache (:mod:`sparsefield.rf._lasso_population_kernels`).  A neuron's
numbers can differ in the last bits with the number of threads and with the other
neurons of the call: BLAS computes a row of a product with another kernel when it
falls in the last, partial block of rows (OpenBLAS's unit here is 24 rows).
"""

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import TypeAlias

from sparsefield._numba import numba

import numpy as np
from numpy.typing import ArrayLike, NDArray
from threadpoolctl import threadpool_limits

from sparsefield._checks import as_float, as_int
from sparsefield._npz import NpzMixin
from sparsefield.errors import FitError, InputError
from sparsefield.rf import _lasso_kernels
from sparsefield.rf import _lasso_population_kernels as kernels
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

#: A direction moving at most this fraction of the pixels gets its linear predictor
#: from the sparse kernel, not BLAS (measured break-even near 1/5 on 20000 x 300).
SPARSE_STEP_FRACTION = 1.0 / 6.0

#: A neuron whose quasi-Newton steps stall is handed over to exact Newton at once:
#: from its ``STALL_STEPS``-th step at a penalty, when a step leaves more than
#: ``STALL_RATIO`` of the KKT violation (the shared metric is then a poor model of its
#: Hessian: few rows per pixel and strong modulation; white noise with many rows
#: per pixel gains 20-fold per step there).
STALL_STEPS, STALL_RATIO = 5, 0.3

#: Bytes of the per-neuron row arrays (linear predictors, residuals, steps, counts:
#: ``32 * n_rows`` per neuron) of one batch of neurons; larger populations are fitted
#: in batches of neurons one after another (1000 neurons x 216,000 rows: 7 batches).
MAX_BATCH_BYTES = 2**30


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


def _checked_lambdas(lambdas: ArrayLike | None, n_neurons: int) -> Floats | None:
    """Explicit penalties as a (n_neurons, n_lambdas) array of decreasing rows, or None."""
    if lambdas is None:
        return None
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
    search and convergence test, and walks its path at its own pace.  The result
    equals :func:`~sparsefield.rf.lasso_path.lasso_path` per neuron to within the
    KKT tolerance.

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
        Shared-metric iterations per penalty before that hand-over (or earlier, when
        the steps stall: :data:`STALL_STEPS`, :data:`STALL_RATIO`).
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
    n_neurons = counts.shape[1]
    explicit = _checked_lambdas(lambdas, n_neurons)
    batch = max(1, MAX_BATCH_BYTES // (32 * design.shape[0]))
    parts = []
    with _workers() as workers:
        shared = _shared_design(design, durations)
        for first in range(0, n_neurons, batch):
            neurons = slice(first, min(first + batch, n_neurons))
            population = _Population(shared, counts[:, neurons], workers)
            # lambda_max from the gradient at the start (zero weights, best intercepts).
            lambda_max_values = np.abs(population.gradient).max(axis=1)
            if explicit is None:
                grids = np.stack([lambda_grid(value, n_lambdas, lambda_min_ratio)
                                  for value in lambda_max_values])
            else:
                grids = explicit[neurons]
            scale = np.maximum(lambda_max_values, grids[:, 0])
            out = population.path(grids, tol * scale, scale, max_iter, max_quasi_newton)
            parts.append((grids, lambda_max_values, out))
    grids = np.concatenate([part[0] for part in parts])
    out = SimpleNamespace(**{name: np.concatenate([getattr(part[2], name) for part in parts])
                             for name in vars(parts[0][2])})
    _raise_unconverged(grids, out, tol)
    return PopulationLassoPath(
        lambdas=grids, weights=out.weights, intercepts=out.intercepts, n_iter=out.n_iter,
        converged=out.converged, kkt_violation=out.kkt,
        lambda_max=np.concatenate([part[1] for part in parts]), tol=tol,
    )


Chunked: TypeAlias = Callable[[int, int], object]


@contextmanager
def _workers() -> Iterator[Callable[[Chunked, int, int], None]]:
    """``run(work, n_items, pieces_per_thread)``: ``work(first, stop)`` over ``range(n_items)``.

    The items are cut into contiguous pieces run by ``numba.get_num_threads()``
    threads (the kernels release the GIL, as do numpy's products), with BLAS on one
    thread inside them.  ``pieces_per_thread`` > 1 balances uneven items.
    """
    n_threads = numba.get_num_threads()
    with threadpool_limits(limits=1, user_api="blas"), \
            ThreadPoolExecutor(max_workers=n_threads) as executor:
        def run(work: Chunked, n_items: int, pieces_per_thread: int = 1) -> None:
            n_pieces = min(n_items, n_threads * pieces_per_thread) if n_threads > 1 else 1
            if n_pieces <= 1:
                if n_items:
                    work(0, n_items)
                return
            bounds = np.linspace(0, n_items, n_pieces + 1).round().astype(int)
            list(executor.map(work, bounds[:-1].tolist(), bounds[1:].tolist()))

        yield run


def _shared_design(design: Floats, durations: Floats) -> SimpleNamespace:
    """What every batch of neurons shares: the centred design (transposed), its Gram
    matrix ``Xc' Xc / n_rows`` and which columns vary or take two values.
    """
    centre = design.mean(axis=0)
    usable = _lasso_kernels.varying_columns(design)
    centred_t = np.subtract(design.T, centre[:, None], order="C")
    centred_t[~usable] = 0.0
    low, high = design.min(axis=0), design.max(axis=0)
    return SimpleNamespace(
        durations=durations, centre=centre, usable=usable, centred_t=centred_t,
        gram=centred_t @ centred_t.T / design.shape[0],
        two_valued=usable & np.all((design == low) | (design == high), axis=0),
        value_sums=low + high - 2.0 * centre,
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


def _newton_kernel_in_order() -> None:
    """Compile (or load) ``_lasso_kernels.full_gradient`` on its own before
    ``path_newton_cd``, as :func:`~sparsefield.rf.lasso_path.lasso_path` does.

    ``path_newton_cd`` calls ``full_gradient``.  When a process compiles
    ``path_newton_cd`` before ``full_gradient`` was compiled on its own (the
    hand-over is the first to call it), the kernel it writes to numba's cache links a
    copy of ``full_gradient`` that sums in another order: processes that load that
    cache then get other last bits from the per-unit path than the process that wrote
    it (and than the per-unit path compiled in lasso_path's order).  Cheap: tiny arrays
    of the hand-over's types.
    """
    rows = np.zeros(2)
    _lasso_kernels.full_gradient(np.zeros((1, 2)), rows, rows, np.empty(1))


#: The solver's arrays with one row per slot, moved together when slots are compacted.
_SLOT_ARRAYS = ("neuron", "level", "lam", "previous", "steps", "violation",
                "last_violation", "weights",
                "intercepts", "eta", "residual", "counts_rows", "counts_design",
                "objective", "grad_intercept", "scale", "gradient", "working")


class _Population:
    """The solver's state: the shared centred design, each neuron's iterate, buffers.

    Each neuron has a slot (a row of every per-neuron array); the slots of the
    neurons still on their path come first (``n_prefix``), in slot order
    (:meth:`compact` closes the gaps left by finished ones).

    Parameters
    ----------
    shared : SimpleNamespace
        :func:`_shared_design`.
    counts : ndarray of shape (n_rows, n_neurons)
    run : callable
        :func:`_workers`'s ``run``.
    """

    def __init__(self, shared: SimpleNamespace, counts: Floats,
                 run: Callable[[Chunked, int, int], None]) -> None:
        self.run = run
        self.n_pixels, self.n_rows = shared.centred_t.shape
        self.n_neurons = counts.shape[1]
        self.durations, self.centre, self.usable = shared.durations, shared.centre, shared.usable
        self.centred_t, self.gram = shared.centred_t, shared.gram
        self.two_valued, self.value_sums = shared.two_valued, shared.value_sums
        self.counts_rows = np.ascontiguousarray(counts.T)
        self.counts_design = self.counts_rows @ self.centred_t.T / self.n_rows
        # Start: zero weights, best intercepts.
        self.intercepts = np.log(self.counts_rows.sum(axis=1) / self.durations.sum())
        self.weights = np.zeros((self.n_neurons, self.n_pixels))
        self.eta = np.repeat(self.intercepts[:, None], self.n_rows, axis=1)
        self.residual = np.empty_like(self.eta)
        self.objective = np.empty(self.n_neurons)
        self.grad_intercept = np.empty(self.n_neurons)
        self.scale = np.empty(self.n_neurons)
        self.gradient = np.empty((self.n_neurons, self.n_pixels))
        self.n_prefix = self.n_neurons
        self.start(np.arange(self.n_neurons, dtype=np.int64))
        self.gradients()
        self.step_buffer = np.empty((self.n_neurons, self.n_rows))

    # ------------------------------------------------------------------ products

    def start(self, slots: Ints) -> None:
        """Residuals and summaries of ``slots`` from their linear predictors."""
        def work(first: int, stop: int) -> None:
            kernels.start_rows(self.eta, self.counts_rows, self.durations, self.residual,
                               self.objective, self.grad_intercept, self.scale, slots,
                               first, stop)

        self.run(work, slots.size, 4)

    def gradients(self) -> None:
        """Weight gradients of the first ``n_prefix`` slots (BLAS, shared among threads)."""
        def work(first: int, stop: int) -> None:
            np.matmul(self.residual[first:stop], self.centred_t.T,
                      out=self.gradient[first:stop])
            self.gradient[first:stop] /= self.n_rows

        self.run(work, self.n_prefix, 1)

    def step_predictors(self, slots: Ints, new_weights: Floats) -> Ints:
        """``Xc (new_weights - weights)`` of each slot into ``step_buffer``.

        Returns ``rows`` (n_listed,): the buffer row of each listed slot.  Dense
        directions first (BLAS), then the sparse ones (:func:`kernels.sparse_steps`).
        """
        moved = np.count_nonzero(new_weights != self.weights[slots], axis=1)
        sparse = moved <= SPARSE_STEP_FRACTION * self.n_pixels
        dense = np.flatnonzero(~sparse)
        rows = np.empty(slots.size, dtype=np.int64)
        rows[dense] = np.arange(dense.size)
        rows[sparse] = np.arange(dense.size, slots.size)
        directions = new_weights[dense] - self.weights[slots[dense]]

        def dense_work(first: int, stop: int) -> None:
            np.matmul(directions[first:stop], self.centred_t, out=self.step_buffer[first:stop])

        self.run(dense_work, dense.size, 1)
        listed = np.flatnonzero(sparse)

        def sparse_work(first: int, stop: int) -> None:
            kernels.sparse_steps(self.centred_t, self.weights, new_weights[listed],
                                 slots[listed], rows[listed], first, stop, self.step_buffer)

        self.run(sparse_work, listed.size, 4)
        return rows

    # ------------------------------------------------------------------ the path

    def path(self, grids: Floats, scale_tol: Floats, previous: Floats, max_iter: int,
             max_quasi_newton: int) -> SimpleNamespace:
        """Every neuron's path over its row of ``grids``; the result's arrays.

        ``scale_tol`` (n_neurons,) is each neuron's absolute KKT tolerance and
        ``previous`` the penalty its start solves (for the strong rule).
        """
        self.grids, self.scale_tol = grids, scale_tol
        self.max_iter, self.max_quasi_newton = max_iter, max_quasi_newton
        out = _empty_outputs(self.n_neurons, grids.shape[1], self.n_pixels)
        self.neuron = np.arange(self.n_neurons, dtype=np.int64)
        self.level = np.zeros(self.n_neurons, dtype=np.int64)
        self.lam = grids[:, 0].copy()
        self.previous = previous.copy()
        self.steps = np.zeros(self.n_neurons, dtype=np.int64)
        self.violation = np.zeros(self.n_neurons)
        self.last_violation = np.full(self.n_neurons, np.inf)
        self.working = np.zeros((self.n_neurons, self.n_pixels), dtype=bool)
        self.strong_rule(np.arange(self.n_neurons))
        live = self.settle(out)
        while live.size:
            if live.size < 0.75 * self.n_prefix:
                live = self.compact(live)
            self.quasi_newton_step(live)
            self.gradients()
            live = self.settle(out)
        return out

    def strong_rule(self, slots: Ints) -> None:
        """Working sets of ``slots`` at their new penalty: ever-active plus strong rule."""
        threshold = 2.0 * self.lam[slots] - self.previous[slots]
        self.working[slots] |= self.usable & (
            (self.weights[slots] != 0.0) | (np.abs(self.gradient[slots]) >= threshold[:, None]))

    def settle(self, out: SimpleNamespace) -> Ints:
        """Record every slot that has converged (or is handed over) and move it on.

        Returns the live slots (still iterating at their penalty).
        """
        while True:
            live = np.flatnonzero(self.level[:self.n_prefix] < self.grids.shape[1])
            violation = np.empty(live.size)
            kernels.kkt_violation_rows(self.gradient, self.grad_intercept, self.weights,
                                       self.lam, live, violation)
            self.violation[live] = violation
            converged = violation <= self.scale_tol[self.neuron[live]]
            steps = self.steps[live]
            stalled = ((steps >= STALL_STEPS)
                       & (violation > STALL_RATIO * self.last_violation[live]))
            slow = ~converged & ((steps >= self.max_quasi_newton) | stalled)
            for slot in live[slow].tolist():
                self.hand_over(slot, out)
            done = live[converged | slow]
            if not done.size:
                return live
            self.record(done, out)

    def record(self, slots: Ints, out: SimpleNamespace) -> None:
        """Store the solution of ``slots`` at their penalty; move them to the next one."""
        neurons, levels = self.neuron[slots], self.level[slots]
        out.weights[neurons, levels] = self.weights[slots]
        out.intercepts[neurons, levels] = (self.intercepts[slots]
                                           - self.weights[slots] @ self.centre)
        out.kkt[neurons, levels] = self.violation[slots]
        out.converged[neurons, levels] = (self.violation[slots]
                                          <= self.scale_tol[neurons])
        out.n_iter[neurons, levels] += self.steps[slots]
        self.level[slots] += 1
        moving = slots[self.level[slots] < self.grids.shape[1]]
        self.previous[moving] = self.lam[moving]
        self.lam[moving] = self.grids[self.neuron[moving], self.level[moving]]
        self.steps[moving] = 0
        self.last_violation[moving] = np.inf
        self.strong_rule(moving)

    def compact(self, live: Ints) -> Ints:
        """Move the live slots to the front (in order); returns their new slots."""
        for name in _SLOT_ARRAYS:
            array = getattr(self, name)
            array[:live.size] = array[live]
        self.n_prefix = live.size
        return np.arange(live.size, dtype=np.int64)

    def quasi_newton_step(self, live: Ints) -> None:
        """One shared-metric proximal quasi-Newton step of every slot in ``live``.

        A slot whose line search fails (no descent along the direction) gets
        ``steps = max_quasi_newton``: it is handed over to Newton next.
        """
        self.last_violation[live] = self.violation[live]
        self.working[live] |= self.usable & (
            np.abs(self.gradient[live]) > self.lam[live][:, None])
        inner_tol = np.maximum(0.5 * self.scale_tol[self.neuron],
                               1e-3 * self.violation)
        new_weights = np.empty((live.size, self.n_pixels))
        intercept_step = np.empty(live.size)
        decrease = np.empty(live.size)

        def directions(first: int, stop: int) -> None:
            kernels.population_directions(
                self.gram, self.two_valued, self.value_sums, self.counts_design, self.scale,
                self.gradient, self.grad_intercept, self.weights, self.lam, self.working,
                inner_tol, MAX_SWEEPS, live, first, stop, new_weights, intercept_step,
                decrease)

        self.run(directions, live.size, 4)
        rows = self.step_predictors(live, new_weights)
        accepted = np.empty(live.size, dtype=bool)

        def line_search(first: int, stop: int) -> None:
            kernels.population_line_search(
                self.eta, self.residual, self.counts_rows, self.durations, self.weights,
                self.intercepts, self.objective, self.grad_intercept, self.scale, self.lam,
                live, rows, first, stop, self.step_buffer, new_weights, intercept_step,
                decrease, accepted)

        self.run(line_search, live.size, 4)
        self.steps[live] += 1
        self.steps[live[~accepted]] = self.max_quasi_newton

    def hand_over(self, slot: int, out: SimpleNamespace) -> None:
        """Finish ``slot`` at its penalty with exact Newton steps (then its state is fresh)."""
        new_weights = np.zeros((1, self.n_pixels))
        new_intercept = np.zeros(1)
        n_steps = np.zeros(1, dtype=np.int64)
        violation = np.zeros(1)
        converged = np.zeros(1, dtype=bool)
        neuron = self.neuron[slot]
        _newton_kernel_in_order()
        _lasso_kernels.path_newton_cd(
            self.centred_t, self.counts_rows[slot], self.durations,
            np.array([self.lam[slot]]), self.previous[slot], self.usable,
            self.weights[slot].copy(), float(self.intercepts[slot]), self.scale_tol[neuron],
            self.max_iter, MAX_SWEEPS, new_weights, new_intercept, n_steps, violation,
            converged)
        self.weights[slot] = new_weights[0]
        self.intercepts[slot] = new_intercept[0]
        self.steps[slot] += n_steps[0]
        self.eta[slot] = self.centred_t.T @ self.weights[slot] + self.intercepts[slot]
        one = np.array([slot], dtype=np.int64)
        kernels.start_rows(self.eta, self.counts_rows, self.durations, self.residual,
                           self.objective, self.grad_intercept, self.scale, one, 0, 1)
        self.gradient[slot] = self.centred_t @ self.residual[slot] / self.n_rows
        value = np.empty(1)
        kernels.kkt_violation_rows(self.gradient, self.grad_intercept, self.weights,
                                   self.lam, one, value)
        self.violation[slot] = value[0]


__all__ = ["MAX_BATCH_BYTES", "PopulationLassoPath", "SPARSE_STEP_FRACTION", "STALL_RATIO",
           "STALL_STEPS", "lasso_path_population"]
