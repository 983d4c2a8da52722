"""Numba kernels of the Gabor fits (plain arrays in and out).

Four models share one Levenberg-Marquardt solver; ``kind`` picks the model and its
parameter vector (length ``N_PARAMS[kind]``, stored in a length-9 array):

===========  =====================================================================
kind         parameters, in order
===========  =====================================================================
GABOR_2D     x0, y0, sigma_x, sigma_y, theta, frequency, phase, amplitude, offset
DOG_2D       x0, y0, sigma_x, sigma_y, theta, amplitude, offset, surround, ratio
GABOR_1D     x0, sigma, frequency, phase, amplitude, offset
DOG_1D       x0, sigma, amplitude, offset, surround, ratio
===========  =====================================================================

2-D coordinates: ``x`` is the column and ``y`` the row of a pixel (0-based, row 0 at the
top); ``x' = dx cos(theta) - dy sin(theta)`` and ``y' = dx sin(theta) + dy cos(theta)``
with ``dx = x - x0``, ``dy = y - y0``, so ``theta`` is the direction of the carrier's
wave vector counter-clockwise from the +column axis as displayed (the convention of
:class:`sparsefield.rf.neuron.NeuronModel`).  Gabor:
``offset + amplitude * exp(-x'^2 / (2 sigma_x^2) - y'^2 / (2 sigma_y^2))
* cos(2 pi frequency x' + phase)``.  Difference of Gaussians (DoG), with
``q = x'^2 / sigma_x^2 + y'^2 / sigma_y^2``:
``offset + amplitude * exp(-q / 2) - surround * exp(-q / (2 ratio^2))`` (a single
Gaussian is the DoG with ``surround`` fixed at 0).  1-D: the same with ``dx`` alone.
"""

from sparsefield._numba import numba

import numpy as np
from numpy.typing import NDArray

GABOR_2D = 0
DOG_2D = 1
GABOR_1D = 2
DOG_1D = 3
#: Parameters of each model kind.
N_PARAMS = (9, 9, 6, 6)
MAX_PARAMS = 9
TWO_PI = 2.0 * np.pi


@numba.njit(cache=True)
def chain_position(jac: NDArray[np.float64], k: int, g_xp: float, g_yp: float, xp: float,
                   yp: float, cos_t: float, sin_t: float) -> None:
    """Derivatives by ``x0``, ``y0`` and ``theta`` (columns 0, 1, 4) of a 2-D model from
    its derivatives ``g_xp``, ``g_yp`` by the rotated coordinates, at pixel ``k``.
    """
    jac[k, 0] = -cos_t * g_xp - sin_t * g_yp
    jac[k, 1] = sin_t * g_xp - cos_t * g_yp
    jac[k, 4] = -yp * g_xp + xp * g_yp


@numba.njit(cache=True)
def gabor_2d(params: NDArray[np.float64], xs: NDArray[np.float64], ys: NDArray[np.float64],
             model: NDArray[np.float64], jac: NDArray[np.float64], with_jac: bool) -> None:
    """The 2-D Gabor at every pixel, and its Jacobian when ``with_jac``.

    Parameters
    ----------
    params : ndarray of shape (9,)
    xs, ys : ndarray of shape (n_pixels,)
        Column and row of each pixel.
    model : ndarray of shape (n_pixels,)
        Filled with the model.
    jac : ndarray of shape (n_pixels, 9)
        Filled with d model / d params when ``with_jac``.
    with_jac : bool
    """
    x0, y0, sx, sy, theta, freq, phase, amp, offset = params[:9]
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    ix2, iy2 = 1.0 / (sx * sx), 1.0 / (sy * sy)
    for k in range(xs.shape[0]):
        dx, dy = xs[k] - x0, ys[k] - y0
        xp = dx * cos_t - dy * sin_t
        yp = dx * sin_t + dy * cos_t
        envelope = np.exp(-0.5 * (xp * xp * ix2 + yp * yp * iy2))
        argument = TWO_PI * freq * xp + phase
        carrier_cos, carrier_sin = np.cos(argument), np.sin(argument)
        model[k] = offset + amp * envelope * carrier_cos
        if with_jac:
            aec = amp * envelope * carrier_cos
            aes = amp * envelope * carrier_sin
            g_xp = -aec * xp * ix2 - aes * TWO_PI * freq
            g_yp = -aec * yp * iy2
            chain_position(jac, k, g_xp, g_yp, xp, yp, cos_t, sin_t)
            jac[k, 2] = aec * xp * xp * ix2 / sx
            jac[k, 3] = aec * yp * yp * iy2 / sy
            jac[k, 5] = -aes * TWO_PI * xp
            jac[k, 6] = -aes
            jac[k, 7] = envelope * carrier_cos
            jac[k, 8] = 1.0


