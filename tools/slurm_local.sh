#!/usr/bin/env bash
# A throwaway single-node SLURM on this machine, for testing profiles/slurm.
#
#   sudo tools/slurm_local.sh start    # install if needed, configure, start, wait until idle
#   sudo tools/slurm_local.sh status   # daemons and node state; exit 0 when the node is usable
#   sudo tools/slurm_local.sh stop     # cancel jobs, stop what `start` started, remove its slurm.conf
#
# Debian/Ubuntu, as root.  Only for throwaway machines and CI containers.
#
# start (safe to repeat; a node that is already up is left as it is):
#   1. installs munge, slurmctld, slurmd and slurm-client with apt-get
#      (--no-install-recommends) when a command is missing;
#   2. writes /etc/slurm/slurm.conf for one node called "localhost" with this machine's
#      CPUs: no cgroups (proctrack/linuxproc, task/none), no accounting database, and
#      MinJobAge=300 so that snakemake's slurm plugin can ask squeue for job states.  It
#      must be the default path: the plugin's job step drops every SLURM_* variable
#      (SLURM_CONF too) before its nested srun.  An existing slurm.conf that this script
#      did not write is never touched (start fails instead);
#   3. starts munged (as user munge, unless one is running), slurmctld and slurmd
#      (-N localhost), keeping their state, spool, logs and pid files in $SLURM_LOCAL_DIR
#      (default /tmp/sparsefield-slurm); waits until `sinfo` shows the node idle and
#      checks `srun -n1 true`.
# stop: cancels what is still queued, stops the daemons by the pid files of those this
#   script started (TERM, then KILL), and removes the slurm.conf it wrote.
#
# Environment: SLURM_LOCAL_DIR; SLURM_LOCAL_NO_INSTALL=1 fails instead of installing.
set -euo pipefail

STATE=${SLURM_LOCAL_DIR:-/tmp/sparsefield-slurm}
CONF=/etc/slurm/slurm.conf
MARKER="# written by sparsefield tools/slurm_local.sh"
OURS="# written by sparsefield tools/slurm_" # also the earlier tools/slurm_smoke.sh
PACKAGES=(munge slurmctld slurmd slurm-client)
export PATH=$PATH:/usr/sbin:/sbin
START=$(date +%s)

