#!/bin/bash
# Short run of the zoned qcow2 mutation fuzzer (tests/fuzz/zoned-fuzz.py)
# against the ASan+UBSan build of qemu-img/qemu-io, for 'make check'.
# Builds the sanitizer tools first if needed (tests/fuzz/build-asan.sh,
# incremental).  Runs with --strict: an opened image that breaks the format
# fails, as do a refused valid image, qemu-io errors on a valid image, a
# missing zone report, a targeted mutation whose outcome is not the expected
# one and a creation with two bad options that does not give one error
# (tests/fuzz/README.md).  Prints TAP.  Environment: FUZZ_SEED (default 1),
# FUZZ_CASES (default 200), BUILD_DIR (normal build, for the seed images).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
seed=${FUZZ_SEED:-1}
cases=${FUZZ_CASES:-200}
log_dir="$top/.cache/fuzz"
mkdir -p "$log_dir"

echo "1..1"
start=$(date +%s)
if ! asan=$("$top/tests/fuzz/build-asan.sh" 2>"$log_dir/build-asan.log"); then
    tail -n 20 "$log_dir/build-asan.log" | sed 's/^/# /'
    echo "not ok 1 - fuzz: could not build the ASan tools"
    exit 1
fi
echo "# ASan/UBSan tools in $asan (built or checked in $(( $(date +%s) - start )) s)"
grep "not rebuilding" "$log_dir/build-asan.log" | sed 's/^/# /'

out="$log_dir/short-run.log"
# --timeout only guards against a hang (a tool takes well under a second on
# these small images): generous, so that a loaded machine never turns a slow
# case into a failure and the answer is the same every time
/usr/bin/python3 "$top/tests/fuzz/zoned-fuzz.py" --seed "$seed" \
    --cases "$cases" --jobs 2 --quiet --strict --timeout 120 --asan-build "$asan" \
    >"$out" 2>&1
rc=$?
summary=$(grep -E '^cases [0-9]+, opened' "$out" | tail -n 1)
grep -E '^#' "$out"
if [ $rc = 0 ] && [ -n "$summary" ]; then
    echo "ok 1 - fuzz: $summary (seed $seed)"
else
    grep -v -E '^#|^cases ' "$out" | tail -n 20 | sed 's/^/# /'
    echo "not ok 1 - fuzz: ${summary:-no summary, exit $rc} (seed $seed; log: .cache/fuzz/short-run.log)"
    exit 1
fi
