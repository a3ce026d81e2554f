#!/bin/bash
# The shipped job array on a real, single-node Slurm: slurmctld, slurmd and munge from the
# distribution's packages, started here and stopped at the end. It scans this machine's own
# loopback (nothing else) and checks that shards are what they say, however they are run:
#   1. tasks 1, 2 and 4 of the array, then task 3 alone (`--array=3`, the way a failed task is
#      retried): every address once;
#   2. task 2 cancelled mid-scan (scancel: SIGTERM), then run again: it goes on where it stopped,
#      and the merge still finds every address exactly once;
#   3. a re-run of a finished task does nothing; an output of another plan is refused by merge.
#
# Run as root from the repository's root, after `cargo build -p wardial`:
#   bash deploy/slurm/test.sh
# Where Slurm cannot be installed or started (no root, no apt, a container that forbids it), it
# says so in one line and exits 0: the shard logic is also tested without it
# (crates/wardial/tests/deploy.rs).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
wardial=${WARDIAL:-$root/target/debug/wardial}
work=$(mktemp -d /tmp/wardial-slurm.XXXXXX)
host=$(hostname -s)

skip() {
    # Under CI (which installs and starts Slurm with this script) a skip would hide that the
    # array went untested: it fails instead.
    if [ -n "${CI:-}" ]; then
        echo "slurm test FAILED (a skip is a failure under CI): $*" >&2
        exit 1
    fi
    echo "slurm test skipped: $*"
    exit 0
}
say() { echo "slurm test: $*"; }
fail() {
    echo "slurm test FAILED: $*" >&2
    for log in "$work"/*.log "$work"/results/*.log; do
        [ -f "$log" ] && { echo "--- $log" >&2; tail -20 "$log" >&2; }
    done
    exit 1
}

[ -x "$wardial" ] || fail "no wardial at $wardial (run cargo build -p wardial first)"
if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null; then
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || skip "Slurm is not installed and cannot be (needs root and apt-get)"
    say "installing slurm-wlm and munge from the distribution's packages"
    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge) \
        >"$work/apt.log" 2>&1 || skip "apt-get could not install slurm-wlm and munge (see $work/apt.log)"
fi
[ "$(id -u)" = 0 ] || skip "starting slurmctld and slurmd needs root"

# --- a single-node cluster of our own: config, munge, the two daemons --------------------------
mkdir -p "$work/spool" "$work/state" "$work/results" /etc/slurm /run/munge /var/log/munge
cat >/etc/slurm/slurm.conf <<CONF
ClusterName=wardial-test
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) RealMemory=$(free -m | awk '/^Mem:/ {print $2}') State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=FORCE:4
CONF
[ -s /etc/munge/munge.key ] || mungekey --create >/dev/null 2>&1 || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
chown -R munge:munge /etc/munge /run/munge /var/log/munge
chmod 400 /etc/munge/munge.key
stop_all() {
    scancel --quiet --user=root 2>/dev/null || true
    for pid in "$work/slurmd.pid" "$work/slurmctld.pid"; do
        [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
    done
    [ -n "${munged:-}" ] && kill "$munged" 2>/dev/null || true
}
trap stop_all EXIT
runuser -u munge -- munged --foreground >"$work/munged.log" 2>&1 &
munged=$!
sleep 1
munge -n >/dev/null 2>&1 || skip "munged did not start (see $work/munged.log)"
slurmctld -c -i >/dev/null 2>&1 || skip "slurmctld did not start (see $work/slurmctld.log)"
slurmd -N "$host" >/dev/null 2>&1 || skip "slurmd did not start (see $work/slurmd.log)"
for _ in $(seq 1 60); do
    sinfo -h -o %t 2>/dev/null | grep -q idle && break
    sleep 1
done
sinfo -h -o %t | grep -q idle || skip "the node never became idle: $(sinfo -h 2>&1 | head -1)"
say "single-node Slurm up ($(sinfo --version))"

# --- the shipped job file, pointed at this machine's loopback ----------------------------------
# 1024 addresses on a port nothing listens on: every probe is a quick refusal, and every address
# is reported (an --output file holds every finding), so coverage can be counted exactly.
cd "$work"
ln -s "$root/deploy" deploy
export TARGETS=127.0.0.0/22 PORT=9 SEED=7 OUT="$work/results" WARDIAL="$wardial"
submit() { # ARRAY WARDIAL_ARGS: runs the shipped file (waiting for it), returns its exit code
    WARDIAL_ARGS="$2" sbatch --wait --quiet --array="$1" --export=ALL \
        --output="$work/results/task-%A_%a.log" "$root/deploy/slurm/wardial-array.sbatch"
}
merge() { "$wardial" merge "$OUT"/shard-*-4.jsonl -o "$work/merged.jsonl" 2>"$work/merge.txt"; }
addresses() { grep -o '"addr":"[^"]*","port":[0-9]*' "$work/merged.jsonl" | sort; }
findings() { grep -c '"position"' "$1" 2>/dev/null || true; }

submit 1,2,4 "--rate 2000" || fail "tasks 1, 2 and 4 failed"
merge && fail "a merge without shard 3 must exit non-zero"
grep -q "missing shards: 3/4" "$work/merge.txt" || fail "the merge did not name shard 3: $(cat "$work/merge.txt")"
submit 3 "--rate 2000" || fail "task 3 alone failed"
merge || fail "after task 3: $(cat "$work/merge.txt")"
[ "$(addresses | wc -l)" = 1024 ] && [ -z "$(addresses | uniq -d)" ] || fail "not every address exactly once"
say "1. --array=1,2,4 then --array=3: $(head -1 "$work/merge.txt")"

# --- a task cancelled mid-scan, then run again ------------------------------------------------
rm "$OUT/shard-2-4.jsonl"
# Paced to 40 a second so that it is surely mid-scan when cancelled (every model hands on each
# finding as it comes while it waits for its next start).
WARDIAL_ARGS="--rate 40" sbatch --parsable --array=2 --export=ALL --output="$work/results/cancel-%A_%a.log" \
    "$root/deploy/slurm/wardial-array.sbatch" >"$work/jobid"
job=$(cut -d';' -f1 "$work/jobid")
for _ in $(seq 1 100); do
    [ "$(findings "$OUT/shard-2-4.jsonl")" -ge 40 ] 2>/dev/null && break
    sleep 0.2
done
scancel "$job" || fail "scancel $job failed"
for _ in $(seq 1 100); do
    squeue -h -j "$job" 2>/dev/null | grep -q . || break
    sleep 0.2
done
before=$(findings "$OUT/shard-2-4.jsonl")
[ "$before" -ge 1 ] || fail "task 2 had reported nothing when it was cancelled: nothing to resume from"
[ "$before" -lt 256 ] || fail "task 2 finished before it could be cancelled"
grep -q '"ended":"complete"' "$OUT/shard-2-4.jsonl" && fail "a cancelled task's output says complete"
submit 2 "--rate 2000" || fail "task 2 run again failed"
merge || fail "after the cancelled task ran again: $(cat "$work/merge.txt")"
[ "$(addresses | wc -l)" = 1024 ] && [ -z "$(addresses | uniq -d)" ] || fail "not every address exactly once after the cancel"
grep -q " 0 duplicates" "$work/merge.txt" || fail "the restarted task reported targets twice: $(cat "$work/merge.txt")"
say "2. task 2 cancelled after $before of 256, run again: $(head -1 "$work/merge.txt")"

# --- a finished task again; an output of another plan -----------------------------------------
lines=$(wc -l <"$OUT/shard-1-4.jsonl")
submit 1 "--rate 2000" || fail "re-running the finished task 1 failed"
[ "$(wc -l <"$OUT/shard-1-4.jsonl")" = "$lines" ] || fail "re-running a finished task changed its output"
"$wardial" scan 127.0.0.0/22 -p 9 --seed 8 --shard 1/4 -o "$work/other.jsonl" 2>/dev/null
if "$wardial" merge "$OUT/shard-2-4.jsonl" "$work/other.jsonl" >/dev/null 2>"$work/refused.txt"; then
    fail "merge took outputs of two plans"
fi
grep -q "cannot be merged" "$work/refused.txt" || fail "merge refused, but not by plan: $(cat "$work/refused.txt")"
say "3. a finished task re-run changes nothing; merge refuses another plan"
say "passed"