@numba.njit(cache=True)
def dog_2d(params: NDArray[np.float64], xs: NDArray[np.float64], ys: NDArray[np.float64],
           model: NDArray[np.float64], jac: NDArray[np.float64], with_jac: bool) -> None:
    """The 2-D difference of Gaussians (module docstring), and its Jacobian when
    ``with_jac``; arguments as :func:`gabor_2d`.
    """
    x0, y0, sx, sy, theta, amp, offset, surround, ratio = params[:9]
    cos_t, sin_t = np.cos(theta), np.sin(theta)
    ix2, iy2 = 1.0 / (sx * sx), 1.0 / (sy * sy)
    ir2 = 1.0 / (ratio * ratio)
    for k in range(xs.shape[0]):
        dx, dy = xs[k] - x0, ys[k] - y0
        xp = dx * cos_t - dy * sin_t
        yp = dx * sin_t + dy * cos_t
        q = xp * xp * ix2 + yp * yp * iy2
        centre = np.exp(-0.5 * q)
        outer = np.exp(-0.5 * q * ir2)
        model[k] = offset + amp * centre - surround * outer
        if with_jac:
            g_q = -0.5 * amp * centre + 0.5 * surround * outer * ir2
            chain_position(jac, k, 2.0 * g_q * xp * ix2, 2.0 * g_q * yp * iy2, xp, yp, cos_t,
                           sin_t)
            jac[k, 2] = -2.0 * g_q * xp * xp * ix2 / sx
            jac[k, 3] = -2.0 * g_q * yp * yp * iy2 / sy
            jac[k, 5] = centre
            jac[k, 6] = 1.0
            jac[k, 7] = -outer
            jac[k, 8] = -surround * outer * q * ir2 / ratio


@numba.njit(cache=True)
def gabor_1d(params: NDArray[np.float64], xs: NDArray[np.float64], ys: NDArray[np.float64],
             model: NDArray[np.float64], jac: NDArray[np.float64], with_jac: bool) -> None:
    """The 1-D Gabor at every position ``xs`` (``ys`` unused), and its Jacobian
    (columns 0-5) when ``with_jac``.
    """
    x0, sigma, freq, phase, amp, offset = params[:6]
    is2 = 1.0 / (sigma * sigma)
    for k in range(xs.shape[0]):
        dx = xs[k] - x0
        envelope = np.exp(-0.5 * dx * dx * is2)
        argument = TWO_PI * freq * dx + phase
        carrier_cos, carrier_sin = np.cos(argument), np.sin(argument)
        model[k] = offset + amp * envelope * carrier_cos
        if with_jac:
            aec = amp * envelope * carrier_cos
            aes = amp * envelope * carrier_sin
            jac[k, 0] = aec * dx * is2 + aes * TWO_PI * freq
            jac[k, 1] = aec * dx * dx * is2 / sigma
            jac[k, 2] = -aes * TWO_PI * dx
            jac[k, 3] = -aes
            jac[k, 4] = envelope * carrier_cos
            jac[k, 5] = 1.0


