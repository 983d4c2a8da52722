"""The bad-input corpus (see _corpus.py and README.md here): every case ends with a
non-zero exit and one message naming the file, unit or config key, with no traceback
and nothing left in results/."""

import re
from pathlib import Path

import pytest
import yaml

from _corpus import BASE, HERE, PATH_COLUMNS, all_cases, messages, write_sheet
from conftest import copy_workflow, run_snakemake

CASES = all_cases()
ROW_CASES = [case for case in CASES if case.kind == "row"]
RUN_CASES = [case for case in CASES if case.kind == "run"]


def _files(folder):
    return sorted(str(path) for path in Path(folder).rglob("*") if path.is_file()) if Path(folder).exists() else []


def _check(case, text, returncode, leftovers):
    assert returncode != 0, f"{case.id}: exit status 0"
    assert "Traceback" not in text, f"{case.id}: a traceback:\n{text[-3000:]}"
    found = messages(text)
    assert len(found) == 1, f"{case.id}: {len(found)} messages, expected one:\n" + "\n".join(found or [text[-3000:]])
    # The case's own folder and recording id are in most messages; a phrase must be
    # found in the rest.
    message = found[0].replace(case.id, "<case>")
    for phrase in case.expect + (case.names,):
        assert phrase in message, f"{case.id}: {phrase!r} not in the message:\n{found[0]}"
    assert leftovers == [], f"{case.id}: left in results/: {leftovers}"


@pytest.fixture(scope="module")
def row_batch(tmp_path_factory):
    """Every row case as one row of one sheet, run once with --keep-going; returns the
    work dir and snakemake's exit status."""
    workdir = copy_workflow(tmp_path_factory.mktemp("corpus_rows"))
    rows = []
    for case in ROW_CASES:
        folder = workdir / "raw" / case.id
        folder.mkdir(parents=True)
        row = case.make(folder, case.rng())
        for column in PATH_COLUMNS:
            if column in row and row[column] not in (None, ""):
                row[column] = f"raw/{case.id}/{row[column]}"
        rows.append({"recording_id": case.id, **row})
    write_sheet(workdir / "corpus.tsv", rows)
    (workdir / "base.yaml").write_text(yaml.safe_dump(BASE))
    result = run_snakemake(workdir, "--keep-going", "--configfile", "base.yaml",
                           "--config", "recordings=corpus.tsv", timeout=1200)
    (workdir / "snakemake.stderr").write_text(result.stderr)
    return workdir, result.returncode


def _case_logs(workdir, case_id):
    """Text of every log of one recording: logs/<rule>/<id>.log or logs/<rule>/<id>/..."""
    texts = []
    for path in sorted((workdir / "logs").rglob("*.log")):
        parts = path.relative_to(workdir / "logs").parts[1:]
        if parts and (parts[0] == case_id or (len(parts) == 1 and path.stem == case_id)):
            texts.append(path.read_text())
    return "\n".join(texts)


@pytest.mark.workflow
@pytest.mark.parametrize("case", ROW_CASES, ids=[case.id for case in ROW_CASES])
def test_row_case(row_batch, case):
    workdir, returncode = row_batch
    text = _case_logs(workdir, case.id)
    leftovers = _files(workdir / "results" / case.id) + _files(workdir / "results" / "figures" / "rf" / case.id)
    _check(case, text, returncode, leftovers)


@pytest.mark.workflow
@pytest.mark.parametrize("case", RUN_CASES, ids=[case.id for case in RUN_CASES])
def test_run_case(tmp_path, case):
    workdir = copy_workflow(tmp_path)
    (workdir / "base.yaml").write_text(yaml.safe_dump(BASE))
    arguments = case.make(workdir, case.rng())
    result = run_snakemake(workdir, "--configfile", "base.yaml", *arguments, timeout=600)
    _check(case, result.stdout + result.stderr, result.returncode, _files(workdir / "results"))


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 60, len(CASES)


def test_readme_lists_every_case():
    """README.md's table has one row per case (regenerate it with
    ``python tests/bad_inputs/_corpus.py``)."""
    listed = re.findall(r"^\| `([a-z0-9_]+)` \|", (HERE / "README.md").read_text(), re.MULTILINE)
    assert sorted(listed) == sorted(case.id for case in CASES)
