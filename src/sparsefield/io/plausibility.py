"""Plausibility checks on a session's raw numbers, before anything is fitted.

Readers check that a file holds what it should (real numbers, vectors, finite
values); these checks ask whether the numbers make sense for a receptive-field
experiment, so that a recording read with the wrong unit, the wrong file or the
wrong dtype stops with a message instead of giving a result that looks fine and is
wrong.  Each check raises :class:`sparsefield.errors.InputError` naming the file
(or the sheet row), the unit where there is one, the numbers, and the config key
that relaxes it where a real recording could legitimately trip it:

- frame (trigger) intervals: the median and the shortest inside
  ``sessions.frame_interval`` (s), with advice on the time unit;
- the precision of spike and trigger times as stored (float32 late in a recording,
  whole numbers): the step between storable values at most ``sessions.max_time_error``
  of a frame;
- spike and trigger times that are the same numbers (a wrong or missing
  ``triggers_file``): no key, a wrong file;
- a unit's spike train that starts again (per-trial times laid end to end, several
  units in one vector): no key; a few spikes out of order are sorted with a warning;
- the mean rate of each unit to be fitted inside ``sessions.rate`` (Hz), also over the
  stretch its spikes cover;
- a stimulus of one value (always an error) or with pixels that never change over the
  frames used (``sessions.constant_pixels``: ``error`` or ``warn``).

:func:`sparsefield.io.session.load_session` runs them on every session.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from sparsefield.errors import InputError

if TYPE_CHECKING:
    from sparsefield.io.cells import SpikeTrains
    from sparsefield.io.readers import StoredPrecision
    from sparsefield.io.session import Session

LOG = logging.getLogger(__name__)

#: Defaults of the checks' settings (the workflow's ``sessions`` config keys).
PLAUSIBILITY_DEFAULTS = {
    "frame_interval": (0.001, 10.0),
    "rate": (0.01, 1000.0),
    "constant_pixels": "error",
    "max_time_error": 0.01,
}

#: What ``sessions.constant_pixels`` may be.
CONSTANT_PIXELS = ("error", "warn")

#: Pixels named in a message (row,col), at most.
_NAMED_PIXELS = 5


def _g(value: float, digits: int = 4) -> str:
    """A number in a message: ``0.2``, ``1.5e+05``."""
    return f"{value:.{digits}g}"


def _count(number: int, noun: str, plural: str | None = None) -> str:
    """``1 frame interval``, ``3 frame intervals``."""
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


# --- settings ------------------------------------------------------------------------


def as_bounds(value: Iterable[float], key: str, unit: str) -> tuple[float, float]:
    """A ``[lowest, highest]`` setting as a checked tuple of two floats.

    Parameters
    ----------
    value : sequence of two numbers
    key : str
        The config key, e.g. ``"sessions.frame_interval"`` (named in the error).
    unit : str
        Unit printed in the error, e.g. ``"s"``.

    Returns
    -------
    (float, float)

    Raises
    ------
    InputError
        Unless ``0 < lowest < highest`` and both are finite.
    """
    try:
        low, high = (float(number) for number in value)
    except (TypeError, ValueError):
        raise InputError(key, f"is {value!r}; expected [lowest, highest] in {unit}") from None
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low < high):
        raise InputError(key, f"is [{low:g}, {high:g}]; expected [lowest, highest] in {unit} "
                         "with 0 < lowest < highest")
    return low, high


def as_fraction(value: Any, key: str) -> float:
    """A setting in (0, 1] as a float; :class:`InputError` naming ``key`` otherwise."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (0 < number <= 1):
        raise InputError(key, f"is {value!r}; expected a fraction of a frame, > 0 and <= 1")
    return number


def as_choice(value: Any, key: str, allowed: Sequence[str]) -> str:
    """A text setting that must be one of ``allowed``."""
    if value not in allowed:
        raise InputError(key, f"is {value!r}; expected one of {', '.join(allowed)}")
    return value


# --- timing ---------------------------------------------------------------------------


def time_unit_hint(median: float, unit: str, bounds: tuple[float, float]) -> str:
    """Advice for a median frame interval outside ``bounds``: which time unit the
    numbers look like (``""`` when none fits better).

    Parameters
    ----------
    median : float
        The median interval in seconds, as the sheet's unit made it.
    unit : {"s", "ms", "samples"}
        The unit the sheet gave for the times.
    bounds : (float, float)
    """
    low, high = bounds
    if unit == "s" and median > high:
        if median * 1e-3 <= high:
            return (f"; if the times are in milliseconds (frames of {_g(median)} ms), set "
                    "time_unit: ms in the sheet (triggers_time_unit for the frame times "
                    "alone); if they are sample indices, set time_unit: samples and "
                    "sample_rate")
        return ("; the times look like sample indices: set time_unit: samples and "
                "sample_rate in the sheet (triggers_time_unit for the frame times alone)")
    if unit == "ms" and median < low and low <= median * 1e3 <= high:
        return ("; the times look like seconds, but the sheet says ms: set time_unit "
                "(or triggers_time_unit) to s")
    if unit == "samples":
        return "; check sample_rate (samples per second) in the sheet"
    return ""


