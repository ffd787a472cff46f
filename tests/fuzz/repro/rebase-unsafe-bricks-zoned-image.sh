#!/bin/bash
# Reproducer: 'qemu-img rebase -u' writes a backing file into a zoned image,
# which then cannot be opened by anything, not even to undo the rebase.
#
# block/qcow2.c, qcow2_co_change_backing_file() does not refuse zoned
# images, while qcow2_do_open() refuses "Zoned images with a backing file"
# (and qcow2_co_create() refuses to create one).  'rebase -u -b base' succeeds
# (exit 0), and then 'qemu-img info', 'qemu-io' and even
# 'qemu-img rebase -u -b ""' fail: the image is lost for QEMU.  Every caller
# of bdrv_change_backing_file() (QMP change-backing-file, block-stream /
# block-commit completing on a zoned node) reaches the same function.
# Expected: the change is refused (-ENOTSUP; the exact message is checked)
# and the image keeps its data.
# Exits 1 while the bug is there, 0 once fixed.
set -uo pipefail
top=$(cd "$(dirname "$0")/../../.." && pwd)
b=${BUILD_DIR:-$top/qemu/build}
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
"$b/qemu-img" create -q -f qcow2 "$d/base.qcow2" 4M
"$b/qemu-img" create -q -f qcow2 "$d/z.qcow2" \
    -o size=4M,zone.size=1M,zone.mode=host-managed
"$b/qemu-io" -c "write -P 0x5a 1M 4k" "$d/z.qcow2" >/dev/null
out=$("$b/qemu-img" rebase -u -b "$d/base.qcow2" -F qcow2 "$d/z.qcow2" 2>&1)
rc=$?
echo "$out"
echo "qemu-img rebase -u: exit $rc"
if [ $rc != 0 ]; then
    # The exact refusal (block/qcow2.c, qcow2_co_change_backing_file():
    # -ENOTSUP), and the image still opens with its data
    want="qemu-img: Could not change the backing file to '$d/base.qcow2': Operation not supported"
    if [ "$out" != "$want" ]; then
        echo "UNEXPECTED: refused, but not with: $want"
        exit 1
    fi
    if ! "$b/qemu-io" -c "read -P 0x5a 1M 4k" "$d/z.qcow2" >/dev/null ||
       [ -n "$("$b/qemu-img" info --output=json "$d/z.qcow2" |
               grep '"backing-filename"')" ]; then
        echo "BUG: the refused rebase changed the image"
        exit 1
    fi
    echo "FIXED: the rebase is refused and the image is intact"
    exit 0
fi
"$b/qemu-img" info "$d/z.qcow2"; echo "qemu-img info: exit $?"
"$b/qemu-img" rebase -u -b "" "$d/z.qcow2"; echo "undo (rebase -u -b ''): exit $?"
"$b/qemu-io" -c "read -P 0x5a 1M 4k" "$d/z.qcow2"; echo "qemu-io: exit $?"
echo "BUG: the zoned image took a backing file and no longer opens"
exit 1
