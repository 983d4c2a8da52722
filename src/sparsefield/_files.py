"""Writing a file atomically, written once."""

import contextlib
import os
import secrets
from pathlib import Path


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
