"""The frames of a session: trigger times, the stored stimulus, and the trials.

Frame times come from a trigger vector, a cell array of per-trial vectors, an NWB
stimulus's timestamps or ``frame_rate`` (:func:`read_triggers`); the stimulus from a
MATLAB, npz or NWB file (:func:`read_stimulus`).  :func:`trial_frames` pairs each
trial's frame times with the stored frames they show (``trial_stimulus``: ``continue``
or ``repeat``) and splits trials at pauses in the frame times (``max_frame_gap``);
:func:`check_timing` runs the plausibility checks that need only the times.
"""

import logging
import math
import os
from collections.abc import Callable, Mapping
from typing import Any, TypedDict, TypeVar, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_times
from sparsefield.errors import InputError
from sparsefield.io import plausibility
from sparsefield.io.cells import SpikeTrains
from sparsefield.io.readers import StoredPrecision, check_file, read_variables, stored_precision
from sparsefield.io.session_row import VARIABLE_DEFAULTS
from sparsefield.io.session_units import spikes_time_unit, time_scale

LOG = logging.getLogger(__name__)

_T = TypeVar("_T")

class SessionPaths(TypedDict):
    """The files a session is read from (the ``paths`` of
    :func:`sparsefield.io.session.load_session`).

    Attributes
    ----------
    spikes : str
        The spikes file or Kilosort/Phy folder.
    triggers : str or None
        The frame-times file; None when the frames come from ``frame_rate``.
    stimulus : str
        The stimulus file.
    """

    spikes: str
    triggers: str | None
    stimulus: str


# One piece of a trial: its frame times (s), the stored frames they show, the trial's index.
_TrialPiece = tuple[NDArray[np.float64], NDArray[np.integer[Any]], int]


def check_timing(settings: Mapping[str, Any], paths: SessionPaths, source: str,
                 spikes_format: str, trains: SpikeTrains,
                 triggers: list[NDArray[np.float64]] | None,
                 trigger_precision: StoredPrecision | None) -> float:
    """The plausibility checks that need only the times; returns the median frame (s).

    Parameters
    ----------
    settings : dict
        From :func:`sparsefield.io.session_row.read_session_row`.
    paths : dict of str to str or None
        The ``spikes``, ``triggers`` (None with ``frame_rate``) and ``stimulus`` files.
    source : str
        The sheet row, for messages about ``frame_rate``.
    spikes_format : str
        Of the spikes source (:func:`sparsefield.io.session_units.format_of`).
    trains : sparsefield.io.cells.SpikeTrains
        In seconds (:func:`sparsefield.io.session_units.read_spikes`).
    triggers : list of ndarray of shape (n_trial_frames,), or None
        Per-trial frame times in seconds (:func:`read_triggers`); None with
        ``frame_rate``.
    trigger_precision : sparsefield.io.readers.StoredPrecision or None

    Returns
    -------
    frame : float
        The median frame interval in seconds (``1 / frame_rate`` without triggers).

    Raises
    ------
    InputError
        From :mod:`sparsefield.io.plausibility`.
    """
    spikes_unit = spikes_time_unit(spikes_format, settings)
    spikes_scale = time_scale(spikes_unit, settings)
    if triggers is None:
        plausibility.check_frame_rate(settings["frame_rate"], settings["frame_interval"],
                                      source)
        frame = 1.0 / settings["frame_rate"]
    else:
        triggers_path = cast(str, paths["triggers"])  # a file whenever there are triggers
        triggers_unit = settings["triggers_time_unit"]
        if os.path.splitext(triggers_path)[1].lower() == ".nwb" or (
                settings["format"] == "nwb" and triggers_path == paths["spikes"]):
            triggers_unit = "s"
        triggers_scale = time_scale(triggers_unit, settings)
        plausibility.check_not_the_same(trains, spikes_scale, triggers, triggers_scale,
                                        paths["spikes"], triggers_path,
                                        settings["triggers_file"] is None)
        frame = plausibility.check_frame_intervals(triggers, settings["frame_interval"],
                                                   triggers_path, triggers_unit)
        largest = max(float(np.max(np.abs(times))) for times in triggers if times.size)
        plausibility.check_time_precision(trigger_precision, triggers_scale, largest, frame,
                                          settings["max_time_error"], triggers_path,
                                          "trigger", triggers_unit)
    spikes = [part for train in trains.times
              for part in (train if trains.per_trial else (train,)) if part.size]
    if spikes:
        largest = max(float(np.max(np.abs(part))) for part in spikes)
        plausibility.check_time_precision(trains.precision, spikes_scale, largest, frame,
                                          settings["max_time_error"], paths["spikes"],
                                          "spike", spikes_unit)
    return frame


