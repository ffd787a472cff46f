#!/bin/bash
# Allocation ahead of the writes in a sequential zone on a data file that
# cannot zero without writing data (blklogwrites has no
# BDRV_REQ_NO_FALLBACK, like file systems without fallocate()): the
# clusters must not be mapped unzeroed beyond the end of the image file.
#
# Two writes in flight in one zone make the second one allocate the rest of
# the 8 MiB extent ahead (block/qcow2-zoned.c, zone_prepare());
# qcow2_co_preallocate_range() cannot zero them there and must map
# nothing.  Before that fix, it mapped them anyway and even this clean run
# left an image that 'qemu-img check' finds corrupt ("counting reference
# for region exceeding the end of the file", 126 errors); a write-log
# replay (tests/crash/replay.py --seed 3) found it after power cuts.
# Exits 0 when the image is clean and holds the data, 1 otherwise.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
b=${BUILD_DIR:-$top/qemu/build}
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
img=$d/z.qcow2
"$b/qemu-img" create -q -f qcow2 "$img" \
    -o size=64M,zone.mode=host-managed,zone.size=16M,zone.max_append_bytes=4096
: >"$d/log"
out=$("$b/qemu-io" -t writeback --image-opts \
      "driver=qcow2,file.driver=blklogwrites,file.file.driver=file,file.file.filename=$img,file.log.driver=file,file.log.filename=$d/log" \
      -c "aio_write -P 1 16M 64k" -c "aio_write -P 2 16448k 64k" \
      -c "aio_flush" 2>&1)
rc=$?
echo "$out" | grep -v "ops/sec"
[ $rc = 0 ] || { echo "FAIL: qemu-io exit $rc"; exit 1; }
chk=$("$b/qemu-img" check "$img" 2>&1)
crc=$?
if [ $crc != 0 ]; then
    echo "$chk" | tail -n 5
    echo "FAIL: qemu-img check exit $crc after a clean run"
    exit 1
fi
if ! "$b/qemu-io" -r -c "read -P 1 16M 64k" -c "read -P 2 16448k 64k" \
     -c "read -P 0 16512k 64k" "$img" >/dev/null ||
   "$b/qemu-io" -r -c "read -P 1 16M 64k" -c "read -P 2 16448k 64k" \
     -c "read -P 0 16512k 64k" "$img" | grep -q "Pattern verification failed"; then
    echo "FAIL: the data is not what was written"
    exit 1
fi
echo "OK: clean image, data in place"
