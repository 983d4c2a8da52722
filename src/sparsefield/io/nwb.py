"""Reading spike trains, stimuli and trials from NWB files, and writing a session as NWB.

NWB (Neurodata Without Borders) files are HDF5 files read and written with
:mod:`pynwb`, which is imported only inside the functions (importing it takes
about 0.7 s).  Spike times in an NWB Units table are in seconds.  Every
problem with a file is raised as :class:`sparsefield.errors.InputError` whose
source is the file path; problems with an argument of
:func:`write_nwb_session` name the argument.
"""

import contextlib
import datetime
import os
import secrets
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._typing import StrPath
from sparsefield.errors import InputError
from sparsefield.io.cells import SpikeTrains, as_train, as_whole_numbers
from sparsefield.io.readers import StoredPrecision, check_file, short_error, stored_precision

#: Columns of the Units table tried, in order, for labels when none is named.
LABEL_COLUMNS = ("quality", "label", "KSLabel", "group")

#: The session start time and file creation date written by
#: :func:`write_nwb_session` unless told otherwise, so that the same inputs
#: always give the same bytes.
FIXED_DATE = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)

# Namespace of the object ids written by write_nwb_session (uuid5 of the
# identifier and each object's path), in place of pynwb's random uuid4.
_OBJECT_ID_NAMESPACE = uuid.UUID("6f1c2a52-3d64-5a0e-9d7b-2b7e0c1f5a11")


@dataclass(frozen=True)
class NwbStimulus:
    """One stimulus series of an NWB file.

    Attributes
    ----------
    name : str
        Name of the series in ``nwbfile.stimulus``.
    frames : ndarray of shape (n_frames, ...)
        The series' data as stored, time axis first (for an ImageSeries NWB
        calls the other axes x, y; dtype kept).
    timestamps : ndarray of shape (n_frames,), float64, or None
        Time of each frame in seconds, or None for a regularly sampled series.
    starting_time : float or None
        Time of the first frame in seconds, for a regular series.
    rate : float or None
        Frames per second, for a regular series.
    timestamps_precision : StoredPrecision or None
        Precision of the timestamps as stored (a float32 dataset holds fewer
        digits than the float64 :attr:`timestamps`); None without timestamps.
    """

    name: str
    frames: np.ndarray
    timestamps: np.ndarray | None
    starting_time: float | None
    rate: float | None
    timestamps_precision: StoredPrecision | None = None


# --- reading --------------------------------------------------------------------------


@contextlib.contextmanager
def _open_nwb(path: str) -> Iterator[Any]:
    """Yield the NWBFile of ``path``, open for reading; InputError when it cannot be read."""
    from pynwb import NWBHDF5IO

    check_file(path)
    try:
        io = NWBHDF5IO(path, "r")
    except Exception as error:  # noqa: BLE001 - rephrased for the user
        raise InputError(path, f"cannot be opened as an NWB file ({short_error(error)})") from error
    with io:
        try:
            nwbfile = io.read()
        except Exception as error:  # noqa: BLE001 - rephrased for the user
            raise InputError(path, "cannot be read as an NWB file "
                             f"({short_error(error)})") from error
        yield nwbfile


