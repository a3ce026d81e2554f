#!/usr/bin/env bash
# Memory per probe in flight, each model in a process and a memory cgroup of its own: the
# lecture's "threads are expensive" as a number, the kernel's part (thread stacks and task
# structs, socket buffers) included.
#
# Run with: bash benches/memory.sh      (MODELS="threads tokio" bash benches/memory.sh for a few)
#
# The figure is the race's own (one method everywhere): `wardial race` measures each model with
# 100 and with 1000 probes in flight to silent hosts and takes the difference, so the model's
# fixed costs (a runtime, a pool) are counted the same way for every model and none of them
# passes for a probe's. The race here is a small one on purpose: only its memory phase matters.
# Every connection is to 127.0.0.0/8.
set -euo pipefail
cd "$(dirname "$0")/.."

MODELS=${MODELS:-"threads rayon-sized callbacks own-state-machine own-promises own-async-fn green-threads uring tokio tokio-current-thread async-std smol compio"}

cargo build --release -q -p wardial
target/release/wardial race --models "$(echo "$MODELS" | tr ' ' ',')" --hosts 64 \
    --no-calibration --budget 2s --json 2>/dev/null | python3 -c '
import json, sys
doc = json.load(sys.stdin)
kib = lambda b: "n/a" if b is None else "%.1f KiB" % (b / 1024)
print("%-22s %12s %12s %10s" % ("model", "per probe", "kernel part", "in flight"))
for m in doc["models"]:
    note = m.get("unavailable") or m.get("memory_note") or ""
    print("%-22s %12s %12s %10s %s" % (m["model"], kib(m["memory_per_probe_bytes"]),
          kib(m.get("memory_kernel_per_probe_bytes")), m.get("memory_in_flight") or "n/a", note))
'
