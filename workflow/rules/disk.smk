# Disk faults: a read-only or full folder ends in one message naming it.
import logging

from snakemake.exceptions import WorkflowError

from sparsefield._files import check_writable


# Faults of the disk end in one message naming the folder, before anything is written
# (tests/test_faults.py).  Snakemake writes its own metadata and locks in .snakemake/
# even for a dry run, and a read-only or full one ends in its tracebacks: check it
# first.  Before the first job (onstart, below: only when there are jobs to run, not
# for a dry run), every folder the workflow writes must take new files with some room
# to spare; a disk that fills up during a run is named by the failing job.
MIN_FREE_BYTES_METADATA = 4 * 1024**2
MIN_FREE_BYTES_RUN = 64 * 1024**2
WRITTEN_FOLDERS = ["results", "logs", "benchmarks", ".snakemake"]


def disk_problem(folders, min_free_bytes):
    """The one message saying which of ``folders`` cannot be written, or None.  When
    there is one, Snakemake's log file (.snakemake/log) may be on the same full disk,
    and then logging's own traceback about not writing the message there is not
    printed."""
    problem = check_writable(folders, min_free_bytes)
    if problem is not None:
        logging.raiseExceptions = False
    return problem


_problem = disk_problem([".snakemake"], MIN_FREE_BYTES_METADATA)
if _problem is not None:
    raise WorkflowError(_problem)


onstart:
    problem = disk_problem(WRITTEN_FOLDERS, MIN_FREE_BYTES_RUN)
    if problem is not None:
        raise WorkflowError(problem)