def read_nwb_units(path: StrPath, *, label_column: str | None = None) -> SpikeTrains:
    """Spike trains of every unit of an NWB file's Units table.

    Parameters
    ----------
    path : str or os.PathLike
        NWB file.
    label_column : str, optional
        Column of the Units table holding one text label per unit.  When not
        given, the first of :data:`LABEL_COLUMNS` (``quality``, ``label``,
        ``KSLabel``, ``group``) that is present and holds text is used, and
        there are no labels when none is.

    Returns
    -------
    trains : SpikeTrains
        ``unit_ids`` from ``units.id``; one train per unit, in seconds,
        float64, in the file's order; ``labels`` as above (``''`` kept as
        stored); ``per_trial`` False; ``precision`` that of the stored
        ``spike_times`` dataset.

    Raises
    ------
    InputError
        Source: the path.  When the file cannot be read as NWB, has no Units
        table, the table has no ``spike_times`` column, unit ids repeat, a
        unit's spike times are not finite (the unit is named), or
        ``label_column`` is missing (the message lists ``units.colnames``),
        ragged or not text.
    """
    from hdmf.common.table import VectorIndex

    path = os.fspath(path)
    with _open_nwb(path) as nwbfile:
        units = nwbfile.units
        if units is None:
            raise InputError(path, "has no Units table (nwbfile.units is empty)")
        colnames = tuple(units.colnames)
        if "spike_times" not in colnames:
            raise InputError(
                path,
                f"the Units table has no spike_times column (its columns: {_listed(colnames)})",
            )
        unit_ids = np.asarray(units.id.data[:])
        if unit_ids.dtype.kind not in "iu":
            raise InputError(path, f"the Units table's ids are of type {unit_ids.dtype}, "
                                   "not integers")
        unit_ids = unit_ids.astype(np.int64)
        values, counts = np.unique(unit_ids, return_counts=True)
        if np.any(counts > 1):
            raise InputError(path, f"unit id {int(values[counts > 1][0])} appears more than once "
                                   "in the Units table")
        column = units["spike_times"]
        if not isinstance(column, VectorIndex):
            raise InputError(path, "the Units table's spike_times column is not ragged "
                                   "(one list of times per unit expected)")
        ends = np.asarray(column.data[:], dtype=np.int64)
        flat = np.asarray(column.target.data[:])
        if ends.shape != unit_ids.shape or np.any(np.diff(ends) < 0) or (
            ends.size and (ends[0] < 0 or ends[-1] > flat.shape[0])
        ):
            raise InputError(path, "the Units table's spike_times index does not match its data "
                                   "(corrupt file)")
        starts = np.concatenate([[0], ends[:-1]])
        times = tuple(
            as_train(path, flat[start:end], f"unit {unit_id} (row {row} of the Units table)",
                     "a vector of spike times")
            for row, (unit_id, start, end) in enumerate(zip(unit_ids, starts, ends, strict=True))
        )
        labels = _unit_labels(path, units, colnames, label_column)
    return SpikeTrains(unit_ids, times, labels, False, stored_precision(flat))


def _unit_labels(path: str, units: Any, colnames: Sequence[str],
                 label_column: str | None) -> tuple[str, ...] | None:
    from hdmf.common.table import VectorIndex

    if label_column is not None:
        if label_column not in colnames:
            raise InputError(
                path, f"the Units table has no column {label_column!r} "
                      f"(units.colnames: {_listed(colnames)})",
            )
        candidates: tuple[str, ...] = (label_column,)
    else:
        candidates = tuple(name for name in LABEL_COLUMNS if name in colnames)
    for name in candidates:
        column = units[name]
        if isinstance(column, VectorIndex):
            if label_column is not None:
                raise InputError(path, f"the Units table's column {name!r} holds a list per unit, "
                                       "not one label")
            continue
        labels = _as_text(column.data[:])
        if labels is None:
            if label_column is not None:
                raise InputError(path, f"the Units table's column {name!r} does not hold text "
                                       "labels")
            continue
        return labels
    return None


def _as_text(values: ArrayLike) -> tuple[str, ...] | None:
    """Tuple of str from an array of str/bytes, or None when a value is not text."""
    labels = []
    for value in np.asarray(values, dtype=object).reshape(-1):
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if not isinstance(value, str):
            return None
        labels.append(value)
    return tuple(labels)


def _listed(names: Sequence[object]) -> str:
    return ", ".join(repr(str(name)) for name in names) if len(names) else "none"


