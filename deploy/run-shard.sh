#!/bin/sh
# Runs one shard of a wardial scan and writes its findings as JSON lines.
#
# Every shard must get the same TARGETS, SEED and EXCLUDE, and the same number of SHARDS:
# together they define the order and the split, and shards that disagree overlap or leave
# gaps. The job files in this directory pass them from one place for that reason.
#
#   TARGETS   networks to scan, space-separated (e.g. "198.51.100.0/24 203.0.113.0/24")
#   SEED      the seed of the random order (any number; the same for every shard)
#   SHARDS    how many shards in all
#   EXCLUDE   optional: a file of networks never to probe
#   PORT      optional: the port (default 80)
#   OUT       optional: a directory to write shard-I-N.jsonl and the resume file into
#             (default: stdout, and the resume file in the current directory)
#   WARDIAL_ARGS  optional: more options (--rate 500, --allow-public, --timeout 5s, ...)
set -eu
here=$(dirname "$0")
shard=$("$here/shard.sh")
: "${TARGETS:?set TARGETS}" "${SEED:?set SEED: every shard needs the same one}"

set -- scan $TARGETS --port "${PORT:-80}" --seed "$SEED" --shard "$shard" --json \
    --resume-file "${OUT:-.}/wardial-resume-$(echo "$shard" | tr / -).json" ${WARDIAL_ARGS:-}
if [ -n "${EXCLUDE:-}" ]; then
    set -- "$@" --exclude "$EXCLUDE"
fi

if [ -n "${OUT:-}" ] && [ ! -d "$OUT" ]; then
    echo "run-shard.sh: OUT=$OUT is not a directory" >&2
    exit 2
fi
if [ -n "${OUT:-}" ]; then
    exec "${WARDIAL:-wardial}" "$@" > "$OUT/shard-$(echo "$shard" | tr / -).jsonl"
fi
exec "${WARDIAL:-wardial}" "$@"
