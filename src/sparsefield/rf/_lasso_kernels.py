"""Numba kernels for the Poisson lasso of :mod:`sparsefield.rf.lasso`.

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

Population: :func:`population_direction` and friends serve the batched
solver in :mod:`sparsefield.rf.lasso`, whose products with the shared
design are BLAS matrix-matrix products done in Python.
"""

from sparsefield._numba import numba
import numpy as np

from sparsefield.rf._poisson_kernels import row_terms

# Reassociation lets LLVM vectorise the reductions; no-NaN/no-Inf flags are
# left out because the line search relies on exp() overflowing to inf.
_FAST = {"reassoc", "contract", "nsz", "arcp"}

# Armijo constant of the line searches.
_ARMIJO = 1e-4


@numba.njit(cache=True, fastmath=_FAST)
def _column_dot(design_t, pixel, values):
    """``sum_t design_t[pixel, t] * values[t]``."""
    total = 0.0
    for row in range(design_t.shape[1]):
        total += design_t[pixel, row] * values[row]
    return total


@numba.njit(cache=True)
def varying_columns(design):
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


@numba.njit(cache=True, fastmath=_FAST)
def _data_objective(eta, counts, durations, expected):
    """Mean of the NLL's data terms (:func:`row_terms`); fills ``expected``."""
    total = 0.0
    for row in range(eta.shape[0]):
        term, _, expected[row] = row_terms(eta[row], counts[row], durations[row])
        total += term
    return total / eta.shape[0]


@numba.njit(cache=True, fastmath=_FAST)
def full_gradient(design_t, expected, counts, gradient):
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


@numba.njit(cache=True, fastmath=_FAST)
def _pixel_statistics(design_t, pixels, residual, weight_rows, gradient, first, second):
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


@numba.njit(cache=True, inline="always")
def soft_threshold_step(score, lam, curvature):
    """Coordinate minimiser of ``curvature/2 w^2 - score w + lam |w|``.

    The one place the lasso's coordinate update (soft thresholding) is written.

    Parameters
    ----------
    score : float
        ``curvature * old_weight - gradient`` of the quadratic model.
    lam : float
    curvature : float
        Positive.

    Returns
    -------
    weight : float
    """
    if score > lam:
        return (score - lam) / curvature
    if score < -lam:
        return (score + lam) / curvature
    return 0.0


@numba.njit(cache=True, inline="always")
def kkt_coordinate(gradient, weight, lam):
    """Violation of one pixel's lasso optimality condition; the one place the rule is written.

    For a non-zero weight the condition is ``gradient + lam sign(weight) = 0``,
    for a zero weight ``|gradient| <= lam``.

    Parameters
    ----------
    gradient : float
        The NLL's partial derivative in the pixel's weight.
    weight : float
    lam : float

    Returns
    -------
    violation : float
        ``|gradient + lam sign(weight)|``, or ``|gradient| - lam`` (negative
        when the condition holds with room) for a zero weight.
    """
    if weight > 0.0:
        return abs(gradient + lam)
    if weight < 0.0:
        return abs(gradient - lam)
    return abs(gradient) - lam


@numba.njit(cache=True)
def _working_violation(gradient, grad_intercept, weights, lam, active):
    """:func:`kkt_violation` restricted to the pixels in ``active``."""
    violation = abs(grad_intercept)
    for index in range(active.shape[0]):
        pixel = active[index]
        value = kkt_coordinate(gradient[pixel], weights[pixel], lam)
        if value > violation:
            violation = value
    return violation


@numba.njit(cache=True)
def kkt_violation(gradient, grad_intercept, weights, lam):
    """Largest violation of the lasso optimality conditions.

    :func:`kkt_coordinate` over every pixel, and ``|grad_intercept|`` for the
    intercept (its condition is ``grad_intercept = 0``).

    Parameters
    ----------
    gradient : ndarray of shape (n_pixels,)
    grad_intercept : float
    weights : ndarray of shape (n_pixels,)
    lam : float

    Returns
    -------
    violation : float
    """
    violation = abs(grad_intercept)
    for pixel in range(weights.shape[0]):
        value = kkt_coordinate(gradient[pixel], weights[pixel], lam)
        if value > violation:
            violation = value
    return violation


@numba.njit(cache=True)
def kkt_violation_rows(gradient, grad_intercept, weights, lams, todo, violation):
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


@numba.njit(cache=True, fastmath=_FAST)
def _coordinate_descent(design_t, active, weight_rows, residual, centres, curvatures,
                        new_weights, lam, inner_tol, max_sweeps):
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


