"""Numba kernels for the Poisson lasso of many neurons sharing one design.

They serve :func:`sparsefield.rf.lasso_population.lasso_path_population`, whose dense
products with the shared (centred) design are BLAS matrix-matrix products done in
Python; here are the per-neuron parts: residuals and summaries (:func:`start_rows`),
KKT violations (:func:`kkt_violation_rows`), proximal quasi-Newton directions by
coordinate descent (:func:`population_directions`), the linear predictor of sparse
directions (:func:`sparse_steps`) and line searches (:func:`population_line_search`).
The objective is that of :mod:`sparsefield.rf._lasso_kernels`; the KKT test and the
fastmath flags are those of :mod:`sparsefield.rf._lasso_shared_kernels`.  Inputs are
trusted.

Layout: arrays with a leading ``n_slots`` axis hold one neuron per row (the solver's
slots); ``slots`` lists the rows a call works on, and the solver's kernels work on
``slots[first:stop]`` so that the caller can share the list out among threads.

Fresh and cached compilations give the same bytes: every kernel of the solver is
``nogil`` and none uses ``parallel=True``.  Numba compiles the body of a ``prange`` loop
twice (on its own, and again inside the calling function's module); the process that
compiles it runs the first and every process that loads the kernel from the cache runs
the second, and with fastmath reductions the two differ in the last bits (the previous
``population_directions`` by 1e-17 in a coordinate, the path's weights by 4e-16).  A
helper compiled as its own function does the same (run on its own when compiled, as
the caller's linked copy when cached), so every helper of the solver's kernels is
inlined at numba IR level (``inline="always"``).  :func:`population_start` (held-out
scores of :mod:`sparsefield.rf.units_lasso`, whichever solver fitted the paths) keeps
its ``prange`` and its helper as they were, so that the per-unit path's scores stay
byte-identical; its fresh and cached runs agree (``tests/test_numba_target.py``).

Speed: the exponential of the rows (:func:`_exp_parts`) is a polynomial that LLVM
vectorises (there is no vector ``exp`` without Intel's SVML): within 1 ulp of
``math.exp`` (exact for 92 % of the inputs) and four times faster on its own, though
the line searches around it are bound by memory.  It returns ``inf`` above 709 and 0
below -708, where ``math.exp`` is within a factor 2 of overflow or subnormal; the line
searches reject such steps either way.
"""

import math
from typing import TypeAlias

from sparsefield._numba import numba

import numpy as np
from numpy.typing import NDArray

from sparsefield._kernels import soft_threshold_step
from sparsefield.rf._lasso_shared_kernels import ARMIJO, FASTMATH, kkt_violation
from sparsefield.rf._poisson_kernels import row_terms

Floats: TypeAlias = NDArray[np.float64]
Ints: TypeAlias = NDArray[np.int64]
Bools: TypeAlias = NDArray[np.bool_]

_LOG2E = 1.4426950408889634
_LN2_HIGH = 6.93147180369123816490e-01
_LN2_LOW = 1.90821492927058770002e-10
#: Fastmath flags of the kernels that evaluate the rows (:func:`_rows_state`): no
#: reassociation, which would fold the two-constant reduction of :func:`_exp_parts`
#: into one (200 ulp off at |x| ~ 700) and did not make the sums faster.
ROW_FASTMATH = {"contract"}
#: Rows per block of :func:`sparse_steps` (256 rows of 300 pixels: 600 KiB, in L2).
_BLOCK_ROWS = 256


# ---------------------------------------------------------------------------- rows


