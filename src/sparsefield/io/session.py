"""One session: one stimulus and its timing, and the units recorded with it.

A session is described by one row of the recordings sheet
(``config/recordings.tsv``).  Today's one-unit rows (a spike-time vector, a
trigger vector and a stimulus, in MATLAB, npz or text files) are sessions of one
unit; a row may instead point at a source of many units:

- an NWB file (``format: nwb``): the Units table, the stimulus series and its
  timestamps (the triggers) read through :mod:`sparsefield.io.nwb`;
- a Kilosort/Phy folder (``format: kilosort``): clusters as units, sorter labels
  from ``cluster_group.tsv`` / ``cluster_KSLabel.tsv``
  (:mod:`sparsefield.io.kilosort`); frame times from ``triggers_file``;
- a MATLAB cell array of spike-time vectors (1 x N, N x 1; units x trials for
  per-trial spike times), or an ``.npz`` of concatenated spike times with one
  unit index per spike (``units_key``) (:mod:`sparsefield.io.cells`).

Timing: trigger (frame-onset) times from a vector, a cell array of per-trial
vectors, an NWB stimulus's timestamps, or ``frame_rate`` (+ ``first_frame_time``)
when there is no trigger vector.  Trials are put on one time line with the gaps
between them removed (trial ``k + 1`` starts where trial ``k``'s last frame ends),
so no gap is ever counted as a frame; spikes in the gaps, before the first or after
the last frame are left out and counted per unit.

Everything a user can get wrong is checked here, once, and raised as
:class:`sparsefield.errors.InputError` naming the file or the sheet row, the unit
and the problem; code downstream trusts a :class:`Session`.
"""

import dataclasses
import logging
import math
import os
import re
from dataclasses import dataclass, field

import numpy as np

from sparsefield._checks import as_times
from sparsefield.errors import InputError
from sparsefield.io import plausibility
from sparsefield.io.readers import EXTENSION_FORMATS, check_file, read_variables, stored_precision
from sparsefield.io.recording import (
    PIXEL_ORDERS,
    STIMULUS_AXES,
    SourcesNpzMixin,
    _check_stimulus,
    _is_blank,
    _resolve,
    _text_cell,
)

LOG = logging.getLogger(__name__)

#: Formats a session row may name: the one-file formats of
#: :mod:`sparsefield.io.readers` plus the multi-unit sources.
SESSION_FORMATS = ("auto", "mat", "npz", "text", "nwb", "kilosort")

#: Time units of spike and trigger times; ``samples`` needs ``sample_rate``.
TIME_UNITS = ("s", "ms", "samples")

#: How trials share the stimulus: ``continue`` (trial k+1 shows the frames after
#: trial k's) or ``repeat`` (every trial shows the stimulus from its first frame).
TRIAL_STIMULUS = ("continue", "repeat")

#: Columns of a session row, in their documented order (``config/README.md``).
SESSION_COLUMNS = (
    "recording_id",
    "format",
    "spikes_file",
    "triggers_file",
    "stimulus_file",
    "spikes_key",
    "units_key",
    "triggers_key",
    "stimulus_key",
    "frame_height",
    "frame_width",
    "stimulus_axes",
    "pixel_order",
    "time_unit",
    "spikes_time_unit",
    "triggers_time_unit",
    "sample_rate",
    "frame_rate",
    "first_frame_time",
    "trial_stimulus",
    "units",
    "unit_label",
    "label_column",
    "min_spikes",
    "max_frames_left_out",
    "max_spikes_left_out",
    "max_frame_gap",
)

#: Defaults of the MATLAB/npz variable names (the course files' names).
VARIABLE_DEFAULTS = {
    "spikes_key": "DN_spiketimes",
    "triggers_key": "DN_triggertimes",
    "stimulus_key": "DN_stim",
}

#: Defaults of the other columns when a cell is blank (``min_spikes``,
#: ``max_frames_left_out``... default to the workflow config's ``sessions`` keys), and of
#: the plausibility checks' settings, which are config keys only
#: (:data:`sparsefield.io.plausibility.PLAUSIBILITY_DEFAULTS`).
SESSION_DEFAULTS = {
    "format": "auto",
    "stimulus_axes": "hwt",
    "pixel_order": "C",
    "time_unit": "s",
    "first_frame_time": 0.0,
    "trial_stimulus": "continue",
    "min_spikes": 50,
    "max_frames_left_out": 0.05,
    "max_spikes_left_out": 1.0,
    "max_frame_gap": 4.0,
    **plausibility.PLAUSIBILITY_DEFAULTS,
}

