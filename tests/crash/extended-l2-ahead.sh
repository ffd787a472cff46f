#!/bin/bash
# Allocation ahead of the writes of a zone must not zero a cluster that is
# already mapped.  With extended L2 entries (extended_l2=on), the cluster
# at a zone's start is mapped once the first write lands; its later
# subclusters are unallocated, so a write there with other writes in flight
# allocates ahead (block/qcow2-zoned.c, zone_prepare()) from that cluster
# on.  qcow2_zero_new_clusters() zeroed every cluster of the allocation,
# the mapped one too: the first, flushed, 12 KiB of the zone read as zeros
# afterwards (found by tests/crash/zoned-crash.py --seed 3 --iterations 140
# --chain 10, extended-l2 geometry: "sector 0x500000 holds zeros, expected
# sync write #1").  Checked with and without extended L2 entries.
# Exits 0 when the data is intact, 1 otherwise.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
b=${BUILD_DIR:-$top/qemu/build}
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
rc=0
for el2 in on off; do
    img=$d/z-$el2.qcow2
    "$b/qemu-img" create -q -f qcow2 "$img" -o size=6M,zone.mode=host-managed,zone.size=1M,zone.capacity=960K,zone.conventional_zones=1,zone.max_append_bytes=16K,extended_l2=$el2
    "$b/qemu-io" -f qcow2 -t writeback -c "write -P 0x55 5M 12k" -c flush \
        -c "aio_write -P 1 5132k 4k" -c "aio_write -P 2 5136k 4k" \
        -c "aio_write -P 3 5140k 4k" -c aio_flush "$img" >/dev/null
    out=$("$b/qemu-io" -r -f qcow2 -c "read -P 0x55 5M 12k" \
          -c "read -P 1 5132k 4k" -c "read -P 2 5136k 4k" \
          -c "read -P 3 5140k 4k" "$img" 2>&1)
    if grep -q -E "verification failed|failed" <<<"$out" ||
       ! "$b/qemu-img" check -q "$img"; then
        echo "$out" | grep -E "failed" | head -n 4
        echo "FAIL: extended_l2=$el2: the zone's data is not what was written"
        rc=1
    else
        echo "extended_l2=$el2: data intact, image clean"
    fi
done
[ $rc = 0 ] && echo "OK: allocation ahead keeps mapped clusters"
exit $rc
