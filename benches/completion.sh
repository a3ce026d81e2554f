#!/usr/bin/env bash
# Readiness against completion, side by side: probes/s, CPU seconds (user, sys) per 10 000 probes
# and system calls per probe, for the callbacks loop and tokio-current-thread (readiness: epoll)
# and the uring loop and compio (completion: io_uring), on the same simulated hosts.
#
# Run with: bash benches/completion.sh        (Linux; needs /usr/bin/time and strace)
#
# How: `wardial simnet` serves 10 000 hosts that answer at once, in a process of its own, so the
# scanner's CPU is its own; `wardial scan` probes all of them through 256 connections, once under
# /usr/bin/time and once under `strace -c -f` (which slows it, so its times are not used).
# Every connection is to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-10000}
MODELS=${MODELS:-"callbacks tokio-current-thread uring compio"}
for tool in /usr/bin/time strace; do
    command -v "$tool" >/dev/null || { echo "completion.sh: needs $tool" >&2; exit 2; }
done

cargo build --release -q -p wardial
W=target/release/wardial
tmp=$(mktemp -d)
trap 'kill $SIM 2>/dev/null || true; rm -rf "$tmp"' EXIT

$W simnet --mix live --latency 0 --range 127.96.0.0/18 --targets "$tmp/hosts" > "$tmp/simnet.log" &
SIM=$!
for _ in $(seq 100); do [ -s "$tmp/hosts" ] && break; sleep 0.1; done
head -n "$N" "$tmp/hosts" > "$tmp/targets"

printf "%-22s %10s %10s %10s %12s\n" model "probes/s" "user s" "sys s" "syscalls/probe"
for m in $MODELS; do
    scan=("$W" scan -i "$tmp/targets" -m "$m" -c 256 -t 5s --json)
    /usr/bin/time -f "%e %U %S" -o "$tmp/time" "${scan[@]}" > /dev/null 2> "$tmp/err" || {
        echo "$m: $(tail -n 1 "$tmp/err")"; continue; }
    read -r wall user sys < "$tmp/time"
    strace -c -f -o "$tmp/strace" "${scan[@]}" > /dev/null 2>&1 || true
    calls=$(awk '$NF == "total" { print $(NF-2) }' "$tmp/strace")
    awk -v m="$m" -v n="$N" -v w="$wall" -v u="$user" -v s="$sys" -v c="$calls" 'BEGIN {
        printf "%-22s %10.0f %10.2f %10.2f %12.1f\n", m, n / w, u * 10000 / n, s * 10000 / n, c / n }'
done
echo "($N hosts answering at once, 256 connections; CPU seconds per 10 000 probes; system calls counted by strace -c -f)"
