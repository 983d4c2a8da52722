"""Writing a raw recording in the real MATLAB file's layout."""

import io

import numpy as np
from numpy.typing import ArrayLike

from sparsefield._checks import as_float_array
from sparsefield._files import atomic_write
from sparsefield._typing import StrPath
from sparsefield.errors import InputError

DEFAULT_KEYS = ("DN_spiketimes", "DN_triggertimes", "DN_stim")

#: The text of the 116-byte description at the start of every MAT file written
#: here, in place of scipy's, which holds the date of writing.
MAT_DESCRIPTION = "MATLAB 5.0 MAT-file, written by sparsefield"


def save_raw_mat(path: StrPath, spike_times: ArrayLike, trigger_times: ArrayLike,
                 stimulus_hwt: ArrayLike, keys: tuple[str, str, str] = DEFAULT_KEYS) -> None:
    """Write spikes, triggers and stimulus as a MATLAB v5 file, atomically.

    The layout is the real recording's: spike and trigger times as float64
    column vectors, the stimulus as a ``height x width x frames`` uint8 array,
    compressed.  The file is written to a temporary name in the same folder and
    renamed over ``path`` only when complete, so a failure leaves no partial
    file.  The header's description is the fixed :data:`MAT_DESCRIPTION` (scipy
    writes the date there), so the same arrays always give the same bytes.  Read it
    back with :func:`sparsefield.io.load_recording` and the default sheet columns.

    Parameters
    ----------
    path : str or os.PathLike
        File to write (written as given; no ``.mat`` is appended).
    spike_times : array_like of shape (n_spikes,)
        Spike times in seconds.
    trigger_times : array_like of shape (n_triggers,)
        Trigger (frame onset) times in seconds.
    stimulus_hwt : array_like of shape (height, width, n_frames)
        Stimulus frames; whole numbers in 0..255 (stored as uint8).
    keys : tuple of str, default ("DN_spiketimes", "DN_triggertimes", "DN_stim")
        Variable names for spike times, trigger times and stimulus.

    Raises
    ------
    InputError
        When an array has the wrong number of dimensions or the stimulus does
        not fit in uint8 (source: the argument's name).
    """
    import scipy.io

    # Not checked for finiteness or order: the writer stores what it is given
    # (load_recording checks what it reads).
    spike_times = as_float_array(spike_times, "spike_times", 1, finite=False)
    trigger_times = as_float_array(trigger_times, "trigger_times", 1, finite=False)
    values = as_float_array(stimulus_hwt, "stimulus_hwt", 3, finite=False)
    if not (np.all(np.isfinite(values)) and np.all(values == np.round(values))
            and values.min(initial=0) >= 0 and values.max(initial=0) <= 255):
        raise InputError("stimulus_hwt", "must hold whole numbers in 0..255 to be stored as uint8")
    stimulus_hwt = values.astype(np.uint8)
    if len(keys) != 3 or len(set(keys)) != 3:
        raise InputError("keys", f"expected three distinct variable names, got {keys!r}")

    variables = {
        keys[0]: spike_times.reshape(-1, 1),
        keys[1]: trigger_times.reshape(-1, 1),
        keys[2]: stimulus_hwt,
    }
    buffer = io.BytesIO()
    scipy.io.savemat(buffer, variables, format="5", do_compression=True)
    with atomic_write(path) as handle:
        handle.write(_fixed_description(buffer.getvalue()))


def _fixed_description(data: bytes) -> bytes:
    """MAT v5 bytes with the header's 116-byte description replaced by
    :data:`MAT_DESCRIPTION` (space padded, as MATLAB writes it).
    """
    description = MAT_DESCRIPTION.encode("ascii").ljust(116, b" ")
    return description + data[116:]
