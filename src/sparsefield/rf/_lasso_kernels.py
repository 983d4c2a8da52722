"""Numba kernels for the Poisson lasso of one neuron (:mod:`sparsefield.rf.lasso_path`).

Objective (data part only; the constant of the NLL does not matter here)::

    F(weights, intercept) = mean_t [durations_t exp(eta_t) - counts_t eta_t]
                            + lam * sum_j |weights_j|,
    eta_t = design_t . weights + intercept.

The design is passed transposed, ``design_t`` of shape (n_pixels, n_rows),
C-contiguous, so that one pixel's column is one contiguous row of memory.
Inputs are trusted (validated by the Python wrappers): float64, matching
shapes, ``durations > 0``, ``lambdas`` decreasing and positive.

``usable[j]`` is False for pixels whose column is constant
(:func:`varying_columns`, the one test for it): their weight is
pinned at 0 (the intercept absorbs them; that is the exact lasso solution
for any ``lam > 0``, because a non-zero weight on a constant column only
adds to the penalty).

Single neuron: :func:`path_newton_cd`, a proximal Newton method (glmnet):
each outer step minimises the second-order model of the NLL plus the L1
penalty by cyclic coordinate descent with the intercept profiled out
(weighted centring), over a working set (ever-active pixels, the sequential
strong rule, and every KKT violator found by a full gradient), followed by
a backtracking line search on the true objective.  Convergence is declared
on the KKT conditions of the full problem (every pixel).

The KKT test (:func:`kkt_coordinate`, :func:`kkt_violation`) and the constants
:data:`FASTMATH` and :data:`ARMIJO`, shared with the population kernels of
:mod:`sparsefield.rf._lasso_population_kernels`, are in
:mod:`sparsefield.rf._lasso_shared_kernels`; the coordinate update (soft
thresholding) is :func:`sparsefield._kernels.soft_threshold_step`.

The steps of :func:`path_newton_cd` are small helpers inlined at numba IR level
(``inline="always"``): compiled as separate functions, LLVM vectorises their
reductions and fuses their multiply-adds differently (the arrays are arguments
there, not the kernel's own allocations), which moved the path by a few units in the
last place.  Inlined, the kernel compiles to the same code as when it was one
function, and gives the same bytes.
"""

from typing import TypeAlias

from sparsefield._numba import numba

import numpy as np
from numpy.typing import NDArray

from sparsefield._kernels import soft_threshold_step
from sparsefield.rf._lasso_shared_kernels import ARMIJO, FASTMATH, kkt_coordinate, kkt_violation
from sparsefield.rf._poisson_kernels import row_terms

Floats: TypeAlias = NDArray[np.float64]
Ints: TypeAlias = NDArray[np.int64]
Bools: TypeAlias = NDArray[np.bool_]


@numba.njit(cache=True, fastmath=FASTMATH)
def _column_dot(design_t: Floats, pixel: int, values: Floats) -> float:
    """``sum_t design_t[pixel, t] * values[t]``."""
    total = 0.0
    for row in range(design_t.shape[1]):
        total += design_t[pixel, row] * values[row]
    return total


@numba.njit(cache=True)
def varying_columns(design: Floats) -> Bools:
    """Which pixels' columns take more than one value.

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_pixels), C-contiguous

    Returns
    -------
    usable : ndarray of shape (n_pixels,), bool
        False for constant columns.  Rows are compared with the first one
        and the scan stops once every column has varied (usually after the
        second row).
    """
    n_rows, n_pixels = design.shape
    usable = np.zeros(n_pixels, dtype=np.bool_)
    n_varying = 0
    for row in range(1, n_rows):
        for pixel in range(n_pixels):
            if not usable[pixel] and design[row, pixel] != design[0, pixel]:
                usable[pixel] = True
                n_varying += 1
        if n_varying == n_pixels:
            break
    return usable


