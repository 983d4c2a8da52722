"""Start-up shared by the workflow's scripts: threads, log file, clear errors.

Every script begins with ``from _common import start; start(snakemake, keys={...})``
before it imports numpy or sparsefield, so that the thread limits below take effect.

Errors speak the user's language.  The library names what it was given by its
argument names (``n_folds``, ``tau_max``); a script passes ``keys``, the config key each
of those arguments came from (``{"n_folds": "lasso.n_folds"}``), and a failure of the
job is printed as one line::

    error: recording sim_session, unit 7: lasso.n_folds: 10 folds need ...

the recording, unit and sparse-coding run taken from the job's wildcards.  A folder
that cannot be written (a full disk, a read-only folder) is one line naming it
(:func:`sparsefield._files.describe_write_error`).  Anything else that is not a
:class:`sparsefield.errors.InputError` or :class:`~sparsefield.errors.FitError` (a bug)
is one line too,
``error: unexpected failure in rule X: <type>: <message> (details in <log>)``, with the
traceback in the job's log file only.
"""

import logging
import os
import re
import sys

_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
)

#: What the running job is: set by :func:`start`, read by :func:`_report`.
_JOB = {"rule": "?", "log": None, "keys": {}, "where": "", "file_handler": None, "outputs": []}

#: Argument names that mean the same config key in every rule that has them.
_COMMON_KEYS = {"dpi": "figures.dpi", "per_unit": "figures.per_unit",
                "units_per_job": "sessions.units_per_job"}


def start(snakemake, keys=None):
    """Limit threads to the rule's ``threads``, log to its log file, and turn any
    exception into one ``error: ...`` line and exit status 1.

    Parameters
    ----------
    snakemake
        The script's ``snakemake`` object.
    keys : dict of str to str, optional
        Library argument name -> the config key (or sheet column) it came from, e.g.
        ``{"n_folds": "lasso.n_folds"}``: an :class:`~sparsefield.errors.InputError`
        whose source is such a name is reported under the key, and the name is
        replaced by the key where it appears in the message.
    """
    for variable in _THREAD_VARIABLES:
        os.environ[variable] = str(snakemake.threads)
    handlers = [logging.StreamHandler(sys.stderr)]
    file_handler = None
    if snakemake.log:
        file_handler = logging.FileHandler(snakemake.log[0], mode="w")
        handlers.append(file_handler)
    logging.basicConfig(
        level=logging.INFO,
        format=f"[{snakemake.rule}] %(message)s",
        handlers=handlers,
        force=True,
    )
    logging.captureWarnings(True)  # library warnings (e.g. a peer solver's) reach the log too
    _JOB.update(
        rule=snakemake.rule,
        log=snakemake.log[0] if snakemake.log else None,
        keys={**_COMMON_KEYS, **(keys or {})},
        where=job_context(dict(snakemake.wildcards.items())),
        file_handler=file_handler,
        outputs=[str(path) for path in snakemake.output],
    )
    sys.excepthook = _report


def job_context(wildcards):
    """``"recording X, unit 7"`` / ``"run bdm-J4-fista"``: what a job works on, from its
    wildcards ("" when there is nothing to name)."""
    parts = []
    if "recording" in wildcards:
        parts.append(f"recording {wildcards['recording']}")
    if "unit" in wildcards:
        parts.append(f"unit {wildcards['unit']}")
    if {"scheme", "J", "solver"} <= set(wildcards):
        parts.append(f"run {wildcards['scheme']}-J{wildcards['J']}-{wildcards['solver']}")
    elif {"scheme", "J"} <= set(wildcards):
        parts.append(f"compression {wildcards['scheme']}-J{wildcards['J']}")
    for name in ("simulated_session", "neuron"):
        if name in wildcards:
            parts.append(f"simulation {wildcards[name]}")
    return ", ".join(parts)


def user_message(error, keys, where=""):
    """The one-line message of a library error, in the user's words.

    Parameters
    ----------
    error : sparsefield.errors.InputError or FitError
    keys : dict of str to str
        Argument name -> config key (see :func:`start`).
    where : str
        What the job works on (:func:`job_context`), put first unless the message
        already starts with it.

    Returns
    -------
    str
        ``"<where>: <source>: <problem>"`` (a FitError: ``"<where>: <message>"``) with
        the source, and any argument name of ``keys`` that holds an underscore as a
        whole word in the text, replaced by its config key.
    """
    from sparsefield.errors import InputError

    if isinstance(error, InputError):
        text = f"{keys.get(error.source, error.source)}: {_renamed(error.problem, keys)}"
    else:
        text = _renamed(str(error), keys)
    if where and not text.startswith(where):
        text = f"{where}: {text}"
    return text


def _renamed(text, keys):
    """``text`` with each argument name of ``keys`` that holds an underscore, as a whole
    word, replaced by its config key (a plain word such as "edges" or "seed" may be
    prose, and is left alone)."""
    for name, key in keys.items():
        if "_" in name:
            text = re.sub(rf"(?<![\w.]){re.escape(name)}(?![\w])", key, text)
    return text


def _report(kind, error, traceback):
    from sparsefield.errors import FitError, InputError

    log = logging.getLogger()
    if isinstance(error, (InputError, FitError)):
        log.error("error: %s", user_message(error, _JOB["keys"], _JOB["where"]))
        return  # Python exits with status 1 after an uncaught exception.
    where = f"{_JOB['where']}: " if _JOB["where"] else ""
    fault = _write_fault(error)
    if fault is not None:
        # A full disk or a folder that cannot be written: the machine's, not a bug.
        log.error("error: %s%s", where, fault)
    else:
        details = f" (details in {_JOB['log']})" if _JOB["log"] else ""
        log.error("error: %sunexpected failure in rule %s: %s: %s%s", where, _JOB["rule"],
                  kind.__name__, error, details)
    # The traceback goes to the log file only: stderr keeps one line per failure.
    handler = _JOB["file_handler"]
    if handler is not None:
        record = log.makeRecord(log.name, logging.ERROR, __file__, 0, "traceback:", (),
                                (kind, error, traceback))
        try:
            handler.handle(record)
        except Exception:  # noqa: BLE001 - the log itself may be what failed
            pass


def _write_fault(error):
    """One line naming the folder that cannot be written and why (a full disk, a
    read-only or forbidden folder, a quota), or None for any other error."""
    if not isinstance(error, OSError):
        return None
    from sparsefield._files import describe_write_error

    return describe_write_error(error, _JOB["outputs"])


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
