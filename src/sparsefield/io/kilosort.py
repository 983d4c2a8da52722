"""Readers for Kilosort / Phy output folders and for frame (sync) event times.

A Kilosort or Phy folder holds ``spike_times.npy`` (sample index of each
spike), ``spike_clusters.npy`` (cluster of each spike after curation;
``spike_templates.npy`` before), ``params.py`` (``sample_rate`` and other
settings as Python assignments) and optionally ``cluster_group.tsv`` (Phy's
curated labels) or ``cluster_KSLabel.tsv`` (Kilosort's automatic labels).
Arrays are read with ``np.load(..., allow_pickle=False)``; ``params.py`` is
never executed or imported: each line ``name = literal`` is parsed with
:func:`ast.literal_eval` and every other line is ignored.

Every problem is raised as :class:`sparsefield.errors.InputError` whose source
is the offending file (or the folder).
"""

import ast
import csv
import math
import numbers
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, cast, overload

import numpy as np
from numpy.typing import NDArray

from sparsefield._typing import StrPath
from sparsefield.errors import InputError
from sparsefield.io.cells import (
    SpikeTrains,
    as_train,
    as_vector,
    as_whole_numbers,
    split_by_unit,
)
from sparsefield.io.readers import (
    StoredPrecision,
    check_file,
    read_variables,
    short_error,
    stored_precision,
)

#: Label files in order of preference, with the column holding the label.
LABEL_FILES = (("cluster_group.tsv", "group"), ("cluster_KSLabel.tsv", "KSLabel"))

#: Time units :func:`read_event_times` understands, with their length in seconds
#: (``samples`` is divided by the sample rate instead).
EVENT_UNITS = {"s": 1.0, "ms": 1e-3, "samples": None}


@dataclass(frozen=True)
class KilosortFolder:
    """Spike trains of a Kilosort / Phy folder, with the recording's sample rate.

    Attributes
    ----------
    trains : SpikeTrains
        One train per cluster, times in seconds (sample index / sample_rate),
        in the file's order; ``unit_ids`` are the cluster ids, sorted.
    sample_rate : float
        Samples per second, from ``params.py``.
    folder : str
        The folder read.
    cluster_file : str
        Name of the file the clusters came from: ``"spike_clusters.npy"``, or
        ``"spike_templates.npy"`` for an uncurated folder without it.
    """

    trains: SpikeTrains
    sample_rate: float
    folder: str
    cluster_file: str


def read_kilosort(folder: StrPath) -> KilosortFolder:
    """Spike trains of every cluster of a Kilosort / Phy output folder.

    Parameters
    ----------
    folder : str or os.PathLike
        Folder holding ``spike_times.npy``, ``spike_clusters.npy`` and
        ``params.py``.  When ``spike_clusters.npy`` is absent (Kilosort's
        output before any curation in Phy) the clusters are taken from
        ``spike_templates.npy``, i.e. one unit per template.

    Returns
    -------
    result : KilosortFolder
        ``result.trains``: unit ids are the cluster ids (sorted); each train
        holds that cluster's spike times in seconds, float64, in the file's
        order; labels from ``cluster_group.tsv`` (column ``group``) if present,
        else ``cluster_KSLabel.tsv`` (column ``KSLabel``), ``''`` for a cluster
        without a row, and None when neither file exists; ``per_trial`` False;
        ``precision`` that of ``spike_times.npy`` in seconds (a float32 file of
        sample indices loses samples late in a long recording).
        ``result.sample_rate``: from ``params.py``.

    Raises
    ------
    InputError
        When the folder is missing or not a folder; ``params.py`` is missing or
        has no positive ``sample_rate``; an array file is missing, unreadable
        or an object array; ``spike_times`` are negative or not whole numbers;
        ``spike_times`` and the clusters differ in length; a label file lacks
        its columns or has a bad row.  The source is the offending file.
    """
    folder = os.fspath(folder)
    if not os.path.exists(folder):
        raise InputError(folder, "folder not found")
    if not os.path.isdir(folder):
        raise InputError(folder, "is a file, not a Kilosort/Phy output folder")
    sample_rate = _read_sample_rate(folder)

    times_path = os.path.join(folder, "spike_times.npy")
    if not os.path.isfile(times_path):
        raise InputError(folder, "has no spike_times.npy; is this a Kilosort/Phy output folder?")
    samples = _load_npy(times_path)
    stored = samples
    samples = as_whole_numbers(
        times_path, as_vector(times_path, samples, "spike_times", "a vector of sample indices"),
        "spike_times", "spike",
    )
    negative = np.flatnonzero(samples < 0)
    if negative.size:
        index = int(negative[0])
        raise InputError(
            times_path,
            f"spike {index} (0-based) is at sample {samples[index]}; sample indices must be >= 0",
        )

    cluster_file = "spike_clusters.npy"
    clusters_path = os.path.join(folder, cluster_file)
    if not os.path.isfile(clusters_path):
        cluster_file = "spike_templates.npy"
        clusters_path = os.path.join(folder, cluster_file)
        if not os.path.isfile(clusters_path):
            raise InputError(
                folder, "has neither spike_clusters.npy nor spike_templates.npy; "
                        "the cluster of each spike is unknown",
            )
    name = cluster_file[:-4]
    clusters = _load_npy(clusters_path)
    clusters = as_whole_numbers(
        clusters_path, as_vector(clusters_path, clusters, name, "a vector of cluster ids"),
        name, "cluster id",
    )
    if clusters.shape[0] != samples.shape[0]:
        raise InputError(
            clusters_path,
            f"holds {clusters.shape[0]} cluster ids but spike_times.npy holds "
            f"{samples.shape[0]} spikes; they must match one to one",
        )

    unit_ids, trains = split_by_unit(samples.astype(np.float64) / sample_rate, clusters)
    labels = _read_labels(folder, unit_ids)
    return KilosortFolder(
        trains=SpikeTrains(unit_ids, trains, labels, False,
                           stored_precision(stored, scale=1.0 / sample_rate)),
        sample_rate=sample_rate,
        folder=folder,
        cluster_file=cluster_file,
    )


