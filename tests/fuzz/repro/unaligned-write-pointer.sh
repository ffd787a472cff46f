#!/bin/bash
# Reproducer: a write pointer that is not a multiple of 512 is accepted.
#
# block/qcow2-zoned.c, qcow2_zoned_parse_entry() checks that a stored write
# pointer lies in [zone start, zone start + capacity] but not that it is a
# multiple of 512 (the zone capacity must be, and zoned devices address
# sectors).  An image whose table stores zone 1's write pointer as
# 0x100001 opens; then
#  - the zone report (in sectors) shows the write pointer truncated to
#    0x800 sectors = 0x100000, where every write fails, so a guest
#    (virtio-blk reports sectors) can never write the zone again;
#  - qemu-io's byte-addressed write at 0x100001 is accepted, so the zone's
#    data starts at an unaligned offset and a zone append lands at byte
#    0x100201 while it reports "sector 0x801".
# Expected: the open is refused with an error naming the entry, like the
# other invalid entries (the exact message is checked).  Exits 1 while
# the bug is there, 0 once fixed.
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
Q.put_uint(im.data, im.wp_table_offset() + 8 * 1, 8, 0x100001)
open(sys.argv[1], "wb").write(im.data)
' "$img"
out=$("$b/qemu-io" -f qcow2 -c "zrp 1M 1" -c "write -P 0x11 0x100001 512" \
      -c "zap -p 1M 512" -c "zrp 1M 1" "$img" 2>&1)
rc=$?
echo "$out"
# The exact refusal (block/qcow2-zoned.c, qcow2_zoned_parse_entry())
want="qemu-io: can't open device $img: Zone write pointer table: write pointer 0x100001 of zone 1 is not a multiple of 512"
if [ $rc != 0 ] && [ "$out" = "$want" ]; then
    echo "FIXED: the unaligned write pointer is refused"
    exit 0
fi
if [[ $out == *"can't open device"* ]]; then
    echo "UNEXPECTED: refused, but not with: $want"
    exit 1
fi
echo "BUG: an image with write pointer 0x100001 opened and took writes"
exit 1