_SCALE = {"s": 1.0, "ms": 1e-3}


@dataclass(frozen=True)
class Session(SourcesNpzMixin):
    """Checked stimulus, frame times and spike times of the units of one session.

    Attributes
    ----------
    session_id : str
        The sheet's ``recording_id``.
    unit_ids : ndarray of shape (n_units,), int64
        Ids from the source (NWB unit ids, Kilosort cluster ids, 1-based MATLAB
        cell indices; a single spike-time vector is unit 1), in increasing order.
    unit_labels : ndarray of shape (n_units,), str
        Sorter labels (``good``, ``mua``...); ``""`` where the source has none.
    spike_times : ndarray of shape (n_spikes,), float64
        Spike times in seconds on the session's time line, all units
        concatenated; each unit's block is sorted.  Only spikes inside a
        trial's frames are kept.
    spike_offsets : ndarray of shape (n_units + 1,), int64
        Unit ``u``'s spikes are ``spike_times[spike_offsets[u]:spike_offsets[u + 1]]``.
    n_spikes_left_out : ndarray of shape (n_units,), int64
        Spikes of each unit outside every trial's frames (before the first
        frame, in the gaps between trials, after the last frame).
    trigger_times : ndarray of shape (n_frames,), float64
        Frame onsets in seconds on the session's time line, strictly increasing.
    stimulus : ndarray of shape (n_frames, n_pixels), float64
        The frame shown at each trigger; pixel ``row * width + col``.
    frame_shape : tuple of int
        ``(height, width)``: ``(1, 1)`` for full-field flicker, ``(1, width)``
        for bars.
    trial_starts : ndarray of shape (n_trials,), int64
        Index of each trial's first frame (``[0]`` for one trial).  A pause in the
        frame times longer than ``max_frame_gap`` median frame steps starts a new
        trial (the pause is left out like the gap between trials).
    n_frames_left_out : int
        Stimulus frames never shown with a trigger (beyond the last one used).
    min_spikes : int
        Units with fewer spikes inside the frames are not fitted (flagged).
    sources : dict of str to str
        What each role was read from: keys ``spikes``, ``triggers``, ``stimulus``.
    n_constant_pixels : int
        Pixels that never change over the frames used, kept because
        ``sessions.constant_pixels`` is ``warn`` (otherwise they are an error).
    """

    session_id: str
    unit_ids: np.ndarray
    unit_labels: np.ndarray
    spike_times: np.ndarray
    spike_offsets: np.ndarray
    n_spikes_left_out: np.ndarray
    trigger_times: np.ndarray
    stimulus: np.ndarray
    frame_shape: tuple
    trial_starts: np.ndarray
    n_frames_left_out: int
    min_spikes: int
    sources: dict = field(default_factory=dict)
    n_constant_pixels: int = 0

    @classmethod
    def _unpack_field(cls, name, kind, npz):
        if name == "n_constant_pixels" and name not in npz:
            return 0  # a session.npz written before the field existed
        return super()._unpack_field(name, kind, npz)

    @property
    def n_units(self):
        """Number of units."""
        return int(self.unit_ids.shape[0])

    @property
    def n_frames(self):
        """Number of frames (equal to the number of triggers)."""
        return int(self.stimulus.shape[0])

    def unit_spike_times(self, unit):
        """Spike times of the unit at position ``unit`` (0-based, not its id).

        Returns
        -------
        spike_times : ndarray of shape (n_unit_spikes,)
            A view of :attr:`spike_times`.
        """
        return self.spike_times[self.spike_offsets[unit]:self.spike_offsets[unit + 1]]

    def spikes_of_units(self, units):
        """Spike times and offsets of a consecutive range of units.

        Parameters
        ----------
        units : slice
            Unit positions ``units.start .. units.stop - 1`` (step 1).

        Returns
        -------
        spike_times : ndarray of shape (n_chunk_spikes,)
        spike_offsets : ndarray of shape (n_chunk_units + 1,), int64
            Starting at 0, as :attr:`spike_offsets` does for the whole session.
        """
        first, last = self.spike_offsets[units.start], self.spike_offsets[units.stop]
        return (self.spike_times[first:last],
                self.spike_offsets[units.start:units.stop + 1] - first)

    def unit_index(self, unit_id):
        """Position of the unit with id ``unit_id``.

        Raises
        ------
        InputError
            When the session has no such unit.
        """
        matches = np.flatnonzero(self.unit_ids == int(unit_id))
        if matches.size == 0:
            raise InputError(f"session {self.session_id}",
                             f"has no unit {unit_id} (units: {_id_list(self.unit_ids)})")
        return int(matches[0])

    def unit_recording(self, unit):
        """The unit at position ``unit`` as a one-unit :class:`Recording` (views, no copies).

        ``recording_id`` is ``"<session_id> unit <id>"``; ``n_frames_dropped`` is
        :attr:`n_frames_left_out`.
        """
        from sparsefield.io.recording import Recording

        return Recording(
            recording_id=f"{self.session_id} unit {int(self.unit_ids[unit])}",
            spike_times=self.unit_spike_times(unit),
            trigger_times=self.trigger_times,
            stimulus=self.stimulus,
            frame_shape=self.frame_shape,
            n_frames_dropped=self.n_frames_left_out,
            sources=dict(self.sources),
        )

    def stimulus_frames(self):
        """The stimulus as images, shape (n_frames, height, width) (a view)."""
        return self.stimulus.reshape(self.stimulus.shape[0], *self.frame_shape)