def check_frame_intervals(trials: Sequence[NDArray[np.float64]], bounds: tuple[float, float],
                          source: str, unit: str) -> float:
    """Frame (trigger) intervals: median and shortest inside ``bounds``.

    Parameters
    ----------
    trials : list of ndarray
        Trigger times of each trial in seconds, strictly increasing.
    bounds : (float, float)
        ``sessions.frame_interval``: the shortest and longest plausible frame, s.
    source : str
        The triggers file.
    unit : str
        The time unit the sheet gave for the triggers (for the advice).

    Returns
    -------
    median : float
        The median frame interval in seconds.

    Raises
    ------
    InputError
        When the median interval lies outside ``bounds`` (with advice on the time
        unit), or when two triggers are closer than the shortest plausible frame
        (a flip detected twice).  Pauses longer than ``max_frame_gap`` frames are
        split off as gaps between trials, so the longest frame is bounded by
        ``max_frame_gap`` median frames, not here.
    """
    low, high = bounds
    steps = [np.diff(times) for times in trials if times.size > 1]
    if not steps:
        return math.nan
    every = np.concatenate(steps)
    median = float(np.median(every))
    n_triggers = sum(times.size for times in trials)
    if not low <= median <= high:
        raise InputError(source, f"the median frame interval is {_g(median)} s (from "
                         f"{n_triggers} trigger times read as {unit}), outside "
                         f"sessions.frame_interval [{low:g}, {high:g}] s"
                         f"{time_unit_hint(median, unit, bounds)}; if the frames really "
                         "last this long, widen sessions.frame_interval")
    for trial, step in enumerate(steps):
        short = np.flatnonzero(step < low)
        if short.size:
            index = int(short[0]) + 1
            where = f"trial {trial + 1}, " if len(trials) > 1 else ""
            raise InputError(source, f"{_count(short.size, 'frame interval')} "
                             f"{'is' if short.size == 1 else 'are'} shorter than "
                             f"{_g(1e3 * low)} ms, the shortest of sessions.frame_interval; "
                             f"the first: {where}trigger {index} (0-based) comes "
                             f"{_g(1e3 * float(step[index - 1]))} ms after the one before "
                             f"(median frame {_g(1e3 * median)} ms): a frame flip detected "
                             "twice? Remove the extra triggers, or lower "
                             "sessions.frame_interval")
    return median


def check_frame_rate(rate: float, bounds: tuple[float, float], source: str) -> None:
    """A ``frame_rate`` (Hz) whose frames last within ``bounds`` seconds.

    Raises
    ------
    InputError
        Source ``source`` (the sheet row), naming the column and the key.
    """
    low, high = bounds
    interval = 1.0 / rate
    if not low <= interval <= high:
        raise InputError(source, f"frame_rate {rate:g} Hz gives frames of {_g(interval)} s, "
                         f"outside sessions.frame_interval [{low:g}, {high:g}] s; check "
                         "frame_rate (frames per second), or widen sessions.frame_interval")


def check_time_precision(precision: StoredPrecision | None, scale: float, largest: float,
                         frame: float, max_error: float, source: str, what: str, unit: str) -> None:
    """Times stored too coarsely for the frames (float32 late in a recording, integer s).

    Parameters
    ----------
    precision : sparsefield.io.readers.StoredPrecision or None
        As the reader saw the stored array (None: nothing to check).
    scale : float
        Seconds per unit of the stored times (``precision.step * scale`` is in s).
    largest : float
        The largest time in seconds (named in the message).
    frame : float
        The median frame interval in seconds.
    max_error : float
        ``sessions.max_time_error``: the largest step allowed, as a fraction of a frame.
    source : str
        The file.
    what : str
        ``"spike"`` or ``"trigger"``.
    unit : str
        The sheet's unit of the stored times.

    Raises
    ------
    InputError
        When the step between consecutive storable values exceeds ``max_error``
        frames; the message gives the step in ms.  Converting to float64 after
        reading cannot restore the digits that were never stored.
    """
    if precision is None or not math.isfinite(frame) or frame <= 0:
        return
    step = precision.step * scale
    if step <= max_error * frame:
        return
    if np.dtype(precision.dtype).kind == "f":
        how = (f"are stored as {precision.dtype}: near the largest, {_g(largest, 6)} s, "
               f"consecutive {precision.dtype} values are {_g(1e3 * step)} ms apart")
        fix = "store them as float64 (double)"
    else:
        how = (f"are stored as whole numbers ({precision.dtype}) in {unit}: a resolution "
               f"of {_g(1e3 * step)} ms")
        fix = "store them as float64 (double) with their fractions"
    raise InputError(source, f"{what} times {how}, {_g(100 * step / frame, 3)} % of a "
                     f"{_g(1e3 * frame)} ms frame, more than sessions.max_time_error "
                     f"({max_error:g} of a frame): {what}s may be counted in the wrong frame, "
                     f"and converting to float64 cannot restore the lost precision; {fix}, "
                     "or raise sessions.max_time_error")


