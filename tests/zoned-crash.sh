#!/bin/bash
# Short runs of the zoned qcow2 crash tests, for 'make check'.  Prints TAP:
#  1 - tests/crash/zoned-crash.py: qemu-io killed with SIGKILL at random
#      moments of a seeded zone workload, then qemu-img check and the write
#      pointer / data invariants (20 iterations by default, a fresh image
#      every 5: geometries 0-3 of zmodel.GEOMETRIES, among them the two
#      with tight open/active limits);
#  2 - tests/crash/replay.py: the same workload through blklogwrites, its
#      write log replayed prefix by prefix and reordered between flushes
#      (power-failure model; 4 iterations by default, geometries 0-3);
#  3 - tests/crash/no-fallback-zeroes.sh: clusters allocated ahead of the
#      writes of a zone on a data file without BDRV_REQ_NO_FALLBACK
#      (blklogwrites) are not mapped beyond the end of the file;
#  4 - tests/crash/extended-l2-ahead.sh: allocation ahead does not zero a
#      cluster that is already mapped (extended L2 entries).
# Environment: CRASH_SEED (default 1), CRASH_ITERATIONS (20), CRASH_CHAIN
# (5), REPLAY_ITERATIONS (4), BUILD_DIR (default qemu/build).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
b=${BUILD_DIR:-$top/qemu/build}
seed=${CRASH_SEED:-1}
log_dir="$top/.cache/crash"
mkdir -p "$log_dir"
failed=0

echo "1..4"
tap() {   # $1 = number, $2 = name, $3 = log, $4 = exit code, $5 = summary regex
    local summary
    summary=$(grep -E "$5" "$3" | tail -n 1)
    grep -E '^#' "$3"
    if [ "$4" = 0 ] && [ -n "$summary" ]; then
        echo "ok $1 - $2: $summary (seed $seed)"
    else
        grep -v -E '^#' "$3" | grep -v -E "$5" | tail -n 20 | sed 's/^/# /'
        echo "not ok $1 - $2: ${summary:-no summary, exit $4} (seed $seed; log: ${3#"$top/"})"
        failed=1
    fi
}

/usr/bin/python3 "$top/tests/crash/zoned-crash.py" --seed "$seed" \
    --iterations "${CRASH_ITERATIONS:-20}" --chain "${CRASH_CHAIN:-5}" --build "$b" \
    >"$log_dir/short-crash.log" 2>&1
tap 1 "crash (SIGKILL)" "$log_dir/short-crash.log" $? '^iterations [0-9]+, checks'

/usr/bin/python3 "$top/tests/crash/replay.py" --seed "$seed" \
    --iterations "${REPLAY_ITERATIONS:-4}" --build "$b" \
    >"$log_dir/short-replay.log" 2>&1
tap 2 "crash (write-log replay)" "$log_dir/short-replay.log" $? '^iterations [0-9]+, states'

# allocation ahead on a data file that cannot zero without writing data
BUILD_DIR=$b bash "$top/tests/crash/no-fallback-zeroes.sh" \
    >"$log_dir/no-fallback-zeroes.log" 2>&1
tap 3 "allocation ahead without fallocate()" "$log_dir/no-fallback-zeroes.log" $? '^OK: '

# allocation ahead keeps clusters already mapped (extended L2 entries)
BUILD_DIR=$b bash "$top/tests/crash/extended-l2-ahead.sh" \
    >"$log_dir/extended-l2-ahead.log" 2>&1
tap 4 "allocation ahead keeps mapped clusters" "$log_dir/extended-l2-ahead.log" $? '^OK: '
exit $failed
