"""The bad-input corpus: malformed or implausible inputs, each run through snakemake.

Every case must end with a non-zero exit, exactly ONE message (an ``error: ...`` line of
a job, or the body of a ``WorkflowError`` raised while the workflow is parsed) that
contains every phrase of ``expect`` and names the file, unit or config key ``names``,
no ``Traceback`` anywhere, and nothing left in ``results/`` for it.

A case lives in a ``cases_<area>.py`` module of this folder as an item of its list
``CASES``.  Two kinds:

``kind="row"``
    One row of the recordings sheet whose job fails (a reader, the timing, the stimulus,
    a fit).  ``make(folder, rng)`` writes the case's raw files into ``folder`` (a fresh
    folder of its own) and returns the sheet row as a dict WITHOUT ``recording_id``
    (the harness sets it to the case id); ``spikes_file``, ``triggers_file``,
    ``stimulus_file`` and ``truth_file`` are given relative to ``folder`` and the
    harness turns them into paths relative to the work dir.  All row cases run together
    in ONE snakemake run (``--keep-going``) on the corpus's base config (:data:`BASE`:
    the tiny settings, sparse branch off), so a row case cannot change the config: use a
    run case for that.  The case's message is looked for in the logs of its own
    recording (``logs/<rule>/<case id>...``); nothing may be left under
    ``results/<case id>/`` or ``results/figures/rf/<case id>/``.

``kind="run"``
    Its own snakemake run, for problems of the sheet or the config, or anything that
    needs settings of its own.  ``make(workdir, rng)`` writes what it needs into the
    work dir (a sheet, a config file, images) and returns the extra snakemake arguments
    (``--config ...``, ``--configfile ...``, targets, ``-n`` for a dry run when the
    error is raised while parsing).  The run starts from the base config (:data:`BASE`
    with the sparse branch off; give ``--configfile`` files of your own to change it,
    e.g. :func:`sparse_config` to turn the sparse branch on with small settings).
    Nothing may be left under ``results/`` at all.

``rng`` is a ``numpy.random.Generator`` seeded from the case id (the same data on every
run).  ``what`` is one line for the table in README.md (the input, as a user would
describe it).
"""

import copy
import dataclasses
import importlib.util
import re
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
import yaml

HERE = Path(__file__).resolve().parent

#: Columns of a row case holding paths relative to the case's folder.
PATH_COLUMNS = ("spikes_file", "triggers_file", "stimulus_file", "truth_file")

#: Small sparse-coding settings for run cases of the sparse branch (see
#: :func:`sparse_config`): the image checks run on these.
SPARSE_SMALL = {
    "enabled": True,
    "patches": {"size": 8, "n_train": 200, "n_validation": 50, "n_correlation": 50},
    "compression": {"n_measurements": 32},
    "learning": {"n_atoms": 48, "n_epochs": 1},
    "runs": {"schemes": ["none"], "localization": [2], "solvers": ["fista"]},
    "figures": {"animation_atoms": 48},
}


def _base():
    import sys

    sys.path.insert(0, str(HERE.parent))
    from conftest import TINY

    base = copy.deepcopy(TINY)
    base["sparse"] = {"enabled": False}
    return base


#: The corpus's base config (merged over config/config.yaml): the tiny test settings
#: with the sparse branch off.
BASE = _base()


@dataclasses.dataclass(frozen=True)
class Case:
    """One bad input; see the module docstring."""

    id: str
    kind: str
    what: str
    make: Callable
    expect: tuple
    names: str

    def __post_init__(self):
        if not re.fullmatch(r"[a-z0-9][a-z0-9_]*", self.id):
            raise ValueError(f"case id {self.id!r}: use lower-case letters, digits and '_'")
        if self.kind not in ("row", "run"):
            raise ValueError(f"case {self.id}: kind must be 'row' or 'run', not {self.kind!r}")
        if isinstance(self.expect, str):
            object.__setattr__(self, "expect", (self.expect,))

    @property
    def area(self):
        """The ``cases_<area>.py`` module the case comes from (set by :func:`all_cases`)."""
        return getattr(self, "_area", "")

    def rng(self):
        """The case's random generator (seeded from its id)."""
        return np.random.default_rng(zlib.crc32(self.id.encode()))