# --- the sheet row -------------------------------------------------------------------


def read_session_row(row, defaults=None):
    """Sheet row -> dict of every session column, defaults applied, values checked.

    Parameters
    ----------
    row : mapping of str to object
        One row of the recordings sheet; absent, ``None``, NaN or blank cells
        take their default.
    defaults : mapping, optional
        Overrides of :data:`SESSION_DEFAULTS` (the workflow passes its config's
        ``sessions`` section: ``min_spikes``, ``max_frames_left_out``, the
        plausibility settings ``frame_interval``, ``rate``, ``constant_pixels``,
        ``max_time_error``...).

    Returns
    -------
    settings : dict

    Raises
    ------
    InputError
        Source ``"recordings.tsv: <recording_id>"``, naming the column; a bad
        plausibility setting names its config key (``sessions.rate``).
    """
    defaults = {**SESSION_DEFAULTS, **(defaults or {})}
    cells = {}
    for column in SESSION_COLUMNS:
        value = row.get(column) if hasattr(row, "get") else row[column]
        cells[column] = None if _is_blank(value) else value
    if cells["recording_id"] is None:
        raise InputError("recordings.tsv", "a row has no recording_id")
    settings = {"recording_id": _text_cell(cells["recording_id"])}
    source = f"recordings.tsv: {settings['recording_id']}"
    if cells["spikes_file"] is None:
        raise InputError(source, "column spikes_file is empty; it is required")

    text_columns = ("format", "spikes_file", "triggers_file", "stimulus_file", "spikes_key",
                    "units_key", "triggers_key", "stimulus_key", "stimulus_axes", "pixel_order",
                    "time_unit", "spikes_time_unit", "triggers_time_unit", "trial_stimulus",
                    "units", "unit_label", "label_column")
    for column in text_columns:
        value = cells[column]
        if value is None:
            value = defaults.get(column)
        settings[column] = None if value is None else _text_cell(value)
    settings["stimulus_axes_given"] = cells["stimulus_axes"] is not None
    for role in ("spikes", "triggers"):
        if settings[f"{role}_time_unit"] is None:
            settings[f"{role}_time_unit"] = settings["time_unit"]

    _choice(source, settings, "format", SESSION_FORMATS)
    _choice(source, settings, "stimulus_axes", STIMULUS_AXES + ("t",))
    _choice(source, settings, "pixel_order", PIXEL_ORDERS)
    _choice(source, settings, "time_unit", TIME_UNITS)
    _choice(source, settings, "spikes_time_unit", TIME_UNITS)
    _choice(source, settings, "triggers_time_unit", TIME_UNITS)
    _choice(source, settings, "trial_stimulus", TRIAL_STIMULUS)

    settings["frame_height"] = _number(source, "frame_height", cells["frame_height"],
                                       integer=True, minimum=1)
    settings["frame_width"] = _number(source, "frame_width", cells["frame_width"],
                                      integer=True, minimum=1)
    settings["sample_rate"] = _number(source, "sample_rate", cells["sample_rate"], minimum=0,
                                      strict=True)
    settings["frame_rate"] = _number(source, "frame_rate", cells["frame_rate"], minimum=0,
                                     strict=True)
    settings["first_frame_time"] = _number(
        source, "first_frame_time",
        cells["first_frame_time"] if cells["first_frame_time"] is not None
        else defaults["first_frame_time"])
    settings["min_spikes"] = _number(
        source, "min_spikes",
        cells["min_spikes"] if cells["min_spikes"] is not None else defaults["min_spikes"],
        integer=True, minimum=0)
    settings["max_frame_gap"] = _number(
        source, "max_frame_gap",
        cells["max_frame_gap"] if cells["max_frame_gap"] is not None
        else defaults["max_frame_gap"], minimum=1, strict=True)
    settings["max_spikes_left_out"] = _number(
        source, "max_spikes_left_out",
        cells["max_spikes_left_out"] if cells["max_spikes_left_out"] is not None
        else defaults["max_spikes_left_out"], minimum=0)
    settings["max_frames_left_out"] = _number(
        source, "max_frames_left_out",
        cells["max_frames_left_out"] if cells["max_frames_left_out"] is not None
        else defaults["max_frames_left_out"], minimum=0)
    for role in ("spikes", "triggers"):
        if settings[f"{role}_time_unit"] == "samples" and settings["sample_rate"] is None:
            raise InputError(source, f"{role}_time_unit is samples, so sample_rate (samples "
                             "per second) is required")
    settings["units"] = _unit_list(source, settings["units"])
    settings["frame_interval"] = plausibility.as_bounds(
        defaults["frame_interval"], "sessions.frame_interval", "s")
    settings["rate"] = plausibility.as_bounds(defaults["rate"], "sessions.rate", "Hz")
    settings["constant_pixels"] = plausibility.as_choice(
        defaults["constant_pixels"], "sessions.constant_pixels", plausibility.CONSTANT_PIXELS)
    settings["max_time_error"] = plausibility.as_fraction(defaults["max_time_error"],
                                                          "sessions.max_time_error")
    if settings["frame_rate"] is not None and cells["triggers_file"] is not None:
        raise InputError(source, "give either triggers_file or frame_rate, not both")
    return settings