def check_not_the_same(trains: SpikeTrains, spikes_scale: float,
                       triggers: Sequence[NDArray[np.float64]], triggers_scale: float,
                       spikes_path: str, triggers_path: str, triggers_blank: bool) -> None:
    """Spike times and trigger times must not be the same numbers.

    Parameters
    ----------
    trains : sparsefield.io.cells.SpikeTrains
        Times in seconds (``spikes_scale`` seconds per stored unit).
    spikes_scale, triggers_scale : float
        Seconds per unit of the stored spike and trigger times.
    triggers : list of ndarray
        Trigger times of each trial in seconds.
    spikes_path, triggers_path : str
    triggers_blank : bool
        Whether the sheet's ``triggers_file`` cell was blank (the triggers were read
        from the spikes file).

    Raises
    ------
    InputError
        Source: the triggers file; when a unit's stored spike times equal the stored
        trigger times.
    """
    stored_triggers = np.concatenate(triggers) / triggers_scale
    for unit_id, train in zip(np.asarray(trains.unit_ids).tolist(), trains.times, strict=True):
        times = np.concatenate(train) if trains.per_trial else train
        if times.size != stored_triggers.size:
            continue
        stored = np.sort(times) / spikes_scale
        if np.allclose(stored, np.sort(stored_triggers), rtol=1e-9, atol=0.0):
            cause = (f"triggers_file is blank, so the frame times were read from the spikes "
                     f"file ({spikes_path}); give triggers_file" if triggers_blank else
                     "triggers_file (or triggers_key) probably names the spike times; check it")
            raise InputError(triggers_path, f"the {stored_triggers.size} trigger times are the "
                             f"same numbers as the spike times of unit {unit_id}: {cause}, or "
                             "frame_rate if there are no frame times")


def check_spike_order(values: NDArray[np.float64], path: str, where: str) -> int:
    """A stored spike train out of order: a restart is an error, a few swaps a warning.

    Parameters
    ----------
    values : ndarray of shape (n,), float64
        One unit's (or one unit's trial's) times as stored, finite.
    path : str
        The spikes file.
    where : str
        ``"unit 3"`` or ``"unit 3, trial 2"``.

    Returns
    -------
    n_out_of_order : int
        Spikes earlier than the one before them (0: sorted).

    Raises
    ------
    InputError
        When the times step back by more than half their span: per-trial times laid
        end to end on one vector, or several units' spikes one after the other.
    """
    if values.size < 2:
        return 0
    steps = np.diff(values)
    back = np.flatnonzero(steps < 0)
    if back.size == 0:
        return 0
    first = int(np.argmin(steps))
    drop = float(-steps[first])
    span = float(values.max() - values.min())
    if drop > 0.5 * span:
        raise InputError(path, f"{where}: the spike times start again: spike {first + 1} "
                         f"(0-based) is {_g(float(values[first + 1]), 6)}, after "
                         f"{_g(float(values[first]), 6)} ({_count(back.size, 'step')} back in "
                         "all); "
                         "per-trial spike times laid end to end, or several units in one "
                         "vector? Store one vector per trial (a units x trials cell), give "
                         "units_key for an .npz of several units, or put the times on one clock")
    LOG.warning("%s: %s: %s earlier than the one before (at most %.4g earlier); sorted",
                path, where, _count(back.size, "spike time is", "spike times are"), drop)
    return int(back.size)


def session_duration(trigger_times: NDArray[np.float64], trial_starts: Iterable[int]) -> float:
    """Total time covered by a session's frames, s (each piece's last frame lasts its
    median interval, as the binning makes it).
    """
    bounds = list(trial_starts) + [trigger_times.size]
    steps = [np.diff(trigger_times[start:stop])
             for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]
    every = np.concatenate([step for step in steps if step.size] or [np.zeros(0)])
    overall = float(np.median(every)) if every.size else 0.0
    return float(sum(step.sum() + (np.median(step) if step.size else overall)
                     for step in steps))


#: Fewest spikes of a unit for "all its spikes crowd into a short stretch" to be judged.
_MIN_SPIKES_CROWDED = 10