def read_triggers(paths: SessionPaths, settings: Mapping[str, Any], source: str
                  ) -> tuple[list[NDArray[np.float64]] | None, StoredPrecision | None]:
    """Per-trial trigger times in seconds and their stored precision.

    Parameters
    ----------
    paths : dict of str to str or None
        The ``spikes``, ``triggers`` and ``stimulus`` files.
    settings : dict
        From :func:`sparsefield.io.session_row.read_session_row`.
    source : str
        The sheet row, for messages.

    Returns
    -------
    trials : list of ndarray of shape (n_trial_frames,), or None
        Strictly increasing frame times in seconds, one array per trial; None with
        ``frame_rate``.
    precision : sparsefield.io.readers.StoredPrecision or None
        Of the stored times, in the stored unit; None with ``frame_rate``.

    Raises
    ------
    InputError
        On an unreadable file, times that are not an increasing finite vector per
        trial, or fewer than 2 trigger times.
    """
    if settings["frame_rate"] is not None:
        return None, None
    path = cast(str, paths["triggers"])  # a file: frame_rate is not given
    if os.path.isdir(path):
        raise InputError(path, "is a folder; frame times must come from a file (triggers_file) "
                         "or from frame_rate")
    check_file(path)
    extension = os.path.splitext(path)[1].lower()
    fmt = settings["format"] if settings["format"] in ("mat", "npz", "text") else "auto"
    key = settings["triggers_key"] or VARIABLE_DEFAULTS["triggers_key"]
    unit = settings["triggers_time_unit"]
    if extension == ".nwb" or settings["format"] == "nwb" and path == paths["spikes"]:
        from sparsefield.io.nwb import read_nwb_stimulus

        series = read_nwb_stimulus(path, settings["stimulus_key"])
        precision = series.timestamps_precision
        if series.timestamps is not None:
            trials = [np.asarray(series.timestamps, dtype=np.float64)]
        else:
            # Without timestamps an NWB series has a starting time and a rate.
            n_frames = series.frames.shape[0]
            start, rate = cast(float, series.starting_time), cast(float, series.rate)
            trials = [start + np.arange(n_frames) / rate]
        unit = "s"
    elif extension == ".npy":
        from sparsefield.io.kilosort import read_event_times

        times, precision = read_event_times(path, unit="s", with_precision=True)
        trials = [times]
    elif fmt == "mat" or (fmt == "auto" and extension == ".mat"):
        from sparsefield.io.cells import read_trial_cells

        trial_cells, precision = _blank_triggers_hint(
            lambda: read_trial_cells(path, key, with_precision=True), paths, settings, source)
        trials = list(trial_cells)
    else:
        stored = _blank_triggers_hint(lambda: read_variables(path, fmt, [key])[key], paths,
                                      settings, source)
        precision = stored_precision(stored)
        trials = [np.asarray(stored)]
    scale = time_scale(unit, settings)
    checked = []
    for index, times in enumerate(trials):
        name = path if len(trials) == 1 else f"{path}: trial {index + 1}"
        times = np.asarray(times)
        if times.ndim > 1 and sum(size != 1 for size in times.shape) > 1:
            raise InputError(name, f"trigger times must be a vector, but the stored array has "
                             f"shape {'x'.join(map(str, times.shape))}")
        checked.append(as_times(times.astype(np.float64).reshape(-1), name, order="increasing",
                                min_length=1, what="trigger time", unit=unit) * scale)
    if sum(times.size for times in checked) < 2:
        raise InputError(path, "needs at least 2 trigger times")
    return checked, precision


def _blank_triggers_hint(read: Callable[[], _T], paths: SessionPaths,
                         settings: Mapping[str, Any], source: str) -> _T:
    """``read()``; when the triggers_file cell was blank and the spikes file lacks the
    trigger variable, say so (the user may have forgotten triggers_file).
    """
    try:
        return read()
    except InputError as error:
        if settings["triggers_file"] is not None or not error.problem.startswith("has no "):
            raise
        raise InputError(source, f"triggers_file is blank, so the frame times are read from "
                         f"spikes_file, but {error}; give triggers_file (and triggers_key), "
                         "or frame_rate") from error


