"""Shared fixtures: the real recording (optional) and a disposable workflow copy."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
REAL_DATA = PROJECT.parent / "shared" / "data" / "nds_cl_5_data.mat"


@pytest.fixture
def real_data_path():
    """Path of the real recording; the test is skipped when it is absent."""
    if not REAL_DATA.is_file():
        pytest.skip(f"real recording not found at {REAL_DATA}")
    return REAL_DATA


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