log() { printf '[slurm_local %3ss] %s\n' "$(($(date +%s) - START))" "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

# wait_for SECONDS COMMAND...: retry COMMAND every half second until it succeeds.
wait_for() {
    local tries=$(($1 * 2)) i
    shift
    for ((i = 0; i < tries; i++)); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    return 1
}

# alive FILE: the process whose pid is in FILE is running.
alive() {
    local pid
    [[ -s $1 ]] || return 1
    pid=$(cat "$1")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# stop_pidfile FILE NAME: stop the process whose pid is in FILE (TERM, then KILL).
stop_pidfile() {
    local file=$1 name=$2 pid i
    if alive "$file"; then
        pid=$(cat "$file")
        log "stopping $name (pid $pid)"
        kill "$pid" 2>/dev/null || true
        for ((i = 0; i < 40; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.25
        done
        if kill -0 "$pid" 2>/dev/null; then
            log "$name (pid $pid) ignored TERM; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$file"
}

node_state() { timeout 10 sinfo -h -n localhost -o %t 2>/dev/null; }
node_idle() { [[ $(node_state) =~ ^(idle|mix|alloc)$ ]]; }
munge_works() { timeout 5 bash -c 'munge -n | unmunge' >/dev/null 2>&1; }
ours() { [[ -f $CONF ]] && head -1 "$CONF" | grep -qF "$OURS"; }

install_packages() {
    local missing=() pair
    for pair in munged:munge slurmctld:slurmctld slurmd:slurmd sbatch:slurm-client; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    ((${#missing[@]})) || return 0
    [[ ${SLURM_LOCAL_NO_INSTALL:-0} != 1 ]] || die "missing ${missing[*]} (SLURM_LOCAL_NO_INSTALL=1)"
    command -v apt-get >/dev/null 2>&1 || die "missing ${missing[*]} and no apt-get to install them"
    log "installing ${PACKAGES[*]} with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    timeout 300 apt-get update -qq || die "apt-get update failed"
    timeout 600 apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null ||
        die "apt-get install ${PACKAGES[*]} failed"
}

write_conf() {
    local cpus detected memory
    if [[ -e $CONF ]] && ! ours; then
        die "$CONF exists and was not written by this script; not touching it"
    fi
    cpus=$(nproc)
    # RealMemory must not exceed what slurmd detects, or the node is drained.
    detected=$(slurmd -C 2>/dev/null | sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' | head -1)
    [[ $detected =~ ^[0-9]+$ ]] || die "slurmd -C reported no RealMemory"
    memory=$((detected * 9 / 10))
    mkdir -p "$(dirname "$CONF")"
    cat >"$CONF.tmp" <<EOF
$MARKER
# A throwaway single-node cluster: no cgroups, no accounting database.
ClusterName=sparsefield-local
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
# Keep finished jobs visible to squeue for 5 min: without accounting, snakemake's
# slurm plugin asks squeue (--slurm-status-command squeue), which needs MinJobAge
# >= 3 x its first status-check delay.
MinJobAge=300
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
NodeName=localhost CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
    mv "$CONF.tmp" "$CONF"
    log "wrote $CONF (CPUs=$cpus RealMemory=$memory of $detected MB)"
}

start_munged() {
    if munge_works; then
        log "munged already running; using it"
        return 0
    fi
    [[ -s /etc/munge/munge.key ]] || die "no /etc/munge/munge.key"
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    rm -f /run/munge/munged.pid
    runuser -u munge -- /usr/sbin/munged || die "munged did not start"
    wait_for 10 munge_works || die "munge -n | unmunge fails"
    # Remember that this script started it: stop will stop it.
    cp /run/munge/munged.pid "$STATE/munged.pid"
    log "started munged (pid $(cat "$STATE/munged.pid"))"
}

cmd_start() {
    [[ $(id -u) -eq 0 ]] || die "must run as root (installs packages, starts SLURM daemons)"
    if ours && alive "$STATE/slurmctld.pid" && alive "$STATE/slurmd.pid" && node_idle; then
        log "already running: node localhost is $(node_state)"
        return 0
    fi
    install_packages
    # Stop what an earlier, interrupted start left behind; start from a clean state.
    [[ -d $STATE ]] && stop_daemons
    rm -rf "$STATE"/state "$STATE"/spool "$STATE"/log
    mkdir -p "$STATE"/{state,spool,log}
    write_conf
    start_munged
    slurmctld || die "slurmctld did not start (see $STATE/log/slurmctld.log)"
    wait_for 30 timeout 5 scontrol ping || die "scontrol ping: slurmctld not responding"
    log "slurmctld up (pid $(cat "$STATE/slurmctld.pid"))"
    slurmd -N localhost || die "slurmd did not start (see $STATE/log/slurmd.log)"
    wait_for 60 node_idle || die "node not idle: $(sinfo -h -n localhost -o '%t %E' 2>&1)"
    log "slurmd up (pid $(cat "$STATE/slurmd.pid")), node localhost idle"
    timeout 60 srun -n1 true || die "srun -n1 true failed"
    log "srun -n1 true: ok; SLURM is ready (logs in $STATE/log)"
}

stop_daemons() {
    # Cancel whatever is still queued or running, so no slurmstepd outlives slurmd.
    if alive "$STATE/slurmctld.pid"; then
        local jobs
        jobs=$(timeout 10 squeue -h -o %i 2>/dev/null || true)
        if [[ -n $jobs ]]; then
            log "cancelling leftover jobs: $(echo $jobs)"
            # shellcheck disable=SC2086
            timeout 10 scancel $jobs 2>/dev/null || true
            wait_for 30 bash -c '[[ -z $(squeue -h -o %i 2>/dev/null) ]]' || true
        fi
    fi
    stop_pidfile "$STATE/slurmd.pid" slurmd
    stop_pidfile "$STATE/slurmctld.pid" slurmctld
    stop_pidfile "$STATE/munged.pid" munged # only there if start started it
}

cmd_stop() {
    [[ $(id -u) -eq 0 ]] || die "must run as root"
    [[ -d $STATE ]] && stop_daemons
    if ours; then
        rm -f "$CONF"
        log "removed $CONF"
    fi
    log "stopped"
}

cmd_status() {
    local name
    for name in munged slurmctld slurmd; do
        if alive "$STATE/$name.pid"; then
            echo "$name: running (pid $(cat "$STATE/$name.pid"), started by this script)"
        elif [[ $name == munged ]] && munge_works; then
            echo "munged: running (not started by this script)"
        else
            echo "$name: not running"
        fi
    done
    if ours; then echo "$CONF: written by this script"; else echo "$CONF: not ours or absent"; fi
    if node_idle; then
        echo "node localhost: $(node_state)"
        return 0
    fi
    echo "node localhost: not usable"
    return 1
}

case ${1:-} in
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