def read_params(path: StrPath) -> dict[str, Any]:
    """The ``name = literal`` assignments of a Kilosort/Phy ``params.py``, without running it.

    Parameters
    ----------
    path : str or os.PathLike
        The ``params.py`` file.

    Returns
    -------
    params : dict of str to object
        One entry per line of the form ``name = <Python literal>``; lines that
        are anything else (comments, expressions, literals spread over several
        lines) are ignored.

    Raises
    ------
    InputError
        When the file cannot be read as text.
    """
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError as error:
        raise InputError(path, f"cannot be read ({short_error(error)})") from error
    params = {}
    for line in lines:
        try:
            tree = ast.parse(line.strip())
        except (SyntaxError, ValueError):
            continue
        if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign):
            continue
        statement = tree.body[0]
        if len(statement.targets) != 1 or not isinstance(statement.targets[0], ast.Name):
            continue
        try:
            params[statement.targets[0].id] = ast.literal_eval(statement.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue
    return params


@overload
def read_event_times(path: StrPath, *, unit: str = ..., sample_rate: float | None = ...,
                     key: str | None = ...,
                     with_precision: Literal[False] = ...) -> NDArray[np.float64]: ...


@overload
def read_event_times(path: StrPath, *, unit: str = ..., sample_rate: float | None = ...,
                     key: str | None = ..., with_precision: Literal[True]
                     ) -> tuple[NDArray[np.float64], StoredPrecision | None]: ...


def read_event_times(
    path: StrPath,
    *,
    unit: str = "s",
    sample_rate: float | None = None,
    key: str | None = None,
    with_precision: bool = False,
) -> NDArray[np.float64] | tuple[NDArray[np.float64], StoredPrecision | None]:
    """Event (frame, sync) times from a vector stored in one file, in seconds.

    Parameters
    ----------
    path : str or os.PathLike
        ``.npy`` array; ``.txt``/``.csv``/``.tsv``/``.dat`` text, one number
        per line (``#`` starts a comment; ``.csv`` may separate by commas);
        or ``.mat``/``.npz`` holding the vector under ``key``.
    unit : {"s", "ms", "samples"}, default "s"
        Unit of the stored times.
    sample_rate : float, optional
        Samples per second; required with ``unit="samples"`` and refused
        otherwise.
    key : str, optional
        Variable (``.mat``) or array (``.npz``) name; may be left out when the
        file holds exactly one.  Not used for ``.npy`` and text files.
    with_precision : bool, default False
        Also return the precision of the times as stored.

    Returns
    -------
    times : ndarray of shape (n_events,), float64
        Times in seconds, in the file's order (not sorted or checked for
        order).
    precision : sparsefield.io.readers.StoredPrecision or None
        Only with ``with_precision``: the stored dtype and the step between
        consecutive values it can hold at the largest time, in seconds.

    Raises
    ------
    InputError
        Source: the argument for a bad ``unit``/``sample_rate``, else the path.
        When the file is missing, of an unknown extension, unreadable, lacks
        ``key`` or holds several arrays and none was named (the message lists
        them), or when the values are not a vector of real, finite numbers.
    """
    path = os.fspath(path)
    if unit not in EVENT_UNITS:
        raise InputError("unit", f"is {unit!r}; expected one of {', '.join(EVENT_UNITS)}")
    if unit == "samples":
        rate = _positive_rate("sample_rate", sample_rate, "is required with unit='samples'")
    elif sample_rate is not None:
        raise InputError(
            "sample_rate", f"is given but unit is {unit!r}; set unit='samples' to convert samples"
        )
    check_file(path)
    extension = os.path.splitext(path)[1].lower()
    if extension == ".npy":
        data = _load_npy(path)
        where = "the array"
    elif extension in (".txt", ".csv", ".tsv", ".dat"):
        data = _load_text(path, "," if extension == ".csv" else None)
        where = "the column of numbers"
    elif extension in (".mat", ".npz"):
        fmt = extension[1:]
        if key is None:
            key = _only_variable(path, fmt)
        data = read_variables(path, fmt, [key])[key]
        where = f"variable {key!r}" if fmt == "mat" else f"array {key!r}"
    else:
        raise InputError(
            path,
            f"cannot tell the format of event times from the extension {extension or '(none)'!r} "
            "(known: .npy, .txt, .csv, .tsv, .dat, .mat, .npz)",
        )
    times = as_train(path, data, where, "a vector of event times")
    scale = 1.0 / rate if unit == "samples" else cast(float, EVENT_UNITS[unit])
    times = times / rate if unit == "samples" else times * scale
    if with_precision:
        return times, stored_precision(data, scale=scale)
    return times


# --- helpers ----------------------------------------------------------------------------


def _positive_rate(source: str, value: object, missing: str) -> float:
    if value is None:
        raise InputError(source, missing)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(source, f"is {value!r}; expected a positive number of samples per second")
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise InputError(source, f"is {value!r}; expected a positive number of samples per second")
    return value


def _read_sample_rate(folder: str) -> float:
    params_path = os.path.join(folder, "params.py")
    if not os.path.isfile(params_path):
        raise InputError(
            folder,
            "has no params.py; Kilosort/Phy folders store sample_rate there",
        )
    params = read_params(params_path)
    if "sample_rate" not in params:
        raise InputError(
            params_path,
            "has no line 'sample_rate = <number>'; the sample rate is needed to turn "
            "spike samples into seconds",
        )
    value = params["sample_rate"]
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (
        math.isfinite(float(value)) and float(value) > 0
    ):
        raise InputError(params_path, f"sample_rate is {value!r}; expected a positive number")
    return float(value)


def _load_npy(path: str) -> np.ndarray:
    try:
        data = np.load(path, allow_pickle=False)
    except ValueError as error:
        if "allow_pickle" in str(error):
            raise InputError(
                path, "holds an object array, which is refused (it would have to be "
                      "unpickled); store plain numbers",
            ) from error
        raise InputError(path, f"cannot be read as a .npy array ({short_error(error)})") from error
    except (OSError, EOFError, zipfile.BadZipFile) as error:
        raise InputError(path, f"cannot be read as a .npy array ({short_error(error)})") from error
    if not isinstance(data, np.ndarray):
        data.close()
        raise InputError(path, "is an .npz archive, not a single .npy array")
    return data


def _load_text(path: str, delimiter: str | None) -> NDArray[np.float64]:
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # an empty file: no events
            return np.loadtxt(path, comments="#", delimiter=delimiter, dtype=np.float64, ndmin=1)
    except Exception as error:  # noqa: BLE001 - rephrased for the user
        raise InputError(
            path, f"cannot be read as a text file of numbers, one per line ({short_error(error)})"
        ) from error


def _only_variable(path: str, fmt: str) -> str:
    """Name of the single variable of a .mat/.npz file; InputError when there are several."""
    import h5py

    try:
        if fmt == "npz":
            with np.load(path, allow_pickle=False) as archive:
                names = list(archive.files)
        elif h5py.is_hdf5(path):
            with h5py.File(path, "r") as handle:
                names = [name for name in handle.keys() if not name.startswith("#")]
        else:
            import scipy.io

            names = [name for name, _, _ in scipy.io.whosmat(path)]
    except Exception as error:  # noqa: BLE001 - rephrased for the user
        raise InputError(path, f"cannot be read as a .{fmt} file ({short_error(error)})") from error
    if len(names) != 1:
        listed = ", ".join(repr(name) for name in names) if names else "none"
        raise InputError(
            path, f"holds {len(names)} variables ({listed}); name the one with the event times "
                  "(key=...)",
        )
    return names[0]


def _read_labels(folder: str, unit_ids: Iterable[int]) -> tuple[str, ...] | None:
    """Labels of ``unit_ids`` from the first label file present, or None."""
    for file_name, column in LABEL_FILES:
        path = os.path.join(folder, file_name)
        if os.path.isfile(path):
            by_cluster = _read_label_table(path, column)
            return tuple(by_cluster.get(int(unit_id), "") for unit_id in unit_ids)
    return None


def _read_label_table(path: str, column: str) -> dict[int, str]:
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle, delimiter="\t"))
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise InputError(path, "cannot be read as a tab-separated table "
                         f"({short_error(error)})") from error
    if not rows:
        raise InputError(path, f"is empty; expected a header 'cluster_id<TAB>{column}'")
    header = [name.strip() for name in rows[0]]
    missing = [name for name in ("cluster_id", column) if name not in header]
    if missing:
        raise InputError(
            path,
            f"has no column {missing[0]!r} (its header is {', '.join(map(repr, header))}); "
            f"expected columns 'cluster_id' and {column!r}",
        )
    id_column, label_column = header.index("cluster_id"), header.index(column)
    labels = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = row + [""] * (len(header) - len(row))
        text = cells[id_column].strip()
        try:
            cluster = int(text)
        except ValueError:
            raise InputError(
                path, f"line {line}: cluster_id is {text!r}, not a whole number"
            ) from None
        if cluster in labels:
            raise InputError(path, f"line {line}: cluster {cluster} is listed twice")
        labels[cluster] = cells[label_column].strip()
    return labels
