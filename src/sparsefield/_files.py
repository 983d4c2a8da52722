"""Writing files atomically and reproducibly (a ``.npz`` archive), written once."""

import contextlib
import os
import secrets
import zipfile
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_write(path):
    """Open a new hidden file beside ``path`` for writing; move it onto ``path`` when done.

    The temporary file is created in the same folder (so :func:`os.replace` is a
    rename on one file system) with ``O_EXCL`` and mode ``0o666`` (the umask
    decides the permissions, as for any new file).  When the ``with`` block
    finishes, the data are flushed to disk and the file replaces ``path``;
    when the block raises, the temporary file is removed and ``path`` is left
    as it was.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file.  Its folder must exist.

    Yields
    ------
    handle : io.BufferedWriter
        The temporary file, open for binary writing.

    Examples
    --------
    >>> with atomic_write("out.bin") as handle:  # doctest: +SKIP
    ...     handle.write(b"data")
    """
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


#: The date stamped on every member of a zip archive written by :func:`save_npz`
#: (the earliest date a zip file can hold), so that archives do not depend on when
#: they were written.
ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)


def save_npz(path, arrays, compress=False):
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
                    np.lib.format.write_array(member, np.asanyarray(arrays[name]), allow_pickle=False)
