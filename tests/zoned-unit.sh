#!/bin/bash
# QEMU's block-drain unit tests, for 'make check': builds
# tests/unit/test-bdrv-drain if needed (not part of 'make') and runs all of
# it, upstream's cases and the series' /bdrv-drain/zoned/ ones: a drained
# section waits for the zone appends and resets in flight (through a
# BlockBackend, from a node, under a filter), and those issued while it lasts
# wait for its end.  Prints TAP (test-bdrv-drain's own, checked: the series'
# 16 zoned cases must be there).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
b=${BUILD_DIR:-$top/qemu/build}
log_dir="$top/.cache/unit"
mkdir -p "$log_dir"
if ! ninja -C "$b" tests/unit/test-bdrv-drain >"$log_dir/build.log" 2>&1; then
    tail -n 20 "$log_dir/build.log" | sed 's/^/# /'
    echo "1..1"
    echo "not ok 1 - unit test-bdrv-drain: could not build"
    exit 1
fi
out=$(cd "$b" && timeout 300 tests/unit/test-bdrv-drain --tap 2>&1)
rc=$?
zoned=$(grep -c '^ok [0-9]* /bdrv-drain/zoned/' <<<"$out")
plan=$(grep -E '^1\.\.[0-9]+$' <<<"$out" | head -n 1)
results=$(grep -E '^(not )?ok ' <<<"$out")
n=$(grep -c . <<<"$results")
echo "1..$((n + 1))"
sed -E 's|^(not )?ok ([0-9]+) |\1ok \2 - unit |' <<<"$results"
if [ "$rc" = 0 ] && [ "$zoned" = 16 ] && [ "$plan" = "1..$n" ]; then
    echo "ok $((n + 1)) - unit test-bdrv-drain: exit 0, plan $plan, 16 zoned cases"
else
    grep -E 'ERROR|Bail' <<<"$out" | head -n 10 | sed 's/^/# /'
    echo "not ok $((n + 1)) - unit test-bdrv-drain: exit $rc, plan '$plan', $zoned zoned cases passed"
    exit 1
fi