@numba.njit(cache=True, fastmath=_FAST)
def path_newton_cd(design_t, counts, durations, lambdas, lambda_previous, usable,
                   weights_start, intercept_start, tol_abs, max_newton, max_sweeps,
                   weights_out, intercepts_out, n_iter_out, kkt_out, converged_out):
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
    weights = weights_start.copy()
    intercept = intercept_start
    eta = np.empty(n_rows)
    trial_eta = np.empty(n_rows)
    expected = np.empty(n_rows)
    trial_expected = np.empty(n_rows)
    weight_rows = np.empty(n_rows)
    residual = np.empty(n_rows)
    step_eta = np.empty(n_rows)
    gradient = np.empty(n_pixels)
    new_weights = np.empty(n_pixels)
    in_working_set = np.zeros(n_pixels, dtype=np.bool_)
    active = np.empty(n_pixels, dtype=np.int64)
    stale = np.empty(n_pixels, dtype=np.int64)
    centres = np.empty(n_pixels)
    curvatures = np.empty(n_pixels)
    first_moments = np.empty(n_pixels)
    second_moments = np.empty(n_pixels)
    residual_counts = np.empty(n_rows)
    # first/second moments of pixel j are valid at the current point when
    # moment_stamp[j] == point_stamp (the point changes with every step).
    moment_stamp = np.full(n_pixels, -1, dtype=np.int64)
    point_stamp = 0
    previous = lambda_previous

    for row in range(n_rows):
        eta[row] = intercept
    for pixel in range(n_pixels):
        if weights[pixel] != 0.0:
            for row in range(n_rows):
                eta[row] += weights[pixel] * design_t[pixel, row]
    objective = _data_objective(eta, counts, durations, expected)
    grad_intercept = full_gradient(design_t, expected, counts, gradient)
    for index_lambda in range(lambdas.shape[0]):
        lam = lambdas[index_lambda]
        if index_lambda > 0 and not converged_out[index_lambda - 1]:
            # The last gradient may be stale outside the working set.
            grad_intercept = full_gradient(design_t, expected, counts, gradient)
        # Sequential strong rule (Tibshirani et al. 2012) plus the ever-active set.
        for pixel in range(n_pixels):
            if usable[pixel] and (weights[pixel] != 0.0
                                  or abs(gradient[pixel]) >= 2.0 * lam - previous):
                in_working_set[pixel] = True
        violation = kkt_violation(gradient, grad_intercept, weights, lam)
        n_newton = 0
        while violation > tol_abs and n_newton < max_newton:
            n_newton += 1
            n_active = 0
            for pixel in range(n_pixels):
                if usable[pixel] and not in_working_set[pixel] and abs(gradient[pixel]) > lam:
                    in_working_set[pixel] = True
                if in_working_set[pixel]:
                    active[n_active] = pixel
                    n_active += 1
            # Quadratic model: row weights expected/n, working residual
            # (counts - expected)/expected; stored as weight * residual.
            total_weight = 0.0
            for row in range(n_rows):
                weight_rows[row] = expected[row] / n_rows
                residual_counts[row] = expected[row] - counts[row]
                residual[row] = -residual_counts[row] / n_rows
                total_weight += weight_rows[row]
            n_stale = 0
            for index in range(n_active):
                if moment_stamp[active[index]] != point_stamp:
                    stale[n_stale] = active[index]
                    n_stale += 1
            if n_stale > 0:
                _pixel_statistics(design_t, stale[:n_stale], residual_counts, weight_rows,
                                  gradient, first_moments, second_moments)
                for index in range(n_stale):
                    moment_stamp[stale[index]] = point_stamp
            # Profile the intercept: make the weighted residual sum to zero.
            intercept_shift = -grad_intercept / total_weight
            for row in range(n_rows):
                residual[row] -= intercept_shift * weight_rows[row]
            for index in range(n_active):
                pixel = active[index]
                centre = first_moments[pixel] / total_weight
                centres[index] = centre
                curvatures[index] = second_moments[pixel] - total_weight * centre * centre
            for pixel in range(n_pixels):
                new_weights[pixel] = weights[pixel]
            inner_tol = max(0.5 * tol_abs, 1e-2 * violation)
            shift, _ = _coordinate_descent(design_t, active[:n_active], weight_rows, residual,
                                           centres[:n_active], curvatures[:n_active],
                                           new_weights, lam, inner_tol, max_sweeps)
            intercept_shift += shift
            # Direction and its linear predictor.
            decrease = grad_intercept * intercept_shift
            for row in range(n_rows):
                step_eta[row] = intercept_shift
            for index in range(n_active):
                pixel = active[index]
                step = new_weights[pixel] - weights[pixel]
                if step != 0.0:
                    decrease += gradient[pixel] * step + lam * (abs(new_weights[pixel])
                                                                - abs(weights[pixel]))
                    for row in range(n_rows):
                        step_eta[row] += step * design_t[pixel, row]
            penalty = 0.0
            for pixel in range(n_pixels):
                penalty += abs(weights[pixel])
            current = objective + lam * penalty
            slack = 1e-13 * (abs(current) + 1.0)
            fraction = 1.0
            accepted = False
            for _ in range(40):
                for row in range(n_rows):
                    trial_eta[row] = eta[row] + fraction * step_eta[row]
                trial_objective = _data_objective(trial_eta, counts, durations, trial_expected)
                trial_penalty = 0.0
                for pixel in range(n_pixels):
                    trial_penalty += abs(weights[pixel]
                                         + fraction * (new_weights[pixel] - weights[pixel]))
                trial = trial_objective + lam * trial_penalty
                if trial <= current + _ARMIJO * fraction * decrease + slack:
                    accepted = True
                    break
                fraction *= 0.5
            if not accepted:
                break
            for pixel in range(n_pixels):
                weights[pixel] += fraction * (new_weights[pixel] - weights[pixel])
            intercept += fraction * intercept_shift
            for row in range(n_rows):
                eta[row] = trial_eta[row]
                expected[row] = trial_expected[row]
            objective = trial_objective
            # Gradient on the working set first (with the moments the next
            # step needs, in the same pass); the full gradient (every pixel)
            # only once the working set satisfies the KKT conditions.
            point_stamp += 1
            total = 0.0
            for row in range(n_rows):
                weight_rows[row] = expected[row] / n_rows
                residual_counts[row] = expected[row] - counts[row]
                total += residual_counts[row]
            grad_intercept = total / n_rows
            _pixel_statistics(design_t, active[:n_active], residual_counts, weight_rows,
                              gradient, first_moments, second_moments)
            for index in range(n_active):
                moment_stamp[active[index]] = point_stamp
            violation = _working_violation(gradient, grad_intercept, weights, lam,
                                           active[:n_active])
            if violation <= tol_abs:
                grad_intercept = full_gradient(design_t, expected, counts, gradient)
                violation = kkt_violation(gradient, grad_intercept, weights, lam)
        for pixel in range(n_pixels):
            weights_out[index_lambda, pixel] = weights[pixel]
        intercepts_out[index_lambda] = intercept
        n_iter_out[index_lambda] = n_newton
        kkt_out[index_lambda] = violation
        converged_out[index_lambda] = violation <= tol_abs
        previous = lam