@numba.njit(cache=True, fastmath=ROW_FASTMATH, inline="always")
def _exp_parts(x: float) -> tuple[float, float]:
    """``exp(x) = mantissa * 2**exponent`` with ``|x - exponent ln 2| <= ln(2) / 2``.

    Cody-Waite reduction and the degree-13 Taylor polynomial of ``exp`` on the reduced
    argument (error below 1e-17 there); ``x`` is clipped to [-708, 709].

    Returns
    -------
    mantissa, exponent : float
    """
    clipped = min(max(x, -708.0), 709.0)
    exponent = math.floor(clipped * _LOG2E + 0.5)
    reduced = (clipped - exponent * _LN2_HIGH) - exponent * _LN2_LOW
    value = 1.0 / 6227020800.0
    value = value * reduced + 1.0 / 479001600.0
    value = value * reduced + 1.0 / 39916800.0
    value = value * reduced + 1.0 / 3628800.0
    value = value * reduced + 1.0 / 362880.0
    value = value * reduced + 1.0 / 40320.0
    value = value * reduced + 1.0 / 5040.0
    value = value * reduced + 1.0 / 720.0
    value = value * reduced + 1.0 / 120.0
    value = value * reduced + 1.0 / 24.0
    value = value * reduced + 1.0 / 6.0
    value = value * reduced + 0.5
    value = value * reduced + 1.0
    value = value * reduced + 1.0
    return value, exponent


@numba.njit(cache=True, fastmath=ROW_FASTMATH, inline="always")
def _rows_state(eta: Floats, counts: Floats, durations: Floats, residual: Floats,
                powers: Ints) -> tuple[float, float, float]:
    """Residual ``durations exp(eta) - counts`` of one neuron (written), and its summaries.

    The per-row terms of :func:`sparsefield.rf._poisson_kernels.row_terms`, with the
    exponential of :func:`_exp_parts`; the sums run in four interleaved partial sums
    (a fixed order LLVM can vectorise).  ``powers`` is scratch of shape (>= n_rows,).

    Returns
    -------
    data_objective : float
        ``mean_t [durations exp(eta) - counts eta]``.
    grad_intercept : float
        ``mean_t residual``.
    scale : float
        ``mean_t durations exp(eta)`` (the intercept's curvature).
    """
    n_rows = eta.shape[0]
    for row in range(n_rows):
        mantissa, exponent = _exp_parts(eta[row])
        residual[row] = mantissa
        powers[row] = (np.int64(exponent) + 1023) << 52
    scales = powers[:n_rows].view(np.float64)
    for row in range(n_rows):
        value = eta[row]
        expected = residual[row] * scales[row]
        if value > 709.0:
            expected = np.inf
        elif value < -708.0:
            expected = 0.0
        residual[row] = expected * durations[row]
    objective = np.zeros(4)
    total_residual = np.zeros(4)
    total_expected = np.zeros(4)
    n_full = n_rows - n_rows % 4
    for start in range(0, n_full, 4):
        for lane in range(4):
            row = start + lane
            expected = residual[row]
            objective[lane] += expected - counts[row] * eta[row]
            residual[row] = expected - counts[row]
            total_residual[lane] += residual[row]
            total_expected[lane] += expected
    for row in range(n_full, n_rows):
        expected = residual[row]
        objective[0] += expected - counts[row] * eta[row]
        residual[row] = expected - counts[row]
        total_residual[0] += residual[row]
        total_expected[0] += expected
    totals = ((objective[0] + objective[1]) + (objective[2] + objective[3]),
              (total_residual[0] + total_residual[1]) + (total_residual[2] + total_residual[3]),
              (total_expected[0] + total_expected[1]) + (total_expected[2] + total_expected[3]))
    return totals[0] / n_rows, totals[1] / n_rows, totals[2] / n_rows


@numba.njit(cache=True, nogil=True, fastmath=ROW_FASTMATH)
def start_rows(eta: Floats, counts: Floats, durations: Floats, residual: Floats,
               objective: Floats, grad_intercept: Floats, scale: Floats, slots: Ints,
               first: int, stop: int) -> None:
    """Residuals and summaries of the neurons in ``slots[first:stop]`` from their ``eta``.

    Parameters
    ----------
    eta, counts : ndarray of shape (n_slots, n_rows)
    durations : ndarray of shape (n_rows,)
    residual : ndarray of shape (n_slots, n_rows)
        Output: ``durations * exp(eta) - counts``.
    objective, grad_intercept, scale : ndarray of shape (n_slots,)
        Output: data objective, ``mean_t residual`` and ``mean_t expected``.
    slots : ndarray of shape (n_listed,), int64
    first, stop : int
    """
    powers = np.empty(eta.shape[1], dtype=np.int64)
    for index in range(first, stop):
        slot = slots[index]
        objective[slot], grad_intercept[slot], scale[slot] = _rows_state(
            eta[slot], counts[slot], durations, residual[slot], powers)