def _choice(source, settings, column, allowed):
    if settings[column] not in allowed:
        raise InputError(source,
                         f"{column} is {settings[column]!r}; expected one of {', '.join(allowed)}")


def _number(source, column, value, *, integer=False, minimum=None, strict=False):
    """A sheet cell as int/float (None stays None), checked against its range."""
    if value is None:
        return None
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        number = math.nan
    wanted = "a whole number" if integer else "a number"
    if minimum is not None:
        wanted += f" {'>' if strict else '>='} {minimum:g}"
    ok = math.isfinite(number) and (not integer or number.is_integer())
    if ok and minimum is not None:
        ok = number > minimum if strict else number >= minimum
    if not ok:
        raise InputError(source, f"{column} is {value!r}; expected {wanted}")
    return int(number) if integer else number


def _unit_list(source, text):
    """``"3, 7 12"`` -> (3, 7, 12); blank -> None (every unit)."""
    if text is None:
        return None
    parts = [part for part in re.split(r"[\s,;]+", text) if part]
    try:
        ids = tuple(int(part) for part in parts)
    except ValueError:
        raise InputError(source, f"units is {text!r}; expected unit ids (whole numbers) "
                         "separated by spaces or commas") from None
    if not ids:
        return None
    return ids


def _id_list(ids, limit=12):
    ids = [str(int(unit)) for unit in ids]
    return ", ".join(ids if len(ids) <= limit else ids[:limit] + [f"... ({len(ids)} in all)"])


# --- loading -------------------------------------------------------------------------


