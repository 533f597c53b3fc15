#!/usr/bin/env bash
# A one-node SLURM cluster on this host, for tests/test_slurm.py: installs Debian's slurm-wlm and
# munge, writes slurm.conf for this machine (no accounting database) and starts munged, slurmctld
# and slurmd. Run as root (CI: .ci/run). Idempotent: a running cluster is left as it is.
# It overwrites /etc/slurm/slurm.conf: meant for CI machines and containers, not a real cluster.
# Whatever fails is written to $STATE/status (read by the test, which then skips with that reason);
# the script itself always exits 0 so that CI goes on to the tests.
set -uo pipefail

STATE=${LIONLORA_SLURM_STATE:-/tmp/lionlora-slurm}
mkdir -p "$STATE"
status() { echo "$*" > "$STATE/status"; echo "start_cluster: $*" >&2; }
fail() { status "unavailable: $*"; exit 0; }

[ "$(id -u)" = 0 ] || fail "needs root to install and start the daemons (run as root)"
if sinfo -h -o %T 2>/dev/null | grep -q idle; then
  status "running"; exit 0
fi

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || fail "no apt-get to install slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -qq > "$STATE/apt.log" 2>&1 || fail "apt-get update failed (see $STATE/apt.log)"
  timeout 900 apt-get install -y -qq slurm-wlm munge >> "$STATE/apt.log" 2>&1 \
    || fail "apt-get install slurm-wlm munge failed (see $STATE/apt.log)"
fi

# munge: a key, then the daemon
[ -s /etc/munge/munge.key ] || { mungekey --create 2>/dev/null || create-munge-key -f; } >/dev/null 2>&1
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge 2>/dev/null
mkdir -p /run/munge && chown munge:munge /run/munge
if ! pgrep -r D,R,S -x munged >/dev/null; then
  runuser -u munge -- munged 2>"$STATE/munged.log" || fail "munged does not start (see $STATE/munged.log)"
fi
munge -n | unmunge >/dev/null 2>&1 || fail "munge does not authenticate"

# slurm.conf for this host: node CPUs and memory from slurmd -C
HOST=$(hostname -s)
NODE=$(slurmd -C | head -1) || fail "slurmd -C failed"
CPUS=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$NODE")
MEM=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$NODE")
mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
# One-node test cluster written by tests/slurm/start_cluster.sh
ClusterName=lionlora-test
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
MinJobAge=600
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=$STATE/slurmctld.log
SlurmdLogFile=$STATE/slurmd.log
NodeName=$HOST CPUs=$CPUS RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF

if pgrep -r D,R,S -x slurmctld >/dev/null; then scontrol reconfigure; else slurmctld; fi || fail "slurmctld does not start (see $STATE/slurmctld.log)"
pgrep -r D,R,S -x slurmd >/dev/null || slurmd || fail "slurmd does not start (see $STATE/slurmd.log)"
for _ in $(seq 30); do
  if sinfo -h -o %T 2>/dev/null | grep -q idle; then status "running"; exit 0; fi
  sleep 1
done
fail "the node is not idle after 30 s: $(sinfo -h -o '%T %E' 2>&1 | head -1)"