def read_stimulus(path: str, settings: Mapping[str, Any]) -> tuple[np.ndarray, dict[str, Any]]:
    """The stored stimulus and the settings that describe its axes.

    Parameters
    ----------
    path : str
        The stimulus file (MATLAB, npz or NWB).
    settings : dict
        From :func:`sparsefield.io.session_row.read_session_row`.

    Returns
    -------
    data : ndarray
        As stored (axes in the order ``stimulus_axes`` names; one pixel per frame
        for ``"t"``, reshaped to (n_stored, 1)).
    stimulus_settings : dict
        ``stimulus_axes``, ``pixel_order``, ``frame_height`` and ``frame_width`` of
        ``data`` (for :func:`sparsefield.io.recording` 's stimulus check).

    Raises
    ------
    InputError
        On a folder or text file, or a stimulus whose dimensions do not match
        ``stimulus_axes``.
    """
    stimulus_settings = {key: settings[key] for key in
                         ("stimulus_axes", "pixel_order", "frame_height", "frame_width")}
    if os.path.isdir(path):
        raise InputError(path, "is a folder, not a stimulus file")
    check_file(path)
    if os.path.splitext(path)[1].lower() == ".nwb" or settings["format"] == "nwb":
        from sparsefield.io.nwb import read_nwb_stimulus

        data = np.asarray(read_nwb_stimulus(path, settings["stimulus_key"]).frames)
        if not settings["stimulus_axes_given"]:
            stimulus_settings["stimulus_axes"] = {1: "t", 2: "tp", 3: "thw"}.get(data.ndim, "thw")
    else:
        fmt = settings["format"] if settings["format"] in ("mat", "npz", "text") else "auto"
        key = settings["stimulus_key"] or VARIABLE_DEFAULTS["stimulus_key"]
        if fmt == "text" or (fmt == "auto" and os.path.splitext(path)[1].lower() in
                             (".txt", ".csv", ".tsv", ".dat")):
            raise InputError(path, "a stimulus cannot be read from a text file; store it in a "
                             ".mat, .npz or .nwb file")
        data = np.asarray(read_variables(path, fmt, [key])[key])
    if stimulus_settings["stimulus_axes"] == "t":
        # Full-field flicker stored as one value per frame.
        if data.ndim > 1 and sum(size != 1 for size in data.shape) > 1:
            raise InputError(path, f"stimulus_axes 't' needs one value per frame, but the "
                             f"stimulus has shape {'x'.join(map(str, data.shape))}")
        data = data.reshape(-1, 1)
        stimulus_settings.update(stimulus_axes="tp", frame_height=1, frame_width=1)
    axes = stimulus_settings["stimulus_axes"]
    if data.ndim != len(axes):
        # Before the frames are counted along the wrong axis.
        raise InputError(path, f"stimulus has {data.ndim} dimensions (shape "
                         f"{'x'.join(map(str, data.shape))}) but stimulus_axes {axes!r} "
                         f"describes {len(axes)}")
    return data, stimulus_settings


def n_stored_frames(data: ArrayLike, stimulus_settings: Mapping[str, Any]) -> int:
    """Frames in the stored stimulus: the length of its ``t`` axis.

    Parameters
    ----------
    data : ndarray
        From :func:`read_stimulus`.
    stimulus_settings : dict
        From :func:`read_stimulus`.

    Returns
    -------
    n_stored : int
    """
    return int(np.asarray(data).shape[stimulus_settings["stimulus_axes"].index("t")])