def read_nwb_stimulus(path: StrPath, name: str | None = None) -> NwbStimulus:
    """One stimulus series (frames and their times) of an NWB file.

    Parameters
    ----------
    path : str or os.PathLike
        NWB file.
    name : str, optional
        Name of the series in ``nwbfile.stimulus``; may be left out when
        there is exactly one.

    Returns
    -------
    stimulus : NwbStimulus
        The frames read once, as stored, with ``timestamps`` or
        ``starting_time`` and ``rate`` (whichever the file gives; the others
        are None).

    Raises
    ------
    InputError
        Source: the path.  When the file has no stimulus, several and no
        ``name`` (the message lists them), no series ``name``, a series that
        is not a TimeSeries, keeps its frames in external files or holds
        something other than real numbers, or timestamps that are not one
        finite value per frame.
    """
    from pynwb.base import TimeSeries

    path = os.fspath(path)
    with _open_nwb(path) as nwbfile:
        available = list(nwbfile.stimulus.keys())
        if not available:
            raise InputError(path, "has no stimulus (nwbfile.stimulus is empty)")
        if name is None:
            if len(available) > 1:
                raise InputError(
                    path, f"holds {len(available)} stimuli ({_listed(available)}); name the one "
                          "to read",
                )
            name = available[0]
        if name not in available:
            raise InputError(path, f"has no stimulus {name!r} (it holds: {_listed(available)})")
        series = nwbfile.stimulus[name]
        if not isinstance(series, TimeSeries):
            raise InputError(path, f"stimulus {name!r} is a {type(series).__name__}, "
                                   "not a TimeSeries of frames")
        if getattr(series, "external_file", None) is not None:
            raise InputError(path, f"stimulus {name!r} keeps its frames in external files "
                                   f"({_listed(list(series.external_file[:]))}), which are not "
                                   "read")
        frames = np.asarray(series.data[()])
        if frames.dtype.kind not in "biuf" or frames.ndim < 1:
            raise InputError(path, f"stimulus {name!r} holds values of type {frames.dtype} "
                                   f"(shape {frames.shape}), not frames of real numbers")
        timestamps = series.timestamps
        starting_time = rate = precision = None
        if timestamps is not None:
            stored = np.asarray(timestamps[()])
            precision = stored_precision(stored)
            timestamps = as_train(path, stored,
                                  f"the timestamps of stimulus {name!r}", "a vector of times")
            if timestamps.shape[0] != frames.shape[0]:
                raise InputError(
                    path,
                    f"stimulus {name!r} has {frames.shape[0]} frames but {timestamps.shape[0]} "
                    "timestamps; there must be one per frame",
                )
        else:
            starting_time = None if series.starting_time is None else float(series.starting_time)
            rate = None if series.rate is None else float(series.rate)
    return NwbStimulus(name=name, frames=frames, timestamps=timestamps,
                       starting_time=starting_time, rate=rate, timestamps_precision=precision)


