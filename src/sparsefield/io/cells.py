"""Spike trains of several units, and readers for MATLAB cell arrays and unit-indexed ``.npz``.

:class:`SpikeTrains` is the one container every multi-unit reader returns
(:func:`read_spike_cells`, :func:`read_units_npz` here,
:func:`sparsefield.io.kilosort.read_kilosort` and
:func:`sparsefield.io.nwb.read_nwb_units`), so that a session loader can
assemble units from any of them.  The readers check every train (real
numbers, a vector once singleton axes are dropped, finite values; empty
trains are allowed) but not its order or time unit: that is the session
loader's job.

MATLAB files are read with :func:`scipy.io.loadmat` (versions 4 to 7) or
:mod:`h5py` (version 7.3, HDF5 with a MATLAB userblock); the version is
sniffed from the content (:func:`h5py.is_hdf5`), never from the extension.
scipy.io and h5py are imported only when a file is read.  Every problem is
raised as :class:`sparsefield.errors.InputError` whose source is the file path.
"""

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sparsefield._typing import StrPath
from sparsefield.errors import InputError
from sparsefield.io.readers import (
    StoredPrecision,
    check_file,
    read_variables,
    short_error,
    stored_precision,
)

# MATLAB classes (the MATLAB_class attribute of a v7.3 dataset) that hold numbers.
_MATLAB_NUMERIC_CLASSES = {
    "double", "single", "logical",
    "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64",
}

# The largest magnitude an int64 id can hold exactly when it comes from a float.
_INT64_LIMIT = 2.0 ** 63


@dataclass(frozen=True)
class SpikeTrains:
    """Spike times of several units, as read from one source (not yet checked for order/units).

    Attributes
    ----------
    unit_ids : ndarray of shape (n_units,), int64
        Ids from the source, unique (MATLAB cells: the 1-based cell index;
        Kilosort: cluster ids; NWB: ``units.id``; ``.npz``: the unit index).
    times : tuple of length n_units
        Each entry is a float64 ndarray of shape (n_spikes,) (one train), or,
        when :attr:`per_trial` is True, a tuple of n_trials float64 ndarrays of
        shape (n_spikes_in_trial,), one per trial.  Values are in the file's
        own time unit (seconds, ms or samples), except where a reader says
        otherwise (Kilosort and NWB give seconds).  A train may be empty.
    labels : tuple of str of length n_units, or None
        One label per unit (``''`` for a unit without one), or None when the
        source has no labels.
    per_trial : bool
        Whether each entry of :attr:`times` is split into trials.
    precision : StoredPrecision or None
        The coarsest precision of the times as stored in the file (before they
        became float64), in the unit of :attr:`times`; None when unknown.

    Notes
    -----
    The dataclass compares its fields with ``==``, which is ambiguous for
    arrays; compare fields one by one instead.
    """

    unit_ids: np.ndarray
    times: tuple
    labels: tuple | None
    per_trial: bool
    precision: StoredPrecision | None = None


# --- public readers ------------------------------------------------------------------


