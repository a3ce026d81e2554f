#!/bin/sh
# Prints this job's `--shard I/N` for wardial, from the job engine's index:
#   Kubernetes Indexed Job: JOB_COMPLETION_INDEX, 0 .. completions-1; N from SHARDS.
#   Slurm job array:        SLURM_ARRAY_TASK_ID, from SLURM_ARRAY_TASK_MIN (0 or 1, as the
#                           array was declared); N from SHARDS or SLURM_ARRAY_TASK_COUNT.
# wardial's shards are 1-based (1/N .. N/N), so each index is shifted to start at 1.
# A missing or out-of-range index is an error: a shard scanned twice or never is worse than a
# job that fails at once.
set -eu

if [ -n "${JOB_COMPLETION_INDEX:-}" ]; then
    index=$((JOB_COMPLETION_INDEX + 1))
    count=${SHARDS:?set SHARDS to the number of completions}
elif [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
    index=$((SLURM_ARRAY_TASK_ID - ${SLURM_ARRAY_TASK_MIN:-1} + 1))
    count=${SHARDS:-${SLURM_ARRAY_TASK_COUNT:?set SHARDS or run as a job array}}
else
    echo "shard.sh: neither JOB_COMPLETION_INDEX (Kubernetes) nor SLURM_ARRAY_TASK_ID (Slurm) is set" >&2
    exit 2
fi

if [ "$index" -lt 1 ] || [ "$index" -gt "$count" ]; then
    echo "shard.sh: index $index is outside 1..$count: the job's size and SHARDS disagree" >&2
    exit 2
fi
echo "$index/$count"
