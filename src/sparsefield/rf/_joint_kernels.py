"""Numba kernels of the joint space-time Poisson GLM (:mod:`sparsefield.rf.joint`).

Plain arrays in and out; inputs are trusted (float64, C-contiguous, matching shapes).

Layout of the joint design (one row per count frame kept): column ``j * n_pixels + p``
is pixel ``p``'s stimulus filtered by temporal basis ``j`` over lags ``0 ..
n_lags - 1``; the ``n_history`` columns after them are the unit's own past counts
filtered by the post-spike basis over lags ``1 .. n_history_lags``.

The solver kernels work on the design **centred on the fly**: with ``centre`` the
column means, ``x~_t = x_t - centre``, so the design is read as it is (never copied)
and the intercept decouples from the weights in the Hessian.
"""

import math

from sparsefield._numba import numba

import numpy as np
from numpy.typing import NDArray

# Rows per block (as in _poisson_kernels): a block of the design stays in cache between
# its matrix-vector product and the accumulation of the transposed product.
_BLOCK_ROWS = 128


@numba.njit(cache=True, parallel=True)
def stimulus_columns(stimulus: NDArray[np.float64], basis: NDArray[np.float64],
                     frames: NDArray[np.int64], design: NDArray[np.float64]) -> None:
    """Each pixel's stimulus filtered by each basis over lags, at the kept frames.

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels)
    basis : ndarray of shape (n_lags, n_bases)
        Row ``k`` is lag ``k``.
    frames : ndarray of shape (n_rows,), int64
        Count frames kept, each ``>= n_lags - 1``.
    design : ndarray of shape (n_rows, >= n_bases * n_pixels)
        Output: ``design[r, j * n_pixels + p] = sum_k basis[k, j] *
        stimulus[frames[r] - k, p]``; other columns untouched.
    """
    n_lags, n_bases = basis.shape
    n_pixels = stimulus.shape[1]
    for row in numba.prange(frames.shape[0]):
        frame = frames[row]
        for column in range(n_bases * n_pixels):
            design[row, column] = 0.0
        for lag in range(n_lags):
            source = frame - lag
            for j in range(n_bases):
                weight = basis[lag, j]
                if weight != 0.0:
                    offset = j * n_pixels
                    for pixel in range(n_pixels):
                        design[row, offset + pixel] += weight * stimulus[source, pixel]


@numba.njit(cache=True)
def history_columns(counts: NDArray[np.float64], history_basis: NDArray[np.float64],
                    frames: NDArray[np.int64], first_column: int,
                    design: NDArray[np.float64]) -> None:
    """The unit's own past counts filtered by the post-spike basis (lags >= 1).

    Parameters
    ----------
    counts : ndarray of shape (n_frames,)
        All frames' counts.
    history_basis : ndarray of shape (n_history_lags, n_history)
        Row ``m`` is lag ``m + 1``.
    frames : ndarray of shape (n_rows,), int64
        Count frames kept, each ``>= n_history_lags``.
    first_column : int
        Column of the first history basis.
    design : ndarray of shape (n_rows, >= first_column + n_history)
        Output: ``design[r, first_column + j] = sum_m history_basis[m, j] *
        counts[frames[r] - m - 1]``.
    """
    n_history_lags, n_history = history_basis.shape
    for row in range(frames.shape[0]):
        frame = frames[row]
        for j in range(n_history):
            total = 0.0
            for m in range(n_history_lags):
                total += history_basis[m, j] * counts[frame - m - 1]
            design[row, first_column + j] = total


@numba.njit(cache=True)
def hessian_vector(design: NDArray[np.float64], centre: NDArray[np.float64],
                   expected: NDArray[np.float64], vector: NDArray[np.float64],
                   vector_intercept: float, out: NDArray[np.float64]) -> float:
    """Product of the Poisson Hessian (centred design, intercept included) with a vector.

    ``H = [X~ 1]' diag(expected) [X~ 1] / n_rows``; one pass over ``design``.

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_columns)
    centre : ndarray of shape (n_columns,)
        Column means (the centring).
    expected : ndarray of shape (n_rows,)
        Model mean counts ``mu_t``.
    vector : ndarray of shape (n_columns,)
        Weight part of the vector.
    vector_intercept : float
        Intercept part.
    out : ndarray of shape (n_columns,)
        Output, overwritten: weight part of ``H v``.

    Returns
    -------
    out_intercept : float
        Intercept part of ``H v``.
    """
    n_rows, n_columns = design.shape
    shift = vector_intercept
    for column in range(n_columns):
        shift -= centre[column] * vector[column]
        out[column] = 0.0
    total = 0.0
    for start in range(0, n_rows, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, n_rows)
        linear = np.dot(design[start:stop], vector)
        for offset in range(stop - start):
            row = start + offset
            weight = expected[row] * (linear[offset] + shift)
            total += weight
            for column in range(n_columns):
                out[column] += weight * design[row, column]
    for column in range(n_columns):
        out[column] = (out[column] - centre[column] * total) / n_rows
    return total / n_rows