def check_rates(session: Session, bounds: tuple[float, float], source: str) -> None:
    """Mean firing rates of the units that will be fitted (>= ``min_spikes`` spikes).

    Parameters
    ----------
    session : sparsefield.io.session.Session
    bounds : (float, float)
        ``sessions.rate``: the lowest and highest plausible mean rate, Hz.
    source : str
        The spikes file.

    Raises
    ------
    InputError
        Naming the unit: when its mean rate over the frames is outside ``bounds``,
        or when its spikes crowd into a stretch of the frames where they would fire
        faster than the highest rate (times in the wrong unit, spikes of another
        recording).
    """
    low, high = bounds
    duration = session_duration(session.trigger_times, session.trial_starts)
    if duration <= 0:
        return
    for index, unit_id in enumerate(session.unit_ids.tolist()):
        times = session.unit_spike_times(index)
        if times.size < max(session.min_spikes, 1):
            continue
        rate = times.size / duration
        advice = ("check the time units of the spike and frame times (spikes_time_unit, "
                  "triggers_time_unit) and that they come from the same recording, or widen "
                  "sessions.rate")
        if not low <= rate <= high:
            raise InputError(source, f"unit {unit_id}: {times.size} spikes in "
                             f"{_g(duration)} s of frames, a mean rate of {_g(rate, 3)} Hz, "
                             f"outside sessions.rate [{low:g}, {high:g}] Hz; {advice}")
        span = float(times[-1] - times[0])
        # (a handful of spikes close together is a burst, not a wrong time unit)
        if times.size >= _MIN_SPIKES_CROWDED and (span <= 0 or times.size / span > high):
            raise InputError(source, f"unit {unit_id}: its {times.size} spikes in the frames "
                             f"all fall within {_g(span)} s of the {_g(duration)} s of frames "
                             f"({'infinitely many' if span <= 0 else _g(times.size / span, 3)}"
                             f" spikes per s there, above sessions.rate's {high:g} Hz); "
                             f"{advice}")


def check_fittable(session: Session, source: str) -> None:
    """At least one unit has enough spikes to be fitted: a session where every unit is
    below ``min_spikes`` would finish with nothing fitted.

    Parameters
    ----------
    session : sparsefield.io.session.Session
    source : str
        The spikes file.

    Raises
    ------
    InputError
        Naming the unit with the most spikes and how many it has.
    """
    counts = np.array([session.unit_spike_times(index).size
                       for index in range(session.n_units)])
    needed = max(session.min_spikes, 1)
    if counts.size and counts.max() < needed:
        best = int(np.argmax(counts))
        raise InputError(source, f"no unit has the {needed} spikes in the frames that a fit "
                         f"needs (sessions.min_spikes, or the sheet's min_spikes column); the "
                         f"most is {counts[best]}, unit {session.unit_ids[best]}, of "
                         f"{counts.size} unit{'s' if counts.size > 1 else ''}: check the "
                         "units and unit_label columns and the time units, or lower min_spikes")


def check_stimulus(stimulus: NDArray[np.float64], frame_shape: tuple[int, int], mode: str,
                   source: str) -> int:
    """A stimulus that can identify receptive-field weights.

    Parameters
    ----------
    stimulus : ndarray of shape (n_frames, n_pixels), float64
        The frames used (one per trigger), pixel ``row * width + col``.
    frame_shape : (int, int)
    mode : {"error", "warn"}
        ``sessions.constant_pixels``: what a pixel that never changes is.
    source : str
        The stimulus file.

    Returns
    -------
    n_constant : int
        Pixels that never change over the frames used (0 unless ``mode`` is warn).

    Raises
    ------
    InputError
        When every value is the same (always), or, with ``mode`` error, when some
        pixels never change: their weights cannot be estimated.
    """
    n_frames = stimulus.shape[0]
    low, high = float(stimulus.min()), float(stimulus.max())
    if low == high:
        raise InputError(source, f"every value of the stimulus over the {n_frames} frames "
                         f"used is {low:g}: a constant stimulus holds no information about a "
                         "receptive field; check stimulus_key and the stimulus file")
    tolerance = 1e-9 * (high - low)
    constant = np.flatnonzero(np.ptp(stimulus, axis=0) <= tolerance)
    if constant.size == 0:
        return 0
    width = frame_shape[1]
    named = "; ".join(f"{pixel // width},{pixel % width}" for pixel in constant[:_NAMED_PIXELS])
    more = " ..." if constant.size > _NAMED_PIXELS else ""
    message = (f"{constant.size} of {stimulus.shape[1]} pixels never change over the "
               f"{n_frames} frames used (row,col {named}{more}), so their receptive-field "
               "weights cannot be estimated")
    if mode == "error":
        raise InputError(source, f"{message}; crop them from the stimulus, or set "
                         "sessions.constant_pixels: warn to fit anyway (their weights mean "
                         "nothing)")
    LOG.warning("%s: %s (sessions.constant_pixels: warn: fitted anyway; their weights mean "
                "nothing)", source, message)
    return int(constant.size)
