"""Numba kernels for the Poisson lasso of many neurons sharing one design.

They serve :func:`sparsefield.rf.lasso_population.lasso_path_population`, whose
products with the shared (centred) design are BLAS matrix-matrix products done in
Python; here are the per-neuron parts: residuals and summaries
(:func:`population_start`), KKT violations (:func:`kkt_violation_rows`), proximal
quasi-Newton directions by coordinate descent (:func:`population_directions`) and
line searches (:func:`population_line_search`), each parallel over neurons
(``numba.prange``).  The objective is that of :mod:`sparsefield.rf._lasso_kernels`;
the KKT test and the fastmath flags are those of
:mod:`sparsefield.rf._lasso_shared_kernels`.  Inputs are trusted.

Arrays with a leading ``n_neurons`` axis hold one neuron per row.  Arrays with a
leading ``n_todo`` axis are compact: row ``index`` belongs to neuron ``todo[index]``
(the neurons still iterating at the current penalty).
"""

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


@numba.njit(cache=True)
def kkt_violation_rows(gradient: Floats, grad_intercept: Floats, weights: Floats, lams: Floats,
                       todo: Ints, violation: Floats) -> None:
    """:func:`kkt_violation` of each neuron in ``todo`` (population layout).

    Parameters
    ----------
    gradient : ndarray of shape (n_todo, n_pixels)
    grad_intercept, lams : ndarray of shape (n_todo,)
    weights : ndarray of shape (n_neurons, n_pixels)
        Row ``todo[index]`` belongs to ``gradient[index]``.
    todo : ndarray of shape (n_todo,), int64
    violation : ndarray of shape (n_todo,)
        Output.
    """
    for index in range(todo.shape[0]):
        violation[index] = kkt_violation(gradient[index], grad_intercept[index],
                                         weights[todo[index]], lams[index])


@numba.njit(cache=True, fastmath=FASTMATH)
def _neuron_state(eta: Floats, counts: Floats, durations: Floats,
                  residual: Floats) -> tuple[float, float, float]:
    """Residual ``durations exp(eta) - counts`` of one neuron (written), and its summaries.

    The per-row terms are :func:`row_terms`.

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
    """Residuals and summaries of every neuron from its linear predictor.

    Parameters
    ----------
    eta, counts : ndarray of shape (n_neurons, n_rows)
    durations : ndarray of shape (n_rows,)
    residual : ndarray of shape (n_neurons, n_rows)
        Output: ``durations * exp(eta) - counts``.
    objective, grad_intercept, scale : ndarray of shape (n_neurons,)
        Output: data objective, ``mean_t residual`` and ``mean_t expected``.
    """
    for neuron in numba.prange(eta.shape[0]):
        objective[neuron], grad_intercept[neuron], scale[neuron] = _neuron_state(
            eta[neuron], counts[neuron], durations, residual[neuron])


@numba.njit(cache=True, parallel=True)
def gather_rows(source: Floats, todo: Ints, out: Floats) -> None:
    """``out[index] = source[todo[index]]`` (a parallel copy for the products).

    Parameters
    ----------
    source : ndarray of shape (n_neurons, n_rows)
    todo : ndarray of shape (n_todo,), int64
    out : ndarray of shape (n_todo, n_rows)
    """
    for index in numba.prange(todo.shape[0]):
        out[index, :] = source[todo[index], :]


@numba.njit(cache=True, fastmath=FASTMATH)
def _model_sweeps(gram: Floats, coupling: Floats, index: int,
                  curvature_intercept: float, lam: float, active: Ints,
                  model_gradient: Floats, new_weights: Floats, inner_tol: float,
                  max_sweeps: int) -> None:
    """Cyclic coordinate descent on one neuron's shared-metric model, in place.

    Parameters
    ----------
    gram : ndarray of shape (n_pixels, n_pixels)
    coupling : ndarray of shape (n_todo, n_pixels)
    index : int
        The neuron's row of ``coupling`` and ``new_weights``.
    curvature_intercept : float
        ``scale[index]``.
    lam : float
    active : ndarray of shape (n_active,), int64
        The neuron's working set.
    model_gradient : ndarray of shape (n_pixels,)
        Gradient of the model with the intercept profiled out; updated.
    new_weights : ndarray of shape (n_todo, n_pixels)
        Row ``index`` holds the start and receives the model's minimiser.
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
            old = new_weights[index, pixel]
            if not full_sweep and old == 0.0:
                continue
            coupling_pixel = coupling[index, pixel]
            curvature = (curvature_intercept * gram[pixel, pixel]
                         - coupling_pixel * coupling_pixel / curvature_intercept)
            if curvature <= 0.0:
                continue
            score = curvature * old - model_gradient[pixel]
            new = soft_threshold_step(score, lam, curvature)
            step = new - old
            if step != 0.0:
                factor = coupling_pixel / curvature_intercept
                if dense:
                    # gram is symmetric: walk its row, contiguous.
                    for other in range(n_pixels):
                        model_gradient[other] += step * (
                            curvature_intercept * gram[pixel, other]
                            - coupling[index, other] * factor)
                else:
                    for other_position in range(n_active):
                        other = active[other_position]
                        model_gradient[other] += step * (
                            curvature_intercept * gram[pixel, other]
                            - coupling[index, other] * factor)
                new_weights[index, pixel] = new
                change = curvature * abs(step)
                if change > largest:
                    largest = change
        if largest < inner_tol:
            if full_sweep:
                break
            full_sweep = True
        else:
            full_sweep = False


