"""Writing files atomically and reproducibly (a ``.npz`` archive), written once, and
saying in one line why a folder cannot be written (a full disk, a read-only folder).
"""

import contextlib
import errno
import glob
import os
import re
import secrets
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import ArrayLike

from sparsefield._typing import StrPath

try:
    import fcntl
except ImportError:  # not POSIX: orphaned temporary files stay (see atomic_write)
    fcntl = None  # type: ignore[assignment]


@contextlib.contextmanager
def atomic_write(path: StrPath) -> Iterator[BinaryIO]:
    """Open a new hidden file beside ``path`` for writing; move it onto ``path`` when done.

    The temporary file, ``.<name>.<random>.tmp``, is created in the same folder
    (so :func:`os.replace` is a rename on one file system) with ``O_EXCL`` and
    mode ``0o666`` (the umask decides the permissions, as for any new file).
    When the ``with`` block finishes, the data are flushed to disk and the file
    replaces ``path``; when the block raises, the temporary file is removed and
    ``path`` is left as it was.

    A writer killed outright (``kill -9``, a power loss) cannot remove its
    temporary file.  The writer holds a lock (:func:`fcntl.flock`) on it, which
    the system drops when the writer dies; the next :func:`atomic_write` of the
    same ``path`` removes such orphans (temporary files of ``path`` that nobody
    holds locked), so that a rerun after an interruption leaves the same files
    as an uninterrupted run.  Temporary files of a live writer are left alone.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.  Its folder must exist.

    Yields
    ------
    handle : io.BufferedWriter
        The temporary file, open for binary writing.

    Raises
    ------
    OSError
        As raised; one from a full disk (reported by ``write`` or ``close``,
        which name no file) gets ``path`` as its ``filename``, so that
        :func:`describe_write_error` can name the folder.

    Examples
    --------
    >>> with atomic_write("out.bin") as handle:  # doctest: +SKIP
    ...     handle.write(b"data")
    """
    path = Path(path)
    _remove_orphans(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}{_TEMPORARY_SUFFIX}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            if fcntl is not None:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
            if fcntl is not None:
                os.replace(temporary, path)  # while still locked: no one removes it first
        if fcntl is None:
            os.replace(temporary, path)  # (an open file cannot be renamed on Windows)
    except BaseException as error:
        temporary.unlink(missing_ok=True)
        if isinstance(error, OSError):
            _name_file(error, path)
        raise


#: How :func:`atomic_write`'s temporary files end (``.<name>.<16 hex digits>.tmp``).
_TEMPORARY_SUFFIX = ".tmp"


def _remove_orphans(path: Path) -> None:
    """Remove the temporary files of ``path`` left by writers that died (unlocked)."""
    if fcntl is None:
        return
    try:
        candidates = list(path.parent.glob(f".{glob.escape(path.name)}.*{_TEMPORARY_SUFFIX}"))
    except OSError:
        return
    for candidate in candidates:
        pattern = rf"\.{re.escape(path.name)}\.[0-9a-f]{{16}}{re.escape(_TEMPORARY_SUFFIX)}"
        if not re.fullmatch(pattern, candidate.name):
            continue
        try:
            descriptor = os.open(candidate, os.O_RDONLY)
        except OSError:
            continue  # gone already, or not ours to read
        try:
            # A live writer holds the lock from just after it creates the file (a
            # writer of the same path in that microsecond could lose its file).
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            candidate.unlink(missing_ok=True)
        except OSError:
            continue  # a live writer holds it, or the folder cannot be written
        finally:
            os.close(descriptor)


def _name_file(error: OSError, path: StrPath) -> None:
    """Give an :class:`OSError` raised while writing ``path`` the file name it lacks
    (a full disk is reported by ``write`` or ``close``, which name no file), so
    that :func:`describe_write_error` can name the folder.
    """
    if error.errno in WRITE_ERRORS and error.filename is None:
        error.filename = os.fspath(path)


#: The date stamped on every member of a zip archive written by :func:`save_npz`
#: (the earliest date a zip file can hold), so that archives do not depend on when
#: they were written.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)


def save_npz(path: StrPath, arrays: Mapping[str, ArrayLike], compress: bool = False) -> None:
    """Write ``arrays`` as a ``.npz`` archive, atomically and reproducibly.

    The same arrays always give the same bytes, unlike :func:`numpy.savez`, which
    stamps each member of the zip archive with the time of writing: members are
    written in sorted order of their names with the fixed date
    :data:`ZIP_DATE_TIME` and fixed permissions.  Read the file back with
    ``np.load(path, allow_pickle=False)``; nothing is pickled.  The file is written
    through :func:`atomic_write`, so a failure leaves ``path`` as it was.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file, written as given (no ``.npz`` is appended).  Its folder
        must exist.
    arrays : mapping of str to array_like
        One member per entry, named ``<key>.npy`` as :func:`numpy.savez` does.
    compress : bool, default False
        Deflate the members (as :func:`numpy.savez_compressed`).

    Raises
    ------
    ValueError
        When an array holds Python objects (these would need pickling).

    Examples
    --------
    >>> save_npz("fit.npz", {"weights": np.zeros(3)})  # doctest: +SKIP
    >>> np.load("fit.npz", allow_pickle=False)["weights"]  # doctest: +SKIP
    array([0., 0., 0.])
    """
    compression = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with atomic_write(path) as handle:
        with zipfile.ZipFile(handle, mode="w", compression=compression, allowZip64=True) as archive:
            for name in sorted(arrays):
                info = zipfile.ZipInfo(f"{name}.npy", date_time=ZIP_DATE_TIME)
                info.compress_type = compression
                info.external_attr = 0o644 << 16
                with archive.open(info, mode="w", force_zip64=True) as member:
                    np.lib.format.write_array(member, np.asanyarray(arrays[name]),
                                              allow_pickle=False)


