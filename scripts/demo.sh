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

run() { echo "\$ $*" | sed "s|$b/||g"; "$@"; }

echo "== $("$b/qemu-img" --version | head -n 1)"
if ! "$b/qemu-img" create -f qcow2 -o help 2>/dev/null | grep -q 'zone\.mode'; then
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
echo "== a write at zone 1's write pointer, one elsewhere (refused), an append"
run "$b/qemu-io" -f qcow2 -c "write -P 0xa5 64M 1M" -c "write 64M 4k" \
    -c "zap -p 128M 4096" -c "zrp 64M 2" zbc.qcow2
echo "== reopened: the write pointers persisted, written zones are closed"
run "$b/qemu-io" -f qcow2 -c "read -P 0xa5 64M 1M" -c "zrp 0 3" \
    -c "zf 64M 64M" -c "zrs 128M 64M" -c "zrp 64M 2" zbc.qcow2
run "$b/qemu-img" check zbc.qcow2
echo "== demo done: $img"
