"""Bad sparse-coding input through the workflow: one clear message naming the file or
config key, a non-zero exit, and nothing left in results/."""

import numpy as np
import pytest
from PIL import Image

from conftest import copy_workflow, run_snakemake, write_config

pytestmark = pytest.mark.workflow

#: Small sparse settings; the receptive-field branch is not asked for (target below).
SMALL = {
    "patches": {"size": 8, "n_train": 200, "n_validation": 50, "n_correlation": 50},
    "compression": {"n_measurements": 32},
}


def _folder(workdir, sizes, extra=None):
    """A folder of random greyscale PNGs ``name -> (height, width)``, plus stray files."""
    folder = workdir / "images"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, shape in sizes.items():
        Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(folder / name)
    for name, content in (extra or {}).items():
        (folder / name).write_bytes(content)
    return folder


def _run(workdir, sparse, target="results/sparse/patches.npz"):
    config = write_config(workdir, {"sparse": sparse}, name="bad.yaml")
    return run_snakemake(workdir, target, "--configfile", config, timeout=300)


def _assert_one_clear_error(result, workdir, *phrases):
    assert result.returncode != 0
    text = result.stderr
    messages = [line for line in text.splitlines() if "error: " in line]
    assert len(messages) == 1, text[-3000:]
    for phrase in phrases:
        assert phrase in messages[0], messages[0]
    leftovers = [p for p in (workdir / "results").rglob("*") if p.is_file()] if (workdir / "results").exists() else []
    assert leftovers == [], leftovers


def test_image_smaller_than_a_patch(tmp_path):
    workdir = copy_workflow(tmp_path)
    _folder(workdir, {"big.png": (40, 40), "tiny.png": (5, 30), "held.png": (40, 40)})
    sparse = dict(SMALL, images={"source": "images", "validation": ["held.png"]})
    _assert_one_clear_error(_run(workdir, sparse), workdir, "tiny.png", "smaller than a 8×8 patch")


def test_non_image_file_in_the_folder(tmp_path):
    workdir = copy_workflow(tmp_path)
    _folder(workdir, {"a.png": (40, 40), "b.png": (40, 40)}, extra={"notes.txt": b"not a picture"})
    sparse = dict(SMALL, images={"source": "images", "validation": ["b.png"]})
    _assert_one_clear_error(_run(workdir, sparse), workdir, "notes.txt", "is not an image")


def _config_error(result, *phrases):
    """A config error is raised while the workflow is parsed: no job runs."""
    assert result.returncode != 0
    output = result.stdout + result.stderr  # a dry run logs to stdout
    for phrase in phrases:
        assert phrase in output, output[-3000:]
    assert "Job stats" not in output


@pytest.mark.parametrize(
    ("sparse", "phrases"),
    [
        ({"runs": {"localization": [3]}}, ["sparse.runs.localization", "J = 3 must divide M = 128"]),
        ({"compression": {"n_measurements": 300}}, ["sparse.compression.n_measurements", "M = 300 > N = 256"]),
        ({"learning": {"tau": -0.1}}, ["tau", "-0.1 is less than the minimum of 0"]),
        ({"runs": {"schemes": ["sparse"]}}, ["schemes", "'sparse' is not one of"]),
    ],
    ids=["J_does_not_divide_M", "M_greater_than_N", "negative_tau", "unknown_scheme"],
)
def test_bad_sparse_config_is_refused_before_any_job(tmp_path, sparse, phrases):
    workdir = copy_workflow(tmp_path)
    config = write_config(workdir, {"sparse": sparse}, name="bad.yaml")
    result = run_snakemake(workdir, "--configfile", config, "--dry-run", timeout=120)
    _config_error(result, *phrases)