@numba.njit(cache=True, fastmath=FASTMATH)
def _data_objective(eta: Floats, counts: Floats, durations: Floats, expected: Floats) -> float:
    """Mean of the NLL's data terms (:func:`row_terms`); fills ``expected``."""
    total = 0.0
    for row in range(eta.shape[0]):
        term, _, expected[row] = row_terms(eta[row], counts[row], durations[row])
        total += term
    return total / eta.shape[0]


@numba.njit(cache=True, fastmath=FASTMATH)
def full_gradient(design_t: Floats, expected: Floats, counts: Floats, gradient: Floats) -> float:
    """Gradient of the mean NLL over all pixels, and over the intercept.

    Parameters
    ----------
    design_t : ndarray of shape (n_pixels, n_rows)
    expected : ndarray of shape (n_rows,)
        ``durations * exp(eta)``.
    counts : ndarray of shape (n_rows,)
    gradient : ndarray of shape (n_pixels,)
        Output: ``mean_t (expected_t - counts_t) design_t``.

    Returns
    -------
    grad_intercept : float
    """
    n_pixels, n_rows = design_t.shape
    residual = np.empty(n_rows)
    total = 0.0
    for row in range(n_rows):
        residual[row] = expected[row] - counts[row]
        total += residual[row]
    for pixel in range(n_pixels):
        gradient[pixel] = _column_dot(design_t, pixel, residual) / n_rows
    return total / n_rows


@numba.njit(cache=True, fastmath=FASTMATH)
def _pixel_statistics(design_t: Floats, pixels: Ints, residual: Floats, weight_rows: Floats,
                      gradient: Floats, first: Floats, second: Floats) -> None:
    """One pass over the columns in ``pixels``: gradient and weighted moments.

    ``gradient[j] = mean_t residual_t x_tj``, ``first[j] = sum_t weight_rows_t x_tj``
    and ``second[j] = sum_t weight_rows_t x_tj^2`` for ``j`` in ``pixels``
    (other entries untouched).
    """
    n_rows = design_t.shape[1]
    for index in range(pixels.shape[0]):
        pixel = pixels[index]
        total_gradient = 0.0
        total_first = 0.0
        total_second = 0.0
        for row in range(n_rows):
            value = design_t[pixel, row]
            weighted = weight_rows[row] * value
            total_gradient += residual[row] * value
            total_first += weighted
            total_second += weighted * value
        gradient[pixel] = total_gradient / n_rows
        first[pixel] = total_first
        second[pixel] = total_second


@numba.njit(cache=True)
def _working_violation(gradient: Floats, grad_intercept: float, weights: Floats, lam: float,
                       active: Ints) -> float:
    """:func:`kkt_violation` restricted to the pixels in ``active``."""
    violation = abs(grad_intercept)
    for index in range(active.shape[0]):
        pixel = active[index]
        value = kkt_coordinate(gradient[pixel], weights[pixel], lam)
        if value > violation:
            violation = value
    return violation


@numba.njit(cache=True, fastmath=FASTMATH)
def _coordinate_descent(design_t: Floats, active: Ints, weight_rows: Floats, residual: Floats,
                        centres: Floats, curvatures: Floats, new_weights: Floats, lam: float,
                        inner_tol: float, max_sweeps: int) -> tuple[float, int]:
    """Cyclic coordinate descent on the weighted least-squares lasso model.

    Minimises ``1/2 sum_t weight_rows_t (r_t - x_t . delta)^2 + lam |w + delta|_1``
    over the pixels in ``active`` with the intercept profiled out (columns
    centred with the row weights).  ``residual`` holds ``weight_rows * r`` and
    is updated in place; ``new_weights`` too.

    Returns
    -------
    intercept_shift : float
        Change of the intercept implied by the profiled updates.
    n_sweeps : int
    """
    n_rows = design_t.shape[1]
    intercept_shift = 0.0
    n_sweeps = 0
    full_sweep = True
    while n_sweeps < max_sweeps:
        n_sweeps += 1
        largest = 0.0
        for index in range(active.shape[0]):
            pixel = active[index]
            if not full_sweep and new_weights[pixel] == 0.0:
                continue
            curvature = curvatures[index]
            if curvature <= 0.0:
                continue
            old = new_weights[pixel]
            score = curvature * old + _column_dot(design_t, pixel, residual)
            new = soft_threshold_step(score, lam, curvature)
            step = new - old
            if step != 0.0:
                centre = centres[index]
                for row in range(n_rows):
                    residual[row] -= step * weight_rows[row] * (design_t[pixel, row] - centre)
                intercept_shift -= step * centre
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
    return intercept_shift, n_sweeps


