#!/bin/sh
# Runs one shard of a wardial scan, appending its findings as JSON lines to
# OUT/shard-I-N.jsonl. Run it again after a failure, a kill or a preemption, and it goes on
# where that file and its checkpoint (OUT/shard-I-N.jsonl.resume.json) say: no target twice,
# none lost. A shard already complete is left as it is.
#
# Every shard must get the same TARGETS, SEED, EXCLUDE, PORT and SHARDS: together they are the
# scan's plan (its hash begins every output), and `wardial merge` refuses outputs of different
# plans. The job files in this directory pass them from one place for that reason.
#
#   TARGETS   networks to scan, space-separated (e.g. "10.20.0.0/16 10.21.0.0/16")
#   SEED      the seed of the random order (any number; the same for every shard)
#   SHARDS    how many shards in all (a job array's or an Indexed Job's size)
#   OUT       a directory for the shard's output and checkpoint (on a volume every task sees)
#   EXCLUDE   optional: a file of networks never to probe
#   PORT      optional: the ports, e.g. 80 or 80,443 (default 80)
#   WARDIAL_ARGS  optional: more options (--rate 500, --timeout 5s, --contact URL, ...).
#             --rate is per shard: N shards together start up to N times that many a second.
#
# Exit codes are wardial's: 0 done (or already done), 2 bad input (retrying cannot help),
# 3 stopped before the end (--budget: run it again), 130 interrupted (SIGINT or SIGTERM).
set -eu
here=$(dirname "$0")
shard=$("$here/shard.sh")
: "${TARGETS:?set TARGETS}" "${SEED:?set SEED: every shard needs the same one}"
: "${OUT:?set OUT to a directory for the shard outputs}"
if [ ! -d "$OUT" ]; then
    echo "run-shard.sh: OUT=$OUT is not a directory" >&2
    exit 2
fi

name=shard-$(echo "$shard" | tr / -)
set -- scan $TARGETS --port "${PORT:-80}" --seed "$SEED" --shard "$shard" \
    --output "$OUT/$name.jsonl" ${WARDIAL_ARGS:-}
if [ -n "${EXCLUDE:-}" ]; then
    set -- "$@" --exclude "$EXCLUDE"
fi
exec "${WARDIAL:-wardial}" "$@"