@numba.njit(cache=True, fastmath=FASTMATH)
def _neuron_state(eta: Floats, counts: Floats, durations: Floats,
                  residual: Floats) -> tuple[float, float, float]:
    """As :func:`_rows_state`, with ``math.exp`` (:func:`row_terms`)."""
    n_rows = eta.shape[0]
    total_objective = 0.0
    total_residual = 0.0
    total_expected = 0.0
    for row in range(n_rows):
        term, residual[row], expected = row_terms(eta[row], counts[row], durations[row])
        total_objective += term
        total_residual += residual[row]
        total_expected += expected
    return total_objective / n_rows, total_residual / n_rows, total_expected / n_rows


@numba.njit(cache=True, parallel=True)
def population_start(eta: Floats, counts: Floats, durations: Floats, residual: Floats,
                     objective: Floats, grad_intercept: Floats, scale: Floats) -> None:
    """Residuals and summaries of every row of ``eta`` (``math.exp``; held-out scores).

    Parameters
    ----------
    eta, counts : ndarray of shape (n_models, n_rows)
    durations : ndarray of shape (n_rows,)
    residual : ndarray of shape (n_models, n_rows)
        Output: ``durations * exp(eta) - counts``.
    objective, grad_intercept, scale : ndarray of shape (n_models,)
        Output: data objective, ``mean_t residual`` and ``mean_t expected``.
    """
    for model in numba.prange(eta.shape[0]):
        objective[model], grad_intercept[model], scale[model] = _neuron_state(
            eta[model], counts[model], durations, residual[model])


@numba.njit(cache=True)
def kkt_violation_rows(gradient: Floats, grad_intercept: Floats, weights: Floats, lams: Floats,
                       slots: Ints, violation: Floats) -> None:
    """:func:`kkt_violation` of each neuron in ``slots``.

    Parameters
    ----------
    gradient, weights : ndarray of shape (n_slots, n_pixels)
    grad_intercept, lams : ndarray of shape (n_slots,)
    slots : ndarray of shape (n_listed,), int64
    violation : ndarray of shape (n_listed,)
        Output.
    """
    for index in range(slots.shape[0]):
        slot = slots[index]
        violation[index] = kkt_violation(gradient[slot], grad_intercept[slot], weights[slot],
                                         lams[slot])


# ---------------------------------------------------------------------------- directions


@numba.njit(cache=True, fastmath=FASTMATH, inline="always")
def _metric_factors(gram: Floats, two_valued: Bools, value_sums: Floats, coupling: Floats,
                    curvature_intercept: float, factors: Floats) -> None:
    """Per-pixel factors ``f`` of one neuron's metric ``S = s f_j f_k gram_jk`` (written).

    ``s f_j**2 gram_jj`` is the pixel's variance under the rows weighted by the
    expected counts, times ``s``: for a column with two values ``a < b`` (binary
    stimuli) it is exact, ``gram_jj + (a + b) c_j - c_j**2`` with ``c_j =
    coupling_j / s`` (centred values); for other columns ``gram_jj`` (exact for
    Gaussian stimuli, whose variance the weighting does not change).
    """
    for pixel in range(gram.shape[0]):
        variance = gram[pixel, pixel]
        factors[pixel] = 1.0
        if variance > 0.0 and two_valued[pixel]:
            shift = coupling[pixel] / curvature_intercept
            tilted = variance + value_sums[pixel] * shift - shift * shift
            factors[pixel] = math.sqrt(max(tilted, 1e-6 * variance) / variance)