@numba.njit(cache=True)
def block_hessian(design: NDArray[np.float64], centre: NDArray[np.float64],
                  expected: NDArray[np.float64], n_bases: int, n_pixels: int,
                  pixel_blocks: NDArray[np.float64], tail_block: NDArray[np.float64]) -> None:
    """The pixel blocks and the tail block of the Poisson Hessian (centred design).

    Pixel ``p``'s block couples its ``n_bases`` columns ``j * n_pixels + p``; the
    tail block couples the columns after the stimulus ones (post-spike bases) and
    the intercept (last).  Everything else (between pixels, between a pixel and
    the tail) is left out: the block-Jacobi preconditioner of
    :mod:`sparsefield.rf.joint_newton`.

    Parameters
    ----------
    design : ndarray of shape (n_rows, n_bases * n_pixels + n_tail)
    centre : ndarray of shape (n_bases * n_pixels + n_tail,)
    expected : ndarray of shape (n_rows,)
    n_bases, n_pixels : int
    pixel_blocks : ndarray of shape (n_bases, n_bases, n_pixels)
        Output, overwritten: ``[j, i, p]`` is the Hessian entry between columns
        ``j * n_pixels + p`` and ``i * n_pixels + p``.
    tail_block : ndarray of shape (n_tail + 1, n_tail + 1)
        Output, overwritten; the intercept last.
    """
    n_rows, n_columns = design.shape
    n_stimulus = n_bases * n_pixels
    n_tail = n_columns - n_stimulus
    pixel_blocks[:] = 0.0
    tail_block[:] = 0.0
    centred = np.empty(n_columns + 1)
    centred[n_columns] = 1.0
    for row in range(n_rows):
        weight = expected[row]
        for column in range(n_columns):
            centred[column] = design[row, column] - centre[column]
        for j in range(n_bases):
            for i in range(j + 1):
                for pixel in range(n_pixels):
                    pixel_blocks[j, i, pixel] += (weight * centred[j * n_pixels + pixel]
                                                  * centred[i * n_pixels + pixel])
        for a in range(n_tail + 1):
            for b in range(a + 1):
                tail_block[a, b] += weight * centred[n_stimulus + a] * centred[n_stimulus + b]
    for j in range(n_bases):
        for i in range(j + 1):
            for pixel in range(n_pixels):
                pixel_blocks[j, i, pixel] /= n_rows
                pixel_blocks[i, j, pixel] = pixel_blocks[j, i, pixel]
    for a in range(n_tail + 1):
        for b in range(a + 1):
            tail_block[a, b] /= n_rows
            tail_block[b, a] = tail_block[a, b]


@numba.njit(cache=True)
def poisson_quantile(mean: float, uniform: float) -> float:
    """The ``uniform``-quantile of a Poisson distribution (inverse CDF by summation).

    Parameters
    ----------
    mean : float
        ``>= 0``; at most about 700 (``exp(-mean)`` must not underflow).
    uniform : float
        In ``[0, 1)``.

    Returns
    -------
    count : float
        The smallest ``k`` with ``P(N <= k) > uniform``.
    """
    probability = math.exp(-mean)
    cumulative = probability
    count = 0
    while uniform >= cumulative and count < 100_000:
        count += 1
        probability *= mean / count
        if probability == 0.0 and count > mean:
            break
        cumulative += probability
    return float(count)


@numba.njit(cache=True)
def simulate_with_history(drive: NDArray[np.float64], durations: NDArray[np.float64],
                          history_filter: NDArray[np.float64], uniforms: NDArray[np.float64],
                          max_log_rate: float, counts: NDArray[np.float64]) -> None:
    """Spike counts of a GLM with a post-spike filter, drawn frame by frame.

    ``counts_t ~ Poisson(durations_t * exp(min(eta_t, max_log_rate)))`` with
    ``eta_t = drive_t + sum_m history_filter[m] * counts_{t - m - 1}`` (frames
    before the first count as no spikes).

    Parameters
    ----------
    drive : ndarray of shape (n_frames,)
        Stimulus drive plus the intercept (log spikes per second).
    durations : ndarray of shape (n_frames,)
        Seconds.
    history_filter : ndarray of shape (n_history_lags,)
        Entry ``m`` is lag ``m + 1``.
    uniforms : ndarray of shape (n_frames,)
        Uniform draws in [0, 1), one per frame (:func:`poisson_quantile`).
    max_log_rate : float
        Cap on ``eta`` (a runaway self-excitation stays finite).
    counts : ndarray of shape (n_frames,)
        Output.
    """
    n_history_lags = history_filter.shape[0]
    for frame in range(drive.shape[0]):
        eta = drive[frame]
        for m in range(min(n_history_lags, frame)):
            eta += history_filter[m] * counts[frame - m - 1]
        mean = durations[frame] * math.exp(min(eta, max_log_rate))
        counts[frame] = poisson_quantile(mean, uniforms[frame])