@numba.njit(cache=True)
def dog_1d(params: NDArray[np.float64], xs: NDArray[np.float64], ys: NDArray[np.float64],
           model: NDArray[np.float64], jac: NDArray[np.float64], with_jac: bool) -> None:
    """The 1-D difference of Gaussians at every position ``xs`` (``ys`` unused), and its
    Jacobian (columns 0-5) when ``with_jac``.
    """
    x0, sigma, amp, offset, surround, ratio = params[:6]
    is2 = 1.0 / (sigma * sigma)
    ir2 = 1.0 / (ratio * ratio)
    for k in range(xs.shape[0]):
        dx = xs[k] - x0
        q = dx * dx * is2
        centre = np.exp(-0.5 * q)
        outer = np.exp(-0.5 * q * ir2)
        model[k] = offset + amp * centre - surround * outer
        if with_jac:
            g_q = -0.5 * amp * centre + 0.5 * surround * outer * ir2
            jac[k, 0] = -2.0 * g_q * dx * is2
            jac[k, 1] = -2.0 * g_q * q / sigma
            jac[k, 2] = centre
            jac[k, 3] = 1.0
            jac[k, 4] = -outer
            jac[k, 5] = -surround * outer * q * ir2 / ratio


@numba.njit(cache=True)
def evaluate(kind: int, params: NDArray[np.float64], xs: NDArray[np.float64],
             ys: NDArray[np.float64], model: NDArray[np.float64], jac: NDArray[np.float64],
             with_jac: bool) -> None:
    """The model ``kind`` (module docstring) and, when ``with_jac``, its Jacobian."""
    if kind == GABOR_2D:
        gabor_2d(params, xs, ys, model, jac, with_jac)
    elif kind == DOG_2D:
        dog_2d(params, xs, ys, model, jac, with_jac)
    elif kind == GABOR_1D:
        gabor_1d(params, xs, ys, model, jac, with_jac)
    else:
        dog_1d(params, xs, ys, model, jac, with_jac)


@numba.njit(cache=True)
def evaluate_many(kind: int, params: NDArray[np.float64], xs: NDArray[np.float64],
                  ys: NDArray[np.float64], models: NDArray[np.float64],
                  jacs: NDArray[np.float64], with_jac: bool) -> None:
    """:func:`evaluate` for each row of ``params`` (n_sets, 9) into ``models``
    (n_sets, n_pixels) and, when ``with_jac``, ``jacs`` (n_sets, n_pixels, 9)
    (otherwise ``jacs`` may hold one set, unused).
    """
    for i in range(params.shape[0]):
        evaluate(kind, params[i], xs, ys, models[i], jacs[i if with_jac else 0], with_jac)


@numba.njit(cache=True)
def squared_error(model: NDArray[np.float64], data: NDArray[np.float64]) -> float:
    """``sum((model - data)**2)``."""
    total = 0.0
    for k in range(data.shape[0]):
        difference = model[k] - data[k]
        total += difference * difference
    return total


@numba.njit(cache=True)
def cholesky_solve(matrix: NDArray[np.float64], rhs: NDArray[np.float64], m: int,
                   out: NDArray[np.float64]) -> bool:
    """Solve ``matrix[:m, :m] @ out[:m] = rhs[:m]`` for a symmetric positive definite
    matrix (lower triangle read; overwritten by its Cholesky factor).

    Returns
    -------
    bool
        False when the matrix is not numerically positive definite.
    """
    for j in range(m):
        total = matrix[j, j]
        for p in range(j):
            total -= matrix[j, p] * matrix[j, p]
        if not total > 1e-300:
            return False
        matrix[j, j] = np.sqrt(total)
        for i in range(j + 1, m):
            total = matrix[i, j]
            for p in range(j):
                total -= matrix[i, p] * matrix[j, p]
            matrix[i, j] = total / matrix[j, j]
    for i in range(m):
        total = rhs[i]
        for p in range(i):
            total -= matrix[i, p] * out[p]
        out[i] = total / matrix[i, i]
    for i in range(m - 1, -1, -1):
        total = out[i]
        for p in range(i + 1, m):
            total -= matrix[p, i] * out[p]
        out[i] = total / matrix[i, i]
    return True


