#!/bin/bash
# The project's test suite ('make check'); expects a built tree.
#
#  1. QEMU's iotests for qcow2: the 'auto' group (the regression run of what
#     upstream already tests, including the series' zoned tests, which are in
#     'auto') plus the 'zoned' group, on the patched tree; then the 'zoned'
#     group again with -c writethrough and with -c none.  A test that is not
#     run fails the run unless tests/iotests-not-run lists it (never a zoned
#     test), and so does a TAP plan that does not match the results.
#  2. The project-level tests in tests/*.sh (each prints TAP).
#
# A test listed in tests/known-failures (name + reason, measured on unpatched
# 10.2.2 here) that fails is reported as a known failure and counted as
# skipped, never as passed; one that passes is reported so that the list can
# be trimmed.  The last line is 'N passed, N failed, N skipped'; the exit
# status is non-zero on any failure.
#
# Environment: CHECK_IOTESTS (default "-g auto,zoned": other ./check
# arguments, e.g. test names), CHECK_IOTESTS_CACHE (default "writethrough
# none": the cache modes of the extra runs of the zoned group; "" for none),
# CHECK_SUITES (default: all tests/*.sh; set to
# "none" to skip them), JOBS (parallel iotests, default: nproc).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
b=${BUILD_DIR:-$top/qemu/build}
log_dir="$top/.cache/check"
mkdir -p "$log_dir"
known="$top/tests/known-failures"

[ -x "$b/qemu-img" ] || { echo "check: no build in $b; run 'make build'" >&2; exit 1; }

pass=0 fail=0 skip=0
failed_names=()

is_known() {
    [ -f "$known" ] && grep -q -E "^$1([[:space:]]|$)" "$known"
}

# Reads TAP on stdin; $1 = suite prefix for the names.
count_tap() {
    local prefix=$1 line name
    while IFS= read -r line; do
        case "$line" in
        "ok "*"# SKIP"*|"ok "*"# skip"*)
            skip=$((skip + 1)) ;;
        "ok "*)
            name=$(echo "$line" | sed -E 's/^ok ([0-9]+ )?(- )?(qcow2 )?//; s/ #.*//')
            pass=$((pass + 1))
            if is_known "$prefix$name"; then
                echo "check: $prefix$name is in tests/known-failures but passed"
            fi ;;
        "not ok "*)
            name=$(echo "$line" | sed -E 's/^not ok ([0-9]+ )?(- )?(qcow2 )?//; s/ #.*//')
            if is_known "$prefix$name"; then
                echo "check: known failure: $prefix$name ($(grep -E "^$prefix$name" "$known" | cut -d' ' -f2-))"
                skip=$((skip + 1))
            else
                fail=$((fail + 1))
                failed_names+=("$prefix$name")
            fi ;;
        esac
    done
}

