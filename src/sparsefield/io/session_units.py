"""The units of a session: spike trains read from any source, and the units kept.

A session's spikes come from one source (:func:`read_spikes`): a single spike-time
vector, a MATLAB cell array or an ``.npz`` of units (:mod:`sparsefield.io.cells`), a
Kilosort/Phy folder (:mod:`sparsefield.io.kilosort`) or an NWB file
(:mod:`sparsefield.io.nwb`).  Every train is checked and put in seconds here, and the
sheet's ``units`` / ``unit_label`` columns choose the units kept (:func:`select_units`).
"""

import os
from collections.abc import Iterable, Mapping
from typing import Any, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield.errors import InputError
from sparsefield.io import plausibility
from sparsefield.io.cells import SpikeTrains
from sparsefield.io.readers import EXTENSION_FORMATS, check_file, read_variables, stored_precision
from sparsefield.io.session_row import VARIABLE_DEFAULTS

_SCALE = {"s": 1.0, "ms": 1e-3}


def spikes_time_unit(spikes_format: str, settings: Mapping[str, Any]) -> str:
    """The sheet's unit of the stored spike times (Kilosort and NWB readers give s).

    Parameters
    ----------
    spikes_format : str
        The spikes source's format (:func:`format_of`).
    settings : dict
        From :func:`sparsefield.io.session_row.read_session_row`.

    Returns
    -------
    unit : str
        One of :data:`sparsefield.io.session_row.TIME_UNITS`.
    """
    return "s" if spikes_format in ("kilosort", "nwb") else settings["spikes_time_unit"]


def time_scale(unit: str, settings: Mapping[str, Any]) -> float:
    """Seconds per stored time unit.

    Parameters
    ----------
    unit : str
        One of :data:`sparsefield.io.session_row.TIME_UNITS`.
    settings : dict
        From :func:`sparsefield.io.session_row.read_session_row` (its ``sample_rate``
        for ``"samples"``).

    Returns
    -------
    scale : float
    """
    if unit == "samples":
        return 1.0 / settings["sample_rate"]
    return _SCALE[unit]


def format_of(path: str, fmt: str) -> str:
    """The format of a spikes source; ``auto`` decides by folder / extension.

    Parameters
    ----------
    path : str
    fmt : str
        The sheet's ``format`` (:data:`sparsefield.io.session_row.SESSION_FORMATS`).

    Returns
    -------
    fmt : str
        ``"kilosort"``, ``"nwb"``, or a format of :mod:`sparsefield.io.readers`.

    Raises
    ------
    InputError
        When ``auto`` cannot tell the format from the extension.
    """
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


def read_spikes(path: str, fmt: str, settings: Mapping[str, Any]) -> SpikeTrains:
    """Every unit's spike train in the source, checked, in seconds.

    Parameters
    ----------
    path : str
        The spikes file or folder.
    fmt : str
        Its format (:func:`format_of`).
    settings : dict
        From :func:`sparsefield.io.session_row.read_session_row`.

    Returns
    -------
    trains : sparsefield.io.cells.SpikeTrains
        ``unit_ids`` (n_units,) int64; ``times`` one sorted float64 array (s) per unit,
        or per unit a tuple of one array per trial (``per_trial``); ``labels``;
        ``precision`` of the stored times.

    Raises
    ------
    InputError
        On an unreadable source, a train that is not a finite vector, negative
        continuous times, or no unit / no spike at all.
    """
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
    scale = time_scale(unit, settings)
    times = tuple(
        tuple(_spike_vector(path, unit_id, trial, values, scale, unit)
              for trial, values in enumerate(train))
        if trains.per_trial else _spike_vector(path, unit_id, None, train, scale, unit)
        for unit_id, train in zip(np.asarray(trains.unit_ids).tolist(), trains.times,
                                  strict=True)
    )
    if not len(times):
        raise InputError(path, "holds no units")
    if not any(np.size(part) for train in times
               for part in (train if trains.per_trial else (train,))):
        raise InputError(path, "spike train is empty (no spike times in any unit)")
    return trains.__class__(unit_ids=np.asarray(trains.unit_ids, dtype=np.int64), times=times,
                            labels=trains.labels, per_trial=trains.per_trial,
                            precision=trains.precision)


def _spike_vector(path: str, unit_id: int, trial: int | None, values: ArrayLike, scale: float,
                  unit: str) -> NDArray[np.float64]:
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


def select_units(path: str, trains: SpikeTrains, settings: Mapping[str, Any]) -> SpikeTrains:
    """Keep the units asked for by id list and sorter label (in increasing id order).

    Parameters
    ----------
    path : str
        The spikes source, for messages.
    trains : sparsefield.io.cells.SpikeTrains
        From :func:`read_spikes`.
    settings : dict
        From :func:`sparsefield.io.session_row.read_session_row` (``units``,
        ``unit_label``).

    Returns
    -------
    trains : sparsefield.io.cells.SpikeTrains
        The units kept, in increasing id order; ``labels`` "" where the source has
        none.

    Raises
    ------
    InputError
        When an id asked for is missing, or no unit has the label asked for.
    """
    ids = trains.unit_ids
    keep = np.ones(ids.size, dtype=bool)
    if settings["units"] is not None:
        missing = sorted(set(settings["units"]) - set(ids.tolist()))
        if missing:
            raise InputError(path, f"has no unit {', '.join(map(str, missing))} (asked for in "
                             f"the units column; units in the file: {id_list(ids)})")
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
    all_labels = ("",) * ids.size if trains.labels is None else tuple(trains.labels)
    return trains.__class__(unit_ids=ids[chosen], times=tuple(trains.times[i] for i in chosen),
                            labels=tuple(all_labels[i] for i in chosen),
                            per_trial=trains.per_trial, precision=trains.precision)


def id_list(ids: Iterable[Any], limit: int = 12) -> str:
    """Unit ids for a message: ``"1, 2, 3"``, the first ``limit`` and a count when longer.

    Parameters
    ----------
    ids : array_like of int of shape (n_units,)
    limit : int

    Returns
    -------
    text : str
    """
    ids = [str(int(unit)) for unit in ids]
    return ", ".join(ids if len(ids) <= limit else ids[:limit] + [f"... ({len(ids)} in all)"])


def unit_hint(train: NDArray[np.float64] | tuple[NDArray[np.float64], ...], per_trial: bool,
              frames_end: float) -> str:
    """Advice when a unit's spikes run about 1000 times past the frames (ms read as s).

    Parameters
    ----------
    train : ndarray of shape (n_spikes,) or tuple of ndarray
        One unit's spike times in seconds (one array per trial when ``per_trial``).
    per_trial : bool
    frames_end : float
        End of the last frame in seconds.

    Returns
    -------
    hint : str
        ``""``, or a sentence (with a leading space) to append to a message.
    """
    trials = cast(tuple[NDArray[np.float64], ...], train if per_trial else (train,))
    parts = [part for part in trials if part.size]
    if not parts or frames_end <= 0:
        return ""
    last = max(float(part.max()) for part in parts)
    if 300 <= last / frames_end <= 3000:
        return (f" (they reach {last:.4g} s, about 1000 times the end of the frames at "
                f"{frames_end:.4g} s: if the spike times are in ms, set spikes_time_unit: ms)")
    return ""