def all_cases():
    """Every case of every ``cases_*.py`` module here, in module then list order.

    Raises ValueError when two cases share an id."""
    cases = []
    for path in sorted(HERE.glob("cases_*.py")):
        spec = importlib.util.spec_from_file_location(f"bad_inputs_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for case in module.CASES:
            object.__setattr__(case, "_area", path.stem.removeprefix("cases_"))
            cases.append(case)
    seen = set()
    for case in cases:
        if case.id in seen:
            raise ValueError(f"two corpus cases are called {case.id}")
        seen.add(case.id)
    return cases


def sparse_config(workdir, name="sparse.yaml", **changes):
    """Write a config file turning the sparse branch on with :data:`SPARSE_SMALL`
    settings, updated section by section with ``changes`` (e.g. ``images={...}``);
    returns the ``--configfile`` arguments."""
    sparse = copy.deepcopy(SPARSE_SMALL)
    for section, values in changes.items():
        if isinstance(values, dict) and isinstance(sparse.get(section), dict):
            sparse[section].update(values)
        else:
            sparse[section] = values
    (Path(workdir) / name).write_text(yaml.safe_dump({"sparse": sparse}))
    return ["--configfile", name]


def write_sheet(path, rows):
    """Write ``rows`` (dicts) as a tab-separated recordings sheet at ``path``; a missing
    cell is left blank."""
    columns = []
    for row in rows:
        columns += [column for column in row if column not in columns]
    lines = ["\t".join(columns)]
    for row in rows:
        lines.append("\t".join("" if row.get(column) is None else str(row[column])
                               for column in columns))
    Path(path).write_text("\n".join(lines) + "\n")


#: The header of a block that Snakemake prints for an exception raised while the
#: workflow is parsed or the DAG is built (``WorkflowError in file ...:``,
#: ``MissingInputException in rule ...:``).
HEADER = re.compile(r"^[A-Z]\w*(Error|Exception)( in .*)?:$")

#: Blocks that only wrap a failed job's exit status (its message is the job's
#: ``error: ...`` line).
WRAPPERS = ("CalledProcessError", "RuleException")

#: The block Snakemake closes a failed run with (``WorkflowError:`` then this line).
CLOSING = "At least one job did not complete successfully"


def messages(text):
    """The user-facing messages in snakemake's output or a log: each ``error: ...``
    line (from ``error: `` on) and the body of each block under a :data:`HEADER` (the
    lines after the header, up to a blank line), in order."""
    found = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if HEADER.match(line) and not line.startswith(WRAPPERS):
            body = []
            index += 1
            while index < len(lines) and lines[index].strip():
                body.append(lines[index].strip())
                index += 1
            if body and not body[0].startswith(CLOSING):
                found.append(" ".join(body))
            continue
        position = line.find("error: ")
        if position >= 0 and not line.lstrip().startswith(("Error in rule", "RuleException")):
            found.append(line[position:].strip())
        index += 1
    return found


def table():
    """The Markdown table of every case (for README.md)."""
    rows = ["| case | area | kind | the input | the message names |",
            "|---|---|---|---|---|"]
    for case in all_cases():
        rows.append(f"| `{case.id}` | {case.area} | {case.kind} | {case.what} | `{case.names}` |")
    return "\n".join(rows)


#: The line of README.md after which :func:`table` stands.
MARKER = "<!-- the table below is written by: python tests/bad_inputs/_corpus.py -->"


def write_readme():
    """Replace everything after :data:`MARKER` in README.md with :func:`table`."""
    readme = HERE / "README.md"
    head = readme.read_text().split(MARKER)[0]
    readme.write_text(f"{head}{MARKER}\n\n{table()}\n")


if __name__ == "__main__":
    write_readme()