# ----------------------------------------------------------------------------
# Proximal Newton: the steps of one outer iteration


@numba.njit(cache=True, fastmath=FASTMATH, inline="always")
def _linear_predictor(design_t: Floats, weights: Floats, intercept: float, eta: Floats) -> None:
    """``eta = design_t' weights + intercept``, skipping zero weights (written)."""
    n_pixels, n_rows = design_t.shape
    for row in range(n_rows):
        eta[row] = intercept
    for pixel in range(n_pixels):
        if weights[pixel] != 0.0:
            for row in range(n_rows):
                eta[row] += weights[pixel] * design_t[pixel, row]


@numba.njit(cache=True, fastmath=FASTMATH, inline="always")
def _strong_rule(usable: Bools, weights: Floats, gradient: Floats, lam: float, previous: float,
                 in_working_set: Bools) -> None:
    """Add the ever-active pixels and the sequential strong rule's to the working set.

    Strong rule (Tibshirani et al. 2012): ``|gradient_j| >= 2 lam - previous``.
    """
    for pixel in range(usable.shape[0]):
        if usable[pixel] and (weights[pixel] != 0.0
                              or abs(gradient[pixel]) >= 2.0 * lam - previous):
            in_working_set[pixel] = True


@numba.njit(cache=True, fastmath=FASTMATH, inline="always")
def _working_set(usable: Bools, gradient: Floats, lam: float, in_working_set: Bools,
                 active: Ints) -> int:
    """Add the KKT violators ``|gradient_j| > lam`` to the working set and list it.

    Returns
    -------
    n_active : int
        The working set is ``active[:n_active]``, in increasing pixel order.
    """
    n_active = 0
    for pixel in range(usable.shape[0]):
        if usable[pixel] and not in_working_set[pixel] and abs(gradient[pixel]) > lam:
            in_working_set[pixel] = True
        if in_working_set[pixel]:
            active[n_active] = pixel
            n_active += 1
    return n_active


@numba.njit(cache=True, fastmath=FASTMATH, inline="always")
def _row_model(expected: Floats, counts: Floats, weight_rows: Floats, residual_counts: Floats,
               residual: Floats) -> float:
    """Row weights ``expected / n`` of the quadratic model and its working residual.

    Writes ``weight_rows``, ``residual_counts = expected - counts`` and ``residual``
    (the weighted working residual ``-(expected - counts) / n``).

    Returns
    -------
    total_weight : float
        ``sum_t weight_rows_t``.
    """
    n_rows = expected.shape[0]
    total_weight = 0.0
    for row in range(n_rows):
        weight_rows[row] = expected[row] / n_rows
        residual_counts[row] = expected[row] - counts[row]
        residual[row] = -residual_counts[row] / n_rows
        total_weight += weight_rows[row]
    return total_weight


