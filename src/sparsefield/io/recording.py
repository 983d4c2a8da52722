"""One recording: spike times, trigger times and the stimulus, read and checked.

A recording is described by one row of ``config/recordings.tsv``; see
:data:`SHEET_COLUMNS` for the columns and :func:`load_recording` for what
each one means.  Everything a user can get wrong is checked here, once, and
reported as :class:`sparsefield.errors.InputError` naming the file (or the
sheet row) and the problem; code downstream trusts a :class:`Recording`.
"""

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._checks import as_times
from sparsefield._npz import NpzMixin
from sparsefield._typing import StrPath
from sparsefield.errors import InputError
from sparsefield.io.readers import FORMATS, check_file, infer_format, read_variables

#: Columns of the recordings sheet, in their documented order.
SHEET_COLUMNS = (
    "recording_id",
    "format",
    "spikes_file",
    "triggers_file",
    "stimulus_file",
    "spikes_key",
    "triggers_key",
    "stimulus_key",
    "frame_height",
    "frame_width",
    "stimulus_axes",
    "pixel_order",
    "time_unit",
)

#: Value used when a column is absent from the row or its cell is empty/NaN.
SHEET_DEFAULTS = {
    "format": "auto",
    "spikes_key": "DN_spiketimes",
    "triggers_key": "DN_triggertimes",
    "stimulus_key": "DN_stim",
    "stimulus_axes": "hwt",
    "pixel_order": "C",
    "time_unit": "s",
}

#: Columns whose empty cell means "the same file as this other column".
SHEET_FALLBACKS = {
    "triggers_file": "spikes_file",
    "stimulus_file": "spikes_file",
}

#: Columns that must be filled in every row.  ``frame_height`` and
#: ``frame_width`` are also required when ``stimulus_axes`` is ``tp``/``pt``.
SHEET_REQUIRED = ("recording_id", "spikes_file")

#: Accepted values of the enumerated columns.
STIMULUS_AXES = ("hwt", "htw", "wht", "wth", "thw", "twh", "tp", "pt")
PIXEL_ORDERS = ("C", "F")
TIME_UNITS = {"s": 1.0, "ms": 1e-3}

_ROLES = ("spikes", "triggers", "stimulus")


class SourcesNpzMixin(NpzMixin):
    """:class:`NpzMixin` for a dataclass whose ``sources`` field (dict of role to path) is
    stored as one ``source_<role>`` string per role (Recording, Session).
    """

    def _pack_field(self, name: str, kind: Any, value: Any) -> dict[str, np.ndarray | np.generic]:
        if name == "sources":
            return {f"source_{role}": np.str_(path) for role, path in value.items()}
        return super()._pack_field(name, kind, value)

    @classmethod
    def _unpack_field(cls, name: str, kind: Any, npz: Mapping[str, ArrayLike]) -> Any:
        if name == "sources":
            return {key[len("source_"):]: str(npz[key])
                    for key in npz.keys() if key.startswith("source_")}
        return super()._unpack_field(name, kind, npz)


@dataclass(frozen=True)
class Recording(SourcesNpzMixin):
    """Checked spike times, trigger times and stimulus of one recording.

    Attributes
    ----------
    recording_id : str
        The sheet's ``recording_id``.
    spike_times : ndarray of shape (n_spikes,)
        Spike times in seconds, float64, sorted ascending, finite, >= 0.
    trigger_times : ndarray of shape (n_triggers,)
        Frame-flip times in seconds, float64, strictly increasing,
        ``n_triggers >= 2``.  Trigger ``i`` is the onset of frame ``i``.
    stimulus : ndarray of shape (n_triggers, n_pixels)
        Stimulus frames in display order, float64, one row per trigger;
        ``n_pixels = height * width`` and pixel ``row * width + col`` (C order,
        always, whatever the file's layout).
    frame_shape : tuple of int
        ``(height, width)`` of one frame.
    n_frames_dropped : int
        Frames stored in the file beyond the last trigger, which were dropped.
    sources : dict of str to str
        File each role was read from: keys ``"spikes"``, ``"triggers"``,
        ``"stimulus"``.

    Notes
    -----
    :meth:`to_npz_dict` stores every field under its name except
    :attr:`sources`, stored as one ``source_<role>`` string per role.
    """

    recording_id: str
    spike_times: np.ndarray
    trigger_times: np.ndarray
    stimulus: np.ndarray
    frame_shape: tuple
    n_frames_dropped: int
    sources: dict = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        """Number of frames kept (equal to the number of triggers)."""
        return self.stimulus.shape[0]

    def stimulus_frames(self) -> np.ndarray:
        """The stimulus as images.

        Returns
        -------
        frames : ndarray of shape (n_frames, height, width)
            A view of :attr:`stimulus`.
        """
        return self.stimulus.reshape(self.stimulus.shape[0], *self.frame_shape)