def load_session(row, base_dir=".", defaults=None):
    """Read and check one session described by a row of the recordings sheet.

    Parameters
    ----------
    row : mapping of str to object
        One sheet row; see :data:`SESSION_COLUMNS` and ``config/README.md``.
    base_dir : str or os.PathLike, default "."
        Folder that relative paths in the row are relative to.
    defaults : mapping, optional
        Overrides of :data:`SESSION_DEFAULTS` (``min_spikes``,
        ``max_frames_left_out``, the plausibility settings).

    Returns
    -------
    Session

    Raises
    ------
    InputError
        Naming the file (or the sheet row), the unit or the column, and the problem.

    Notes
    -----
    Besides reading, every session passes the checks of
    :mod:`sparsefield.io.plausibility` before it is returned: spike and trigger times
    that are not the same numbers, frame intervals within ``frame_interval``, times
    stored precisely enough for the frames (``max_time_error``), spike trains that do
    not restart, mean rates of the units to be fitted within ``rate``, and a stimulus
    whose pixels all change (``constant_pixels``).  A text spikes file holds one
    vector, so a blank ``triggers_file`` (without ``frame_rate``) is an error for it
    rather than reading the spike times again as frame times.
    """
    settings = read_session_row(row, defaults)
    source = f"recordings.tsv: {settings['recording_id']}"
    spikes_path = _resolve(settings["spikes_file"], base_dir)
    spikes_format = _format_of(spikes_path, settings["format"])
    if spikes_format == "text":
        for role, what in (("triggers", "the frame times"), ("stimulus", "the stimulus")):
            if settings[f"{role}_file"] is None and (role == "stimulus"
                                                     or settings["frame_rate"] is None):
                other = " (or frame_rate)" if role == "triggers" else ""
                raise InputError(source, f"{role}_file is blank, but spikes_file "
                                 f"{settings['spikes_file']} is a text file, which holds one "
                                 f"vector (the spike times); give {role}_file{other} for "
                                 f"{what}")
    paths = {
        "spikes": spikes_path,
        "triggers": None if settings["frame_rate"] is not None else _resolve(
            settings["triggers_file"] or settings["spikes_file"], base_dir),
        "stimulus": _resolve(settings["stimulus_file"] or settings["spikes_file"], base_dir),
    }
    if spikes_format == "kilosort" and paths["stimulus"] == spikes_path:
        raise InputError(source, "a Kilosort/Phy folder holds no stimulus; give stimulus_file")

    trains = _read_spikes(spikes_path, spikes_format, settings)
    trains = _select_units(spikes_path, trains, settings)
    triggers, trigger_precision = _read_triggers(paths, settings, source)
    _check_timing(settings, paths, source, spikes_format, trains, triggers,
                  trigger_precision)
    stimulus_raw, stimulus_settings = _read_stimulus(paths["stimulus"], settings)
    trials = _trial_frames(source, paths, triggers, trains, stimulus_raw, stimulus_settings,
                           settings)
    session = _assemble(settings, paths, trains, trials, stimulus_raw, stimulus_settings)
    plausibility.check_rates(session, settings["rate"], spikes_path)
    n_constant = plausibility.check_stimulus(session.stimulus, session.frame_shape,
                                             settings["constant_pixels"], paths["stimulus"])
    if n_constant:
        session = dataclasses.replace(session, n_constant_pixels=n_constant)
    return session


def _spikes_unit(spikes_format, settings):
    """The sheet's unit of the stored spike times (Kilosort and NWB readers give s)."""
    return "s" if spikes_format in ("kilosort", "nwb") else settings["spikes_time_unit"]


def _check_timing(settings, paths, source, spikes_format, trains, triggers, trigger_precision):
    """The plausibility checks that need only the times; returns the median frame (s)."""
    spikes_unit = _spikes_unit(spikes_format, settings)
    spikes_scale = _time_scale(spikes_unit, settings)
    if triggers is None:
        plausibility.check_frame_rate(settings["frame_rate"], settings["frame_interval"],
                                      source)
        frame = 1.0 / settings["frame_rate"]
    else:
        triggers_unit = settings["triggers_time_unit"]
        if os.path.splitext(paths["triggers"])[1].lower() == ".nwb" or (
                settings["format"] == "nwb" and paths["triggers"] == paths["spikes"]):
            triggers_unit = "s"
        triggers_scale = _time_scale(triggers_unit, settings)
        plausibility.check_not_the_same(trains, spikes_scale, triggers, triggers_scale,
                                        paths["spikes"], paths["triggers"],
                                        settings["triggers_file"] is None)
        frame = plausibility.check_frame_intervals(triggers, settings["frame_interval"],
                                                   paths["triggers"], triggers_unit)
        largest = max(float(np.max(np.abs(times))) for times in triggers if times.size)
        plausibility.check_time_precision(trigger_precision, triggers_scale, largest, frame,
                                          settings["max_time_error"], paths["triggers"],
                                          "trigger", triggers_unit)
    spikes = [part for train in trains.times
              for part in (train if trains.per_trial else (train,)) if part.size]
    if spikes:
        largest = max(float(np.max(np.abs(part))) for part in spikes)
        plausibility.check_time_precision(trains.precision, spikes_scale, largest, frame,
                                          settings["max_time_error"], paths["spikes"],
                                          "spike", spikes_unit)
    return frame


