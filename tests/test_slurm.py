"""The tiny workflow through profiles/slurm on a real SLURM controller: every job goes
through sbatch and completes, and the results equal those of a local run.

Runs only when ``SPARSEFIELD_SLURM_TEST=1`` (an opt-in, so that `make test` on a real
cluster's login node never submits jobs there) and then fails, rather than skips, when
no SLURM node is usable.  `.ci/run` does both when it runs as root: it starts a
single-node SLURM with `tools/slurm_local.sh start` and sets the variable.  By hand:

    sudo tools/slurm_local.sh start
    SPARSEFIELD_SLURM_TEST=1 .venv/bin/python -m pytest tests/test_slurm.py
    sudo tools/slurm_local.sh stop
"""

import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from conftest import (
    PROJECT,
    TINY,
    copy_workflow,
    job_counts,
    result_hashes,
    write_config,
)

pytestmark = [
    pytest.mark.slurm,
    pytest.mark.workflow,
    pytest.mark.skipif(
        os.environ.get("SPARSEFIELD_SLURM_TEST") != "1",
        reason="SLURM test not requested: set SPARSEFIELD_SLURM_TEST=1 with a SLURM cluster "
        "up (as root: tools/slurm_local.sh start; .ci/run does both when root)",
    ),
]

#: Seconds before the whole SLURM run is killed (SIGKILL: the plugin may ignore TERM).
TIMEOUT = 1500

#: Options that only this throwaway cluster needs (a real cluster uses the profile as
#: it is): no accounting database, so job states come from squeue (slurm.conf has
#: MinJobAge=300); the first status check after 2 s, not 40; no retries and a short
#: latency wait, so that a failure shows at once; SLURM logs kept for the checks below;
#: status rounds every 2 s, not 10 (the tiny DAG is a chain of short waves; measured:
#: 417 s against 460 s for the whole SLURM run).
THROWAWAY_CLUSTER = [
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--seconds-between-status-checks",
    "2",
    "--slurm-keep-successful-logs",
    "--retries",
    "0",
    "--latency-wait",
    "10",
]


def _node_state():
    if shutil.which("sinfo") is None:
        return "no sinfo command"
    try:
        result = subprocess.run(
            ["sinfo", "-h", "-o", "%t"], capture_output=True, text=True, timeout=20
        )
    except subprocess.TimeoutExpired:
        return "sinfo timed out"
    return (result.stdout.strip() or result.stderr.strip()).replace("\n", " ")


# Session scope, and first among the test's arguments: checked before the local
# reference run (tiny_run) is made.
@pytest.fixture(scope="session")
def slurm_cluster():
    state = _node_state()
    if not re.search(r"\b(idle|mix)\b", state):
        pytest.fail(
            f"SPARSEFIELD_SLURM_TEST=1 but no idle SLURM node (sinfo: {state!r}); "
            f"start one with `sudo {PROJECT}/tools/slurm_local.sh start`"
        )
    return state


#: What the SLURM run builds: the NWB session end to end (reader, fits, scores, STC,
#: Gabor fits, every session and per-unit figure, provenance) and one compressed ADMM
#: run's figures, which pull in every sparse run (the Gabor comparison needs them all):
#: 44 jobs of 35 rules, about 40 % of the tiny DAG.  Each job costs seconds of sbatch and
#: status polling, so the whole DAG made this the slowest test by far (417-460 s); the
#: rules left out (the single-row simulation, the summaries, the sparse comparison
#: figures) declare their resources like the others (checked statically in
#: test_workflow.py) and run in every local workflow test.
TARGETS = [
    "results/sim_session/units.tsv",
    "results/figures/rf/sim_session/index.tsv",
    "results/sim_session/provenance/config.yaml",
    "results/sparse/bdm-J2-admm/epochs.tsv",
    "results/figures/sparse/bdm-J2-admm/atoms.png",
]


def test_tiny_workflow_through_the_slurm_profile(slurm_cluster, tiny_run, tmp_path):
    workdir = copy_workflow(tmp_path)
    command = [
        "timeout", "-s", "KILL", str(TIMEOUT),
        sys.executable, "-m", "snakemake",
        *TARGETS,
        "--profile", "profiles/slurm",
        "--workflow-profile", "none",
        "--configfile", write_config(workdir, TINY),
        *THROWAWAY_CLUSTER,
    ]  # fmt: skip
    started = time.monotonic()
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True)
    wall = time.monotonic() - started
    output = result.stdout + result.stderr
    (workdir / "snakemake.output").write_text(output)
    assert result.returncode != 137, f"killed after {TIMEOUT} s:\n{output[-4000:]}"
    assert result.returncode == 0, output[-6000:]

    # Every job was submitted with sbatch (no local job: the targets are files) ... The DAG
    # grows after each checkpoint (a session's figures are known once its units.tsv
    # is), so the total comes from the last progress line, not the first job table.
    assert sum(job_counts(output).values()) >= 10, output[-3000:]
    done = re.findall(r"(\d+) of (\d+) steps \(100%\) done", output)
    assert done and done[-1][0] == done[-1][1], output[-3000:]
    n_jobs = int(done[-1][1])
    assert n_jobs >= 40, n_jobs
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", output)
    assert len(submitted) == len(set(submitted)) == n_jobs, (len(submitted), n_jobs)
    assert re.findall(r"^local(?:rule|checkpoint) (\w+):", output, re.MULTILINE) == []
    # ... and ran under SLURM: one SLURM log per job, written by the job step.
    slurm_logs = sorted((workdir / ".snakemake/slurm_logs").rglob("*.log"))
    assert len(slurm_logs) == n_jobs

    # The same bytes as the local run, for every file the SLURM run wrote.
    produced, reference = result_hashes(workdir), result_hashes(tiny_run)
    assert {f"results/{path}" for path in produced} >= set(TARGETS)
    assert {path: reference.get(path) for path in produced} == produced
    print(f"SLURM run: {n_jobs} jobs through sbatch in {wall:.0f} s")