def load_recording(row: Mapping[str, Any], base_dir: StrPath = ".") -> Recording:
    """Read and check one recording described by a row of the recordings sheet.

    Parameters
    ----------
    row : mapping of str to object
        One row of ``recordings.tsv`` (e.g. from ``DataFrame.to_dict("records")``).
        A column that is absent, ``None``, NaN or blank takes its default
        (:data:`SHEET_DEFAULTS`, :data:`SHEET_FALLBACKS`).  Columns:

        ``recording_id``
            Required; names the recording in messages and outputs.
        ``format``
            ``auto`` (default; each file by its extension: ``.mat`` ->
            MATLAB, version sniffed from the content, v4-v7 via scipy and v7.3
            via h5py; ``.npz``; ``.txt``/``.csv``/``.tsv``/``.dat`` -> text),
            or ``mat``, ``npz``, ``text`` to force one format on every file of
            the row.
        ``spikes_file``
            Required.  Relative paths are taken relative to ``base_dir``.
        ``triggers_file``, ``stimulus_file``
            Default: the ``spikes_file``.  A file shared by several roles is
            read once.
        ``spikes_key``, ``triggers_key``, ``stimulus_key``
            Variable (MATLAB) or array (npz) names; defaults ``DN_spiketimes``,
            ``DN_triggertimes``, ``DN_stim``.  Ignored for text files, which
            hold one number per line.
        ``frame_height``, ``frame_width``
            Frame size in pixels.  When given they must match the stimulus;
            when blank they are read off a 3-D stimulus.  Required for a
            flattened stimulus (``tp``/``pt``).
        ``stimulus_axes``
            Meaning of the stored stimulus axes in order: a permutation of
            ``hwt`` (height, width, time; default ``hwt``, the MATLAB layout
            ``height x width x frames``), or ``tp``/``pt`` for an already
            flattened ``frames x pixels`` / ``pixels x frames`` stimulus.
        ``pixel_order``
            ``C`` (default) or ``F``: how a flattened stimulus numbers its
            pixels, ``C``: ``row * width + col``, ``F``: ``col * height + row``
            (MATLAB's ``reshape(stim, [], n_frames)``).  With 3-D axes rows and
            columns are named by ``stimulus_axes`` and there is nothing to
            order, so ``F`` is refused there as a likely misunderstanding.
        ``time_unit``
            ``s`` (default) or ``ms``, for spike and trigger times.
    base_dir : str or os.PathLike, default "."
        Folder that relative paths in the row are relative to.

    Returns
    -------
    recording : Recording
        Spike times sorted; stimulus as ``(n_triggers, height * width)``
        float64 in C pixel order, frames beyond the last trigger dropped.

    Raises
    ------
    InputError
        Source ``"recordings.tsv: <recording_id>"`` for a problem in the row
        itself, otherwise the path of the offending file.
    """
    settings = _read_row(row)
    recording_id = settings["recording_id"]
    sources = {
        role: resolve(settings[f"{role}_file"], base_dir) for role in _ROLES
    }

    contents = _read_sources(settings, sources)

    def variable(role: str) -> np.ndarray:
        return contents[sources[role]][settings[f"{role}_key"]]

    unit = settings["time_unit"]
    spike_times = _check_spike_times(sources["spikes"], variable("spikes"), unit)
    trigger_times = _check_trigger_times(sources["triggers"], variable("triggers"), unit)
    stimulus, frame_shape, n_frames_dropped = check_stimulus(
        sources["stimulus"], variable("stimulus"), settings, trigger_times.shape[0]
    )
    return Recording(
        recording_id=recording_id,
        spike_times=spike_times,
        trigger_times=trigger_times,
        stimulus=stimulus,
        frame_shape=frame_shape,
        n_frames_dropped=n_frames_dropped,
        sources=dict(sources),
    )