def read_nwb_intervals(
    path: StrPath,
    name: str | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """Start and stop times of a TimeIntervals table (trials by default) of an NWB file.

    Parameters
    ----------
    path : str or os.PathLike
        NWB file.
    name : str, optional
        Name of the table under ``nwbfile.intervals`` (``"trials"``,
        ``"epochs"``, ...).  By default ``nwbfile.trials`` when present, else
        the only table under ``nwbfile.intervals``.

    Returns
    -------
    intervals : tuple (start_times, stop_times) of ndarray of shape (n_intervals,), float64, or None
        In seconds, in the file's order; None when ``name`` is not given and
        the file has no interval table.

    Raises
    ------
    InputError
        Source: the path.  When ``name`` is absent or, without ``name``, there
        are several tables but no trials (the message lists them), or the
        times are not finite.
    """
    path = os.fspath(path)
    with _open_nwb(path) as nwbfile:
        tables = dict(nwbfile.intervals.items()) if nwbfile.intervals is not None else {}
        for attribute in ("trials", "epochs", "invalid_times"):
            table = getattr(nwbfile, attribute, None)
            if table is not None:
                tables.setdefault(table.name, table)
        if name is None:
            if nwbfile.trials is not None:
                table, name = nwbfile.trials, nwbfile.trials.name
            elif len(tables) == 1:
                name, table = next(iter(tables.items()))
            elif not tables:
                return None
            else:
                raise InputError(
                    path, f"holds {len(tables)} interval tables ({_listed(sorted(tables))}) and "
                          "no trials; name the one to read",
                )
        elif name not in tables:
            raise InputError(
                path, f"has no interval table {name!r} (it holds: {_listed(sorted(tables))})"
            )
        else:
            table = tables[name]
        columns = tuple(table.colnames)
        for column in ("start_time", "stop_time"):
            if column not in columns:
                raise InputError(path, f"interval table {name!r} has no {column} column "
                                       f"(its columns: {_listed(columns)})")
        start = as_train(path, np.asarray(table["start_time"].data[:]),
                         f"the start_time column of {name!r}", "a vector of times")
        stop = as_train(path, np.asarray(table["stop_time"].data[:]),
                        f"the stop_time column of {name!r}", "a vector of times")
    return start, stop


# --- writing ---------------------------------------------------------------------------


def write_nwb_session(
    path: StrPath,
    *,
    unit_ids: ArrayLike,
    spike_trains: Iterable[ArrayLike],
    stimulus_frames: ArrayLike,
    frame_times: ArrayLike,
    labels: Iterable[str] | None = None,
    stimulus_name: str = "white_noise",
    identifier: str = "sparsefield",
    session_description: str = (
        "Spike trains recorded during a white-noise stimulus, written by sparsefield."
    ),
    trials: tuple[ArrayLike, ArrayLike] | None = None,
    session_start_time: datetime.datetime = FIXED_DATE,
) -> None:
    """Write units, a stimulus and optionally trials as an NWB file, atomically and reproducibly.

    Parameters
    ----------
    path : str or os.PathLike
        File to write (its folder must exist).  The file is written under a
        temporary name in the same folder and renamed onto ``path`` only when
        complete, so a failure leaves no partial file.
    unit_ids : array_like of shape (n_units,)
        Unique whole numbers, written as the Units table's ids.
    spike_trains : sequence of n_units array_like of shape (n_spikes,)
        Spike times of each unit in seconds (finite; may be empty).
    stimulus_frames : array_like of shape (n_frames, height, width[, depth])
        Written as stored (dtype kept) as an ImageSeries.
    frame_times : array_like of shape (n_frames,)
        Time of each frame in seconds, written as the series' timestamps.
    labels : sequence of n_units str, optional
        Written as the Units table's ``quality`` column.
    stimulus_name : str, default "white_noise"
        Name of the ImageSeries in ``nwbfile.stimulus``.
    identifier : str, default "sparsefield"
        The NWB file's identifier.  The object ids of the file are derived
        from it (uuid5 of the identifier and each object's place in the file,
        instead of pynwb's random ones), so give distinct sessions distinct
        identifiers.
    session_description : str
        The NWB file's session description.
    trials : tuple (start_times, stop_times) of array_like of shape (n_trials,), optional
        Written as the trials table (each stop >= its start).
    session_start_time : datetime.datetime, default :data:`FIXED_DATE`
        Timezone-aware start of the session; also written as the file
        creation date, so the same inputs always give the same bytes.

    Raises
    ------
    InputError
        Source: the argument's name, when an input has the wrong shape, is not
        finite, or the numbers of units, trains, labels or frames and frame
        times disagree.
    """
    from pynwb import NWBHDF5IO, NWBFile

    ids, trains, unit_labels = _check_units(unit_ids, spike_trains, labels)
    frames, times = _check_frames(stimulus_frames, frame_times)
    intervals = _check_trials(trials) if trials is not None else None
    if not (isinstance(session_start_time, datetime.datetime)
            and session_start_time.tzinfo is not None):
        raise InputError("session_start_time", "must be a timezone-aware datetime.datetime")

    nwbfile = NWBFile(
        session_description=session_description,
        identifier=identifier,
        session_start_time=session_start_time,
        file_create_date=[session_start_time],
    )
    _add_session(nwbfile, ids, trains, unit_labels, frames, times, stimulus_name, intervals)
    _fix_object_ids(nwbfile, identifier)

    with _atomic_path(path) as temporary:
        with NWBHDF5IO(temporary, "w") as io:
            io.write(nwbfile)


def _check_frames(stimulus_frames: ArrayLike, frame_times: ArrayLike
                  ) -> tuple[np.ndarray, NDArray[np.float64]]:
    """The frames as stored (3-D or 4-D, frames first) and their times, checked."""
    frames = np.asarray(stimulus_frames)
    if frames.ndim not in (3, 4) or frames.dtype.kind not in "biuf":
        raise InputError(
            "stimulus_frames",
            f"expected a 3-D or 4-D array of real numbers (frames first), got shape "
            f"{frames.shape} of type {frames.dtype}",
        )
    times = as_train("frame_times", np.asarray(frame_times), "the array", "a vector of times")
    if times.shape[0] != frames.shape[0]:
        raise InputError(
            "frame_times",
            f"has {times.shape[0]} times but stimulus_frames has {frames.shape[0]} frames",
        )
    return frames, times


def _add_session(nwbfile: Any, unit_ids: NDArray[np.int64],
                 spike_trains: list[NDArray[np.float64]], labels: list[str] | None,
                 frames: np.ndarray, frame_times: NDArray[np.float64], stimulus_name: str,
                 trials: tuple[NDArray[np.float64], NDArray[np.float64]] | None) -> None:
    """Add the stimulus series, the units (with their labels) and the trials to ``nwbfile``."""
    from pynwb.image import ImageSeries

    nwbfile.add_stimulus(ImageSeries(
        name=stimulus_name, data=frames, unit="n.a.", timestamps=frame_times,
        description="Stimulus frames, time first.",
    ))
    if labels is not None:
        nwbfile.add_unit_column("quality", "Label of each unit (e.g. good, mua, noise).")
    for index, (unit_id, train) in enumerate(zip(unit_ids, spike_trains, strict=True)):
        extra = {} if labels is None else {"quality": labels[index]}
        nwbfile.add_unit(spike_times=train, id=int(unit_id), **extra)
    if trials is not None:
        for start, stop in zip(*trials, strict=True):
            nwbfile.add_trial(start_time=float(start), stop_time=float(stop))


def _check_units(
    unit_ids: ArrayLike,
    spike_trains: Iterable[ArrayLike],
    labels: Iterable[str] | None,
) -> tuple[NDArray[np.int64], list[NDArray[np.float64]], list[str] | None]:
    ids = np.asarray(unit_ids)
    if ids.ndim != 1 or ids.dtype.kind not in "iuf" or ids.size == 0:
        raise InputError("unit_ids", f"expected a non-empty 1-D array of whole numbers, got "
                                     f"shape {ids.shape} of type {ids.dtype}")
    ids = as_whole_numbers("unit_ids", ids, "unit_ids", "unit id")
    values, counts = np.unique(ids, return_counts=True)
    if np.any(counts > 1):
        raise InputError("unit_ids", f"unit id {int(values[counts > 1][0])} appears more than once")
    given = list(spike_trains)
    if len(given) != ids.shape[0]:
        raise InputError("spike_trains", f"has {len(given)} trains but unit_ids has "
                                         f"{ids.shape[0]} ids")
    trains = [
        as_train("spike_trains", np.asarray(train), f"train {index} (unit {unit_id})",
                 "a vector of spike times")
        for index, (unit_id, train) in enumerate(zip(ids, given, strict=True))
    ]
    if labels is not None:
        labels = list(labels)
        if len(labels) != ids.shape[0] or not all(isinstance(label, str) for label in labels):
            raise InputError("labels", f"expected {ids.shape[0]} strings (one per unit), got "
                                       f"{len(labels)} values")
    return ids, trains, labels


def _check_trials(
    trials: tuple[ArrayLike, ArrayLike],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    try:
        start, stop = trials
    except (TypeError, ValueError):
        raise InputError("trials", "expected a pair (start_times, stop_times)") from None
    start = as_train("trials", np.asarray(start), "start_times", "a vector of times")
    stop = as_train("trials", np.asarray(stop), "stop_times", "a vector of times")
    if start.shape != stop.shape:
        raise InputError("trials", f"has {start.shape[0]} start times but {stop.shape[0]} "
                                   "stop times")
    backwards = np.flatnonzero(stop < start)
    if backwards.size:
        index = int(backwards[0])
        raise InputError("trials", f"trial {index} (0-based) stops at {stop[index]:g} s, before "
                                   f"it starts at {start[index]:g} s")
    return start, stop


def _fix_object_ids(nwbfile: Any, identifier: str) -> None:
    """Give every container a deterministic object id (pynwb draws a random uuid4).

    hdmf offers no public setter, so the id is set on the attribute its
    constructor fills; the ids are uuid5 of the identifier and the object's
    path of (type, name) from the root.
    """
    seen = set()
    for container in nwbfile.all_children():
        names = []
        node = container
        while node is not None:
            names.append(f"{type(node).__name__}:{node.name}")
            node = node.parent
        key = "/".join(reversed(names))
        while key in seen:
            key += "+"
        seen.add(key)
        if not hasattr(container, "_AbstractContainer__object_id"):
            raise RuntimeError("hdmf no longer stores object ids where sparsefield expects them; "
                               "write_nwb_session cannot make the file reproducible")
        container._AbstractContainer__object_id = str(
            uuid.uuid5(_OBJECT_ID_NAMESPACE, f"{identifier}\n{key}")
        )
    nwbfile.all_children()  # rebuild hdmf's cache of objects by id


@contextlib.contextmanager
def _atomic_path(path: StrPath) -> Iterator[str]:
    """Yield a temporary path beside ``path``; move it onto ``path`` when the block succeeds."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp.nwb")
    try:
        yield os.fspath(temporary)
        descriptor = os.open(temporary, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
