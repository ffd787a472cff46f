#!/bin/bash
# Boot Debian's Linux 6.12 with a zoned qcow2 image attached as a user would
# (-blockdev driver=qcow2 + -device virtio-blk-pci) and run the in-guest
# zoned checks (guest/), then two power cycles: a clean restart and a
# SIGKILL after a flush.  Prints the guest's TAP lines (prefixed by run).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
b=${BUILD_DIR:-$top/qemu/build}
dir="$top/.cache/guest-check"
mkdir -p "$dir"

if ! "$top/guest/build.sh" >"$dir/build.log" 2>&1; then
    echo "1..1"
    echo "not ok 1 - guest/build.sh (see .cache/guest-check/build.log)"
    tail -n 20 "$dir/build.log" | sed 's/^/# /'
    exit 1
fi
sed -n 's/^/# /p' "$top/.cache/guest/out/versions.txt" 2>/dev/null | head -n 8

mkimg() {
    rm -f "$dir/zbc.qcow2"
    "$b/qemu-img" create -q -f qcow2 "$dir/zbc.qcow2" -o size=768M \
        -o zone.size=64M -o zone.capacity=64M -o zone.conventional_zones=0 \
        -o zone.max_append_bytes=4096 -o zone.max_open_zones=6 \
        -o zone.max_active_zones=8 -o zone.mode=host-managed
}

failed=0
for run in zoned persist persist-crash; do
    mkimg
    start=$(date +%s)
    out=$("$top/guest/run.sh" "$dir/zbc.qcow2" "$run" 2>"$dir/$run.err")
    rc=$?
    echo "$out" | grep -E '^(ok|not ok) ' | sed "s/^\(\(not \)\?ok [0-9]*\) /\1 $run: /"
    echo "$out" | grep -E '^guest: ' | sed "s/^/# $run: /"
    echo "# $run: $(( $(date +%s) - start )) s, exit $rc"
    if [ $rc != 0 ]; then
        failed=1
        if ! echo "$out" | grep -q '^not ok'; then
            echo "not ok - $run: the guest run did not complete (exit $rc)"
            tail -n 20 "$dir/$run.err" | sed 's/^/# /'
        fi
    fi
done
exit $failed
