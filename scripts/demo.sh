#!/bin/bash
# The main job: create a zoned qcow2 image with the specification's example
# command, show 'qemu-img info' and a zone report, write through the zone
# interface and show that it persisted.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
b=${BUILD_DIR:-$top/qemu/build}
dir="$top/.cache/demo"
img="$dir/zbc.qcow2"
mkdir -p "$dir"
rm -f "$img"
cd "$dir"

# run CMD...: show CMD as one would type it (arguments with spaces quoted,
# the build directory left out), then run it
run() {
    local a line="\$"
    for a in "$@"; do
        [[ $a == *" "* ]] && a="\"$a\""
        line+=" ${a#"$b/"}"
    done
    echo "$line"
    "$@"
}
die() { echo "demo: FAILED: $*" >&2; exit 1; }

# refused CMD MESSAGE: a qemu-io command that must fail with MESSAGE; qemu-io
# exits 1 for it, which is the expected outcome here (anything else fails)
refused() {
    local out rc
    echo "\$ qemu-io -f qcow2 -c \"$1\" zbc.qcow2    # expected to fail"
    out=$("$b/qemu-io" -f qcow2 -c "$1" zbc.qcow2 2>&1) && rc=0 || rc=$?
    printf '%s\n' "$out"
    [ "$rc" = 1 ] || die "'$1': qemu-io exited $rc, expected 1 (refused)"
    grep -q -F -x "$2" <<<"$out" || die "'$1': expected the message '$2'"
    echo "(refused as expected: qemu-io exited 1)"
}

echo "== $("$b/qemu-img" --version | head -n 1)"
# (the output is read whole before grep looks at it: 'cmd | grep -q' under
# pipefail fails when grep exits early and cmd dies of SIGPIPE)
help=$("$b/qemu-img" create -f qcow2 -o help 2>/dev/null || true)
if ! grep -q 'zone\.mode' <<<"$help"; then
    echo "== this build has no zoned format: creation is refused"
    run "$b/qemu-img" create -f qcow2 zbc.qcow2 -o size=768M -o zone.size=64M \
        -o zone.capacity=64M -o zone.conventional_zones=0 \
        -o zone.max_append_bytes=4096 -o zone.max_open_zones=6 \
        -o zone.max_active_zones=8 -o zone.mode=host-managed && exit 1
    exit 0
fi

run "$b/qemu-img" create -f qcow2 zbc.qcow2 -o size=768M -o zone.size=64M \
    -o zone.capacity=64M -o zone.conventional_zones=0 \
    -o zone.max_append_bytes=4096 -o zone.max_open_zones=6 \
    -o zone.max_active_zones=8 -o zone.mode=host-managed
run "$b/qemu-img" info zbc.qcow2
echo "== zone report (units: 512-byte sectors; zcond 1 empty, 2 implicitly"
echo "   open, 3 explicitly open, 4 closed, 14 full)"
run "$b/qemu-io" -f qcow2 -c "zrp 0 4" zbc.qcow2
echo "== a write at zone 1's write pointer, and an append to zone 2"
run "$b/qemu-io" -f qcow2 -c "write -P 0xa5 64M 1M" -c "zap -p 128M 4096" \
    -c "zrp 64M 2" zbc.qcow2
echo "== a write that is not at zone 1's write pointer (65M): it is expected to"
echo "   be refused with EINVAL, and the zone must not change"
refused 'write 64M 4k' 'write failed: Invalid argument'
run "$b/qemu-io" -f qcow2 -c "zrp 64M 1" zbc.qcow2 | tee zrp.out
grep -q -F -x 'start: 0x20000, len 0x20000, cap 0x20000, wptr 0x20800, zcond:4, [type: 2]' zrp.out ||
    die "zone 1 changed after the refused write (expected wptr 0x20800, closed)"
echo "== reopened: the write pointers persisted, written zones are closed"
run "$b/qemu-io" -f qcow2 -c "read -P 0xa5 64M 1M" -c "zrp 0 3" \
    -c "zf 64M 64M" -c "zrs 128M 64M" -c "zrp 64M 2" zbc.qcow2
run "$b/qemu-img" check zbc.qcow2
echo "== demo done: $img"
