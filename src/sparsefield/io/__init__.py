"""Reading and checking raw recordings (spike times, trigger times, stimulus).

:func:`load_recording` turns one row of ``config/recordings.tsv`` into a
checked :class:`Recording`; :func:`save_raw_mat` writes arrays in the real
recording's MATLAB layout.  scipy.io and h5py are imported only when a file
is read or written.
"""

from sparsefield.io.readers import EXTENSION_FORMATS, FORMATS, infer_format, read_variables
from sparsefield.io.recording import (
    PIXEL_ORDERS,
    SHEET_COLUMNS,
    SHEET_DEFAULTS,
    SHEET_FALLBACKS,
    SHEET_REQUIRED,
    STIMULUS_AXES,
    TIME_UNITS,
    Recording,
    load_recording,
)
from sparsefield.io.writers import save_raw_mat

__all__ = [
    "EXTENSION_FORMATS",
    "FORMATS",
    "PIXEL_ORDERS",
    "SHEET_COLUMNS",
    "SHEET_DEFAULTS",
    "SHEET_FALLBACKS",
    "SHEET_REQUIRED",
    "STIMULUS_AXES",
    "TIME_UNITS",
    "Recording",
    "infer_format",
    "load_recording",
    "read_variables",
    "save_raw_mat",
]
