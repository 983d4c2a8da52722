"""The session's row of the recordings sheet: columns, defaults and checks.

:func:`read_session_row` turns one row of ``config/recordings.tsv`` into the checked
settings that :func:`sparsefield.io.session.load_session` reads a session with; the
constants here are the sheet's columns, choices and defaults (mirrored by
``workflow/schemas/recordings.schema.yaml``).
"""

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sparsefield.errors import InputError
from sparsefield.io import plausibility
from sparsefield.io.recording import PIXEL_ORDERS, STIMULUS_AXES, is_blank, text_cell

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

#: Sheet columns read as text (None when blank and without a default).
_TEXT_COLUMNS = ("format", "spikes_file", "triggers_file", "stimulus_file", "spikes_key",
                 "units_key", "triggers_key", "stimulus_key", "stimulus_axes", "pixel_order",
                 "time_unit", "spikes_time_unit", "triggers_time_unit", "trial_stimulus",
                 "units", "unit_label", "label_column")


def read_session_row(row: Mapping[str, Any],
                     defaults: Mapping[str, Any] | None = None) -> dict[str, Any]:
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
    cells: dict[str, Any] = {}
    for column in SESSION_COLUMNS:
        value = row.get(column) if hasattr(row, "get") else row[column]
        cells[column] = None if is_blank(value) else value
    if cells["recording_id"] is None:
        raise InputError("recordings.tsv", "a row has no recording_id")
    settings: dict[str, Any] = {"recording_id": text_cell(cells["recording_id"])}
    source = f"recordings.tsv: {settings['recording_id']}"
    if cells["spikes_file"] is None:
        raise InputError(source, "column spikes_file is empty; it is required")
    settings.update(_text_settings(source, cells, defaults))
    settings.update(_number_settings(source, cells, defaults))
    for role in ("spikes", "triggers"):
        if settings[f"{role}_time_unit"] == "samples" and settings["sample_rate"] is None:
            raise InputError(source, f"{role}_time_unit is samples, so sample_rate (samples "
                             "per second) is required")
    settings["units"] = _unit_list(source, settings["units"])
    settings.update(_plausibility_settings(defaults))
    if settings["frame_rate"] is not None and cells["triggers_file"] is not None:
        raise InputError(source, "give either triggers_file or frame_rate, not both")
    return settings


def _text_settings(source: str, cells: Mapping[str, Any],
                   defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The text columns of a row (blank: the default, or None), their choices checked."""
    settings: dict[str, Any] = {}
    for column in _TEXT_COLUMNS:
        value = cells[column]
        if value is None:
            value = defaults.get(column)
        settings[column] = None if value is None else text_cell(value)
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
    return settings


def _number_settings(source: str, cells: Mapping[str, Any],
                     defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The numeric columns of a row (blank: the default, or None), range-checked."""
    def given(column: str) -> Any:
        return cells[column] if cells[column] is not None else defaults[column]

    return {
        "frame_height": _number(source, "frame_height", cells["frame_height"], integer=True,
                                minimum=1),
        "frame_width": _number(source, "frame_width", cells["frame_width"], integer=True,
                               minimum=1),
        "sample_rate": _number(source, "sample_rate", cells["sample_rate"], minimum=0,
                               strict=True),
        "frame_rate": _number(source, "frame_rate", cells["frame_rate"], minimum=0,
                              strict=True),
        "first_frame_time": _number(source, "first_frame_time", given("first_frame_time")),
        "min_spikes": _number(source, "min_spikes", given("min_spikes"), integer=True,
                              minimum=0),
        "max_frame_gap": _number(source, "max_frame_gap", given("max_frame_gap"), minimum=1,
                                 strict=True),
        "max_spikes_left_out": _number(source, "max_spikes_left_out",
                                       given("max_spikes_left_out"), minimum=0),
        "max_frames_left_out": _number(source, "max_frames_left_out",
                                       given("max_frames_left_out"), minimum=0),
    }


def _plausibility_settings(defaults: Mapping[str, Any]) -> dict[str, Any]:
    """The plausibility checks' settings (config keys only, never sheet columns)."""
    return {
        "frame_interval": plausibility.as_bounds(defaults["frame_interval"],
                                                 "sessions.frame_interval", "s"),
        "rate": plausibility.as_bounds(defaults["rate"], "sessions.rate", "Hz"),
        "constant_pixels": plausibility.as_choice(
            defaults["constant_pixels"], "sessions.constant_pixels",
            plausibility.CONSTANT_PIXELS),
        "max_time_error": plausibility.as_fraction(defaults["max_time_error"],
                                                   "sessions.max_time_error"),
    }


def _choice(source: str, settings: Mapping[str, Any], column: str,
            allowed: Sequence[str]) -> None:
    if settings[column] not in allowed:
        raise InputError(source,
                         f"{column} is {settings[column]!r}; expected one of {', '.join(allowed)}")


def _number(source: str, column: str, value: Any, *, integer: bool = False,
            minimum: float | None = None, strict: bool = False) -> int | float | None:
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


def _unit_list(source: str, text: str | None) -> tuple[int, ...] | None:
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