def read_spike_cells(path: StrPath, key: str) -> SpikeTrains:
    """Spike trains of several units from a MATLAB cell array (or one vector).

    Parameters
    ----------
    path : str or os.PathLike
        MATLAB file, version 4 to 7 or 7.3 (sniffed from the content).
    key : str
        Name of the variable holding the spike times.

    Returns
    -------
    trains : SpikeTrains
        Times as stored (no unit conversion, no sorting), float64.  The
        variable's shape decides the layout:

        - a 1xN or Nx1 cell: N units, one vector each; unit ids are 1..N,
          MATLAB's 1-based cell index (``spikes{3}`` is unit 3);
        - a UxT cell with U > 1 and T > 1: U units (rows) by T trials
          (columns); ``per_trial`` is True and unit ids are the 1-based row
          index 1..U;
        - a plain numeric vector (not a cell): one unit with id 1;
        - an empty cell: no units.

        ``labels`` is None (MATLAB cells carry no labels); ``precision`` is the
        coarsest of the stored arrays (a float32 or integer cell element shows).

    Raises
    ------
    InputError
        Source: the path.  When the file is missing or unreadable, the
        variable is absent (the message lists those present), is a cell of
        more than two dimensions, a struct, text or a matrix, or when a cell
        element is not a vector of real, finite numbers (the message names the
        cell, e.g. ``spikes{3} (unit 3)``).  Empty elements are allowed.
    """
    path = os.fspath(path)
    kind, value = _load_cell_variable(path, key)
    if kind == "array":
        train = as_train(path, value, f"variable {key!r}",
                         "a cell array of spike-time vectors or one vector of spike times")
        return SpikeTrains(np.array([1], dtype=np.int64), (train,), None, False,
                           stored_precision(value))
    rows, cols = value.shape
    expected = "a vector of spike times"
    if value.size == 0:
        return SpikeTrains(np.zeros(0, dtype=np.int64), (), None, False)
    if rows == 1 or cols == 1:
        times: tuple[Any, ...] = tuple(
            as_train(path, element, f"cell {key}{{{index + 1}}} (unit {index + 1})", expected)
            for index, element in enumerate(value.reshape(-1, order="F"))
        )
        return SpikeTrains(np.arange(1, len(times) + 1, dtype=np.int64), times, None, False,
                           _cell_precision(value))
    times = tuple(
        tuple(
            as_train(
                path, value[row, col],
                f"cell {key}{{{row + 1},{col + 1}}} (unit {row + 1}, trial {col + 1})", expected,
            )
            for col in range(cols)
        )
        for row in range(rows)
    )
    return SpikeTrains(np.arange(1, rows + 1, dtype=np.int64), times, None, True,
                       _cell_precision(value))


def _cell_precision(cells: np.ndarray) -> StoredPrecision | None:
    """The coarsest stored precision of a cell array's (already checked) elements."""
    return stored_precision(*[element for element in np.asarray(cells).reshape(-1)
                              if isinstance(element, np.ndarray)])


@overload
def read_trial_cells(path: StrPath, key: str, *,
                     with_precision: Literal[False] = ...) -> tuple[NDArray[np.float64], ...]: ...


@overload
def read_trial_cells(path: StrPath, key: str, *, with_precision: Literal[True]
                     ) -> tuple[tuple[NDArray[np.float64], ...], StoredPrecision | None]: ...


def read_trial_cells(
    path: StrPath,
    key: str,
    *,
    with_precision: bool = False,
) -> tuple[Any, ...]:
    """Per-trial vectors (e.g. trigger times per trial) from a MATLAB cell array.

    Parameters
    ----------
    path : str or os.PathLike
        MATLAB file, version 4 to 7 or 7.3 (sniffed from the content).
    key : str
        Name of the variable: a 1xN or Nx1 cell of vectors (N trials), or a
        plain numeric vector (one trial).
    with_precision : bool, default False
        Also return the stored precision of the times.

    Returns
    -------
    trials : tuple of ndarray
        One float64 ndarray of shape (n_values,) per trial, as stored (no
        unit conversion, no sorting); a 1-tuple for a plain vector.  A trial
        may be empty.
    precision : StoredPrecision or None
        Only with ``with_precision``: the coarsest precision of the stored
        arrays (:func:`sparsefield.io.readers.stored_precision`).

    Raises
    ------
    InputError
        Source: the path.  When the file is missing or unreadable, the
        variable is absent (the message lists those present), is a cell with
        more than one row and column, a struct, text or a matrix, or when a
        cell element is not a vector of real, finite numbers (the message
        names the cell, e.g. ``triggers{3} (trial 3)``).
    """
    path = os.fspath(path)
    kind, value = _load_cell_variable(path, key)
    if kind == "array":
        trials: tuple[NDArray[np.float64], ...] = (
            as_train(path, value, f"variable {key!r}",
                     "a cell array of per-trial vectors or one vector of times"),
        )
        return (trials, stored_precision(value)) if with_precision else trials
    rows, cols = value.shape
    if value.size and rows > 1 and cols > 1:
        raise InputError(
            path,
            f"variable {key!r} is a {rows}x{cols} cell array; expected a 1xN or Nx1 cell "
            "with one vector of times per trial",
        )
    trials = tuple(
        as_train(path, element, f"cell {key}{{{index + 1}}} (trial {index + 1})",
                 "a vector of times")
        for index, element in enumerate(value.reshape(-1, order="F"))
    )
    return (trials, _cell_precision(value)) if with_precision else trials


