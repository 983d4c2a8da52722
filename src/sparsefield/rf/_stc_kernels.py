"""Numba kernel for the spike-triggered covariance: windows gathered a block at a time.

The window of frame ``t`` over ``n_lags`` lags is the vector
``window[lag * n_pixels + pixel] = centred[t - lag, pixel]`` (lag 0: the frame itself),
of ``n_dims = n_lags * n_pixels`` entries.  :func:`gather_windows` writes the windows of
one block of frames, each scaled by the square root of its weight, into a buffer and adds
the weighted windows to the first moment; the caller adds ``buffer' buffer`` to the
second moment with one symmetric BLAS product per block (``syrk``, which numpy uses for
``a.T @ a``: half the work of a general product).  Only one block of windows is in memory
at a time; the lagged design (every frame's window) is never formed.
"""

from sparsefield._numba import numba

import numpy as np
from numpy.typing import NDArray


@numba.njit(cache=True)
def gather_windows(centred: NDArray[np.float64], frames: NDArray[np.int64],
                   weights: NDArray[np.float64], n_lags: int, start: int,
                   buffer: NDArray[np.float64], first: NDArray[np.float64]) -> int:
    """Gather the scaled windows of the frames ``frames[start:]`` that fit in ``buffer``.

    Parameters
    ----------
    centred : ndarray of shape (n_frames, n_pixels)
        The stimulus (centred by the caller), C-contiguous.
    frames : ndarray of shape (n_used,), int64
        Frames whose windows are wanted; each ``>= n_lags - 1`` (its whole window
        exists; the caller keeps windows inside trials).
    weights : ndarray of shape (n_used,)
        Weight of each frame, >= 0 (its spike count, or 1).
    n_lags : int
    start : int
        First position in ``frames`` to gather.
    buffer : ndarray of shape (n_block, n_dims)
        Row ``r`` is overwritten with ``sqrt(weights[start + r]) * window(frames[start + r])``.
    first : ndarray of shape (n_dims,)
        ``weights[i] * window(frames[i])`` is added for each frame gathered.

    Returns
    -------
    rows : int
        Frames gathered, ``min(n_block, n_used - start)``.
    """
    n_pixels = centred.shape[1]
    rows = min(buffer.shape[0], frames.shape[0] - start)
    for row in range(rows):
        frame = frames[start + row]
        weight = weights[start + row]
        scale = np.sqrt(weight)
        for lag in range(n_lags):
            offset = lag * n_pixels
            for pixel in range(n_pixels):
                value = centred[frame - lag, pixel]
                buffer[row, offset + pixel] = scale * value
                first[offset + pixel] += weight * value
    return rows
