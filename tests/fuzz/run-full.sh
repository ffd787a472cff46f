#!/bin/bash
# Full run of the zoned qcow2 mutation fuzzer: 10,000 cases by default.
# Usage: tests/fuzz/run-full.sh [SEED [CASES]]
# The log goes to .cache/fuzz/full-run-<seed>.log as well as stdout; failing
# inputs to .cache/fuzz/crashes/.  Exit status non-zero on any crash, hang or
# silent refusal.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
seed=${1:-1}
cases=${2:-10000}
mkdir -p "$top/.cache/fuzz"
asan=$("$top/tests/fuzz/build-asan.sh") || exit 1
start=$(date +%s)
/usr/bin/python3 "$top/tests/fuzz/zoned-fuzz.py" --seed "$seed" \
    --cases "$cases" --jobs 2 --strict --asan-build "$asan" 2>&1 |
    tee "$top/.cache/fuzz/full-run-$seed.log"
rc=${PIPESTATUS[0]}
echo "# full fuzz run: seed $seed, $cases cases in $(( $(date +%s) - start )) s, exit $rc"
exit "$rc"