def read_units_npz(path: StrPath, times_key: str, units_key: str) -> SpikeTrains:
    """Spike trains from an ``.npz`` of concatenated spike times and one unit index per spike.

    Parameters
    ----------
    path : str or os.PathLike
        NumPy ``.npz`` archive, read with ``allow_pickle=False``.
    times_key : str
        Array of spike times of all units, shape (n_spikes,) (or (n, 1), (1, n)).
    units_key : str
        Array of the same length: the unit of each spike, whole numbers (an
        integer array, or floats that are whole numbers).

    Returns
    -------
    trains : SpikeTrains
        ``unit_ids``: the sorted unique values of the unit index; each train
        holds that unit's times in the order they appear in the file (float64,
        file's time unit); ``labels`` None; ``per_trial`` False; ``precision``
        that of the stored times array.

    Raises
    ------
    InputError
        Source: the path.  When the file is missing, not an ``.npz``, lacks a
        key (the message lists the arrays present), holds an object array, when
        the two arrays are not vectors or differ in length, when a unit index
        is not a whole number, or when a spike time is not finite (the message
        names the spike and its unit).
    """
    path = os.fspath(path)
    arrays = read_variables(path, "npz", [times_key, units_key])
    times = as_vector(path, arrays[times_key], f"array {times_key!r}", "a vector of spike times")
    units = as_vector(path, arrays[units_key], f"array {units_key!r}",
                       "a vector with one unit index per spike")
    if times.shape[0] != units.shape[0]:
        raise InputError(
            path,
            f"array {times_key!r} has {times.shape[0]} spike times but array {units_key!r} has "
            f"{units.shape[0]} unit indices; they must match one to one",
        )
    units = as_whole_numbers(path, units, f"array {units_key!r}", "unit index")
    bad = np.flatnonzero(~np.isfinite(times.astype(np.float64)))
    if bad.size:
        index = int(bad[0])
        raise InputError(
            path,
            f"array {times_key!r}: spike {index} (0-based, unit {int(units[index])}) is "
            f"{float(times[index])}; {bad.size} spike times are not finite (NaN or infinite)",
        )
    unit_ids, trains = split_by_unit(times.astype(np.float64), units)
    return SpikeTrains(unit_ids, trains, None, False, stored_precision(times))


# --- checks shared by the readers of this package ------------------------------------


def as_vector(path: str, value: object, where: str, expected: str) -> np.ndarray:
    """A real-valued array squeezed to shape (n,), dtype kept; no finiteness check.

    Parameters
    ----------
    path : str
        Source named in error messages.
    value : object
        What the file held: an ndarray of real numbers with at most one axis longer
        than 1 is accepted.
    where : str
        What holds the value, e.g. ``"variable 'spikes'"``.
    expected : str
        What the value should be, e.g. ``"a vector of spike times"``.

    Returns
    -------
    vector : ndarray of shape (n,)
        ``value`` with its singleton axes dropped, in its own dtype.

    Raises
    ------
    InputError
        When ``value`` is not an ndarray, holds structs, cells, text or complex
        numbers, or has more than one axis longer than 1.
    """
    what: str | None
    if not isinstance(value, np.ndarray):
        sparse = type(value).__module__.startswith("scipy.sparse")
        what = "is a sparse matrix" if sparse else f"is a {type(value).__name__}"
        raise InputError(path, f"{where} {what}, not {expected}")
    kind = value.dtype.kind
    if value.dtype.names is not None:
        what = "is a struct"
    elif kind == "O":
        what = "is a cell array"
    elif kind in "US":
        what = "is text"
    elif kind == "c":
        what = "holds complex numbers"
    elif kind not in "biuf":
        what = f"holds values of type {value.dtype}"
    else:
        what = None
    if what is not None:
        raise InputError(path, f"{where} {what}, not {expected}")
    if value.size == 0:
        return np.zeros(0, dtype=value.dtype)
    if sum(size != 1 for size in value.shape) > 1:
        shape = "x".join(str(size) for size in value.shape)
        noun = "matrix" if value.ndim == 2 else "array"
        raise InputError(path, f"{where} is a {shape} {noun}, not {expected}")
    return value.reshape(-1)


