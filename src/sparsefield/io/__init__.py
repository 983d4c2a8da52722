"""Reading and checking raw recordings (spike times, trigger times, stimulus).

:func:`load_session` turns one row of ``config/recordings.tsv`` into a
checked :class:`Session` (one stimulus, many units; the readers of lab formats are
:mod:`sparsefield.io.nwb`, :mod:`sparsefield.io.kilosort` and
:mod:`sparsefield.io.cells`); :func:`load_recording` reads a one-unit row into a
:class:`Recording`; :func:`save_raw_mat` writes arrays in the real
recording's MATLAB layout and :func:`save_npz` writes a ``.npz`` archive; both
give the same bytes for the same arrays (no dates in the files).  scipy.io and h5py
are imported only when a file is read or written.  The sheet's columns, defaults and
accepted values are constants of :mod:`sparsefield.io.recording`; the file formats are
those of :mod:`sparsefield.io.readers`.
"""

from sparsefield._files import save_npz
from sparsefield.io.readers import infer_format, read_variables
from sparsefield.io.recording import Recording, load_recording
from sparsefield.io.session import Session, load_session
from sparsefield.io.writers import save_raw_mat

__all__ = [
    "Recording",
    "Session",
    "infer_format",
    "load_recording",
    "load_session",
    "read_variables",
    "save_npz",
    "save_raw_mat",
]