@numba.njit(cache=True, fastmath=FASTMATH, inline="always")
def _refresh_moments(design_t: Floats, active: Ints, residual_counts: Floats, weight_rows: Floats,
                     gradient: Floats, first_moments: Floats, second_moments: Floats,
                     moment_stamp: Ints, point_stamp: int, stale: Ints) -> None:
    """Gradient and weighted column moments of the working pixels not yet at this point.

    ``moment_stamp[j] == point_stamp`` marks pixel ``j``'s moments as current;
    ``stale`` is scratch of shape (n_pixels,).
    """
    n_stale = 0
    for index in range(active.shape[0]):
        if moment_stamp[active[index]] != point_stamp:
            stale[n_stale] = active[index]
            n_stale += 1
    if n_stale > 0:
        _pixel_statistics(design_t, stale[:n_stale], residual_counts, weight_rows,
                          gradient, first_moments, second_moments)
        for index in range(n_stale):
            moment_stamp[stale[index]] = point_stamp


@numba.njit(cache=True, fastmath=FASTMATH, inline="always")
def _profile_intercept(grad_intercept: float, total_weight: float, weight_rows: Floats,
                       residual: Floats, active: Ints, first_moments: Floats,
                       second_moments: Floats, centres: Floats, curvatures: Floats) -> float:
    """Profile the intercept out of the quadratic model (weighted centring).

    Makes the weighted residual sum to zero and writes, per working pixel, its
    weighted column mean (``centres``) and centred curvature (``curvatures``).

    Returns
    -------
    intercept_shift : float
        The intercept's Newton step at zero weight change.
    """
    intercept_shift = -grad_intercept / total_weight
    for row in range(residual.shape[0]):
        residual[row] -= intercept_shift * weight_rows[row]
    for index in range(active.shape[0]):
        pixel = active[index]
        centre = first_moments[pixel] / total_weight
        centres[index] = centre
        curvatures[index] = second_moments[pixel] - total_weight * centre * centre
    return intercept_shift


@numba.njit(cache=True, fastmath=FASTMATH, inline="always")
def _step_predictor(design_t: Floats, active: Ints, weights: Floats, new_weights: Floats,
                    gradient: Floats, grad_intercept: float, intercept_shift: float, lam: float,
                    step_eta: Floats) -> float:
    """Linear predictor of the Newton direction (written) and its first-order decrease.

    Returns
    -------
    decrease : float
        ``g . d + g_b d_b + lam (|new_weights|_1 - |weights|_1)`` (negative).
    """
    n_rows = step_eta.shape[0]
    decrease = grad_intercept * intercept_shift
    for row in range(n_rows):
        step_eta[row] = intercept_shift
    for index in range(active.shape[0]):
        pixel = active[index]
        step = new_weights[pixel] - weights[pixel]
        if step != 0.0:
            decrease += gradient[pixel] * step + lam * (abs(new_weights[pixel])
                                                        - abs(weights[pixel]))
            for row in range(n_rows):
                step_eta[row] += step * design_t[pixel, row]
    return decrease


@numba.njit(cache=True, fastmath=FASTMATH, inline="always")
def _line_search(eta: Floats, step_eta: Floats, counts: Floats, durations: Floats, weights: Floats,
                 new_weights: Floats, objective: float, lam: float, decrease: float,
                 trial_eta: Floats, trial_expected: Floats) -> tuple[bool, float, float]:
    """Backtracking (Armijo) line search on ``F`` along the Newton direction.

    Writes the last trial's ``trial_eta`` and ``trial_expected``.

    Returns
    -------
    accepted : bool
    fraction : float
        Step length of the accepted trial.
    trial_objective : float
        Its data objective (0 when no trial was accepted).
    """
    n_rows = eta.shape[0]
    n_pixels = weights.shape[0]
    penalty = 0.0
    for pixel in range(n_pixels):
        penalty += abs(weights[pixel])
    current = objective + lam * penalty
    slack = 1e-13 * (abs(current) + 1.0)
    fraction = 1.0
    for _ in range(40):
        for row in range(n_rows):
            trial_eta[row] = eta[row] + fraction * step_eta[row]
        trial_objective = _data_objective(trial_eta, counts, durations, trial_expected)
        trial_penalty = 0.0
        for pixel in range(n_pixels):
            trial_penalty += abs(weights[pixel]
                                 + fraction * (new_weights[pixel] - weights[pixel]))
        trial = trial_objective + lam * trial_penalty
        if trial <= current + ARMIJO * fraction * decrease + slack:
            return True, fraction, trial_objective
        fraction *= 0.5
    return False, fraction, 0.0


