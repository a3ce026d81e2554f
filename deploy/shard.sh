#!/bin/sh
# Prints this task's `--shard I/N` for wardial. The shard is the task's own index, whatever part
# of the job runs: a Slurm task re-run alone (`sbatch --array=3`) is still shard 3.
#   Kubernetes Indexed Job: JOB_COMPLETION_INDEX is 0 .. completions-1, so the shard is the
#                           index + 1. N is SHARDS (= the Job's completions).
#   Slurm job array:        SLURM_ARRAY_TASK_ID is the shard itself: declare the array as
#                           --array=1-N (or any part of it, or a step: 2,4 or 1-8:2). N is
#                           SHARDS, never the count or the minimum of the tasks this run has
#                           (a re-run of one task has one of each).
# A missing index, an index outside 1..N, or an array that reaches past N is refused before
# anything is probed: a shard scanned twice or never is worse than a job that fails at once.
set -eu

fail() {
    echo "shard.sh: $*" >&2
    exit 2
}

count=${SHARDS:-}
case "$count" in
    '' | *[!0-9]* | 0*) fail "set SHARDS to the number of shards (a whole number from 1, no leading zero)" ;;
esac

if [ -n "${JOB_COMPLETION_INDEX:-}" ]; then
    case "$JOB_COMPLETION_INDEX" in *[!0-9]*) fail "JOB_COMPLETION_INDEX='$JOB_COMPLETION_INDEX' is not a number" ;; esac
    index=$((JOB_COMPLETION_INDEX + 1))
    where="completion index $JOB_COMPLETION_INDEX"
elif [ -n "${SLURM_ARRAY_TASK_ID:-}" ]; then
    case "$SLURM_ARRAY_TASK_ID" in *[!0-9]*) fail "SLURM_ARRAY_TASK_ID='$SLURM_ARRAY_TASK_ID' is not a number" ;; esac
    index=$SLURM_ARRAY_TASK_ID
    where="array task $SLURM_ARRAY_TASK_ID"
    # The whole array must fit in 1..SHARDS, not just this task: an --array=1-8 with SHARDS=4
    # would scan four shards twice over, and the first tasks to run would not know it.
    if [ -n "${SLURM_ARRAY_TASK_MAX:-}" ] && [ "$SLURM_ARRAY_TASK_MAX" -gt "$count" ]; then
        fail "the array reaches task $SLURM_ARRAY_TASK_MAX but SHARDS=$count: declare --array=1-$count (task IDs are the shards)"
    fi
    if [ -n "${SLURM_ARRAY_TASK_MIN:-}" ] && [ "$SLURM_ARRAY_TASK_MIN" -lt 1 ]; then
        fail "the array starts at task $SLURM_ARRAY_TASK_MIN: declare --array=1-$count (task IDs are the shards, from 1)"
    fi
else
    fail "neither JOB_COMPLETION_INDEX (Kubernetes) nor SLURM_ARRAY_TASK_ID (Slurm) is set"
fi

if [ "$index" -lt 1 ] || [ "$index" -gt "$count" ]; then
    fail "$where is shard $index, outside 1..$count: the job's size and SHARDS disagree (Slurm task IDs are the shards: --array=1-$count)"
fi
echo "$index/$count"
