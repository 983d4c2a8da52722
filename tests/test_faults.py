"""Faults of the disk: a read-only or full results/ (or .snakemake/) stops the workflow
with ONE message naming the folder and the problem, a non-zero exit and no traceback.

The faults are real: a full disk is ``/dev/full`` (ENOSPC for any user on Linux) or a
small tmpfs, a read-only folder a read-only tmpfs (root ignores file permissions) or,
for other users, ``chmod``.  Mounts are made inside a private mount namespace
(``unshare -m``) of the command under test, so they vanish with it; where mounting is
not allowed (an unprivileged container) those tests are skipped.
"""

import errno
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import TINY, copy_workflow, run_snakemake, write_config
from sparsefield._files import check_writable, describe_write_error

ROOT = os.geteuid() == 0


def _full_dev_error():
    """The OSError of a real write to /dev/full."""
    with pytest.raises(OSError) as caught:
        with open("/dev/full", "wb") as handle:
            handle.write(b"x")  # buffered: the error comes from the flush on close
    return caught.value


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full (not Linux)")
def test_a_full_disk_is_named_by_the_folder_of_the_files_being_written():
    error = _full_dev_error()
    assert error.errno == errno.ENOSPC and error.filename is None
    assert describe_write_error(error, ["results/sim/fit.npz", "results/sim/sta.npz"]) == (
        "results/sim: cannot write (no space left on device); "
        "free some space, then run snakemake again"
    )
    # Without a file name nor outputs, still one line saying what went wrong.
    assert describe_write_error(error).startswith("cannot write a file (no space left on device)")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full (not Linux)")
def test_a_full_disk_under_hdf5_is_named_by_the_file_in_its_message():
    """h5py (and pynwb through it) names the file only inside its message."""
    with pytest.raises(OSError) as caught:
        with h5py.File("/dev/full", "w") as handle:
            handle["x"] = np.zeros(10_000)
    assert caught.value.filename is None
    assert describe_write_error(caught.value).startswith(
        "/dev: cannot write (no space left on device)"
    )


def test_only_write_faults_are_described(tmp_path):
    with pytest.raises(OSError) as missing:
        open(tmp_path / "absent.txt")
    assert missing.value.errno == errno.ENOENT
    assert describe_write_error(missing.value) is None
    assert describe_write_error(ValueError("x")) is None
    assert describe_write_error(OSError(errno.EROFS, "Read-only file system", "/srv/r/a.npz")) == (
        "/srv/r: cannot write (read-only file system); "
        "run the workflow from a folder that can be written"
    )


@pytest.mark.skipif(ROOT, reason="root reads any file whatever its permissions")
def test_an_unreadable_file_is_a_reading_problem_not_a_writing_one(tmp_path):
    path = tmp_path / "spikes.txt"
    path.write_text("0.1\n")
    path.chmod(0)
    with pytest.raises(PermissionError) as caught:
        open(path)
    assert describe_write_error(caught.value) == (
        f"{path}: cannot read (permission denied); make it readable for you"
    )


def test_check_writable_names_each_folder_once_per_problem(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "logs").mkdir()
    # Writable folders, existing or still to be created, pass ...
    assert check_writable(["results", "logs"]) is None
    # ... and a disk with less free space than asked for is full, named once for both.
    free = shutil.disk_usage(tmp_path).free
    message = check_writable(["results", "logs"], min_free_bytes=free + 2**40)
    assert message.startswith("results, logs: cannot write (no space left on device: ")
    assert message.count("cannot write") == 1
    assert not (tmp_path / "results").exists()  # the check creates nothing
    assert list((tmp_path / "logs").iterdir()) == []


# --- through the workflow, with real mounts ----------------------------------------------


def _unshare():
    """The command prefix that runs a shell command in a private mount namespace, or
    None when mounting a tmpfs there is not allowed."""
    if shutil.which("unshare") is None:
        return None
    prefix = ["unshare", "-m", "--propagation", "private"] if ROOT else ["unshare", "-r", "-m"]
    probe = subprocess.run(
        [*prefix, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /tmp"],
        capture_output=True,
        text=True,
    )
    return prefix if probe.returncode == 0 else None


@pytest.fixture(scope="module")
def unshare():
    prefix = _unshare()
    if prefix is None:
        pytest.skip("cannot mount a tmpfs in a private mount namespace here (unshare -m)")
    return prefix


def _run_with_mount(unshare, workdir, mount, *arguments):
    """Run snakemake on the tiny config in ``workdir`` after the shell command
    ``mount`` (run in ``workdir``, inside the namespace)."""
    command = [
        *unshare, "sh", "-c", f'{mount} && exec "$@"', "sh",
        sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "tiny.yaml",
        *arguments,
    ]
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=300)


@pytest.fixture
def tiny_workflow(tmp_path):
    workdir = copy_workflow(tmp_path)
    write_config(workdir, TINY)
    return workdir


def _assert_one_message(result, pattern):
    """A non-zero exit, no traceback and exactly one message, matching ``pattern``."""
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "Traceback" not in output and "Logging error" not in output, output[-5000:]
    lines = [line for line in output.splitlines() if "cannot write" in line]
    assert len(lines) == 1, output[-5000:]
    assert re.fullmatch(pattern, lines[0].strip()), lines[0]
    return output


