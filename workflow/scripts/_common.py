"""Start-up shared by the workflow's scripts: threads, log file, clear errors.

Every script begins with ``from _common import start; start(snakemake)`` before it
imports numpy or sparsefield, so that the thread limits below take effect.
"""

import logging
import os
import sys

_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)


def start(snakemake):
    """Limit threads to the rule's ``threads``, log to its log file, and turn a
    :class:`sparsefield.errors.InputError` into one message and exit status 1."""
    for variable in _THREAD_VARIABLES:
        os.environ[variable] = str(snakemake.threads)
    handlers = [logging.StreamHandler(sys.stderr)]
    if snakemake.log:
        handlers.append(logging.FileHandler(snakemake.log[0], mode="w"))
    logging.basicConfig(
        level=logging.INFO,
        format=f"[{snakemake.rule}] %(message)s",
        handlers=handlers,
        force=True,
    )
    logging.captureWarnings(True)  # library warnings (e.g. a peer solver's) reach the log too
    sys.excepthook = _report


def _report(kind, error, traceback):
    from sparsefield.errors import FitError, InputError

    if isinstance(error, (InputError, FitError)):
        logging.getLogger().error("error: %s", error)
    else:
        logging.getLogger().error("unexpected failure", exc_info=(kind, error, traceback))
    # Python exits with status 1 after an uncaught exception.


def load(kind, path):
    """Rebuild a result container (``kind.from_npz``) from a workflow .npz file."""
    import numpy as np

    with np.load(path, allow_pickle=False) as arrays:
        return kind.from_npz(arrays)


def load_unit(snakemake):
    """The unit named by the rule's ``{unit}`` wildcard in the session of ``input.recording``.

    Returns
    -------
    session : sparsefield.io.session.Session
    index : int
        The unit's position in the session's unit arrays.
    recording : sparsefield.io.Recording
        The unit as a one-unit recording (views of the session's arrays).
    """
    from sparsefield.io.session import Session

    session = load(Session, snakemake.input.recording)
    index = session.unit_index(int(snakemake.wildcards.unit))
    return session, index, session.unit_recording(index)


def unit_chunk(snakemake, n_units):
    """The units (a slice of positions) of the job's ``{chunk}`` wildcard, with
    ``params.units_per_job`` units per chunk (0: all)."""
    from sparsefield.rf.units import unit_chunks

    return unit_chunks(n_units, snakemake.params.units_per_job)[int(snakemake.wildcards.chunk)]