# --- 1. iotests -------------------------------------------------------------
# A test that is "not run" (TAP "ok ... # SKIP") fails the run unless it is
# listed in tests/iotests-not-run (name + reason, measured on unpatched
# 10.2.2 here); a test of the zoned group can never be listed.  The plan
# ("1..N") must match the number of results, or a test that stopped the
# run early would go unnoticed.
src_iotests=$(dirname "$(readlink -f "$b/tests/qemu-iotests/check")")
not_run_list="$top/tests/iotests-not-run"
zoned_iotests=$(grep -l -E '^# group:.*\<zoned\>' "$src_iotests"/tests/* \
                    "$src_iotests"/[0-9]* 2>/dev/null | xargs -r -n1 basename)

may_not_run() {
    ! echo "$zoned_iotests" | grep -qx -- "$1" &&
        grep -q -E "^$1([[:space:]]|$)" "$not_run_list" 2>/dev/null
}

# $1: label ("" for the main run, else the cache mode), then ./check args
run_iotests() {
    local label=$1 tap planned results line t why prefix
    shift
    tap="$log_dir/iotests${label:+-$label}.tap"
    prefix=${label:+$label/}
    echo "check: iotests: ./check -qcow2 $*"
    start=$(date +%s)
    (cd "$b/tests/qemu-iotests" &&
        ./check -tap -j "${JOBS:-$(nproc)}" -qcow2 "$@") \
        >"$tap" 2>"${tap%.tap}.err"
    if [ ! -s "$tap" ]; then
        echo "check: the iotests printed nothing:" >&2
        tail -n 20 "${tap%.tap}.err" >&2
        fail=$((fail + 1))
        failed_names+=("${prefix}iotests-run")
        return
    fi
    # The not-run tests are counted here, not by count_tap
    count_tap "$prefix" < <(grep -v -E "^ok .*# (SKIP|skip)" "$tap")
    while read -r line; do
        t=$(echo "$line" | sed -E 's/^ok (qcow2 )?//; s/ #.*//')
        why=$(cat "$b/tests/qemu-iotests/scratch/qcow2-file-$t/$t.notrun" \
              2>/dev/null)
        if may_not_run "$t"; then
            echo "check:   $prefix$t not run, listed in tests/iotests-not-run${why:+ ($why)}"
            skip=$((skip + 1))
        else
            if echo "$zoned_iotests" | grep -qx -- "$t"; then
                why="${why:+$why; }a zoned test must run"
            else
                why="${why:+$why; }not listed in tests/iotests-not-run"
            fi
            echo "check:   $prefix$t not run ($why): a failure"
            fail=$((fail + 1))
            failed_names+=("$prefix$t-not-run")
        fi
    done < <(grep -E "^ok .*# (SKIP|skip)" "$tap")
    grep -E "^not ok" "$tap" | sed "s|^|check:   $prefix|"
    planned=$(sed -n -E 's/^1\.\.([0-9]+)$/\1/p' "$tap" | head -n 1)
    results=$(grep -c -E "^(not )?ok " "$tap")
    if [ "${planned:-none}" != "$results" ]; then
        echo "check: iotests${label:+ ($label)}: the TAP plan says ${planned:-nothing} tests, $results results"
        fail=$((fail + 1))
        failed_names+=("${prefix}iotests-plan")
    fi
    echo "check: iotests${label:+ ($label)} done in $(( $(date +%s) - start )) s (TAP: ${tap#"$top"/})"
}

iotest_args=${CHECK_IOTESTS:--g auto,zoned}
# shellcheck disable=SC2086
run_iotests "" $iotest_args
# The zoned group with the two other cache modes (the main run uses
# writeback); CHECK_IOTESTS_CACHE="" skips them
for mode in ${CHECK_IOTESTS_CACHE-writethrough none}; do
    run_iotests "$mode" -c "$mode" -g zoned
done

# --- 2. project-level suites -------------------------------------------------
suites=${CHECK_SUITES:-$(ls "$top"/tests/*.sh 2>/dev/null)}
if [ "$suites" != none ]; then
    for s in $suites; do
        n=$(basename "$s" .sh)
        echo "check: suite $n"
        start=$(date +%s)
        BUILD_DIR=$b bash "$s" >"$log_dir/$n.tap" 2>"$log_dir/$n.err"
        rc=$?
        count_tap "$n/" <"$log_dir/$n.tap"
        grep -E "^(not ok|ok .*# SKIP|#)" "$log_dir/$n.tap" | sed 's/^/check:   /'
        if [ $rc != 0 ] && ! grep -q "^not ok" "$log_dir/$n.tap"; then
            echo "check: suite $n exited $rc without a failing test:" >&2
            tail -n 20 "$log_dir/$n.err" >&2
            fail=$((fail + 1))
            failed_names+=("$n")
        fi
        echo "check: suite $n done in $(( $(date +%s) - start )) s"
    done
fi

[ ${#failed_names[@]} -gt 0 ] && echo "check: FAILED: ${failed_names[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