@numba.njit(cache=True)
def normal_equations(jac: NDArray[np.float64], residual: NDArray[np.float64],
                     free: NDArray[np.bool_], jtj: NDArray[np.float64],
                     gradient: NDArray[np.float64]) -> None:
    """``J^T J`` and ``J^T r`` of a Jacobian (n_pixels, m) into ``jtj`` (m, m) and
    ``gradient`` (m,); a fixed parameter gets a unit diagonal and no coupling, so its
    step is 0.
    """
    m = jac.shape[1]
    jtj[:, :] = jac.T @ jac
    gradient[:] = jac.T @ residual
    for i in range(m):
        if not free[i]:
            gradient[i] = 0.0
            for j in range(m):
                jtj[i, j] = 0.0
                jtj[j, i] = 0.0
            jtj[i, i] = 1.0


@numba.njit(cache=True)
def levenberg_marquardt(kind: int, data: NDArray[np.float64], xs: NDArray[np.float64],
                        ys: NDArray[np.float64], params: NDArray[np.float64],
                        free: NDArray[np.bool_], lower: NDArray[np.float64],
                        upper: NDArray[np.float64], max_iter: int, tol: float) -> float:
    """Least squares of the model ``kind`` to ``data`` from ``params`` (updated in place).

    Marquardt's damping, ``(J^T J + lam diag(J^T J)) step = -J^T r``, with Nielsen's
    (1999) update of ``lam``: a step that lowers the squared error is taken and ``lam``
    shrinks by ``max(1/3, 1 - (2 rho - 1)^3)`` (``rho``: actual over predicted
    decrease), otherwise ``lam`` grows by ``nu`` (2, doubled at each failure in a row)
    and the step is solved again (up to 12 times).  Parameters are clipped to
    ``[lower, upper]`` after each step.  Stops after ``max_iter`` steps, when no
    damping lowers the error, or when a step lowers it by less than ``tol`` times
    itself.

    Returns
    -------
    float
        The squared error ``sum((model - data)**2)`` at the final ``params``.
    """
    n = data.shape[0]
    m = N_PARAMS[kind]
    model = np.empty(n)
    trial_model = np.empty(n)
    residual = np.empty(n)
    jac = np.empty((n, m))
    trial_jac = np.empty((n, m))
    jtj = np.empty((m, m))
    damped = np.empty((m, m))
    gradient = np.empty(m)
    step = np.empty(m)
    trial = params.copy()
    evaluate(kind, params, xs, ys, model, jac, True)
    cost = squared_error(model, data)
    lam = 1e-3
    nu = 2.0
    for _ in range(max_iter):
        for k in range(n):
            residual[k] = data[k] - model[k]
        normal_equations(jac, residual, free, jtj, gradient)
        largest = 0.0
        for i in range(m):
            largest = max(largest, jtj[i, i])
        improved = False
        trial_cost = cost
        for _attempt in range(12):
            for i in range(m):
                for j in range(i + 1):
                    damped[i, j] = jtj[i, j]
                damped[i, i] += lam * max(jtj[i, i], 1e-12 * largest)
            if cholesky_solve(damped, gradient, m, step):
                for i in range(m):
                    trial[i] = min(max(params[i] + step[i], lower[i]), upper[i])
                # The trial's Jacobian too: most trials are taken.
                evaluate(kind, trial, xs, ys, trial_model, trial_jac, True)
                trial_cost = squared_error(trial_model, data)
                if trial_cost < cost:
                    improved = True
                    break
            lam *= nu
            nu *= 2.0
        if not improved:
            break
        decrease = cost - trial_cost
        predicted = 0.0
        for i in range(m):
            predicted += step[i] * (lam * max(jtj[i, i], 1e-12 * largest) * step[i]
                                    + gradient[i])
        rho = decrease / predicted if predicted > 0.0 else 1.0
        lam = max(lam * max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3), 1e-12)
        nu = 2.0
        params[:m] = trial[:m]
        cost = trial_cost
        model, trial_model = trial_model, model
        jac, trial_jac = trial_jac, jac
        if decrease <= tol * cost:
            break
    return cost