def _read_sources(settings: dict[str, Any], sources: dict[str, str]
                  ) -> dict[str, dict[str, np.ndarray]]:
    """The arrays of every role, read with each file opened once: path -> key -> array."""
    # Group roles by file so each file is opened once.
    wanted: dict[str, list[str]] = {}
    formats: dict[str, str] = {}
    for role in _ROLES:
        path = sources[role]
        check_file(path)
        fmt = settings["format"]
        if fmt == "auto":
            fmt = formats.get(path) or infer_format(path)
        formats[path] = fmt
        if role == "stimulus" and fmt == "text":
            raise InputError(
                path,
                "a stimulus cannot be read from a text file; store it in a .mat or .npz file"
                + (" and set format to auto" if settings["format"] == "text" else ""),
            )
        wanted.setdefault(path, []).append(settings[f"{role}_key"])
    return {path: read_variables(path, formats[path], keys) for path, keys in wanted.items()}


# --- the sheet row -------------------------------------------------------------------


def is_blank(value: object) -> bool:
    """Whether a sheet cell is empty.

    Parameters
    ----------
    value : object
        The cell as pandas (or a mapping) gives it.

    Returns
    -------
    blank : bool
        True for None, pandas' ``NA`` and ``NaT``, a NaN float and a string of
        only whitespace; False for anything else.
    """
    if value is None:
        return True
    if type(value).__name__ in ("NAType", "NaTType"):
        return True
    if isinstance(value, (float, np.floating)):
        return bool(np.isnan(value))
    if isinstance(value, str):
        return value.strip() == ""
    return False


