"""Frame lags from a window of delays in seconds, and flags for peaks at a window's edge.

A receptive field is fitted at integer frame lags: lag ``k`` pairs the counts of
frame ``k + i`` with stimulus frame ``i`` (:func:`sparsefield.rf.design.lagged_design`),
so it covers delays from ``k * D`` to ``(k + 1) * D`` for frames of duration ``D``.
With several trials, only frames of one trial are paired: lag ``k`` leaves out the
first ``k`` frames of every trial (:func:`sparsefield.rf.design.lagged_frames`), and the
checks here count the frames left to fit accordingly.
A window given in seconds, e.g. ``(0, 0.3)``, therefore means the same thing for
a stimulus at 5 Hz and at 120 Hz, where a fixed list of lags would not.
"""

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_float, as_int
from sparsefield.errors import InputError

#: Tolerance, in seconds, of the comparisons of lag starts with the window.
_TOLERANCE = 1e-9


def lags_from_window(window: Sequence[float], frame_duration: float,
                     min_lags: int = 5) -> NDArray[np.int64]:
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


def edge_lag_flags(best_index: ArrayLike, n_lags: int,
                   first_is_edge: bool = True) -> str | NDArray[np.str_]:
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


# --- the lags and delays of a workflow's fits, checked against a session ----------------


def session_lags(lags: Sequence[int] | None, window: Sequence[float] | None, min_lags: int,
                 durations: NDArray[np.float64], source: str,
                 trial_starts: ArrayLike | None = None) -> NDArray[np.int64]:
    """The frame lags to fit: ``lags`` as given, or those covering ``window`` seconds.

    Parameters
    ----------
    lags : sequence of int or None
        Explicit frame lags (config ``rf.lags``/``lasso.lags``), or None.
    window : (float, float)
        Delays in seconds to cover when ``lags`` is None.
    min_lags : int
        Fewest lags when they come from ``window``.
    durations : ndarray of shape (n_frames,)
        Frame durations in seconds; their median converts seconds to frames.
    source : str
        What errors name (a config key such as ``"rf.lags"``).
    trial_starts : array_like of int of shape (n_trials,), optional
        First frame of each trial; None for one trial.  A lag ``k`` then leaves the
        frames ``k`` or more into their trial to fit.

    Returns
    -------
    lags : ndarray of shape (n_lags,), int64

    Raises
    ------
    InputError
        When a lag leaves fewer than 10 frames to fit (the recording, or its trials,
        too short for the lags asked for).
    """
    durations = np.asarray(durations, dtype=np.float64)
    if lags:
        chosen = np.asarray(lags, dtype=np.int64)
    else:
        chosen = np.asarray(lags_from_window(tuple(cast(Sequence[float], window)),
                                             float(np.median(durations)), min_lags=min_lags),
                            dtype=np.int64)
    left = durations.size - int(chosen.max())
    if trial_starts is not None and np.asarray(trial_starts).size > 1 and left > 0:
        from sparsefield.rf.design import lagged_frames

        left = lagged_frames(durations.size, int(chosen.max()), trial_starts).size
        if left < 10:
            raise InputError(source, f"lag {int(chosen.max())} leaves {left} of the session's "
                             f"{durations.size} frames to fit (at least 10 needed; a lag "
                             f"k leaves out the first k frames of each of its "
                             f"{np.asarray(trial_starts).size} trials); use shorter lags "
                             "(lags or window) or longer trials")
    if left < 10:
        if left > 0:
            what = (f"leaves {left} of the session's {durations.size} frames to fit (at least 10 "
                    "needed)")
        else:
            what = (f"is beyond the session's {durations.size} frames (at least 10 must be left "
                    "to fit)")
        raise InputError(source, f"lag {int(chosen.max())} {what}; use shorter lags (lags or "
                         "window) or a longer recording")
    return chosen


def lags_source(section: str, lags: Sequence[int] | None) -> str:
    """The config key that gives a section's lags: ``"<section>.lags"`` when they are
    listed, else ``"<section>.window"`` (they come from the window).
    """
    return f"{section}.lags" if lags else f"{section}.window"