# ----------------------------------------------------------------------------
# Population: many neurons, one shared (centred) design.
#
# Arrays with a leading ``n_neurons`` axis hold one neuron per row.  Arrays
# with a leading ``n_todo`` axis are compact: row ``index`` belongs to neuron
# ``todo[index]`` (the neurons still iterating at the current penalty).


@numba.njit(cache=True, fastmath=_FAST)
def _neuron_state(eta, counts, durations, residual):
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
def population_start(eta, counts, durations, residual, objective, grad_intercept, scale):
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
def gather_rows(source, todo, out):
    """``out[index] = source[todo[index]]`` (a parallel copy for the products).

    Parameters
    ----------
    source : ndarray of shape (n_neurons, n_rows)
    todo : ndarray of shape (n_todo,), int64
    out : ndarray of shape (n_todo, n_rows)
    """
    for index in numba.prange(todo.shape[0]):
        out[index, :] = source[todo[index], :]


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def population_directions(gram, scale, coupling, gradient, grad_intercept, weights, lams,
                          working, todo, inner_tol, max_sweeps, new_weights,
                          intercept_step, decrease):
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
            if largest < inner_tol[index]:
                if full_sweep:
                    break
                full_sweep = True
            else:
                full_sweep = False
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


@numba.njit(cache=True, parallel=True, fastmath=_FAST)
def population_line_search(eta, residual, counts, durations, weights, intercepts, objective,
                           grad_intercept, scale, todo, step_eta, new_weights,
                           intercept_step, decrease, lams, accepted):
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
                    <= current + _ARMIJO * fraction * decrease[index] + slack):
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