@numba.njit(cache=True, parallel=True)
def fit_many(kind: int, maps: NDArray[np.float64], xs: NDArray[np.float64],
             ys: NDArray[np.float64], starts: NDArray[np.float64], free: NDArray[np.bool_],
             lower: NDArray[np.float64], upper: NDArray[np.float64], screen_iter: int,
             n_keep: int, max_iter: int, tol: float, best: NDArray[np.float64],
             best_cost: NDArray[np.float64]) -> None:
    """Fit every map from each of its starts and keep the lowest squared error.

    Every start is refined for ``screen_iter`` steps; the ``n_keep`` best of them go on
    for up to ``max_iter`` steps more (``screen_iter = 0``: every start goes on).

    Parameters
    ----------
    kind : int
        Model (module docstring).
    maps : ndarray of shape (n_maps, n_pixels)
    xs, ys : ndarray of shape (n_pixels,)
    starts : ndarray of shape (n_maps, n_starts, 9)
        Start parameters (overwritten by the refined ones).
    free : ndarray of shape (9,), bool
        Parameters to fit; the others stay at their start values.
    lower, upper : ndarray of shape (n_maps, 9)
        Box of each map's parameters.
    screen_iter, n_keep, max_iter : int
    tol : float
        As in :func:`levenberg_marquardt`.
    best : ndarray of shape (n_maps, 9)
        Filled with the best parameters.
    best_cost : ndarray of shape (n_maps,)
        Filled with their squared errors.
    """
    n_maps, n_starts = starts.shape[0], starts.shape[1]
    for i in numba.prange(n_maps):
        costs = np.empty(n_starts)
        first = screen_iter if screen_iter > 0 else max_iter
        for s in range(n_starts):
            costs[s] = levenberg_marquardt(kind, maps[i], xs, ys, starts[i, s], free,
                                           lower[i], upper[i], first, tol)
        order = np.argsort(costs)
        if screen_iter > 0:
            for r in range(min(n_keep, n_starts)):
                s = order[r]
                costs[s] = levenberg_marquardt(kind, maps[i], xs, ys, starts[i, s], free,
                                               lower[i], upper[i], max_iter, tol)
            order = np.argsort(costs)
        best[i, :] = starts[i, order[0]]
        best_cost[i] = costs[order[0]]


@numba.njit(cache=True)
def linear_gabor_start(map_values: NDArray[np.float64], xs: NDArray[np.float64],
                       ys: NDArray[np.float64], params: NDArray[np.float64], kind: int) -> None:
    """Set a Gabor start's phase, amplitude and offset by linear least squares, its
    envelope and carrier held (``kind``: GABOR_2D or GABOR_1D; ``params`` in place).

    The model is linear in ``(a, b, offset)`` with ``a = A cos(phase)`` and
    ``b = A sin(phase)``: ``offset + envelope (a cos(u) - b sin(u))``.
    """
    n = xs.shape[0]
    basis = np.empty((n, 3))
    model = np.empty(n)
    jac = np.zeros((n, MAX_PARAMS))
    trial = params.copy()
    if kind == GABOR_2D:
        i_phase, i_amp, i_offset = 6, 7, 8
    else:
        i_phase, i_amp, i_offset = 3, 4, 5
    trial[i_offset] = 0.0
    trial[i_amp] = 1.0
    trial[i_phase] = 0.0
    evaluate(kind, trial, xs, ys, model, jac, False)
    basis[:, 0] = model
    trial[i_phase] = 0.5 * np.pi
    evaluate(kind, trial, xs, ys, model, jac, False)
    basis[:, 1] = model  # -envelope sin(u)
    basis[:, 2] = 1.0
    gram = np.zeros((3, 3))
    rhs = np.zeros(3)
    for k in range(n):
        for i in range(3):
            rhs[i] += basis[k, i] * map_values[k]
            for j in range(i + 1):
                gram[i, j] += basis[k, i] * basis[k, j]
    for i in range(3):
        gram[i, i] += 1e-9 * (gram[i, i] + 1e-12)
    solution = np.zeros(3)
    if not cholesky_solve(gram, rhs, 3, solution):
        solution[:] = 0.0
    params[i_amp] = np.hypot(solution[0], solution[1])
    params[i_phase] = np.arctan2(solution[1], solution[0])
    params[i_offset] = solution[2]


