"""Frame lags from a window of delays in seconds, and flags for peaks at a window's edge.

A receptive field is fitted at integer frame lags: lag ``k`` pairs the counts of
frame ``k + i`` with stimulus frame ``i`` (:func:`sparsefield.rf.ml.lagged_design`),
so it covers delays from ``k * D`` to ``(k + 1) * D`` for frames of duration ``D``.
A window given in seconds, e.g. ``(0, 0.3)``, therefore means the same thing for
a stimulus at 5 Hz and at 120 Hz, where a fixed list of lags would not.
"""

import math

import numpy as np

from sparsefield._checks import as_float, as_int
from sparsefield.errors import InputError

#: Tolerance, in seconds, of the comparisons of lag starts with the window.
_TOLERANCE = 1e-9


def lags_from_window(window, frame_duration, min_lags=5):
    """Frame lags whose delays cover a window given in seconds.

    Parameters
    ----------
    window : tuple of float ``(start_s, stop_s)``
        Delays in seconds, ``0 <= start_s <= stop_s``.
    frame_duration : float
        Duration ``D`` of one frame in seconds (e.g. the median of the frame
        durations), ``> 0``.
    min_lags : int, default 5
        Fewest lags returned (``>= 1``); a short window is extended at its
        long-delay end.

    Returns
    -------
    lags : ndarray of shape (n_lags,), int64
        Consecutive lags from ``floor(start_s / D)`` (the frame that holds the
        delay ``start_s``) to the last lag whose start ``lag * D`` is at most
        ``stop_s``, then extended to ``min_lags`` lags.  Both comparisons allow
        1e-9 s of rounding (``0.3 / (1 / 120)`` is 36, not 35.99999...).
        E.g. ``D = 0.2``, ``(0, 0.3)``: ``[0, 1, 2, 3, 4]`` (``[0, 1]``
        extended); ``D = 1 / 120``: ``[0 .. 36]``; ``D = 1 / 60``: ``[0 .. 18]``.

    Raises
    ------
    InputError
        If ``window`` is not two finite numbers with ``0 <= start_s <=
        stop_s``, ``frame_duration`` is not positive, or ``min_lags < 1``.
    """
    values = np.asarray(window, dtype=object).ravel() if np.ndim(window) else None
    if values is None or values.size != 2:
        raise InputError("window", f"expected (start_s, stop_s), got {window!r}")
    start = as_float(values[0], "window start (s)", minimum=0.0)
    stop = as_float(values[1], "window stop (s)", minimum=start)
    frame_duration = as_float(frame_duration, "frame_duration", minimum=0.0, strict=True)
    min_lags = as_int(min_lags, "min_lags", minimum=1)
    first = math.floor((start + _TOLERANCE) / frame_duration)
    last = math.floor((stop + _TOLERANCE) / frame_duration)
    last = max(last, first + min_lags - 1)
    return np.arange(first, last + 1, dtype=np.int64)


def edge_lag_flags(best_index, n_lags, first_is_edge=True):
    """Whether a best lag (or delay) sits at the first or last fitted position.

    A peak at an edge of the fitted window may lie outside it: a summary should
    say so rather than report the edge as the peak.

    Parameters
    ----------
    best_index : int or array_like of int
        Position(s) of the best lag among the ``n_lags`` fitted ones (an index
        into ``lags`` or ``taus``, not the lag itself); a negative index means
        "no answer" (e.g. a unit that was not fitted).
    n_lags : int
        Number of fitted positions (``>= 1``).
    first_is_edge : bool, default True
        Whether the first position counts as an edge.  Pass False when the first
        position is lag 0 (or delay 0) and negative ones cannot be fitted, so
        that a peak there is not a sign of a window that is too short.

    Returns
    -------
    flag : str or ndarray of str
        ``"last"`` for position ``n_lags - 1``, ``"first"`` for position 0 (when
        ``first_is_edge``), ``""`` otherwise, for negative indices and whenever
        ``n_lags == 1`` (a single position says nothing about where the peak
        is).  A str for a scalar ``best_index``, an array of the same shape
        otherwise.

    Raises
    ------
    InputError
        If ``n_lags < 1``, or an index is not an integer or is ``>= n_lags``.
    """
    n_lags = as_int(n_lags, "n_lags", minimum=1)
    index = np.asarray(best_index)
    if index.dtype.kind not in "iu":
        raise InputError("best_index", f"expected integer positions, got {best_index!r}")
    if np.any(index >= n_lags):
        raise InputError("best_index",
                         f"positions must be below n_lags = {n_lags}, got {index.max()}")
    flags = np.full(index.shape, "", dtype="<U5")
    if n_lags > 1:
        flags[index == n_lags - 1] = "last"
        if first_is_edge:
            flags[index == 0] = "first"
    return str(flags) if flags.ndim == 0 else flags