def test_read_only_results_stops_before_the_first_job(tiny_workflow, unshare):
    result = _run_with_mount(
        unshare, tiny_workflow, "mkdir results && mount -t tmpfs -o ro,size=1m tmpfs results"
    )
    output = _assert_one_message(
        result,
        r"results: cannot write \(read-only file system\); "
        r"run the workflow from a folder that can be written",
    )
    assert "WorkflowError" in output
    assert "Finished jobid" not in output and not (tiny_workflow / "logs").exists()
    # Snakemake's lock was released: the next run (on a writable disk) is not refused.
    locks = tiny_workflow / ".snakemake" / "locks"
    assert not locks.exists() or not any(locks.iterdir())


@pytest.mark.skipif(ROOT, reason="root writes whatever the permissions (the mount tests cover it)")
def test_results_without_write_permission_stops_before_the_first_job(tiny_workflow):
    results = tiny_workflow / "results"
    results.mkdir()
    results.chmod(0o555)
    try:
        result = run_snakemake(tiny_workflow, "--configfile", "tiny.yaml")
    finally:
        results.chmod(0o755)
    _assert_one_message(result, r"results: cannot write \(permission denied\); .*")
    assert list(results.iterdir()) == []


def test_full_results_stops_before_the_first_job(tiny_workflow, unshare):
    result = _run_with_mount(
        unshare, tiny_workflow, "mkdir results && mount -t tmpfs -o size=1m tmpfs results"
    )
    _assert_one_message(
        result,
        r"results: cannot write \(no space left on device: [\d.]+ [KM]iB free, at least 64\.0 MiB "
        r"needed\); free some space, then run snakemake again",
    )


def test_a_full_disk_under_snakemake_metadata_is_one_message(tiny_workflow, tmp_path, unshare):
    """A working directory on a disk with 0 bytes left: Snakemake's own .snakemake/
    (metadata, locks, its log file) cannot be written either; the check runs first."""
    disk = tmp_path / "disk"
    disk.mkdir()
    names = "Snakefile environment.yml tiny.yaml workflow config profiles"
    fill = (f"mount -t tmpfs -o size=2m tmpfs {disk} && cd {tiny_workflow} && cp -r {names} {disk}"
            f" && cd {disk} && {{ dd if=/dev/zero of=fill bs=4k 2>/dev/null || true; }}")
    result = _run_with_mount(unshare, tiny_workflow, fill)
    _assert_one_message(
        result,
        r"\.snakemake: cannot write \(no space left on device: 0 bytes free, at least 4\.0 MiB "
        r"needed\); free some space, then run snakemake again",
    )


def test_save_npz_on_a_full_disk_names_its_folder_and_leaves_nothing(tmp_path, unshare):
    """A real ENOSPC from save_npz carries the destination, so the folder is named."""
    disk = tmp_path / "disk"
    disk.mkdir()
    script = textwrap.dedent(f"""
        import os, numpy as np
        from sparsefield._files import describe_write_error, save_npz
        os.chdir({str(tmp_path)!r})
        try:
            save_npz("disk/fit.npz", {{"weights": np.ones(100_000)}})
        except OSError as error:
            print(error.errno, error.filename)
            print(describe_write_error(error))
        print(sorted(os.listdir("disk")))
    """)
    result = subprocess.run(
        [*unshare, "sh", "-c", f'mount -t tmpfs -o size=64k tmpfs {disk} && exec "$@"', "sh",
         sys.executable, "-c", script],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{errno.ENOSPC} disk/fit.npz",
        "disk: cannot write (no space left on device); free some space, then run snakemake again",
        "[]",
    ]


def test_a_disk_filling_during_jobs_is_one_message_per_job(tiny_workflow, unshare):
    """The start check passes (lowered in this copy), then the jobs' files do not fit:
    each failing job names its folder once, without a traceback, whether the file is
    written by sparsefield (raw.mat) or by HDF5 (the session's NWB file)."""
    snakefile = tiny_workflow / "workflow" / "rules" / "disk.smk"
    text = snakefile.read_text()
    assert "\nMIN_FREE_BYTES_RUN = " in text
    snakefile.write_text(re.sub(r"\nMIN_FREE_BYTES_RUN = .*", "\nMIN_FREE_BYTES_RUN = 0", text))
    result = _run_with_mount(
        unshare, tiny_workflow, "mkdir results && mount -t tmpfs -o size=40k tmpfs results",
        "--cores", "1", "--keep-going",
        "results/simulated/sim_gauss/raw.mat", "results/simulated/sim_session/session.nwb",
    )
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert "Traceback" not in output, output[-5000:]
    lines = sorted(line.strip() for line in output.splitlines() if "cannot write" in line)
    advice = r"cannot write \(no space left on device\); free some space, then run snakemake again"
    assert len(lines) == 2, output[-5000:]
    assert re.fullmatch(rf"\[simulate_recording\] error: .*results/simulated/sim_gauss: {advice}",
                        lines[0]), lines
    assert re.fullmatch(rf"\[simulate_session\] error: .*results/simulated/sim_session: {advice}",
                        lines[1]), lines