@numba.njit(cache=True, fastmath=FASTMATH, inline="always")
def _model_sweeps(gram: Floats, factors: Floats, curvature_intercept: float, lam: float,
                  active: Ints, model_gradient: Floats, new_weights: Floats,
                  inner_tol: float, max_sweeps: int) -> None:
    """Cyclic coordinate descent on one neuron's model ``S = s f_j f_k gram_jk``, in place.

    Parameters
    ----------
    gram : ndarray of shape (n_pixels, n_pixels)
    factors : ndarray of shape (n_pixels,)
        :func:`_metric_factors`.
    curvature_intercept : float
        ``s``, the neuron's ``scale``.
    lam : float
    active : ndarray of shape (n_active,), int64
        The neuron's working set.
    model_gradient : ndarray of shape (n_pixels,)
        Gradient of the model with the intercept profiled out; updated.
    new_weights : ndarray of shape (n_pixels,)
        Holds the start and receives the model's minimiser.
    inner_tol : float
        Stop when no coordinate moves its model gradient by more than this.
    max_sweeps : int
    """
    n_pixels = gram.shape[0]
    n_active = active.shape[0]
    dense = 3 * n_active > n_pixels
    full_sweep = True
    n_sweeps = 0
    while n_sweeps < max_sweeps:
        n_sweeps += 1
        largest = 0.0
        for position in range(n_active):
            pixel = active[position]
            old = new_weights[pixel]
            if not full_sweep and old == 0.0:
                continue
            factor = factors[pixel]
            curvature = curvature_intercept * gram[pixel, pixel] * factor * factor
            if curvature <= 0.0:
                continue
            new = soft_threshold_step(curvature * old - model_gradient[pixel], lam, curvature)
            step = new - old
            if step != 0.0:
                scaled = step * curvature_intercept * factor
                if dense:
                    # gram is symmetric: walk its row, contiguous.
                    for other in range(n_pixels):
                        model_gradient[other] += scaled * factors[other] * gram[pixel, other]
                else:
                    for other_position in range(n_active):
                        other = active[other_position]
                        model_gradient[other] += scaled * factors[other] * gram[pixel, other]
                new_weights[pixel] = new
                change = curvature * abs(step)
                if change > largest:
                    largest = change
        if largest < inner_tol:
            if full_sweep:
                break
            full_sweep = True
        else:
            full_sweep = False