def trial_frames(paths: SessionPaths, triggers: list[NDArray[np.float64]] | None,
                 trains: SpikeTrains, data: ArrayLike, stimulus_settings: Mapping[str, Any],
                 settings: Mapping[str, Any]) -> tuple[list[_TrialPiece], int]:
    """Per trial: its frame times and the stored frames they show.

    Parameters
    ----------
    paths : dict of str to str or None
        The ``spikes``, ``triggers`` and ``stimulus`` files, for messages.
    triggers : list of ndarray of shape (n_trial_frames,), or None
        From :func:`read_triggers`; None: from ``frame_rate``, one trial per spike
        trial.
    trains : sparsefield.io.cells.SpikeTrains
        In seconds.
    data : ndarray
        The stored stimulus (:func:`read_stimulus`).
    stimulus_settings : dict
        From :func:`read_stimulus`.
    settings : dict
        From :func:`sparsefield.io.session_row.read_session_row`.

    Returns
    -------
    pieces : list of (ndarray, ndarray, int)
        ``(times, frames, trial)``: frame times in seconds, indices of the stored
        frames shown, and the index of the trial the piece came from (a trial is
        split where its frame times pause, :func:`_split_at_gaps`).
    n_frames_left_out : int
        Stored frames that no trigger shows.

    Raises
    ------
    InputError
        When the trials need more stored frames than there are, their number
        disagrees with the spike trials', or more frames are left out than
        ``max_frames_left_out`` allows.
    """
    n_stored = n_stored_frames(data, stimulus_settings)
    n_spike_trials = len(trains.times[0]) if trains.per_trial else None
    if triggers is None:
        n_trials = n_spike_trials or 1
        rate = settings["frame_rate"]
        per_trial = n_stored if settings["trial_stimulus"] == "repeat" or n_trials == 1 \
            else n_stored // n_trials
        if per_trial < 2:
            raise InputError(paths["stimulus"], f"has {n_stored} frames, too few for "
                             f"{n_trials} trials at frame_rate {rate:g} Hz")
        triggers = [settings["first_frame_time"] + np.arange(per_trial) / rate
                    for _ in range(n_trials)]
    if n_spike_trials is not None and n_spike_trials != len(triggers):
        raise InputError(paths["spikes"], f"spike times are given for {n_spike_trials} trials "
                         f"but the frame times for {len(triggers)} "
                         f"({paths['triggers'] or 'frame_rate'})")
    frames = []
    first = 0
    for index, times in enumerate(triggers):
        if settings["trial_stimulus"] == "repeat":
            first = 0
        stop = first + times.size
        if stop > n_stored:
            if len(triggers) == 1:
                raise InputError(paths["stimulus"], f"there are more triggers ({times.size}) "
                                 f"than stimulus frames ({n_stored}); every trigger needs a frame")
            raise InputError(paths["stimulus"], f"trial {index + 1} needs stimulus frames "
                             f"{first}..{stop - 1} but the stimulus has only {n_stored} frames "
                             f"(trial_stimulus: {settings['trial_stimulus']}); the trials' frame "
                             "counts disagree with the stimulus")
        frames.append(np.arange(first, stop))
        first = stop
    used = max(int(indices[-1]) + 1 for indices in frames)
    left_out = n_stored - used
    if left_out:
        fraction = left_out / n_stored
        message = (f"{left_out} of {n_stored} stimulus frames ({100 * fraction:.1f} %) have no "
                   "trigger and are left out")
        if fraction > settings["max_frames_left_out"]:
            allowed = math.floor(settings["max_frames_left_out"] * n_stored + 1e-9)
            raise InputError(paths["stimulus"], f"{message}, more than max_frames_left_out "
                             f"({settings['max_frames_left_out']:g} of the stimulus, "
                             f"{allowed} frames here); check that the trigger times cover "
                             "every trial and belong to this stimulus, or raise "
                             "sessions.max_frames_left_out (or the sheet's "
                             "max_frames_left_out column)")
        LOG.warning("%s: %s", paths["stimulus"], message)
    pieces = _split_at_gaps(paths, list(zip(triggers, frames, strict=True)),
                            settings["max_frame_gap"])
    return pieces, left_out


def _split_at_gaps(paths: SessionPaths,
                   trials: list[tuple[NDArray[np.float64], NDArray[np.integer[Any]]]],
                   max_gap: float) -> list[_TrialPiece]:
    """Split trials where the frame times pause: ``(times, frames, trial)`` pieces.

    A step between consecutive frame times longer than ``max_gap`` median steps of its
    trial is a pause (between stimulus presentations, say), not a frame: the frames
    before and after it become separate pieces, and the pause is excluded like the gap
    between trials.  ``trial`` is the index of the trial each piece came from.
    """
    pieces = []
    for trial, (times, frames) in enumerate(trials):
        cuts = np.zeros(0, dtype=np.int64)
        if times.size > 2:
            steps = np.diff(times)
            cuts = np.flatnonzero(steps > max_gap * np.median(steps)) + 1
        if cuts.size:
            LOG.warning("%s: %d pause(s) longer than max_frame_gap (%g frames) in the frame "
                        "times%s, the longest %.4g s; they are left out like gaps between "
                        "trials", paths["triggers"] or "frame_rate", cuts.size, max_gap,
                        f" of trial {trial + 1}" if len(trials) > 1 else "",
                        float(np.max(np.diff(times)[cuts - 1])))
        pieces += [(part, indices, trial)
                   for part, indices in zip(np.split(times, cuts), np.split(frames, cuts),
                                            strict=True)]
    return pieces
