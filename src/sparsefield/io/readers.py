"""Readers that pull named numeric arrays out of one file.

Four on-disk formats are understood:

``mat``
    MATLAB files.  Versions 4, 5, 6 and 7 are read with
    :func:`scipy.io.loadmat`; version 7.3 files (HDF5 with a 512-byte MATLAB
    userblock) are read with :mod:`h5py`.  The version is sniffed from the
    file itself (:func:`h5py.is_hdf5`), never taken from the extension.
``npz``
    NumPy archives, read with ``np.load(path, allow_pickle=False)``; object
    arrays are refused, never unpickled.
``text``
    One number per line, read with :func:`numpy.loadtxt` (``#`` starts a
    comment).  A text file holds a single unnamed variable, so the key is
    ignored.  Only spike and trigger times may be text.

Every problem is raised as :class:`sparsefield.errors.InputError` whose source
is the file path, so the user knows which file to look at.  The readers only
read; checking what the arrays mean is :mod:`sparsefield.io.recording`'s job.
"""

import os
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from sparsefield._typing import StrPath
from sparsefield.errors import InputError

#: Formats a sheet may name in its ``format`` column.
FORMATS = ("auto", "mat", "npz", "text")

#: Extensions (lower case) that ``format: auto`` maps to each format.
EXTENSION_FORMATS = {
    ".mat": "mat",
    ".npz": "npz",
    ".txt": "text",
    ".csv": "text",
    ".tsv": "text",
    ".dat": "text",
}

# MATLAB classes (the MATLAB_class attribute of a v7.3 dataset) that hold numbers.
_MATLAB_NUMERIC_CLASSES = {
    "double", "single", "logical",
    "int8", "int16", "int32", "int64",
    "uint8", "uint16", "uint32", "uint64",
}


@dataclass(frozen=True)
class StoredPrecision:
    """How finely a stored array of times can hold its values.

    Converting to float64 after reading cannot restore digits that a float32 or an
    integer array never held, so readers report the precision of what was stored
    (:func:`stored_precision`) and the session loader compares it with a frame
    (:func:`sparsefield.io.plausibility.check_time_precision`).

    Attributes
    ----------
    dtype : str
        The stored dtype, e.g. ``"float32"``, ``"int32"``.
    step : float
        Distance between two consecutive values the dtype can hold at the largest
        stored magnitude (1 for integers), in the unit of the times the reader
        returns (the file's own unit, or seconds where the reader converts).
    """

    dtype: str
    step: float


def stored_precision(*arrays: ArrayLike, scale: float = 1.0) -> StoredPrecision | None:
    """The coarsest :class:`StoredPrecision` of arrays of times, as stored.

    Parameters
    ----------
    *arrays : ndarray
        Times with the dtype they had in the file (before any conversion).
    scale : float, default 1.0
        Multiplies the step (e.g. ``1 / sample_rate`` when the reader returns seconds
        from samples).

    Returns
    -------
    StoredPrecision or None
        None when no array holds a finite value.  For a floating-point dtype the step
        is ``np.spacing`` of its largest finite magnitude; for integers (and booleans)
        it is 1.
    """
    coarsest = None
    for array in arrays:
        array = np.asarray(array)
        if array.size == 0 or array.dtype.kind not in "biuf":
            continue
        if array.dtype.kind == "f":
            finite = np.abs(array[np.isfinite(array)])
            if finite.size == 0:
                continue
            step = float(np.spacing(finite.max().astype(array.dtype)))
        else:
            step = 1.0
        step *= scale
        if coarsest is None or step > coarsest.step:
            coarsest = StoredPrecision(dtype=str(array.dtype), step=step)
    return coarsest


def infer_format(path: StrPath) -> str:
    """Format of a file from its extension.

    Parameters
    ----------
    path : str or os.PathLike
        File whose extension decides the format.

    Returns
    -------
    fmt : str
        One of ``"mat"``, ``"npz"``, ``"text"``.

    Raises
    ------
    InputError
        When the extension is not one of :data:`EXTENSION_FORMATS`.
    """
    extension = os.path.splitext(os.fspath(path))[1].lower()
    try:
        return EXTENSION_FORMATS[extension]
    except KeyError:
        known = ", ".join(sorted(EXTENSION_FORMATS))
        raise InputError(
            path,
            f"cannot tell the file format from the extension {extension or '(none)'!r} "
            f"(known: {known}); set the format column to mat, npz or text",
        ) from None