@numba.njit(cache=True, nogil=True, fastmath=FASTMATH)
def population_directions(gram: Floats, two_valued: Bools, value_sums: Floats,
                          counts_design: Floats, scale: Floats, gradient: Floats,
                          grad_intercept: Floats, weights: Floats, lams: Floats,
                          working: Bools, inner_tol: Floats, max_sweeps: int, slots: Ints,
                          first: int, stop: int, new_weights: Floats,
                          intercept_step: Floats, decrease: Floats) -> None:
    """Proximal quasi-Newton directions for the neurons in ``slots[first:stop]``.

    Each neuron minimises, over its working set and by coordinate descent, the model
    ``g . d + g_b d_b + 1/2 [d_b, d] M [d_b, d]' + lam |w + d|_1`` with the intercept
    profiled out, where ``M = [[s, m'], [m, S + m m' / s]]``: the exact intercept
    curvature ``s`` and intercept-weight coupling ``m`` of the Hessian, and for the
    Schur complement (the Hessian of the weights once the intercept is profiled out:
    ``s`` times the covariance of the design under the rows weighted by the expected
    counts) the design's correlations scaled by each pixel's weighted variance,
    ``S_jk = s f_j f_k gram_jk`` (:func:`_metric_factors`).  Under the exponential
    weighting, pixels that are independent stay independent (binary white noise) and
    Gaussian stimuli keep their covariance, so ``S`` differs from the Hessian by the
    sampling noise of the design's correlations; the line search makes any such
    metric safe.

    Parameters
    ----------
    gram : ndarray of shape (n_pixels, n_pixels)
        ``Xc' Xc / n_rows`` of the centred design.
    two_valued : ndarray of shape (n_pixels,), bool
        Columns with two values.
    value_sums : ndarray of shape (n_pixels,)
        Their two (centred) values summed.
    counts_design : ndarray of shape (n_slots, n_pixels)
        ``Xc' counts / n_rows``: the coupling is ``m = gradient + counts_design``.
    scale, grad_intercept, lams : ndarray of shape (n_slots,)
    gradient, weights : ndarray of shape (n_slots, n_pixels)
    working : ndarray of shape (n_slots, n_pixels), bool
        Working sets; other pixels keep their (zero) weight.
    inner_tol : ndarray of shape (n_slots,)
        Stop when no coordinate moves its model gradient by more than this.
    max_sweeps : int
    slots : ndarray of shape (n_listed,), int64
    first, stop : int
    new_weights : ndarray of shape (n_listed, n_pixels)
        Output: ``weights + direction`` (row ``index`` for ``slots[index]``).
    intercept_step, decrease : ndarray of shape (n_listed,)
        Output; ``decrease`` is the model's first-order change of the objective,
        ``g . d + g_b d_b + lam (|w + d|_1 - |w|_1)`` (negative).
    """
    n_pixels = gram.shape[0]
    active = np.empty(n_pixels, dtype=np.int64)
    model_gradient = np.empty(n_pixels)
    coupling = np.empty(n_pixels)
    factors = np.empty(n_pixels)
    for index in range(first, stop):
        slot = slots[index]
        curvature_intercept = scale[slot]
        n_active = 0
        for pixel in range(n_pixels):
            coupling[pixel] = gradient[slot, pixel] + counts_design[slot, pixel]
            model_gradient[pixel] = (gradient[slot, pixel] - coupling[pixel]
                                     * grad_intercept[slot] / curvature_intercept)
            new_weights[index, pixel] = weights[slot, pixel]
            if working[slot, pixel]:
                active[n_active] = pixel
                n_active += 1
        _metric_factors(gram, two_valued, value_sums, coupling, curvature_intercept, factors)
        _model_sweeps(gram, factors, curvature_intercept, lams[slot], active[:n_active],
                      model_gradient, new_weights[index], inner_tol[slot], max_sweeps)
        shift = grad_intercept[slot]
        change_penalty = 0.0
        linear = 0.0
        for pixel in range(n_pixels):
            step = new_weights[index, pixel] - weights[slot, pixel]
            shift += coupling[pixel] * step
            linear += gradient[slot, pixel] * step
            change_penalty += abs(new_weights[index, pixel]) - abs(weights[slot, pixel])
        intercept_step[index] = -shift / curvature_intercept
        decrease[index] = (linear + grad_intercept[slot] * intercept_step[index]
                           + lams[slot] * change_penalty)


@numba.njit(cache=True, nogil=True, fastmath=FASTMATH)
def sparse_steps(design_t: Floats, weights: Floats, new_weights: Floats, slots: Ints,
                 rows: Ints, first: int, stop: int, step_eta: Floats) -> None:
    """``step_eta[rows[i]] = design_t' (new_weights[i] - weights[slots[i]])`` for sparse steps.

    For directions that move few pixels: the sum runs over the pixels that moved, in
    blocks of rows shared by the neurons (the block of ``design_t`` stays in cache).

    Parameters
    ----------
    design_t : ndarray of shape (n_pixels, n_rows)
        The centred design, transposed.
    weights : ndarray of shape (n_slots, n_pixels)
    new_weights : ndarray of shape (n_listed, n_pixels)
        Row ``i`` belongs to ``slots[i]``.
    slots, rows : ndarray of shape (n_listed,), int64
    first, stop : int
    step_eta : ndarray of shape (>= max(rows) + 1, n_rows)
        Output rows ``rows[first:stop]``.
    """
    n_pixels, n_rows = design_t.shape
    moved = np.empty((stop - first, n_pixels), dtype=np.int64)
    steps = np.empty((stop - first, n_pixels))
    n_moved = np.zeros(stop - first, dtype=np.int64)
    for index in range(first, stop):
        local = index - first
        for pixel in range(n_pixels):
            step = new_weights[index, pixel] - weights[slots[index], pixel]
            if step != 0.0:
                moved[local, n_moved[local]] = pixel
                steps[local, n_moved[local]] = step
                n_moved[local] += 1
    for start in range(0, n_rows, _BLOCK_ROWS):
        end = min(start + _BLOCK_ROWS, n_rows)
        for index in range(first, stop):
            local = index - first
            out = step_eta[rows[index], start:end]
            out[:] = 0.0
            for position in range(n_moved[local]):
                step = steps[local, position]
                column = design_t[moved[local, position], start:end]
                for row in range(end - start):
                    out[row] += step * column[row]