@numba.njit(cache=True, fastmath=FASTMATH, inline="always")
def _take_step(fraction: float, weights: Floats, new_weights: Floats, eta: Floats,
               trial_eta: Floats, expected: Floats, trial_expected: Floats) -> None:
    """Move the weights by ``fraction`` of the direction; adopt the trial's predictor."""
    for pixel in range(weights.shape[0]):
        weights[pixel] += fraction * (new_weights[pixel] - weights[pixel])
    for row in range(eta.shape[0]):
        eta[row] = trial_eta[row]
        expected[row] = trial_expected[row]


@numba.njit(cache=True, fastmath=FASTMATH, inline="always")
def _gradient_after_step(design_t: Floats, counts: Floats, expected: Floats, weights: Floats,
                         lam: float, tol_abs: float, active: Ints, weight_rows: Floats,
                         residual_counts: Floats, gradient: Floats, first_moments: Floats,
                         second_moments: Floats, moment_stamp: Ints,
                         point_stamp: int) -> tuple[float, float]:
    """Gradient at the new point and its KKT violation.

    On the working set first (with the moments the next step needs, in the same
    pass); the full gradient (every pixel) only once the working set satisfies the
    KKT conditions.

    Returns
    -------
    grad_intercept : float
    violation : float
        Of the working set, or of every pixel once the working set's is small.
    """
    n_rows = expected.shape[0]
    total = 0.0
    for row in range(n_rows):
        weight_rows[row] = expected[row] / n_rows
        residual_counts[row] = expected[row] - counts[row]
        total += residual_counts[row]
    grad_intercept = total / n_rows
    _pixel_statistics(design_t, active, residual_counts, weight_rows, gradient,
                      first_moments, second_moments)
    for index in range(active.shape[0]):
        moment_stamp[active[index]] = point_stamp
    violation = _working_violation(gradient, grad_intercept, weights, lam, active)
    if violation <= tol_abs:
        grad_intercept = full_gradient(design_t, expected, counts, gradient)
        violation = kkt_violation(gradient, grad_intercept, weights, lam)
    return grad_intercept, violation


