#!/bin/bash
# Boot Debian's Linux 6.12 with a zoned qcow2 image attached as a user would
# (-blockdev driver=qcow2 + -device virtio-blk-pci) and run the in-guest
# checks (guest/).  Prints the guest's and the host's TAP lines, prefixed by
# the run, and the time of each run.
#
#   zoned           the zoned-disk checks on the specification's example
#                   image (768 MiB, 64 MiB zones, max open 6, max active 8)
#   persist         the same image: zones in every condition, QEMU exits,
#                   second boot checks them; the host compares blkzone's
#                   report with qemu-io's (live -> at rest, and at rest)
#   persist-crash   the same with SIGKILL after the guest's flush, then a
#                   power cut (POWER_CUT=1 of guest/run.sh: the disk went
#                   through blklogwrites and the image file is rebuilt from
#                   the write log up to its last flush, so what was not
#                   flushed is lost); the killed image is checked too
#   fs-crash-btrfs  4 GiB, 64 MiB zones, 4 conventional, max open 8, max
#   fs-crash-f2fs   active 12: the file system is made and written to,
#                   QEMU is killed in the middle of the writes, then the
#                   power cut as in persist-crash; the next
#                   boot checks zones, recovery, fsynced files and the
#                   checker; qemu-img check and report comparisons on the
#                   host (btrfs and f2fs really run here; on the example
#                   image zoned.sh skips them)
#
#   multiqueue      the specification's example image on a virtio-blk device
#                   with 4 virtqueues over 2 iothreads (iothread-vq-mapping,
#                   DISK_DEVICE/DISK_OBJECTS of guest/run.sh): 4 fio jobs with crc32c
#                   verification in 4 zones on both CPUs while zones are
#                   written, finished and reset (guest/tests/multiqueue.sh)
#
#   zoned-conv      zoned.sh on 768 MiB, 64 MiB zones of capacity 48 MiB, 2
#                   conventional zones, max open 6 (f2fs needs 6), max active 8
#
#   zoned-4g        (not by default: +70 s) zoned.sh on the 4 GiB image, where
#                   its btrfs and f2fs groups run instead of being skipped
#
# GUEST_RUNS (default: all of the above but zoned-4g) picks runs, e.g.
# GUEST_RUNS="zoned fs-crash-f2fs zoned-4g".
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

# mkimg RUN: a fresh image for RUN; prints its path
mkimg() {
    local img opts
    case $1 in
    zoned-conv)
        # conventional zones and capacity < size: the reported capacity,
        # zeros in [capacity, size), finish to capacity, conventional zone
        # rules and the resource errors with other limits
        img=$dir/conv.qcow2
        opts=(-o size=768M -o zone.size=64M -o zone.capacity=48M
              -o zone.conventional_zones=2 -o zone.max_append_bytes=65536
              -o zone.max_open_zones=6 -o zone.max_active_zones=8) ;;
    fs-crash* | *-4g)
        img=$dir/fs.qcow2
        opts=(-o size=4G -o zone.size=64M -o zone.capacity=64M
              -o zone.conventional_zones=4 -o zone.max_append_bytes=65536
              -o zone.max_open_zones=8 -o zone.max_active_zones=12) ;;
    *)
        img=$dir/zbc.qcow2
        opts=(-o size=768M -o zone.size=64M -o zone.capacity=64M
              -o zone.conventional_zones=0 -o zone.max_append_bytes=4096
              -o zone.max_open_zones=6 -o zone.max_active_zones=8) ;;
    esac
    rm -f "$img"
    "$b/qemu-img" create -q -f qcow2 "$img" "${opts[@]}" -o zone.mode=host-managed >&2 &&
        echo "$img"
}

failed=0
t_all=$(date +%s)
for run in ${GUEST_RUNS:-zoned zoned-conv persist persist-crash fs-crash-btrfs fs-crash-f2fs multiqueue}; do
    start=$(date +%s)
    if ! img=$(mkimg "$run"); then
        echo "not ok - $run: qemu-img create"
        failed=1
        continue
    fi
    script=${run%-4g}
    script=${script%-conv}
    wrap=()
    case $run in
    zoned-conv)
        # not the f2fs group: with zone capacity < zone size, Debian 12's
        # f2fs-tools 1.15 cannot format the disk alone ("Could not format
        # the device") and its fsck of the two-device layout fails "free
        # segment_count matched with CP" (seen here, not investigated);
        # f2fs runs in fs-crash-f2fs (capacity = size); btrfs skips itself
        wrap=(ZT_ARGS="zt.only=geometry,states,wp,limits,fio,zonefs") ;;
    persist-crash | fs-crash*)
        # a power cut, not only a crash of QEMU: the image is rebuilt from
        # the write log up to its last flush before the check boot
        wrap=(POWER_CUT=1) ;;
    esac
    if [ "$run" = multiqueue ]; then
        # 4 virtqueues over 2 iothreads: requests reach the node from two
        # threads at once
        script=script:$top/guest/tests/multiqueue.sh
        wrap=(DISK_OBJECTS="-object iothread,id=zt-io0 -object iothread,id=zt-io1"
              DISK_DEVICE='{"driver":"virtio-blk-pci","drive":"drive1","num-queues":4,"iothread-vq-mapping":[{"iothread":"zt-io0"},{"iothread":"zt-io1"}]}')
    fi
    out=$(env "${wrap[@]}" OUTDIR="$top/.cache/guest/runs/$run" \
        "$top/guest/run.sh" "$img" "$script" 2>"$dir/$run.err")
    rc=$?
    echo "$out" | grep -E '^(ok|not ok) ' | sed "s/^\(\(not \)\?ok [0-9]*\) /\1 $run: /"
    if [ "$run" = multiqueue ]; then
        if grep -q 'iothread-vq-mapping.*zt-io0.*zt-io1' \
            "$top/.cache/guest/runs/$run/qemu-cmdline" 2>/dev/null; then
            echo "ok - $run: host: the disk had 4 virtqueues on iothreads zt-io0 and zt-io1"
        else
            echo "not ok - $run: host: the disk had 4 virtqueues on iothreads zt-io0 and zt-io1"
            failed=1
        fi
    fi
    echo "$out" | grep -E '^guest: ' | sed "s/^/# $run: /"
    echo "# $run: $(( $(date +%s) - start )) s, exit $rc"
    if [ $rc != 0 ]; then
        failed=1
        if ! grep -q '^not ok' <<<"$out"; then
            echo "not ok - $run: the guest run did not complete (exit $rc)"
            tail -n 20 "$dir/$run.err" | sed 's/^/# /'
        fi
    fi
done
echo "# guest runs: $(( $(date +%s) - t_all )) s in all"
exit $failed