@numba.njit(cache=True, parallel=True, fastmath=FASTMATH)
def population_directions(gram: Floats, scale: Floats, coupling: Floats, gradient: Floats,
                          grad_intercept: Floats, weights: Floats, lams: Floats,
                          working: Bools, todo: Ints, inner_tol: Floats, max_sweeps: int,
                          new_weights: Floats, intercept_step: Floats,
                          decrease: Floats) -> None:
    """Proximal quasi-Newton directions for the neurons in ``todo``.

    Each neuron minimises, over its working set and by coordinate descent,
    the model ``g . d + 1/2 d' M d + lam |w + d|_1`` with the intercept
    profiled out, where ``M = [[s, m'], [m, s * gram]]`` over
    ``(intercept, weights)``: the exact intercept curvature ``s`` and
    intercept-weight coupling ``m`` of the Hessian, and ``s * gram`` (the
    design's covariance scaled by the mean expected count) for the
    weight-weight block.  The line search makes any such metric safe; this
    one is exact when the rate does not depend on the stimulus and close
    to it for white-noise stimuli.

    Parameters
    ----------
    gram : ndarray of shape (n_pixels, n_pixels)
        ``Xc' Xc / n_rows`` of the centred design.
    scale : ndarray of shape (n_todo,)
        ``mean_t expected``.
    coupling : ndarray of shape (n_todo, n_pixels)
        ``Xc' expected / n_rows``.
    gradient : ndarray of shape (n_todo, n_pixels)
    grad_intercept : ndarray of shape (n_todo,)
    weights : ndarray of shape (n_neurons, n_pixels)
        Current weights (read).
    lams : ndarray of shape (n_todo,)
    working : ndarray of shape (n_neurons, n_pixels), bool
        Working sets; other pixels keep their (zero) weight.
    todo : ndarray of shape (n_todo,), int64
    inner_tol : ndarray of shape (n_todo,)
        Stop when no coordinate moves its model gradient by more than this.
    max_sweeps : int
    new_weights : ndarray of shape (n_todo, n_pixels)
        Output: ``weights + direction``.
    intercept_step : ndarray of shape (n_todo,)
        Output.
    decrease : ndarray of shape (n_todo,)
        Output: the model's first-order change of the objective,
        ``g . d + g_b d_b + lam (|w + d|_1 - |w|_1)`` (negative).
    """
    n_pixels = gram.shape[0]
    for index in numba.prange(todo.shape[0]):
        neuron = todo[index]
        lam = lams[index]
        curvature_intercept = scale[index]
        active = np.empty(n_pixels, dtype=np.int64)
        n_active = 0
        for pixel in range(n_pixels):
            if working[neuron, pixel]:
                active[n_active] = pixel
                n_active += 1
        model_gradient = np.empty(n_pixels)
        for pixel in range(n_pixels):
            model_gradient[pixel] = (gradient[index, pixel] - coupling[index, pixel]
                                     * grad_intercept[index] / curvature_intercept)
            new_weights[index, pixel] = weights[neuron, pixel]
        _model_sweeps(gram, coupling, index, curvature_intercept, lam, active[:n_active],
                      model_gradient, new_weights, inner_tol[index], max_sweeps)
        shift = grad_intercept[index]
        change_penalty = 0.0
        linear = 0.0
        for pixel in range(n_pixels):
            step = new_weights[index, pixel] - weights[neuron, pixel]
            shift += coupling[index, pixel] * step
            linear += gradient[index, pixel] * step
            change_penalty += abs(new_weights[index, pixel]) - abs(weights[neuron, pixel])
        intercept_step[index] = -shift / curvature_intercept
        decrease[index] = (linear + grad_intercept[index] * intercept_step[index]
                           + lam * change_penalty)


