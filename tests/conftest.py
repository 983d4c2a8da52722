"""Shared fixtures: the real recording (optional) and a disposable workflow copy."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    config/) into ``destination``."""
    destination = Path(destination)
    for name in ("Snakefile", "environment.yml"):
        shutil.copy(PROJECT / name, destination / name)
    for folder in ("workflow", "config"):
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