def as_train(path: str, value: object, where: str, expected: str) -> NDArray[np.float64]:
    """Check one train: real numbers, a vector after squeezing, finite -> (n,) float64.

    Parameters
    ----------
    path : str
        Source named in error messages.
    value : object
        What the file held (or a :class:`_NotArray` saying what it is instead).
    where : str
        What holds the train, e.g. ``"cell spikes{3} (unit 3)"``.
    expected : str
        What the value should be, e.g. ``"a vector of spike times"``.

    Returns
    -------
    train : ndarray of shape (n,), float64, C-contiguous

    Raises
    ------
    InputError
        As :func:`as_vector`, and when a value is NaN or infinite.
    """
    if isinstance(value, _NotArray):
        raise InputError(path, f"{where} {value.what}, not {expected}")
    train = np.ascontiguousarray(as_vector(path, value, where, expected), dtype=np.float64)
    bad = np.flatnonzero(~np.isfinite(train))
    if bad.size:
        index = int(bad[0])
        raise InputError(
            path,
            f"{where} has {bad.size} non-finite values (NaN or infinite); the first is value "
            f"{index} (0-based), {train[index]}",
        )
    return train


def as_whole_numbers(path: str, values: ArrayLike, where: str, what: str) -> NDArray[np.int64]:
    """A vector of whole numbers (integer dtype, or floats that are whole) as int64.

    Parameters
    ----------
    path : str
        Source named in error messages.
    values : ndarray of shape (n,)
        Real numbers.
    where : str
        What holds the values, e.g. ``"array 'units'"``.
    what : str
        What one value is called, e.g. ``"unit index"``.

    Returns
    -------
    numbers : ndarray of shape (n,), int64

    Raises
    ------
    InputError
        When a value is not a whole number or does not fit in int64 (the first
        such value is named by its 0-based index).
    """
    values = np.asarray(values)
    if values.dtype.kind in "iu":
        if values.dtype.kind == "u" and values.size and values.max() > np.iinfo(np.int64).max:
            index = int(np.argmax(values))
            raise InputError(path, f"{where}: {what} {index} (0-based) is {values[index]}, "
                                   "too large for a 64-bit integer")
        return values.astype(np.int64)
    as_float = values.astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(as_float) | (as_float != np.round(as_float))
                         | (np.abs(as_float) >= _INT64_LIMIT))
    if bad.size:
        index = int(bad[0])
        raise InputError(
            path,
            f"{where}: {what} {index} (0-based) is {as_float[index]}, not a whole number; "
            f"{bad.size} values are not whole numbers",
        )
    return as_float.astype(np.int64)


def split_by_unit(
    times: NDArray[np.float64],
    units: NDArray[np.int64],
) -> tuple[NDArray[np.int64], tuple[NDArray[np.float64], ...]]:
    """Split concatenated spike times by unit, keeping the file's order within each unit.

    Parameters
    ----------
    times : ndarray of shape (n_spikes,), float64
    units : ndarray of shape (n_spikes,), int64
        Unit of each spike.

    Returns
    -------
    unit_ids : ndarray of shape (n_units,), int64
        Sorted unique values of ``units``.
    trains : tuple of n_units ndarray of shape (n_spikes_of_unit,), float64
    """
    order = np.argsort(units, kind="stable")
    unit_ids, starts = np.unique(units[order], return_index=True)
    pieces = np.split(times[order], starts[1:]) if unit_ids.size else []
    return unit_ids.astype(np.int64), tuple(np.ascontiguousarray(piece) for piece in pieces)


# --- MATLAB files ---------------------------------------------------------------------


class _NotArray:
    """A v7.3 node that is not a numeric array.

    ``what`` completes "cell x{3} ...", e.g. "is text".
    """

    def __init__(self, what: str) -> None:
        self.what = what


def _load_cell_variable(path: str, key: str) -> tuple[str, np.ndarray]:
    """Read one MATLAB variable.

    Returns ``("array", ndarray)`` for anything that is not a cell (checked by
    the caller), or ``("cell", cells)`` with ``cells`` a 2-D object ndarray in
    MATLAB's axis order whose elements are ndarrays (or :class:`_NotArray`).
    """
    import h5py

    check_file(path)
    try:
        is_hdf5 = h5py.is_hdf5(path)
    except Exception as error:  # noqa: BLE001 - any failure means unreadable
        raise InputError(path, f"cannot be read ({short_error(error)})") from error
    kind, value = _load_mat73(path, key) if is_hdf5 else _load_mat5(path, key)
    if kind == "cell" and value.ndim != 2:
        shape = "x".join(str(size) for size in value.shape)
        raise InputError(
            path,
            f"variable {key!r} is a {shape} cell array; expected a 1xN or Nx1 cell (units) "
            "or a UxT cell (units x trials)",
        )
    return kind, value