def _renamed(error: InputError, keys: Mapping[str, str]) -> InputError:
    """``error`` (an InputError) with its source, and the argument names of ``keys``
    inside its sentence (those with an underscore: a plain word may be prose), replaced
    by config keys.
    """
    problem = error.problem
    for name, key in keys.items():
        if "_" not in name:
            continue
        problem = re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w])", key, problem)
    return InputError(keys.get(error.source, error.source), problem)


def check_fit_settings(trigger_times: ArrayLike, *, rf: Mapping[str, Any] | None = None,
                       lasso: Mapping[str, Any] | None = None, sta: Mapping[str, Any] | None = None,
                       trial_starts: ArrayLike | None = None) -> NDArray[np.int64]:
    """Check the workflow's fit settings against one session before anything is fitted.

    What the fits of a session would otherwise find only after its first files are
    written: lags that leave too few frames, more lasso folds than the frames allow,
    STA delays that cannot make an STA of this recording.  Cheap (no fit): call it
    where the session is read.

    Parameters
    ----------
    trigger_times : ndarray of shape (n_frames,)
        The session's frame times in seconds (frames as :func:`sparsefield.rf.binning.
        frame_edges` makes them).
    rf, lasso, sta : mapping, optional
        The config sections of the same names (``lags``, ``window``, ``min_lags``;
        ``n_folds``; ``tau_max``, ``tau_step``, ``null_model``); a section left out is
        not checked.
    trial_starts : array_like of int of shape (n_trials,), optional
        The session's first frame of each trial (:attr:`Session.trial_starts`); None
        for one trial.  With several, the frames left to fit count only pairs within
        a trial, and ``sta.tau_max`` must be shorter than the longest trial.

    Raises
    ------
    InputError
        Naming the config key (``rf.lags``, ``lasso.window``, ``lasso.n_folds``,
        ``sta.tau_max``, ``sta.tau_step``, ``sta.null_model``) and what in the
        recording it does not fit.

    Returns
    -------
    lags : ndarray of shape (n_lags,), int64
        Every frame lag the ML and lasso fits of this session will use (sorted, unique).
    """
    from sparsefield.rf.binning import check_trial_starts, frame_edges
    from sparsefield.rf.lasso_lags import lag_folds
    from sparsefield.rf.sta import check_delays, check_trial_delays

    edges = frame_edges(trigger_times)
    durations = np.diff(edges)
    trial_starts = check_trial_starts(trial_starts, durations.size)
    fitted = [np.zeros(0, dtype=np.int64)]
    for name, section in (("rf", rf), ("lasso", lasso)):
        if section is None:
            continue
        keys = {key: f"{name}.{key}" for key in ("window", "min_lags", "lags")}
        keys.update({"window start (s)": f"{name}.window", "window stop (s)": f"{name}.window"})
        try:
            lags = session_lags(section.get("lags"), section.get("window"),
                                section.get("min_lags", 5), durations,
                                lags_source(name, section.get("lags")), trial_starts)
            fitted.append(np.asarray(lags, dtype=np.int64))
            if name == "lasso":
                lag_folds(durations.size, int(lags.max()), section.get("n_folds", 5),
                          trial_starts)
        except InputError as error:
            keys["n_folds"] = "lasso.n_folds"
            raise _renamed(error, keys) from None
    if sta is not None:
        try:
            tau_max = as_float(sta.get("tau_max", 0.5), "tau_max", minimum=0.0)
            check_delays(tau_max,
                         as_float(sta.get("tau_step", 0.01), "tau_step", minimum=0.0,
                                  strict=True),
                         float(edges[-1] - edges[0]), sta.get("null_model", "shift"))
            check_trial_delays(tau_max, edges, trial_starts)
        except InputError as error:
            raise _renamed(error, {"tau_max": "sta.tau_max", "tau_step": "sta.tau_step",
                                   "null": "sta.null_model"}) from None
    return np.unique(np.concatenate(fitted))