def _format_of(path, fmt):
    """The format of a spikes source; ``auto`` decides by folder / extension."""
    if fmt != "auto":
        return fmt
    if os.path.isdir(path):
        return "kilosort"
    extension = os.path.splitext(path)[1].lower()
    if extension == ".nwb":
        return "nwb"
    if extension in EXTENSION_FORMATS:
        return EXTENSION_FORMATS[extension]
    check_file(path)
    known = ", ".join(sorted(set(EXTENSION_FORMATS) | {".nwb"}))
    raise InputError(path, f"cannot tell the file format from the extension "
                     f"{extension or '(none)'!r} (known: {known}, or a Kilosort/Phy folder); "
                     "set the format column")


def _read_spikes(path, fmt, settings):
    """-> (unit_ids, trains, labels, per_trial), times in seconds."""
    from sparsefield.io import cells

    if fmt == "kilosort":
        from sparsefield.io.kilosort import read_kilosort

        trains = read_kilosort(path).trains
        unit = "s"
    elif fmt == "nwb":
        from sparsefield.io.nwb import read_nwb_units

        check_file(path)
        trains = read_nwb_units(path, label_column=settings["label_column"])
        unit = "s"
    elif fmt == "mat":
        check_file(path)
        trains = cells.read_spike_cells(path, settings["spikes_key"] or
                                        VARIABLE_DEFAULTS["spikes_key"])
        unit = settings["spikes_time_unit"]
    elif fmt == "npz" and settings["units_key"] is not None:
        trains = cells.read_units_npz(path, settings["spikes_key"] or
                                      VARIABLE_DEFAULTS["spikes_key"], settings["units_key"])
        unit = settings["spikes_time_unit"]
    else:
        key = settings["spikes_key"] or VARIABLE_DEFAULTS["spikes_key"]
        stored = read_variables(path, fmt, [key])[key]
        vector = np.asarray(stored, dtype=np.float64)
        if vector.ndim > 1 and sum(size != 1 for size in vector.shape) > 1:
            raise InputError(path, f"spike times must be a vector, but the stored array has "
                             f"shape {'x'.join(map(str, vector.shape))}")
        trains = cells.SpikeTrains(unit_ids=np.array([1], dtype=np.int64),
                                   times=(vector.reshape(-1),), labels=None, per_trial=False,
                                   precision=stored_precision(stored))
        unit = settings["spikes_time_unit"]
    scale = _time_scale(unit, settings)
    times = tuple(
        tuple(_spike_vector(path, unit_id, trial, values, scale, unit)
              for trial, values in enumerate(train))
        if trains.per_trial else _spike_vector(path, unit_id, None, train, scale, unit)
        for unit_id, train in zip(np.asarray(trains.unit_ids).tolist(), trains.times)
    )
    if not len(times):
        raise InputError(path, "holds no units")
    if not any(np.size(part) for train in times
               for part in (train if trains.per_trial else (train,))):
        raise InputError(path, "spike train is empty (no spike times in any unit)")
    return trains.__class__(unit_ids=np.asarray(trains.unit_ids, dtype=np.int64), times=times,
                            labels=trains.labels, per_trial=trains.per_trial,
                            precision=trains.precision)


def _time_scale(unit, settings):
    if unit == "samples":
        return 1.0 / settings["sample_rate"]
    return _SCALE[unit]


def _spike_vector(path, unit_id, trial, values, scale, unit):
    """One stored spike train -> sorted float64 seconds (finite, a vector)."""
    where = f"unit {unit_id}" + (f", trial {trial + 1}" if trial is not None else "")
    values = np.asarray(values)
    if values.dtype.kind not in "biuf":
        raise InputError(path, f"{where}: spike times are not real numbers")
    if values.ndim > 1 and sum(size != 1 for size in values.shape) > 1:
        raise InputError(path, f"{where}: spike times must be a vector, but the stored array "
                         f"has shape {'x'.join(map(str, values.shape))}")
    times = values.astype(np.float64).reshape(-1)
    bad = np.flatnonzero(~np.isfinite(times))
    if bad.size:
        raise InputError(path, f"{where}: spike time {int(bad[0])} (0-based) is "
                         f"{times[bad[0]]}; {bad.size} of {times.size} spike times are not finite")
    negative = np.flatnonzero(times < 0)
    if trial is None and negative.size:
        # Continuous spike times start at the recording's start; per-trial times may be
        # negative (before the trial's first frame) and are then left out.
        raise InputError(path, f"{where}: spike time {int(negative[0])} (0-based) is negative "
                         f"({times[negative[0]]:g} {unit}); spike times must be >= 0")
    plausibility.check_spike_order(times, path, where)
    return np.sort(times) * scale


