"""Shared fixtures: the real recording (optional), disposable workflow copies and one
tiny run of the whole workflow shared by the workflow tests."""

import os

# One thread per library call in the test process (and the snakemake it starts, whose
# jobs set their own counts from each rule's threads): two busy-waiting thread pools
# (numba's and BLAS's) on a 2-core machine made the dictionary-learning tests 2-3x
# slower.  Set before numpy or numba is imported.
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import hashlib  # noqa: E402
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

PROJECT = Path(__file__).resolve().parents[1]
REAL_DATA = PROJECT.parent / "shared" / "data" / "nds_cl_5_data.mat"


@pytest.fixture(scope="session")
def real_data_path():
    """Path of the real recording; the test is skipped when it is absent."""
    if not REAL_DATA.is_file():
        pytest.skip(f"real recording not found at {REAL_DATA}")
    return REAL_DATA


@pytest.fixture(scope="session")
def real_recording(real_data_path):
    """The real recording read with scipy.io directly (independent of sparsefield.io).

    Returns a dict: ``spike_times`` (5500,), ``trigger_times`` (1489,) and
    ``stimulus`` (1489, 300) float64, the first 1489 of the 1500 frames flattened in
    C order (pixel = row * 15 + col).
    """
    import numpy as np
    from scipy.io import loadmat

    raw = loadmat(real_data_path)
    trigger_times = raw["DN_triggertimes"].ravel().astype(np.float64)
    n_frames = trigger_times.size
    stimulus_hwt = raw["DN_stim"][:, :, :n_frames]
    stimulus = stimulus_hwt.transpose(2, 0, 1).reshape(n_frames, -1).astype(np.float64)
    return {
        "spike_times": raw["DN_spiketimes"].ravel().astype(np.float64),
        "trigger_times": trigger_times,
        "stimulus": stimulus,
    }


def copy_workflow(destination):
    """Copy what a user's checkout runs (Snakefile, environment.yml, workflow/,
    config/, profiles/) into ``destination``."""
    destination = Path(destination)
    for name in ("Snakefile", "environment.yml"):
        shutil.copy(PROJECT / name, destination / name)
    for folder in ("workflow", "config", "profiles"):
        shutil.copytree(
            PROJECT / folder,
            destination / folder,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    return destination


def run_snakemake(workdir, *arguments, timeout=900):
    """Run snakemake in ``workdir``; returns the CompletedProcess (never raises)."""
    command = [sys.executable, "-m", "snakemake", "--cores", "2", *arguments]
    return subprocess.run(
        command,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def workflow_copy(tmp_path):
    """A fresh copy of the workflow in a temporary directory."""
    return copy_workflow(tmp_path)


#: The tiny config of the workflow tests (merged over config/config.yaml): about a
#: minute on 2 cores for both branches (4 sparse-coding runs of 3 epochs on 8x8 patches).
TINY = {
    "simulation": {"n_frames": 600,
                   "sessions": {"sim_session": {"n_units": 8, "n_frames": 600, "seed": 3}}},
    "rf": {"lags": [0, 1, 2]},
    "lasso": {"lags": [0, 1, 2], "n_lambdas": 5, "n_folds": 3},
    "sta": {"n_shifts": 20, "tau_max": 0.3},
    "figures": {"dpi": 60, "per_unit": 1},
    "sparse": {
        "images": {"names": ["camera", "coffee", "grass", "brick"], "validation": ["coffee"]},
        "patches": {"size": 8, "n_train": 1500, "n_validation": 300, "n_correlation": 500},
        "compression": {"n_measurements": 32},
        "learning": {"n_atoms": 48, "n_epochs": 3},
        "runs": {"schemes": ["none", "bdm"], "localization": [2], "solvers": ["fista", "admm"]},
        "figures": {"animation_atoms": 48},
    },
}

#: Wall-clock measurements kept in results/ on purpose, by file name: the members left
#: out when files are compared.  dictionary.npz keeps `time` (cumulative training
#: seconds) beside the losses; every other byte of it, and of every other file, is
#: compared.
WALL_CLOCK = {"dictionary.npz": ("time.npy",)}


def write_config(workdir, settings, name="tiny.yaml"):
    """Write ``settings`` as a config file in ``workdir``; returns its name."""
    (Path(workdir) / name).write_text(yaml.safe_dump(settings))
    return name


def _digest(path):
    """sha256 of a file's bytes; for :data:`WALL_CLOCK` files, of every zip member but those."""
    left_out = WALL_CLOCK.get(path.name)
    if left_out is None:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    digest = hashlib.sha256()
    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
        assert set(left_out) <= set(names), f"{path}: expected members {left_out}"
        for name in names:
            if name not in left_out:
                digest.update(name.encode() + b"\0" + archive.read(name))
    return digest.hexdigest()


def result_hashes(workdir):
    """{path relative to results/: sha256} of every file under ``workdir``/results.

    Logs and benchmarks live outside results/ (logs/, benchmarks/); a report built
    into results/ is left out too, and so are the :data:`WALL_CLOCK` members."""
    results = Path(workdir) / "results"
    return {
        str(path.relative_to(results)): _digest(path)
        for path in sorted(results.rglob("*"))
        if path.is_file() and path.name != "report.html"
    }


def job_counts(output):
    """{rule: jobs} from the first "Job stats:" table in Snakemake's output (empty when
    there is none, i.e. nothing to do); the target rule ``all`` is left out."""
    counts = {}
    lines = iter(output.splitlines())
    for line in lines:
        if line.strip() == "Job stats:":
            break
    else:
        return counts
    next(lines, None)  # header: job count
    next(lines, None)  # dashes
    for line in lines:
        fields = line.split()
        if len(fields) != 2 or fields[0] == "total":
            break
        if fields[0] != "all":
            counts[fields[0]] = int(fields[1])
    return counts


def copy_run(source, destination):
    """Copy a finished run (workflow, results, logs, benchmarks and Snakemake's
    .snakemake metadata, keeping modification times) so that a test may change it."""
    shutil.copytree(source, destination, symlinks=True)
    return Path(destination)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """The default target run once on the tiny config; tests must not change it
    (copy it with :func:`copy_run` first)."""
    workdir = copy_workflow(tmp_path_factory.mktemp("tiny"))
    result = run_snakemake(workdir, "--configfile", write_config(workdir, TINY))
    assert result.returncode == 0, result.stderr[-4000:]
    (workdir / "snakemake.stderr").write_text(result.stderr)
    return workdir


@pytest.fixture(scope="session")
def tiny_jobs(tiny_run):
    """{rule: jobs} of the tiny run (without the target rule ``all``)."""
    counts = job_counts((tiny_run / "snakemake.stderr").read_text())
    assert counts, "no job stats in the tiny run's output"
    return counts