@numba.njit(cache=True, fastmath=FASTMATH)
def path_newton_cd(design_t: Floats, counts: Floats, durations: Floats, lambdas: Floats,
                   lambda_previous: float, usable: Bools, weights_start: Floats,
                   intercept_start: float, tol_abs: float, max_newton: int, max_sweeps: int,
                   weights_out: Floats, intercepts_out: Floats, n_iter_out: Ints,
                   kkt_out: Floats, converged_out: Bools) -> None:
    """Lasso path for one neuron by proximal Newton + coordinate descent.

    Parameters
    ----------
    design_t : ndarray of shape (n_pixels, n_rows)
        The design, transposed, C-contiguous.
    counts, durations : ndarray of shape (n_rows,)
    lambdas : ndarray of shape (n_lambdas,)
        Decreasing, positive.
    lambda_previous : float
        The penalty the start point solves (``lambda_max`` for the zero
        start); used by the strong rule at the first ``lambdas[0]``.
    usable : ndarray of shape (n_pixels,), bool
        False for constant columns (weight pinned at 0).
    weights_start : ndarray of shape (n_pixels,)
    intercept_start : float
    tol_abs : float
        Stop each penalty when the KKT violation is at most this.
    max_newton, max_sweeps : int
        Newton steps per penalty; coordinate-descent sweeps per Newton step.
    weights_out : ndarray of shape (n_lambdas, n_pixels)
    intercepts_out, kkt_out : ndarray of shape (n_lambdas,)
    n_iter_out : ndarray of shape (n_lambdas,), int64
    converged_out : ndarray of shape (n_lambdas,), bool
        Outputs.
    """
    n_pixels, n_rows = design_t.shape
    weights, intercept, previous = weights_start.copy(), intercept_start, lambda_previous
    eta, trial_eta, expected = np.empty(n_rows), np.empty(n_rows), np.empty(n_rows)
    trial_expected, weight_rows, residual = np.empty(n_rows), np.empty(n_rows), np.empty(n_rows)
    step_eta, residual_counts = np.empty(n_rows), np.empty(n_rows)
    gradient, new_weights, centres = np.empty(n_pixels), np.empty(n_pixels), np.empty(n_pixels)
    curvatures, first_moments = np.empty(n_pixels), np.empty(n_pixels)
    second_moments = np.empty(n_pixels)
    in_working_set = np.zeros(n_pixels, dtype=np.bool_)
    active = np.empty(n_pixels, dtype=np.int64)
    stale = np.empty(n_pixels, dtype=np.int64)
    # first/second moments of pixel j are valid at the current point when
    # moment_stamp[j] == point_stamp (the point changes with every step).
    moment_stamp = np.full(n_pixels, -1, dtype=np.int64)
    point_stamp = 0
    _linear_predictor(design_t, weights, intercept, eta)
    objective = _data_objective(eta, counts, durations, expected)
    grad_intercept = full_gradient(design_t, expected, counts, gradient)
    for index_lambda in range(lambdas.shape[0]):
        lam = lambdas[index_lambda]
        if index_lambda > 0 and not converged_out[index_lambda - 1]:
            # The last gradient may be stale outside the working set.
            grad_intercept = full_gradient(design_t, expected, counts, gradient)
        _strong_rule(usable, weights, gradient, lam, previous, in_working_set)
        violation = kkt_violation(gradient, grad_intercept, weights, lam)
        n_newton = 0
        while violation > tol_abs and n_newton < max_newton:
            n_newton += 1
            working = active[:_working_set(usable, gradient, lam, in_working_set, active)]
            n_active = working.shape[0]
            # Quadratic model: row weights expected/n, working residual
            # (counts - expected)/expected; stored as weight * residual.
            total_weight = _row_model(expected, counts, weight_rows, residual_counts, residual)
            _refresh_moments(design_t, working, residual_counts, weight_rows, gradient,
                             first_moments, second_moments, moment_stamp, point_stamp, stale)
            intercept_shift = _profile_intercept(grad_intercept, total_weight, weight_rows,
                                                 residual, working, first_moments,
                                                 second_moments, centres, curvatures)
            new_weights[:] = weights
            inner_tol = max(0.5 * tol_abs, 1e-2 * violation)
            shift, _ = _coordinate_descent(design_t, working, weight_rows, residual,
                                           centres[:n_active], curvatures[:n_active],
                                           new_weights, lam, inner_tol, max_sweeps)
            intercept_shift += shift
            decrease = _step_predictor(design_t, working, weights, new_weights, gradient,
                                       grad_intercept, intercept_shift, lam, step_eta)
            accepted, fraction, trial_objective = _line_search(
                eta, step_eta, counts, durations, weights, new_weights, objective, lam,
                decrease, trial_eta, trial_expected)
            if not accepted:
                break
            _take_step(fraction, weights, new_weights, eta, trial_eta, expected,
                       trial_expected)
            intercept += fraction * intercept_shift
            objective = trial_objective
            point_stamp += 1
            grad_intercept, violation = _gradient_after_step(
                design_t, counts, expected, weights, lam, tol_abs, working, weight_rows,
                residual_counts, gradient, first_moments, second_moments, moment_stamp,
                point_stamp)
        weights_out[index_lambda, :] = weights
        intercepts_out[index_lambda] = intercept
        n_iter_out[index_lambda] = n_newton
        kkt_out[index_lambda] = violation
        converged_out[index_lambda] = violation <= tol_abs
        previous = lam