@numba.njit(cache=True)
def linear_gabor_starts(maps: NDArray[np.float64], xs: NDArray[np.float64],
                        ys: NDArray[np.float64], starts: NDArray[np.float64], kind: int) -> None:
    """:func:`linear_gabor_start` for every start (n_maps, n_starts, 9) of every map."""
    for i in range(starts.shape[0]):
        for s in range(starts.shape[1]):
            linear_gabor_start(maps[i], xs, ys, starts[i, s], kind)


@numba.njit(cache=True)
def linear_dog_start(map_values: NDArray[np.float64], xs: NDArray[np.float64],
                     ys: NDArray[np.float64], params: NDArray[np.float64], kind: int,
                     with_surround: bool) -> None:
    """Set a difference of Gaussians' amplitude, offset and (``with_surround``)
    surround by linear least squares, the envelope held (``kind``: DOG_2D or DOG_1D;
    ``params`` in place; without surround it is set to 0).
    """
    n = xs.shape[0]
    n_columns = 3 if with_surround else 2
    basis = np.empty((n, 3))
    model = np.empty(n)
    jac = np.zeros((n, MAX_PARAMS))
    trial = params.copy()
    if kind == DOG_2D:
        i_amp, i_offset, i_surround = 5, 6, 7
    else:
        i_amp, i_offset, i_surround = 2, 3, 4
    trial[i_offset] = 0.0
    trial[i_amp] = 1.0
    trial[i_surround] = 0.0
    evaluate(kind, trial, xs, ys, model, jac, False)
    basis[:, 0] = model
    basis[:, 1] = 1.0
    if with_surround:
        trial[i_amp] = 0.0
        trial[i_surround] = -1.0
        evaluate(kind, trial, xs, ys, model, jac, False)
        basis[:, 2] = model  # + the surround's Gaussian
    gram = np.zeros((3, 3))
    rhs = np.zeros(3)
    for k in range(n):
        for i in range(n_columns):
            rhs[i] += basis[k, i] * map_values[k]
            for j in range(i + 1):
                gram[i, j] += basis[k, i] * basis[k, j]
    for i in range(n_columns):
        gram[i, i] += 1e-9 * (gram[i, i] + 1e-12)
    solution = np.zeros(3)
    if not cholesky_solve(gram, rhs, n_columns, solution):
        solution[:] = 0.0
    params[i_amp] = solution[0]
    params[i_offset] = solution[1]
    params[i_surround] = -solution[2]


@numba.njit(cache=True)
def linear_dog_starts(maps: NDArray[np.float64], xs: NDArray[np.float64],
                      ys: NDArray[np.float64], starts: NDArray[np.float64], kind: int,
                      with_surround: bool) -> None:
    """:func:`linear_dog_start` for every start (n_maps, n_starts, 9) of every map."""
    for i in range(starts.shape[0]):
        for s in range(starts.shape[1]):
            linear_dog_start(maps[i], xs, ys, starts[i, s], kind, with_surround)