def text_cell(value: object) -> str:
    """A sheet cell as text.

    Parameters
    ----------
    value : object
        A non-blank cell (see :func:`is_blank`).

    Returns
    -------
    text : str
        A whole float (pandas reads a column of numbers as floats) without its
        ``.0``; anything else as ``str(value)`` stripped of surrounding whitespace.
    """
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _read_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Sheet row -> dict of every column, defaults applied, values checked."""
    cells = {}
    for column in SHEET_COLUMNS:
        value = row.get(column) if hasattr(row, "get") else row[column]
        cells[column] = None if is_blank(value) else value
    recording_id = cells["recording_id"]
    if recording_id is None:
        raise InputError("recordings.tsv", "a row has no recording_id")
    recording_id = text_cell(recording_id)
    source = f"recordings.tsv: {recording_id}"

    settings: dict[str, Any] = {"recording_id": recording_id}
    for column in SHEET_COLUMNS[1:]:
        value = cells[column]
        if value is None:
            value = SHEET_DEFAULTS.get(column)
        if value is None and column in SHEET_FALLBACKS:
            value = cells[SHEET_FALLBACKS[column]]
        if value is None and column in SHEET_REQUIRED:
            raise InputError(source, f"column {column} is empty; it is required")
        settings[column] = value

    for column in ("format", "spikes_file", "triggers_file", "stimulus_file",
                   "spikes_key", "triggers_key", "stimulus_key",
                   "stimulus_axes", "pixel_order", "time_unit"):
        settings[column] = text_cell(settings[column])

    _choice(source, settings, "format", FORMATS)
    _choice(source, settings, "stimulus_axes", STIMULUS_AXES)
    _choice(source, settings, "pixel_order", PIXEL_ORDERS)
    _choice(source, settings, "time_unit", tuple(TIME_UNITS))

    for column in ("frame_height", "frame_width"):
        settings[column] = _positive_int(source, column, settings[column])
    flattened = len(settings["stimulus_axes"]) == 2
    if flattened and (settings["frame_height"] is None or settings["frame_width"] is None):
        raise InputError(
            source,
            f"frame_height and frame_width are required when stimulus_axes is "
            f"{settings['stimulus_axes']!r} (a flattened stimulus does not carry its frame shape)",
        )
    if not flattened and settings["pixel_order"] == "F":
        raise InputError(
            source,
            f"pixel_order 'F' applies only to a flattened stimulus (stimulus_axes 'tp' or 'pt'); "
            f"with stimulus_axes {settings['stimulus_axes']!r} the axes already name rows and "
            "columns, so set pixel_order to C",
        )
    return settings


def _choice(source: str, settings: Mapping[str, Any], column: str, allowed: Sequence[str]) -> None:
    if settings[column] not in allowed:
        raise InputError(
            source,
            f"{column} is {settings[column]!r}; expected one of {', '.join(allowed)}",
        )


def _positive_int(source: str, column: str, value: Any) -> int | None:
    if value is None:
        return None
    try:
        number = float(str(value).strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number.is_integer() and number >= 1):
        raise InputError(source, f"{column} is {value!r}; expected a positive whole number")
    return int(number)


def resolve(path: str, base_dir: StrPath) -> str:
    """A sheet's file path made absolute.

    Parameters
    ----------
    path : str
        The path as the sheet gives it; ``~`` is expanded.
    base_dir : str or os.PathLike
        Folder that a relative ``path`` is relative to.

    Returns
    -------
    path : str
        The absolute path, normalised (no ``..`` or doubled separators).
    """
    path = os.path.expanduser(path)
    if not os.path.isabs(path):
        path = os.path.join(os.fspath(base_dir), path)
    return os.path.normpath(path)


# --- the arrays ----------------------------------------------------------------------


def _as_vector(path: str, data: ArrayLike, what: str) -> NDArray[np.float64]:
    """Squeeze an (n,), (n, 1) or (1, n) array to (n,) float64."""
    data = np.asarray(data)
    if data.size == 0:
        return np.zeros(0, dtype=np.float64)
    if data.ndim > 1 and sum(size != 1 for size in data.shape) > 1:
        raise InputError(
            path,
            f"{what} must be a vector, but the stored array has shape "
            f"{'x'.join(str(size) for size in data.shape)}",
        )
    return data.astype(np.float64).reshape(-1)


def _check_spike_times(path: str, data: ArrayLike, unit: str) -> NDArray[np.float64]:
    spike_times = _as_vector(path, data, "spike times")
    if spike_times.size == 0:
        raise InputError(path, "spike train is empty (no spike times)")
    spike_times = as_times(spike_times, path, what="spike time", unit=unit)
    negative = np.flatnonzero(spike_times < 0)
    if negative.size:
        index = int(negative[0])
        raise InputError(
            path,
            f"spike time {index} (0-based) is negative ({spike_times[index]:g} {unit}); "
            "spike times must be >= 0",
        )
    return np.sort(spike_times) * TIME_UNITS[unit]


def _check_trigger_times(path: str, data: ArrayLike, unit: str) -> NDArray[np.float64]:
    trigger_times = as_times(
        _as_vector(path, data, "trigger times"), path,
        order="increasing", min_length=2, what="trigger time", unit=unit,
    )
    return trigger_times * TIME_UNITS[unit]


def check_stimulus(path: str, data: ArrayLike, settings: Mapping[str, Any],
                   n_triggers: int) -> tuple[NDArray[np.float64], tuple[int, int], int]:
    """Stored stimulus -> (n_triggers, n_pixels) float64 in C pixel order.

    Parameters
    ----------
    path : str
        File the stimulus was read from (the source of every error).
    data : array_like
        The stored stimulus, with the axes ``settings["stimulus_axes"]`` names.
    settings : Mapping
        The checked sheet row: ``stimulus_axes``, ``frame_height``,
        ``frame_width`` (None when the stored shape gives them) and ``pixel_order``.
    n_triggers : int
        Number of trigger times; the frames beyond the last trigger are dropped.

    Returns
    -------
    stimulus : ndarray of shape (n_triggers, height * width), float64
        One frame per trigger, flattened in C pixel order (pixel = row * width + col).
    frame_shape : tuple of int
        ``(height, width)``.
    n_frames_dropped : int
        Number of stored frames beyond the last trigger.

    Raises
    ------
    InputError
        Source: ``path``.  When the stored shape does not match
        ``stimulus_axes`` or the sheet's frame size, the frames have no pixels,
        there are more triggers than frames, or a value is not finite.
    """
    axes = settings["stimulus_axes"]
    data = np.asarray(data)
    shape_text = "x".join(str(size) for size in data.shape)
    if data.ndim != len(axes):
        raise InputError(
            path,
            f"stimulus has {data.ndim} dimensions (shape {shape_text}) but stimulus_axes "
            f"{axes!r} describes {len(axes)}",
        )
    n_frames = data.shape[axes.index("t")]
    wanted = (settings["frame_height"], settings["frame_width"])
    if len(axes) == 3:
        frame_shape = (data.shape[axes.index("h")], data.shape[axes.index("w")])
        given = tuple(given or found for given, found in zip(wanted, frame_shape, strict=True))
        if given != frame_shape:
            raise InputError(
                path,
                f"stimulus frames are {frame_shape[0]}x{frame_shape[1]} (height x width, from "
                f"shape {shape_text} with stimulus_axes {axes!r}) but the sheet says "
                f"frame_height {given[0]}, frame_width {given[1]}",
            )
    else:
        frame_shape = wanted
        n_pixels = data.shape[axes.index("p")]
        if n_pixels != wanted[0] * wanted[1]:
            raise InputError(
                path,
                f"stimulus has {n_pixels} pixels per frame (shape {shape_text} with "
                f"stimulus_axes {axes!r}) but the sheet's frame_height x frame_width is "
                f"{wanted[0]}x{wanted[1]} = {wanted[0] * wanted[1]}",
            )
    if frame_shape[0] * frame_shape[1] == 0:
        raise InputError(path, f"stimulus frames have no pixels (shape {shape_text})")
    if n_triggers > n_frames:
        raise InputError(
            path,
            f"there are more triggers ({n_triggers}) than stimulus frames ({n_frames}); "
            "every trigger needs a frame",
        )

    height, width = frame_shape
    if len(axes) == 3:
        # -> (frames, height, width); C-order flattening gives pixel = row * width + col.
        frames = np.transpose(data, (axes.index("t"), axes.index("h"), axes.index("w")))
        frames = frames[:n_triggers]
    else:
        frames = data if axes == "tp" else data.T
        frames = frames[:n_triggers]
        if settings["pixel_order"] == "F":
            # Stored pixel col * height + row -> (frames, width, height) -> swap.
            frames = frames.reshape(n_triggers, width, height).transpose(0, 2, 1)
    stimulus = np.ascontiguousarray(frames, dtype=np.float64).reshape(n_triggers, height * width)

    bad = np.flatnonzero(~np.isfinite(stimulus.reshape(-1)))
    if bad.size:
        frame, pixel = divmod(int(bad[0]), height * width)
        row, col = divmod(pixel, width)
        raise InputError(
            path,
            f"stimulus has {bad.size} non-finite values; the first is in frame {frame} "
            f"(0-based), row {row}, col {col}",
        )
    return stimulus, (int(height), int(width)), int(n_frames - n_triggers)