def _select_units(path, trains, settings):
    """Keep the units asked for by id list and sorter label (in increasing id order)."""
    ids = trains.unit_ids
    keep = np.ones(ids.size, dtype=bool)
    if settings["units"] is not None:
        missing = sorted(set(settings["units"]) - set(ids.tolist()))
        if missing:
            raise InputError(path, f"has no unit {', '.join(map(str, missing))} (asked for in "
                             f"the units column; units in the file: {_id_list(ids)})")
        keep &= np.isin(ids, settings["units"])
    if settings["unit_label"] is not None:
        if trains.labels is None:
            raise InputError(path, f"has no sorter labels, so unit_label "
                             f"{settings['unit_label']!r} cannot select units")
        labels = np.array(trains.labels)
        keep &= labels == settings["unit_label"]
        if not keep.any():
            found = ", ".join(sorted(set(trains.labels))) or "none"
            raise InputError(path, f"has no unit labelled {settings['unit_label']!r} "
                             f"(labels found: {found})")
    order = np.argsort(ids[keep], kind="stable")
    chosen = np.flatnonzero(keep)[order]
    labels = ("",) * ids.size if trains.labels is None else tuple(trains.labels)
    return trains.__class__(unit_ids=ids[chosen], times=tuple(trains.times[i] for i in chosen),
                            labels=tuple(labels[i] for i in chosen), per_trial=trains.per_trial,
                            precision=trains.precision)


def _read_triggers(paths, settings, source):
    """Per-trial trigger times in seconds (a list of arrays) and their stored precision
    (:class:`~sparsefield.io.readers.StoredPrecision`, in the stored unit), or
    ``(None, None)`` with frame_rate."""
    if settings["frame_rate"] is not None:
        return None, None
    path = paths["triggers"]
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
            n_frames = series.frames.shape[0]
            trials = [series.starting_time + np.arange(n_frames) / series.rate]
        unit = "s"
    elif extension == ".npy":
        from sparsefield.io.kilosort import read_event_times

        times, precision = read_event_times(path, unit="s", with_precision=True)
        trials = [times]
    elif fmt == "mat" or (fmt == "auto" and extension == ".mat"):
        from sparsefield.io.cells import read_trial_cells

        trials, precision = _blank_triggers_hint(
            lambda: read_trial_cells(path, key, with_precision=True), paths, settings, source)
        trials = list(trials)
    else:
        stored = _blank_triggers_hint(lambda: read_variables(path, fmt, [key])[key], paths,
                                      settings, source)
        precision = stored_precision(stored)
        trials = [np.asarray(stored)]
    scale = _time_scale(unit, settings)
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


def _blank_triggers_hint(read, paths, settings, source):
    """``read()``; when the triggers_file cell was blank and the spikes file lacks the
    trigger variable, say so (the user may have forgotten triggers_file)."""
    try:
        return read()
    except InputError as error:
        if settings["triggers_file"] is not None or not error.problem.startswith("has no "):
            raise
        raise InputError(source, f"triggers_file is blank, so the frame times are read from "
                         f"spikes_file, but {error}; give triggers_file (and triggers_key), "
                         "or frame_rate") from error


def _read_stimulus(path, settings):
    """The stored stimulus and the settings that describe its axes."""
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


def _unit_hint(train, per_trial, frames_end):
    """Advice when a unit's spikes run about 1000 times past the frames (ms read as s)."""
    parts = [part for part in (train if per_trial else (train,)) if part.size]
    if not parts or frames_end <= 0:
        return ""
    last = max(float(part.max()) for part in parts)
    if 300 <= last / frames_end <= 3000:
        return (f" (they reach {last:.4g} s, about 1000 times the end of the frames at "
                f"{frames_end:.4g} s: if the spike times are in ms, set spikes_time_unit: ms)")
    return ""


def _n_stored_frames(data, stimulus_settings):
    return int(np.asarray(data).shape[stimulus_settings["stimulus_axes"].index("t")])


def _trial_frames(source, paths, triggers, trains, data, stimulus_settings, settings):
    """Per trial: (trigger times in s, stimulus frame indices)."""
    n_stored = _n_stored_frames(data, stimulus_settings)
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
    return _split_at_gaps(paths, list(zip(triggers, frames)), settings["max_frame_gap"]), left_out


def _split_at_gaps(paths, trials, max_gap):
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
                   for part, indices in zip(np.split(times, cuts), np.split(frames, cuts))]
    return pieces