def _missing(path: str, key: str, available: Sequence[str]) -> InputError:
    listed = ", ".join(repr(name) for name in available) if available else "none"
    return InputError(path, f"has no MATLAB variable {key!r} (it holds: {listed})")


def _load_mat5(path: str, key: str) -> tuple[str, np.ndarray]:
    import scipy.io

    try:
        contents = scipy.io.loadmat(path, variable_names=[key])
    except Exception as error:  # noqa: BLE001 - rephrased for the user
        raise InputError(
            path, f"cannot be read as a MATLAB file (truncated or corrupt: {short_error(error)})"
        ) from error
    if key not in contents:
        try:
            available = [name for name, _, _ in scipy.io.whosmat(path)]
        except Exception:  # noqa: BLE001 - the listing is only a courtesy
            available = []
        raise _missing(path, key, available)
    value = contents[key]
    if isinstance(value, np.ndarray) and value.dtype.kind == "O" and value.dtype.names is None:
        return "cell", value
    return "array", value


def _load_mat73(path: str, key: str) -> tuple[str, np.ndarray]:
    import h5py

    try:
        handle = h5py.File(path, "r")
    except Exception as error:  # noqa: BLE001 - rephrased for the user
        raise InputError(
            path,
            "cannot be read as a MATLAB v7.3 (HDF5) file (truncated or corrupt: "
            f"{short_error(error)})",
        ) from error
    with handle:
        available = [name for name in handle.keys() if not name.startswith("#")]
        if key not in available:
            raise _missing(path, key, available)
        try:
            node = handle[key]
            if isinstance(node, h5py.Dataset) and _matlab_class(node) == "cell":
                return "cell", _mat73_cells(handle, node)
            value = _mat73_array(node)
        except InputError:
            raise
        except Exception as error:  # noqa: BLE001 - rephrased for the user
            raise InputError(
                path, f"cannot read variable {key!r} (truncated or corrupt: {short_error(error)})"
            ) from error
    if isinstance(value, _NotArray):
        raise InputError(
            path,
            f"variable {key!r} {value.what}, not a cell array of vectors or one vector",
        )
    return "array", value


def _matlab_class(node: Any) -> str:
    matlab_class = node.attrs.get("MATLAB_class", b"")
    if isinstance(matlab_class, bytes):
        matlab_class = matlab_class.decode("ascii", "replace")
    return str(matlab_class)


def _is_empty(node: Any) -> bool:
    return int(np.asarray(node.attrs.get("MATLAB_empty", 0)).ravel()[0]) == 1


def _mat73_cells(handle: Any, node: Any) -> np.ndarray:
    """A v7.3 cell (dataset of object references) -> object ndarray in MATLAB's axis order."""
    if _is_empty(node):
        return np.empty(tuple(int(size) for size in node[()][::-1]), dtype=object)
    references = np.asarray(node[()]).transpose()  # HDF5 sees MATLAB's axes reversed
    cells = np.empty(references.shape, dtype=object)
    for index, reference in np.ndenumerate(references):
        cells[index] = _mat73_array(handle[reference]) if reference else _NotArray(
            "is an invalid (null) reference")
    return cells


def _mat73_array(node: Any) -> np.ndarray | _NotArray:
    """A v7.3 node -> ndarray in MATLAB's axis order, or a _NotArray saying what it is."""
    import h5py

    if not isinstance(node, h5py.Dataset):
        matlab_class = _matlab_class(node)
        return _NotArray(f"is a MATLAB {matlab_class or 'struct'}")
    matlab_class = _matlab_class(node)
    if matlab_class == "cell":
        return _NotArray("is a cell array")
    if matlab_class == "char":
        return _NotArray("is text")
    if "MATLAB_sparse" in node.attrs:
        return _NotArray("is a sparse matrix")
    if matlab_class and matlab_class not in _MATLAB_NUMERIC_CLASSES:
        return _NotArray(f"is of MATLAB class {matlab_class!r}")
    if _is_empty(node):
        # MATLAB stores an empty array as its (zero-containing) size vector.
        return np.zeros(tuple(int(size) for size in node[()][::-1]))
    data = np.asarray(node[()])
    if data.dtype.names is not None and set(data.dtype.names) == {"real", "imag"}:
        return _NotArray("holds complex numbers")
    return data.transpose()
