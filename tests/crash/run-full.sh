#!/bin/bash
# Full runs of the zoned qcow2 crash tests:
#   tests/crash/zoned-crash.py  1000 SIGKILL iterations (normal build), then
#                               200 with the ASan+UBSan qemu-io
#   tests/crash/replay.py       40 write-log replay iterations, every prefix
# Usage: tests/crash/run-full.sh [SEED]
# Logs: .cache/crash/full-*.log.  Exit status non-zero on any failure.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
seed=${1:-1}
b=${BUILD_DIR:-$top/qemu/build}
mkdir -p "$top/.cache/crash"
rc=0

t=$(date +%s)
/usr/bin/python3 "$top/tests/crash/zoned-crash.py" --seed "$seed" \
    --iterations "${CRASH_ITERATIONS:-1000}" --build "$b" 2>&1 |
    tee "$top/.cache/crash/full-crash-$seed.log"
[ "${PIPESTATUS[0]}" = 0 ] || rc=1
echo "# SIGKILL loop: $(( $(date +%s) - t )) s"

if asan=$("$top/tests/fuzz/build-asan.sh"); then
    t=$(date +%s)
    /usr/bin/python3 "$top/tests/crash/zoned-crash.py" --seed "$((seed + 1000))" \
        --iterations "${CRASH_ASAN_ITERATIONS:-200}" --build "$b" \
        --io-build "$asan" 2>&1 |
        tee "$top/.cache/crash/full-crash-asan-$seed.log"
    [ "${PIPESTATUS[0]}" = 0 ] || rc=1
    echo "# SIGKILL loop with the ASan qemu-io: $(( $(date +%s) - t )) s"
else
    echo "# could not build the ASan tools"; rc=1
fi

t=$(date +%s)
/usr/bin/python3 "$top/tests/crash/replay.py" --seed "$seed" \
    --iterations "${REPLAY_ITERATIONS:-40}" --build "$b" 2>&1 |
    tee "$top/.cache/crash/full-replay-$seed.log"
[ "${PIPESTATUS[0]}" = 0 ] || rc=1
echo "# write-log replay: $(( $(date +%s) - t )) s"
exit $rc