def _assemble(settings, paths, trains, trials, data, stimulus_settings):
    """Trials on one time line; spikes inside the frames; the stimulus per frame."""
    (trials, n_frames_left_out) = trials
    n_stored = _n_stored_frames(data, stimulus_settings)
    stimulus_all, frame_shape, _ = _check_stimulus(paths["stimulus"], data, stimulus_settings,
                                                   n_stored)
    all_intervals = np.concatenate([np.diff(times) for times, _, _ in trials if times.size > 1]
                                   or [np.zeros(0)])
    if all_intervals.size == 0:
        raise InputError(paths["triggers"] or paths["stimulus"], "needs at least one trial "
                         "with 2 or more frames to know the frame duration")
    global_median = float(np.median(all_intervals))
    windows = []  # (start, stop, shift) on the source clock of each trial
    cursor = float(trials[0][0][0])
    for times, _, _ in trials:
        median = float(np.median(np.diff(times))) if times.size > 1 else global_median
        start, stop = float(times[0]), float(times[-1]) + median
        windows.append((start, stop, cursor - start))
        cursor += stop - start
    if not trains.per_trial:
        for (_, stop, _), (start, _, _) in zip(windows[:-1], windows[1:]):
            if start < stop - 1e-9:
                raise InputError(paths["triggers"] or "frame_rate", "trials overlap on the "
                                 f"recording's clock (a trial starts at {start:.6g} s, before "
                                 f"the previous one ends at {stop:.6g} s)")
    trigger_times = np.concatenate([times + shift for (times, _, _), (_, _, shift)
                                    in zip(trials, windows)])
    stimulus = stimulus_all[np.concatenate([indices for _, indices, _ in trials])]
    trial_starts = np.cumsum([0] + [times.size for times, _, _ in trials[:-1]]).astype(np.int64)

    kept, left_out = [], []
    for train in trains.times:
        pieces, total = [], 0
        for (start, stop, shift), (_, _, trial) in zip(windows, trials):
            times = train[trial] if trains.per_trial else train
            inside = times[(times >= start) & (times < stop)]
            pieces.append(inside + shift)
            total += inside.size
        n_given = sum(part.size for part in train) if trains.per_trial else train.size
        kept.append(np.concatenate(pieces) if pieces else np.zeros(0))
        left_out.append(n_given - total)
    spike_offsets = np.concatenate(([0], np.cumsum([times.size for times in kept])))
    frames_end = max(stop for _, stop, _ in windows)
    for unit_id, n_left, unit_spikes, train in zip(trains.unit_ids.tolist(), left_out, kept,
                                                   trains.times):
        if not n_left:
            continue
        fraction = n_left / (n_left + unit_spikes.size)
        message = (f"unit {unit_id}: {n_left} of {n_left + unit_spikes.size} spikes "
                   f"({100 * fraction:.1f} %) fall outside the frames and are left out"
                   f"{_unit_hint(train, trains.per_trial, frames_end)}")
        if fraction > settings["max_spikes_left_out"]:
            raise InputError(paths["spikes"], f"{message}, more than max_spikes_left_out "
                             f"({settings['max_spikes_left_out']:g}); check that the frame "
                             "times and spike times share a clock and a unit, or raise "
                             "sessions.max_spikes_left_out (or the sheet's "
                             "max_spikes_left_out column)")
        # Spikes outside the stimulus are common (a recording longer than the stimulus);
        # most of a unit's spikes outside it is worth a look.
        (LOG.warning if fraction > 0.5 else LOG.info)("%s: %s", paths["spikes"], message)
    return Session(
        session_id=settings["recording_id"],
        unit_ids=np.asarray(trains.unit_ids, dtype=np.int64),
        unit_labels=np.array(trains.labels, dtype=str) if len(trains.labels)
        else np.zeros(0, dtype=str),
        spike_times=np.concatenate(kept).astype(np.float64) if kept else np.zeros(0),
        spike_offsets=spike_offsets.astype(np.int64),
        n_spikes_left_out=np.asarray(left_out, dtype=np.int64),
        trigger_times=trigger_times,
        stimulus=stimulus,
        frame_shape=tuple(int(size) for size in frame_shape),
        trial_starts=trial_starts,
        n_frames_left_out=int(n_frames_left_out),
        min_spikes=int(settings["min_spikes"]),
        n_constant_pixels=0,
        sources={role: (path if path is not None else f"frame_rate {settings['frame_rate']:g} Hz")
                 for role, path in paths.items()},
    )
