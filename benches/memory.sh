#!/usr/bin/env bash
# Peak memory per in-flight probe, each model in its own process: the lecture's "threads are
# expensive" as a number.
#
# Run with: bash benches/memory.sh            (N=2000 connections; N=500 bash benches/memory.sh)
#
# How: `wardial simnet` serves N silent (blackhole) hosts in a process of its own and lists them;
# `wardial scan` then probes all N at once with --max-connections N, so N probes are in flight
# until their timeout, and /usr/bin/time reports the scanner's peak resident memory. The same
# scan of one host gives the baseline; (peak - baseline) / N is the cost of one probe in flight.
# Needs /usr/bin/time (Debian: apt-get install time). Every connection is to 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${N:-2000}
MODELS=${MODELS:-"threads rayon-sized callbacks own-state-machine own-promises own-async-fn green-threads uring tokio tokio-current-thread async-std smol compio"}
[ -x /usr/bin/time ] || { echo "memory.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

cargo build --release -q -p wardial
W=target/release/wardial
tmp=$(mktemp -d)
trap 'kill $SIM 2>/dev/null || true; rm -rf "$tmp"' EXIT

$W simnet --mix silent --range 127.96.0.0/20 --targets "$tmp/hosts" > "$tmp/simnet.log" &
SIM=$!
for _ in $(seq 100); do [ -s "$tmp/hosts" ] && break; sleep 0.1; done
head -n "$N" "$tmp/hosts" > "$tmp/many"
head -n 1 "$tmp/hosts" > "$tmp/one"

peak_kib() { # model, targets file, connections
    /usr/bin/time -f "%M" -o "$tmp/rss" "$W" scan -i "$2" -m "$1" -c "$3" -t 2s --json > /dev/null 2>&1 || true
    cat "$tmp/rss"
}

printf "%-22s %12s %12s %14s\n" model "baseline KiB" "peak KiB" "per probe"
for m in $MODELS; do
    # A model that cannot run here (io_uring refused, say) says why, and is left out.
    if ! "$W" scan -i "$tmp/one" -m "$m" -t 10ms > /dev/null 2> "$tmp/err"; then
        printf "%-22s %s\n" "$m" "$(tail -n 1 "$tmp/err")"
        continue
    fi
    base=$(peak_kib "$m" "$tmp/one" 1)
    peak=$(peak_kib "$m" "$tmp/many" "$N")
    per=$(( (peak - base) * 1024 / N ))
    printf "%-22s %12s %12s %11s B\n" "$m" "$base" "$peak" "$per"
done
echo "($N probes in flight, each to a silent host; one process per measurement)"
