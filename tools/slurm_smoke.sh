#!/usr/bin/env bash
# Smoke test of profiles/slurm against a real, throwaway single-node SLURM.
#
#   sudo tools/slurm_smoke.sh            # needs root; Debian/Ubuntu (apt-get)
#
# What it does (safe to run again; each run starts from a clean SLURM state):
#   1. installs munge, slurmctld, slurmd and slurm-client with apt-get if missing;
#   2. writes /etc/slurm/slurm.conf for one node called "localhost" (no cgroups, no
#      accounting) and keeps all SLURM state, spool, logs and pid files under
#      $SMOKE_DIR (default /tmp/sparsefield-slurm-smoke);
#   3. starts munged (as user munge), slurmctld and slurmd, waits until the node is
#      idle and checks `srun -n1 true`;
#   4. copies the workflow into a temporary directory and runs the default target
#      with `snakemake --profile profiles/slurm` on a small config (600 frames,
#      20 STA shifts), killed after $SMOKE_TIMEOUT seconds (default 900);
#   5. checks results/summary.tsv, stops the daemons it started (by their pid
#      files) and prints "SLURM SMOKE: PASS" or "SLURM SMOKE: FAIL (...)".
#
# It refuses to replace an /etc/slurm/slurm.conf that it did not write itself, so
# it never clobbers a real cluster's configuration.
#
# Environment: SMOKE_DIR, SMOKE_TIMEOUT, SNAKEMAKE (default: <repo>/.venv/bin/snakemake),
# KEEP_WORKDIR=1 keeps the temporary workflow copy even after a PASS.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SMOKE_DIR=${SMOKE_DIR:-/tmp/sparsefield-slurm-smoke}
SMOKE_TIMEOUT=${SMOKE_TIMEOUT:-900}
SNAKEMAKE=${SNAKEMAKE:-$REPO/.venv/bin/snakemake}
SLURM_CONF_PATH=/etc/slurm/slurm.conf # must be the default path, see below
MARKER="# written by sparsefield tools/slurm_smoke.sh"
START=$(date +%s)
WORK=""
RESULT="FAIL (setup)"

log() { printf '[slurm-smoke %4ss] %s\n' "$(($(date +%s) - START))" "$*" >&2; }
die() {
    RESULT="FAIL ($*)"
    log "ERROR: $*"
    exit 1
}