@numba.njit(cache=True, parallel=True, fastmath=FASTMATH)
def population_line_search(eta: Floats, residual: Floats, counts: Floats, durations: Floats,
                           weights: Floats, intercepts: Floats, objective: Floats,
                           grad_intercept: Floats, scale: Floats, todo: Ints,
                           step_eta: Floats, new_weights: Floats, intercept_step: Floats,
                           decrease: Floats, lams: Floats, accepted: Bools) -> None:
    """Backtracking (Armijo) line search for each neuron in ``todo``, in place.

    Parameters
    ----------
    eta, residual : ndarray of shape (n_neurons, n_rows)
        Updated in place for accepted steps (``residual = expected - counts``).
    counts : ndarray of shape (n_neurons, n_rows)
    durations : ndarray of shape (n_rows,)
    weights : ndarray of shape (n_neurons, n_pixels)
    intercepts, objective, grad_intercept, scale : ndarray of shape (n_neurons,)
        Updated in place (``objective`` is the data part).
    todo : ndarray of shape (n_todo,), int64
    step_eta : ndarray of shape (n_todo, n_rows)
        ``Xc . (new_weights - weights)`` (without the intercept step).
    new_weights : ndarray of shape (n_todo, n_pixels)
    intercept_step, decrease, lams : ndarray of shape (n_todo,)
    accepted : ndarray of shape (n_todo,), bool
        Output: False where no step length gave sufficient decrease.
    """
    n_rows = eta.shape[1]
    n_pixels = weights.shape[1]
    for index in numba.prange(todo.shape[0]):
        neuron = todo[index]
        lam = lams[index]
        penalty = 0.0
        for pixel in range(n_pixels):
            penalty += abs(weights[neuron, pixel])
        current = objective[neuron] + lam * penalty
        slack = 1e-13 * (abs(current) + 1.0)
        trial_eta = np.empty(n_rows)
        trial_residual = np.empty(n_rows)
        fraction = 1.0
        accepted[index] = False
        trial_objective = 0.0
        trial_grad_intercept = 0.0
        trial_scale = 0.0
        for _ in range(40):
            for row in range(n_rows):
                trial_eta[row] = eta[neuron, row] + fraction * (step_eta[index, row]
                                                                + intercept_step[index])
            trial_objective, trial_grad_intercept, trial_scale = _neuron_state(
                trial_eta, counts[neuron], durations, trial_residual)
            trial_penalty = 0.0
            for pixel in range(n_pixels):
                trial_penalty += abs(weights[neuron, pixel] + fraction
                                     * (new_weights[index, pixel] - weights[neuron, pixel]))
            if (trial_objective + lam * trial_penalty
                    <= current + ARMIJO * fraction * decrease[index] + slack):
                accepted[index] = True
                break
            fraction *= 0.5
        if accepted[index]:
            for row in range(n_rows):
                eta[neuron, row] = trial_eta[row]
                residual[neuron, row] = trial_residual[row]
            for pixel in range(n_pixels):
                weights[neuron, pixel] += fraction * (new_weights[index, pixel]
                                                      - weights[neuron, pixel])
            intercepts[neuron] += fraction * intercept_step[index]
            objective[neuron] = trial_objective
            grad_intercept[neuron] = trial_grad_intercept
            scale[neuron] = trial_scale
