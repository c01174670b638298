#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine for the tests of `amp grid slurm`:
# munged, slurmctld and slurmd on localhost (proctrack/linuxproc, task/none, no accounting).
#
# Needs root (it installs Debian's slurm-wlm and munge with apt-get when they are missing and
# writes /etc/slurm/slurm.conf). Everything it starts is recorded in $AMP_SLURM_DIR/pids
# (default /tmp/amp-slurm); scripts/slurm/stop.sh stops exactly those processes.
# An /etc/slurm/slurm.conf that this script did not write is never replaced: it then stops
# with an error, since a real cluster's configuration must not be touched.
#
# Usage: scripts/slurm/start.sh        (exit 0 once `sinfo` shows the node idle)
set -euo pipefail

DIR="${AMP_SLURM_DIR:-/tmp/amp-slurm}"
CONF=/etc/slurm/slurm.conf
MARK="# written by amp scripts/slurm/start.sh"
log() { echo "slurm/start.sh: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
    log "needs root (installs packages, writes $CONF, starts daemons)"; exit 1
fi
if command -v sinfo >/dev/null && [ -f "$DIR/pids" ] && timeout 10 sinfo -h -o %T 2>/dev/null | grep -q idle; then
    log "already running (pids in $DIR/pids)"; exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
    log "installing slurm-wlm and munge"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi

if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    log "$CONF exists and was not written by this script; not touching a real cluster's configuration"
    exit 1
fi

mkdir -p "$DIR"/{state,spool,log}
# A previous run's daemons (if its stop.sh never ran) are stopped first, by their recorded pids.
if [ -f "$DIR/pids" ]; then "$(dirname "$0")/stop.sh" || true; fi

HOST="$(hostname -s)"
CPUS="$(nproc)"
MEM_MB="$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))"
mkdir -p /etc/slurm
cat > "$CONF" <<CONFEOF
$MARK
ClusterName=amp-test
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
KillWait=5
MinJobAge=600
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONFEOF

# munge: a key if there is none, its socket folder, then the daemon in the foreground (so that
# $! is its pid).
if [ ! -s /etc/munge/munge.key ]; then
    mkdir -p /etc/munge
    dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
fi
chown -R munge:munge /etc/munge 2>/dev/null || true
chmod 700 /etc/munge; chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
: > "$DIR/pids"
if ! pgrep -x munged >/dev/null; then
    runuser -u munge -- munged --foreground >"$DIR/log/munged.log" 2>&1 &
    RUNUSER=$!
    # runuser forks munged and waits for it: record munged itself (stopped first) and runuser.
    for _ in $(seq 50); do MUNGED="$(pgrep -P "$RUNUSER" -x munged || true)"; [ -n "$MUNGED" ] && break; sleep 0.1; done
    [ -n "$MUNGED" ] && echo "munged $MUNGED" >> "$DIR/pids"
    echo "runuser $RUNUSER" >> "$DIR/pids"
fi
for _ in $(seq 50); do munge -n >/dev/null 2>&1 && break; sleep 0.2; done
munge -n | unmunge >/dev/null || { log "munged does not answer (see $DIR/log/munged.log)"; exit 1; }

slurmctld -D -i >"$DIR/log/slurmctld.out" 2>&1 &
echo "slurmctld $!" >> "$DIR/pids"
slurmd -D >"$DIR/log/slurmd.out" 2>&1 &
echo "slurmd $!" >> "$DIR/pids"

for _ in $(seq 120); do
    if timeout 5 sinfo -h -o %T 2>/dev/null | grep -q idle; then
        log "up: node $HOST ($CPUS CPUs) idle in partition debug; pids in $DIR/pids"
        exit 0
    fi
    sleep 0.5
done
log "the node did not become idle within 60 s; logs in $DIR/log"
sinfo >&2 || true
exit 1