# wait_for SECONDS COMMAND...: retry COMMAND once a second until it succeeds.
wait_for() {
    local seconds=$1
    shift
    local i
    for ((i = 0; i < seconds; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 1
    done
    return 1
}

# stop_pidfile FILE: stop the process whose pid is in FILE (TERM, then KILL).
stop_pidfile() {
    local file=$1 pid i
    [[ -s $file ]] || return 0
    pid=$(cat "$file")
    if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid" 2>/dev/null || true
        for ((i = 0; i < 20; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.5
        done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

stop_daemons() {
    # Cancel whatever is still queued or running, so no slurmstepd outlives slurmd.
    if [[ -s $SMOKE_DIR/slurmctld.pid ]] && kill -0 "$(cat "$SMOKE_DIR/slurmctld.pid")" 2>/dev/null; then
        local jobs
        jobs=$(timeout 10 squeue -h -o %i 2>/dev/null || true)
        if [[ -n $jobs ]]; then
            log "cancelling leftover jobs: $(echo $jobs)"
            # shellcheck disable=SC2086
            timeout 10 scancel $jobs 2>/dev/null || true
            wait_for 30 bash -c '[[ -z $(squeue -h -o %i 2>/dev/null) ]]' || true
        fi
    fi
    stop_pidfile "$SMOKE_DIR/slurmd.pid"
    stop_pidfile "$SMOKE_DIR/slurmctld.pid"
    # munged only if this script started it (it then copied the pid here).
    stop_pidfile "$SMOKE_DIR/munged.pid"
}

finish() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    [[ $rc -ne 0 && $RESULT == PASS ]] && RESULT="FAIL (exit $rc)"
    if [[ -d $SMOKE_DIR ]]; then
        log "stopping the daemons this script started"
        stop_daemons
    fi
    if [[ -n $WORK && -d $WORK ]]; then
        if [[ $RESULT == PASS && ${KEEP_WORKDIR:-0} != 1 ]]; then
            rm -rf "$WORK"
        else
            log "workflow copy kept in $WORK (SLURM logs: $WORK/.snakemake/slurm_logs)"
        fi
    fi
    [[ -d $SMOKE_DIR ]] && log "SLURM logs in $SMOKE_DIR/log"
    echo "SLURM SMOKE: $RESULT (wall $(($(date +%s) - START)) s)"
    [[ $RESULT == PASS ]] && exit 0 || exit 1
}
trap finish EXIT
trap 'RESULT="FAIL (interrupted)"; exit 130' INT TERM

# ---------------------------------------------------------------------------------------
# 1. Packages
[[ $(id -u) -eq 0 ]] || die "must run as root (installs packages, starts SLURM daemons)"
[[ -x $SNAKEMAKE ]] || die "no snakemake at $SNAKEMAKE (run make setup or set SNAKEMAKE)"
missing=()
for cmd_pkg in munged:munge slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client; do
    command -v "${cmd_pkg%%:*}" >/dev/null 2>&1 || [[ -x /usr/sbin/${cmd_pkg%%:*} ]] ||
        missing+=("${cmd_pkg#*:}")
done
if ((${#missing[@]})); then
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    timeout 300 apt-get update -qq || die "apt-get update failed"
    timeout 600 apt-get install -y -qq --no-install-recommends \
        munge slurmctld slurmd slurm-client >/dev/null || die "apt-get install failed"
fi
export PATH=$PATH:/usr/sbin

# ---------------------------------------------------------------------------------------
# 2. slurm.conf and a clean state directory
# Stop what a previous (interrupted) run of this script left behind, then start over.
if [[ -d $SMOKE_DIR ]]; then stop_daemons; fi
rm -rf "$SMOKE_DIR"/state "$SMOKE_DIR"/spool "$SMOKE_DIR"/log
mkdir -p "$SMOKE_DIR"/{state,spool,log}

# The config must sit at the default path: the plugin's job step drops every SLURM_*
# variable (SLURM_CONF included) before its nested srun.
if [[ -e $SLURM_CONF_PATH ]] && ! grep -qF "$MARKER" "$SLURM_CONF_PATH"; then
    die "$SLURM_CONF_PATH exists and was not written by this script; not touching it"
fi
ncpus=$(nproc)
# RealMemory must not exceed what slurmd detects, or the node is drained.
detected=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
[[ $detected =~ ^[0-9]+$ ]] || die "slurmd -C reported no RealMemory"
realmem=$((detected * 9 / 10))
mkdir -p "$(dirname "$SLURM_CONF_PATH")"
cat >"$SLURM_CONF_PATH" <<EOF
$MARKER
# A throwaway single-node cluster: no cgroups, no accounting database.
ClusterName=sparsefield-smoke
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# Keep finished jobs visible to squeue for 5 min: the plugin's squeue status mode
# needs MinJobAge >= 3 x its first status-check delay.
MinJobAge=300
StateSaveLocation=$SMOKE_DIR/state
SlurmdSpoolDir=$SMOKE_DIR/spool
SlurmctldPidFile=$SMOKE_DIR/slurmctld.pid
SlurmdPidFile=$SMOKE_DIR/slurmd.pid
SlurmctldLogFile=$SMOKE_DIR/log/slurmctld.log
SlurmdLogFile=$SMOKE_DIR/log/slurmd.log
NodeName=localhost CPUs=$ncpus RealMemory=$realmem State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
log "wrote $SLURM_CONF_PATH (CPUs=$ncpus RealMemory=$realmem of $detected MB)"

# ---------------------------------------------------------------------------------------
# 3. Daemons
if timeout 5 bash -c 'munge -n | unmunge' >/dev/null 2>&1; then
    log "munged already running; using it"
else
    [[ -s /etc/munge/munge.key ]] || die "no /etc/munge/munge.key"
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged || die "munged did not start"
    wait_for 10 bash -c 'munge -n | unmunge' || die "munge -n | unmunge fails"
    cp /run/munge/munged.pid "$SMOKE_DIR/munged.pid"
    log "started munged (pid $(cat "$SMOKE_DIR/munged.pid"))"
fi

slurmctld || die "slurmctld did not start (see $SMOKE_DIR/log/slurmctld.log)"
wait_for 30 scontrol ping || die "scontrol ping: slurmctld not responding"
log "slurmctld up (pid $(cat "$SMOKE_DIR/slurmctld.pid"))"
slurmd -N localhost || die "slurmd did not start (see $SMOKE_DIR/log/slurmd.log)"
wait_for 60 bash -c '[[ $(sinfo -h -n localhost -o %t) == idle ]]' ||
    die "node not idle: $(sinfo -h -n localhost -o '%t %E' 2>&1)"
log "slurmd up (pid $(cat "$SMOKE_DIR/slurmd.pid")), node idle"
timeout 60 srun -n1 true || die "srun -n1 true failed"
log "srun -n1 true: ok"

# ---------------------------------------------------------------------------------------
# 4. The workflow through the profile
WORK=$(mktemp -d /tmp/sparsefield-slurm-work.XXXXXX)
cp -r "$REPO"/{Snakefile,environment.yml,workflow,config,profiles} "$WORK"/
cat >"$WORK/smoke-config.yaml" <<'EOF'
# Small enough to finish in minutes; merged over config/config.yaml.
simulation:
  n_frames: 600
sta:
  n_shifts: 20
EOF
# No accounting database here: ask squeue for job states (sacct exists but fails, and
# the plugin would never see a job finish) and check the first time after 2 s, not 40.
cmd=(timeout -s KILL "$SMOKE_TIMEOUT" "$SNAKEMAKE" --profile profiles/slurm
    --configfile smoke-config.yaml
    --slurm-status-command squeue
    --slurm-init-seconds-before-status-checks 2)
log "in $WORK: ${cmd[*]}"
set +e
(cd "$WORK" && "${cmd[@]}") >"$WORK/snakemake.log" 2>&1
rc=$?
set -e
log "snakemake exit status $rc (log: $WORK/snakemake.log)"
if [[ $rc -ne 0 ]]; then
    tail -n 40 "$WORK/snakemake.log" >&2
    [[ $rc -eq 137 ]] && die "snakemake killed after ${SMOKE_TIMEOUT}s"
    die "snakemake exit status $rc"
fi
[[ -s $WORK/results/summary.tsv ]] || die "no results/summary.tsv"
log "results/summary.tsv:"
cat "$WORK/results/summary.tsv" >&2
njobs=$(grep -c "has been submitted with SLURM jobid" "$WORK/snakemake.log" || true)
log "$njobs jobs went through sbatch"
((njobs > 0)) || die "no job was submitted to SLURM"
RESULT=PASS
