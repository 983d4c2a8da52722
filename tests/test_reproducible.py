"""Reproducible regeneration: the same config gives the same bytes in results/, and
figures are redrawn from stored results without refitting."""

import shutil

import pytest

from conftest import (
    TINY,
    copy_run,
    copy_workflow,
    job_counts,
    result_hashes,
    run_snakemake,
    write_config,
)

pytestmark = pytest.mark.workflow


def _differences(expected, actual):
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    changed = sorted(path for path in set(expected) & set(actual) if expected[path] != actual[path])
    return {"missing": missing, "extra": extra, "changed": changed}


@pytest.mark.extended
def test_two_clean_runs_give_identical_results(tiny_run, tmp_path):
    """Every file under results/ (arrays, MAT files, tables, figures, provenance) is
    byte-identical between two runs from clean in different folders.

    Extended (left out of the default run): test_interrupted.py's killed-and-rerun run
    in another folder is compared with the same reference byte for byte, and so is the
    SLURM run (test_slurm.py, in CI); this clean second run costs another 100 s."""
    workdir = copy_workflow(tmp_path)
    result = run_snakemake(workdir, "--configfile", write_config(workdir, TINY))
    assert result.returncode == 0, result.stderr[-4000:]
    first, second = result_hashes(tiny_run), result_hashes(workdir)
    suffixes = {path.rsplit(".", 1)[-1] for path in first}
    assert {"npz", "mat", "png", "tsv", "yaml"} <= suffixes
    assert _differences(first, second) == {"missing": [], "extra": [], "changed": []}


def test_deleting_figures_redraws_the_same_bytes_without_refitting(tiny_run, tmp_path):
    workdir = copy_run(tiny_run, tmp_path / "run")
    assert any((workdir / "results/figures").rglob("*.png"))
    stored = {
        path: path.stat().st_mtime_ns
        for path in (workdir / "results").rglob("*")
        if path.is_file() and "figures" not in path.parts
    }
    shutil.rmtree(workdir / "results" / "figures")

    dry = run_snakemake(workdir, "--configfile", "tiny.yaml", "--dry-run")
    assert dry.returncode == 0, dry.stderr[-4000:]
    planned = job_counts(dry.stdout + dry.stderr)
    assert planned, dry.stdout[-3000:] + dry.stderr[-3000:]
    assert all(rule.startswith("figure_") for rule in planned), planned
    assert planned["figure_rf_lags"] == planned["figure_truth"] >= 3
    assert planned["figure_rf_atlas"] == 3

    result = run_snakemake(workdir, "--configfile", "tiny.yaml")
    assert result.returncode == 0, result.stderr[-4000:]
    assert job_counts(result.stderr) == planned  # the fits were not run again ...
    assert {path: path.stat().st_mtime_ns for path in stored} == stored  # ... nor rewritten
    # Every figure is back, byte for byte, and nothing else changed.
    assert _differences(result_hashes(tiny_run), result_hashes(workdir)) == {
        "missing": [],
        "extra": [],
        "changed": [],
    }


@pytest.mark.parametrize(("name", "rule"), [("session.npz", None),
                                          ("units.tsv", "summarise_recording")])
def test_a_checkpoint_output_deleted_by_hand(tiny_run, tmp_path, name, rule):
    """Deleting a session's checkpoint outputs from a finished run: units.tsv (a final
    output) is planned again; session.npz (an intermediate whose products are all up to
    date) is not needed; neither ends in a traceback (it did, from frame_shape_of)."""
    workdir = copy_run(tiny_run, tmp_path / "run")
    (workdir / "results" / "sim_gauss" / name).unlink()
    dry = run_snakemake(workdir, "--configfile", "tiny.yaml", "--dry-run")
    output = dry.stdout + dry.stderr
    assert dry.returncode == 0 and "Traceback" not in output, output[-4000:]
    planned = job_counts(output)
    if rule is None:
        assert "Nothing to be done" in output, output[-3000:]
    else:
        assert planned.get(rule) == 1, output[-3000:]
