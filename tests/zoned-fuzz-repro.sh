#!/bin/bash
# Replays the fuzzer's reproducers (tests/fuzz/repro/*.sh) against the
# normal build, for 'make check'.  Each reproducer exits 0 only when QEMU
# refuses the bad input with the exact message it expects (and 1 while the
# bug is there or when the message changed).  Prints TAP.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$top/qemu/build}
repros=("$top"/tests/fuzz/repro/*.sh)
echo "1..${#repros[@]}"
n=0
failed=0
for r in "${repros[@]}"; do
    n=$((n + 1))
    name=$(basename "$r" .sh)
    out=$(bash "$r" 2>&1)
    rc=$?
    if [ $rc = 0 ]; then
        echo "ok $n - repro $name: $(echo "$out" | tail -n 1)"
    else
        echo "$out" | tail -n 15 | sed 's/^/# /'
        echo "not ok $n - repro $name (exit $rc)"
        failed=1
    fi
done
exit $failed