#: The ``errno`` values that mean "files cannot be written here", with the words
#: :func:`describe_write_error` uses for them.
WRITE_ERRORS = {
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}

#: What to do about each of :data:`WRITE_ERRORS`.
_ADVICE = {
    errno.ENOSPC: "free some space, then run snakemake again",
    errno.EDQUOT: "free some space within your quota, then run snakemake again",
    errno.EROFS: "run the workflow from a folder that can be written",
    errno.EACCES: "make it writable for you, or run the workflow from a folder you can write",
    errno.EPERM: "make it writable for you, or run the workflow from a folder you can write",
}

# HDF5 (h5py, pynwb) names the file inside its message, not in OSError.filename.
_HDF5_FILENAME = re.compile(r"filename = '([^']+)'")


def describe_write_error(error: BaseException, outputs: Sequence[StrPath] = ()) -> str | None:
    """One line saying which folder cannot be written and why, or None.

    For an :class:`OSError` whose ``errno`` is one of :data:`WRITE_ERRORS` (no
    space left, quota exceeded, read-only file system, permission denied,
    operation not permitted), the line is ``"<folder>: cannot write (<reason>);
    <what to do>"``.  The folder is the one holding the file the error names
    (``error.filename``, or the file named in an HDF5 message); when the error
    names no file, the folder of ``outputs`` (the files being written), if
    given.  A path under the working directory is shown relative to it.  A
    permission error on an existing file that cannot be read is a reading
    problem, and is described as one (naming the file).

    Parameters
    ----------
    error : BaseException
        Any exception; those that are not such an :class:`OSError` give None.
    outputs : sequence of str or os.PathLike, optional
        The files the failing step writes: their common folder is named when
        the error names no file.

    Returns
    -------
    str or None

    Examples
    --------
    >>> import errno
    >>> describe_write_error(OSError(errno.EROFS, "Read-only file system", "results/a.npz"))
    'results: cannot write (read-only file system); run the workflow from a folder that can be written'
    >>> describe_write_error(ValueError("not a file problem")) is None
    True
    """  # noqa: E501 (the example's output is one line)
    if not isinstance(error, OSError) or error.errno not in WRITE_ERRORS:
        return None
    reason = WRITE_ERRORS[error.errno]
    filename = error.filename
    if isinstance(filename, bytes):
        filename = os.fsdecode(filename)
    if not isinstance(filename, str):
        match = _HDF5_FILENAME.search(str(error))
        filename = match.group(1) if match else None
    if filename is not None:
        unreadable = os.path.isfile(filename) and not os.access(filename, os.R_OK)
        if error.errno in (errno.EACCES, errno.EPERM) and unreadable:
            return f"{_shown(filename)}: cannot read ({reason}); make it readable for you"
        folder = os.path.dirname(os.path.abspath(filename))
    elif outputs:
        folders = [os.path.dirname(os.path.abspath(output)) for output in outputs]
        folder = os.path.commonpath(folders)
    else:
        return f"cannot write a file ({reason}); {_ADVICE[error.errno]}"
    return f"{_shown(folder)}: cannot write ({reason}); {_ADVICE[error.errno]}"


def _shown(path: StrPath) -> str:
    """``path`` relative to the working directory when it lies under it."""
    path = os.path.abspath(path)
    here = os.getcwd()
    if path == here:
        return "."
    if path.startswith(here.rstrip(os.sep) + os.sep):
        return os.path.relpath(path, here)
    return path


def check_writable(folders: Iterable[StrPath], min_free_bytes: int = 0) -> str | None:
    """Say, in one message, which of ``folders`` cannot take new files, or None.

    Each folder (or, when it does not exist yet, the nearest folder above it
    that does, where it would be created) is checked by creating and removing
    an empty temporary file in it, and by :func:`shutil.disk_usage`: fewer
    than ``min_free_bytes`` free for unprivileged users counts as a full disk.
    Folders with the same problem are named together.

    Parameters
    ----------
    folders : iterable of str or os.PathLike
        Folders that will be written (they need not exist).
    min_free_bytes : int, default 0
        Free space below which a file system counts as full.

    Returns
    -------
    str or None
        ``"<folder>, <folder>: cannot write (<reason>); <what to do>"``, one
        clause per problem, joined by ``"; and "``; None when every folder
        can be written.
    """
    problems: dict[str, list[str]] = {}
    for folder in folders:
        target = Path(folder).absolute()
        while not target.exists() and target != target.parent:
            target = target.parent
        problem = _folder_problem(target, min_free_bytes)
        if problem is not None:
            problems.setdefault(problem, []).append(_shown(folder))
    if not problems:
        return None
    return "; and ".join(", ".join(names) + ": " + problem for problem, names in problems.items())


def _folder_problem(folder: Path, min_free_bytes: int) -> str | None:
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        if error.errno in WRITE_ERRORS:
            return f"cannot write ({WRITE_ERRORS[error.errno]}); {_ADVICE[error.errno]}"
        return f"cannot write ({error.strerror or error})"
    free = shutil.disk_usage(folder).free
    if free < min_free_bytes:
        return (f"cannot write (no space left on device: {_size(free)} free, at least "
                f"{_size(min_free_bytes)} needed); {_ADVICE[errno.ENOSPC]}")
    return None


def _size(n_bytes: float) -> str:
    for unit in ("bytes", "KiB", "MiB"):
        if n_bytes < 1024:
            return f"{n_bytes:.0f} {unit}" if unit == "bytes" else f"{n_bytes:.1f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.1f} GiB"