@numba.njit(cache=True, nogil=True, fastmath=ROW_FASTMATH)
def population_line_search(eta: Floats, residual: Floats, counts: Floats, durations: Floats,
                           weights: Floats, intercepts: Floats, objective: Floats,
                           grad_intercept: Floats, scale: Floats, lams: Floats, slots: Ints,
                           rows: Ints, first: int, stop: int, step_eta: Floats,
                           new_weights: Floats, intercept_step: Floats, decrease: Floats,
                           accepted: Bools) -> None:
    """Backtracking (Armijo) line search of the neurons in ``slots[first:stop]``, in place.

    Parameters
    ----------
    eta, residual : ndarray of shape (n_slots, n_rows)
        Updated for accepted steps (``residual = expected - counts``).
    counts : ndarray of shape (n_slots, n_rows)
    durations : ndarray of shape (n_rows,)
    weights : ndarray of shape (n_slots, n_pixels)
    intercepts, objective, grad_intercept, scale, lams : ndarray of shape (n_slots,)
        Updated for accepted steps (``objective`` is the data part).
    slots, rows : ndarray of shape (n_listed,), int64
        ``step_eta[rows[i]]`` belongs to ``slots[i]``.
    first, stop : int
    step_eta : ndarray of shape (n_step_rows, n_rows)
        ``Xc . (new_weights - weights)`` (without the intercept step).
    new_weights : ndarray of shape (n_listed, n_pixels)
    intercept_step, decrease : ndarray of shape (n_listed,)
    accepted : ndarray of shape (n_listed,), bool
        Output: False where no step length gave sufficient decrease.
    """
    n_rows = eta.shape[1]
    n_pixels = weights.shape[1]
    trial_eta = np.empty(n_rows)
    trial_residual = np.empty(n_rows)
    powers = np.empty(n_rows, dtype=np.int64)
    for index in range(first, stop):
        slot = slots[index]
        lam = lams[slot]
        penalty = 0.0
        for pixel in range(n_pixels):
            penalty += abs(weights[slot, pixel])
        current = objective[slot] + lam * penalty
        slack = 1e-13 * (abs(current) + 1.0)
        fraction = 1.0
        accepted[index] = False
        trial_objective = trial_grad_intercept = trial_scale = 0.0
        for _ in range(40):
            shift = fraction * intercept_step[index]
            for row in range(n_rows):
                trial_eta[row] = eta[slot, row] + (fraction * step_eta[rows[index], row] + shift)
            trial_objective, trial_grad_intercept, trial_scale = _rows_state(
                trial_eta, counts[slot], durations, trial_residual, powers)
            trial_penalty = 0.0
            for pixel in range(n_pixels):
                trial_penalty += abs(weights[slot, pixel] + fraction
                                     * (new_weights[index, pixel] - weights[slot, pixel]))
            if (trial_objective + lam * trial_penalty
                    <= current + ARMIJO * fraction * decrease[index] + slack):
                accepted[index] = True
                break
            fraction *= 0.5
        if accepted[index]:
            eta[slot] = trial_eta
            residual[slot] = trial_residual
            for pixel in range(n_pixels):
                weights[slot, pixel] += fraction * (new_weights[index, pixel]
                                                    - weights[slot, pixel])
            intercepts[slot] += fraction * intercept_step[index]
            objective[slot] = trial_objective
            grad_intercept[slot] = trial_grad_intercept
            scale[slot] = trial_scale