def check_file(path: StrPath) -> None:
    """Raise :class:`InputError` unless ``path`` is an existing file.

    Parameters
    ----------
    path : str or os.PathLike
    """
    if not os.path.exists(path):
        raise InputError(path, "file not found")
    if os.path.isdir(path):
        raise InputError(path, "is a folder, not a file")


def read_variables(path: StrPath, fmt: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
    """Read named arrays from one file, opening it once.

    Parameters
    ----------
    path : str or os.PathLike
        File to read.
    fmt : str
        ``"auto"``, ``"mat"``, ``"npz"`` or ``"text"``.  ``"auto"`` infers
        the format from the extension (:func:`infer_format`).
    keys : sequence of str
        Variable names to read.  For text files the single column is returned
        under every key asked for.

    Returns
    -------
    arrays : dict of str to ndarray
        One array per key, as stored (MATLAB axis order for ``.mat`` files of
        every version; no squeezing, no dtype conversion).

    Raises
    ------
    InputError
        When the file is missing, cannot be read as the format, or lacks a key
        (the message lists the variables it does hold).
    """
    path = os.fspath(path)
    check_file(path)
    if fmt == "auto":
        fmt = infer_format(path)
    if fmt not in FORMATS:
        raise InputError(path, f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    keys = list(dict.fromkeys(keys))
    if fmt == "mat":
        return _read_mat(path, keys)
    if fmt == "npz":
        return _read_npz(path, keys)
    return _read_text(path, keys)


def short_error(error: BaseException) -> str:
    """One-line, bounded description of a reader's exception.

    Parameters
    ----------
    error : BaseException

    Returns
    -------
    str
        The message on one line (whitespace runs as one space), at most 120
        characters; the exception's type name when the message is empty.
    """
    text = " ".join(str(error).split()) or type(error).__name__
    if len(text) > 120:
        text = text[:117] + "..."
    return text


def _missing(path: str, key: str, available: Sequence[str], kind: str) -> InputError:
    listed = ", ".join(repr(name) for name in available) if available else "none"
    return InputError(path, f"has no {kind} {key!r} (it holds: {listed})")


def _read_mat(path: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
    import h5py

    try:
        is_hdf5 = h5py.is_hdf5(path)
    except Exception as error:  # noqa: BLE001 - any failure means unreadable
        raise InputError(path, f"cannot be read ({short_error(error)})") from error
    if is_hdf5:
        return _read_mat73(path, keys)
    return _read_mat5(path, keys)


def _read_mat5(path: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
    import scipy.io

    try:
        contents = scipy.io.loadmat(path, variable_names=keys)
    except Exception as error:  # noqa: BLE001 - rephrased for the user
        raise InputError(
            path,
            f"cannot be read as a MATLAB file (truncated or corrupt: {short_error(error)})",
        ) from error
    arrays = {}
    for key in keys:
        if key not in contents:
            try:
                available = [name for name, _, _ in scipy.io.whosmat(path)]
            except Exception:  # noqa: BLE001 - the listing is only a courtesy
                available = []
            raise _missing(path, key, available, "MATLAB variable")
        arrays[key] = _as_numeric(path, key, contents[key])
    return arrays


def _read_mat73(path: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
    import h5py

    try:
        handle = h5py.File(path, "r")
    except Exception as error:  # noqa: BLE001 - rephrased for the user
        raise InputError(
            path,
            "cannot be read as a MATLAB v7.3 (HDF5) file (truncated or corrupt: "
            f"{short_error(error)})",
        ) from error
    arrays = {}
    with handle:
        available = [name for name in handle.keys() if not name.startswith("#")]
        for key in keys:
            if key not in available:
                raise _missing(path, key, available, "MATLAB variable")
            node = handle[key]
            if not isinstance(node, h5py.Dataset):
                raise InputError(
                    path,
                    f"variable {key!r} is a MATLAB struct, cell or sparse matrix, not a numeric "
                    "array",
                )
            matlab_class = node.attrs.get("MATLAB_class", b"")
            if isinstance(matlab_class, bytes):
                matlab_class = matlab_class.decode("ascii", "replace")
            matlab_class = str(matlab_class)
            if matlab_class and matlab_class not in _MATLAB_NUMERIC_CLASSES:
                raise InputError(
                    path,
                    f"variable {key!r} is of MATLAB class {matlab_class!r}, not a numeric array",
                )
            try:
                if int(np.asarray(node.attrs.get("MATLAB_empty", 0)).ravel()[0]) == 1:
                    # MATLAB stores an empty array as its (all-zero-containing) size vector.
                    arrays[key] = np.zeros(tuple(int(size) for size in node[()][::-1]))
                    continue
                data = node[()]
            except Exception as error:  # noqa: BLE001 - rephrased for the user
                raise InputError(
                    path,
                    f"cannot read variable {key!r} (truncated or corrupt: {short_error(error)})",
                ) from error
            # HDF5 sees MATLAB's column-major arrays with their axes reversed.
            arrays[key] = _as_numeric(path, key, np.asarray(data).transpose())
    return arrays


def _read_npz(path: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
    with open(path, "rb") as handle:
        magic = handle.read(6)
    if magic == b"\x93NUMPY":
        raise InputError(path, "is a single .npy array, not an .npz archive of named arrays")
    if not zipfile.is_zipfile(path):
        # np.load would fall back to pickle here (and refuse it): say what is wrong instead.
        raise InputError(
            path, "cannot be read as an .npz archive (truncated, corrupt or not an .npz file: "
            "no zip directory found)"
        )
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as error:  # noqa: BLE001 - rephrased for the user
        raise InputError(
            path, f"cannot be read as an .npz archive (truncated or corrupt: {short_error(error)})"
        ) from error
    arrays = {}
    with archive:
        for key in keys:
            if key not in archive.files:
                raise _missing(path, key, archive.files, "array")
            try:
                data = archive[key]
            except ValueError as error:
                if "allow_pickle" in str(error):
                    raise InputError(
                        path,
                        f"array {key!r} is an object array, which is refused "
                        "(it would have to be unpickled); store plain numbers",
                    ) from error
                raise InputError(
                    path, f"cannot read array {key!r} (truncated or corrupt: {short_error(error)})"
                ) from error
            except (zipfile.BadZipFile, OSError, EOFError) as error:
                raise InputError(
                    path, f"cannot read array {key!r} (truncated or corrupt: {short_error(error)})"
                ) from error
            arrays[key] = _as_numeric(path, key, data)
    return arrays


def _read_text(path: str, keys: Sequence[str]) -> dict[str, np.ndarray]:
    try:
        with warnings.catch_warnings():
            # An empty file is reported later, as an empty spike train.
            warnings.simplefilter("ignore", UserWarning)
            data = np.loadtxt(path, comments="#", dtype=np.float64, ndmin=1)
    except Exception as error:  # noqa: BLE001 - rephrased for the user
        raise InputError(
            path,
            f"cannot be read as a text file of numbers, one per line ({short_error(error)})",
        ) from error
    return {key: data for key in keys}


def _as_numeric(path: str, key: str, data: object) -> np.ndarray:
    """Refuse arrays that do not hold plain real numbers."""
    if not isinstance(data, np.ndarray):
        raise InputError(
            path, f"variable {key!r} is a {type(data).__name__}, not a dense numeric array"
        )
    if data.dtype.kind not in "biuf":
        if data.dtype.kind == "c":
            what = "complex numbers"
        elif data.dtype.kind in "US":
            what = "text"
        elif data.dtype.kind == "O" or data.dtype.names:
            what = "a struct or cell array"
        else:
            what = f"values of type {data.dtype}"
        raise InputError(path, f"variable {key!r} holds {what}, not real numbers")
    return data
