#!/bin/bash
# Reproducer: non-zero entries after nr_zones in the last cluster of the
# write-pointer table are accepted.
#
# docs/interop/qcow2.rst ("Write pointer table"): "Entries beyond nr_zones
# in the last cluster of the table must be zero."  block/qcow2-zoned.c,
# qcow2_zoned_load_table() reads only nr_zones entries, so an image with
# garbage in the padding opens (and qemu-img check says nothing).  Minor:
# either the reader checks the padding like the reserved bits of an entry,
# or the format says readers ignore it.  Exits 1 while it opens, 0 once
# refused with the exact message below.
set -uo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
b=${BUILD_DIR:-$top/qemu/build}
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
img=$d/z.qcow2
"$b/qemu-img" create -q -f qcow2 "$img" -o size=4M,zone.size=1M,zone.mode=host-managed
/usr/bin/python3 -c '
import sys
sys.path.insert(0, "'"$top"'/tests/fuzz")
import qcow2img as Q
im = Q.read_image(sys.argv[1])
Q.put_uint(im.data, im.wp_table_offset() + 8 * 4, 8, 0xdeadbeef)  # entry 4 of 4 zones
open(sys.argv[1], "wb").write(im.data)
' "$img"
# The exact refusal (block/qcow2-zoned.c, qcow2_zoned_check_padding())
want="qemu-io: can't open device $img: Zone write pointer table: the bytes after the entry of the last zone are not zero"
out=$("$b/qemu-io" -f qcow2 -c "zrp 0 4" "$img" 2>&1)
rc=$?
echo "$out"
if [ $rc != 0 ] && [ "$out" = "$want" ]; then
    echo "FIXED: non-zero table padding refused"
    exit 0
fi
if [ $rc != 0 ]; then
    echo "UNEXPECTED: refused, but not with: $want"
    exit 1
fi
"$b/qemu-img" check "$img"
echo "BUG (minor): non-zero table padding accepted"
exit 1
