"""An interrupted run (README "If a run is interrupted"): kill -9 mid-run, the lock
message, --unlock, a rerun, and the same bytes in results/ as an uninterrupted run."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import TINY, copy_run, copy_workflow, result_hashes, run_snakemake, write_config
from sparsefield._files import atomic_write, save_npz

#: The file whose appearance means "some jobs have finished, many are still to run":
#: the session's spike counts (then its fits start).
MID_RUN = "results/sim_session/counts.npz"


def _kill_mid_run(workdir, timeout=600):
    """Start snakemake on the tiny config in its own process group and kill -9 the
    whole group as soon as :data:`MID_RUN` exists; returns the killed process."""
    process = subprocess.Popen(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--configfile", "tiny.yaml"],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # snakemake and every job it starts share one group
    )
    deadline = time.monotonic() + timeout
    try:
        while not (workdir / MID_RUN).exists():
            assert process.poll() is None, "snakemake ended before the kill"
            assert time.monotonic() < deadline, f"{MID_RUN} did not appear"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return process


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file locks")
def test_a_writer_killed_mid_write_leaves_an_orphan_that_the_next_write_removes(tmp_path):
    """kill -9 cannot be cleaned up after by the writer itself; the next write of the
    same file removes what it left, but never a live writer's temporary file."""
    path = tmp_path / "fit.npz"
    writer = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from sparsefield._files import atomic_write\n"
         f"with atomic_write({str(path)!r}) as handle:\n"
         "    handle.write(b'partial')\n"
         "    print('writing', flush=True)\n"
         "    time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert writer.stdout.readline() == "writing\n"
    finally:
        writer.kill()
        writer.wait()
    (orphan,) = tmp_path.iterdir()
    assert orphan.name.startswith(".fit.npz.") and orphan.name.endswith(".tmp")

    other = tmp_path / "other.npz"
    with atomic_write(other) as live:  # a live writer of another file ...
        live.write(b"x")
        (live_temporary,) = (name for name in tmp_path.iterdir() if name.name.startswith(".other"))
        with atomic_write(other) as second:  # ... even of the same file: left alone
            second.write(b"y")
        assert live_temporary.exists()
        save_npz(path, {"weights": [1.0]})
        assert sorted(name.name for name in tmp_path.iterdir()) == [
            live_temporary.name, "fit.npz", "other.npz",
        ]
    assert sorted(name.name for name in tmp_path.iterdir()) == ["fit.npz", "other.npz"]
    assert other.read_bytes() == b"x"


@pytest.mark.workflow
def test_kill_unlock_rerun_gives_the_same_results(tiny_run, tmp_path):
    workdir = copy_workflow(tmp_path)
    write_config(workdir, TINY)

    killed = _kill_mid_run(workdir)
    assert killed.returncode == -signal.SIGKILL
    assert not (workdir / "results/summary.tsv").exists()  # killed before the end

    # The next run stops at Snakemake's lock, which the killed run left behind ...
    locked = run_snakemake(workdir, "--configfile", "tiny.yaml")
    assert locked.returncode != 0
    assert "Directory cannot be locked" in locked.stderr, locked.stderr[-3000:]
    assert "--unlock" in locked.stderr

    # ... --unlock removes it, and a rerun (the default profile sets --rerun-incomplete;
    # given here too, as a user of another profile would) finishes the work.
    unlocked = run_snakemake(workdir, "--configfile", "tiny.yaml", "--unlock")
    assert unlocked.returncode == 0, unlocked.stderr[-3000:]
    rerun = run_snakemake(workdir, "--configfile", "tiny.yaml", "--rerun-incomplete")
    assert rerun.returncode == 0, rerun.stderr[-4000:]

    # The same bytes as the uninterrupted run (the wall-clock members excepted, by the
    # rule of conftest.result_hashes), and no leftover temporary file.
    reference, after = result_hashes(tiny_run), result_hashes(workdir)
    assert sorted(set(after) - set(reference)) == []
    assert sorted(set(reference) - set(after)) == []
    assert sorted(path for path in reference if reference[path] != after[path]) == []


@pytest.mark.workflow
def test_chunks_left_after_their_gather_are_removed_by_the_next_run(tiny_run, tmp_path):
    """A kill after gather_units finished but before Snakemake deleted its temp chunk
    inputs leaves them for good (the rerun has no job that consumes them); the next
    successful run removes chunk files older than what they were gathered into."""
    workdir = copy_run(tiny_run, tmp_path / "run")
    stale = workdir / "results/sim_gauss/chunks/0/ml_fit.npz"
    stale.parent.mkdir(parents=True)
    shutil.copy(workdir / "results/sim_gauss/ml_fit.npz", stale)
    os.utime(stale, (1_600_000_000, 1_600_000_000))
    result = run_snakemake(workdir, "--configfile", "tiny.yaml", "--forcerun", "summarise_all")
    assert result.returncode == 0, result.stderr[-3000:]
    assert not (workdir / "results/sim_gauss/chunks").exists()
    assert result_hashes(workdir) == result_hashes(tiny_run)
