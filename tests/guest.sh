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
#   jobs-backup     block jobs under guest I/O (guest/tests/jobs.sh, host
#   jobs-mirror     side guest/lib/job-hook.py over QMP): the guest writes
#                   and flushes a data set, the host copies the image
#                   (qemu-img convert -U) and starts blockdev-backup sync=full
#                   at 64 KiB/s (or blockdev-mirror sync=full) to a plain qcow2
#                   target; the guest resets the zones and runs fio
#                   --zonemode=zbd with crc32c verify (a job across a zone
#                   boundary, 4 libaio jobs) and zone commands while the job
#                   runs; then the backup completes (target = the disk at
#                   its start, qemu-img compare) or the READY mirror refuses
#                   block-job-complete and is ended by block-job-cancel
#                   (target = the disk after QEMU exited)
#   jobs-throttle   the same guest I/O with the disk below a throttle node
#                   (-blockdev driver=throttle, generous limits)
#
#   zoned-conv      zoned.sh on 768 MiB, 64 MiB zones of capacity 48 MiB, 2
#                   conventional zones, max open 6 (f2fs needs 6), max active 8
#
#   zoned-4g        (not by default: +70 s) zoned.sh on the 4 GiB image, where
#                   its btrfs and f2fs groups run instead of being skipped
#
#   nvme-zoned      a persistent NVMe zoned namespace over a zoned qcow2
#                   image (-device nvme + -device nvme-ns,zoned=true, the
#                   guest's /dev/nvme0n1; 768 MiB, 64 MiB zones of 48 MiB
#                   capacity, max open 6, max active 8, appends of 64 KiB):
#                   zoned.sh but its f2fs group (see below)
#   nvme-persist-crash   the same namespace: zones in every condition,
#                   SIGKILL after the guest's flush, second boot checks
#                   them; host comparisons of the reports
#   nvme-persist    (not by default) the same with a clean exit of QEMU
#   nvme-4g         (not by default: +75 s) zoned.sh on a 4 GiB namespace
#                   (64 MiB zones, max open 8, max active 12: btrfs runs)
#                   The nvme-* runs also check, from a trace of the last
#                   boot, that every zone the namespace reloaded from the
#                   node after an open, close or finish equalled its own
#                   copy, and that no write failed.
#
#   zbd-qcow2       (not by default: about 4.5 min each) fio's own t/zbd
#   zbd-stock       suite (guest/tests/zbd.sh, test-zbd-support from
#                   Debian's fio 3.33 source package) on an NVMe zoned
#                   namespace: over a zoned qcow2 (zbd-qcow2: geometry from
#                   the image, no zoned.* property) or QEMU's stock NVMe ZNS
#                   emulation over a raw file made with preallocation=full
#                   (zbd-stock: zoned.zone_size/zone_capacity/max_open/
#                   max_active and the controller's zoned.zasl), the same
#                   geometry on both: ZBD_SIZE (512M), ZBD_ZONE (2M),
#                   ZBD_CAP (= ZBD_ZONE), ZBD_OPEN and ZBD_ACTIVE (0: no
#                   limit), ZBD_LBA (4096), appends of 64 KiB; zt.zbd_tests
#                   and zt.zbd_opts in ZT_ARGS pick cases and options (see
#                   guest/tests/zbd.sh)
#
# GUEST_RUNS (default: all of the above but zoned-4g, nvme-persist,
# nvme-4g and zbd-*) picks runs, e.g.
# GUEST_RUNS="zoned fs-crash-f2fs zoned-4g", GUEST_RUNS="zbd-qcow2 zbd-stock".
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

# the t/zbd runs' geometry (bytes; both namespaces)
ZBD_SIZE=${ZBD_SIZE:-512M}
ZBD_ZONE=${ZBD_ZONE:-2M}
ZBD_CAP=${ZBD_CAP:-$ZBD_ZONE}
ZBD_OPEN=${ZBD_OPEN:-0}
ZBD_ACTIVE=${ZBD_ACTIVE:-0}
ZBD_LBA=${ZBD_LBA:-4096}
ZBD_APPEND=65536 # = NVMe zasl 4 (4 KiB pages)

# mkimg RUN: a fresh image for RUN; prints its path
mkimg() {
    local img opts
    case $1 in
    zbd-stock)
        img=$dir/zbd-stock.raw
        rm -f "$img"
        "$b/qemu-img" create -q -f raw -o preallocation=full "$img" "$ZBD_SIZE" >&2 &&
            echo "$img"
        return ;;
    zbd-qcow2)
        img=$dir/zbd.qcow2
        opts=(-o size="$ZBD_SIZE" -o zone.size="$ZBD_ZONE" -o zone.capacity="$ZBD_CAP"
              -o zone.max_append_bytes="$ZBD_APPEND"
              -o zone.max_open_zones="$ZBD_OPEN" -o zone.max_active_zones="$ZBD_ACTIVE") ;;
    zoned-conv)
        # conventional zones and capacity < size: the reported capacity,
        # zeros in [capacity, size), finish to capacity, conventional zone
        # rules and the resource errors with other limits
        img=$dir/conv.qcow2
        opts=(-o size=768M -o zone.size=64M -o zone.capacity=48M
              -o zone.conventional_zones=2 -o zone.max_append_bytes=65536
              -o zone.max_open_zones=6 -o zone.max_active_zones=8) ;;
    nvme-4g)
        img=$dir/nvme-4g.qcow2
        opts=(-o size=4G -o zone.size=64M -o zone.capacity=64M
              -o zone.max_append_bytes=65536
              -o zone.max_open_zones=8 -o zone.max_active_zones=12) ;;
    fs-crash* | *-4g)
        img=$dir/fs.qcow2
        opts=(-o size=4G -o zone.size=64M -o zone.capacity=64M
              -o zone.conventional_zones=4 -o zone.max_append_bytes=65536
              -o zone.max_open_zones=8 -o zone.max_active_zones=12) ;;
    nvme-*)
        # NVMe: no conventional zones, appends of a power of two of 4 KiB
        img=$dir/nvme.qcow2
        opts=(-o size=768M -o zone.size=64M -o zone.capacity=48M
              -o zone.max_append_bytes=65536
              -o zone.max_open_zones=6 -o zone.max_active_zones=8) ;;
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
for run in ${GUEST_RUNS:-zoned zoned-conv persist persist-crash fs-crash-btrfs fs-crash-f2fs multiqueue jobs-backup jobs-mirror jobs-throttle nvme-zoned nvme-persist-crash}; do
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
    nvme-*)
        # the image as the namespace of an NVMe controller: /dev/nvme0n1
        script=${run#nvme-}
        [ "$script" = 4g ] && script=zoned
        only=
        # f2fs: on this image it would put everything on the scratch disk
        # (no conventional zones), and fsck.f2fs 1.15 then fails "free
        # segment_count matched with CP" whenever the zone capacity is
        # below the zone size, on virtio-blk as on NVMe
        [ "$run" = nvme-zoned ] && only="zt.only=geometry,states,wp,limits,fio,zonefs,btrfs"
        # the namespace traces every zone it reloads from the node (after
        # each open, close and finish, and at realize), and write errors
        rm -f "$top/.cache/guest/runs/$run/nvme.trace"
        wrap=(DISK_OBJECTS="-device nvme,id=zt-nvme,serial=zt-nvme -trace enable=pci_nvme_zoned_node_adopt -trace enable=pci_nvme_err_aio -trace file=$top/.cache/guest/runs/$run/nvme.trace"
              DISK_DEVICE="nvme-ns,drive=drive1,bus=zt-nvme,nsid=1,zoned=true"
              ZT_ARGS="zt.dev=nvme0n1 $only ${ZT_ARGS:-}") ;;
    esac
    case $run in
    zbd-*)
        # one NVMe controller, one zoned namespace of ZBD_LBA-byte blocks
        script=zbd
        lba="logical_block_size=$ZBD_LBA,physical_block_size=$ZBD_LBA"
        if [ "$run" = zbd-stock ]; then
            # shellcheck disable=SC2054
            wrap=(DISK_BLOCKDEV="node-name=drive1,driver=raw,file.driver=file,file.filename=$img"
                  DISK_OBJECTS="-device nvme,id=zt-nvme,serial=zt-nvme,zoned.zasl=4 ${ZBD_TRACE:-}"
                  DISK_DEVICE="nvme-ns,drive=drive1,bus=zt-nvme,nsid=1,$lba,zoned=true,zoned.zone_size=$ZBD_ZONE,zoned.zone_capacity=$ZBD_CAP,zoned.max_open=$ZBD_OPEN,zoned.max_active=$ZBD_ACTIVE")
        else
            wrap=(DISK_OBJECTS="-device nvme,id=zt-nvme,serial=zt-nvme ${ZBD_TRACE:-}"
                  DISK_DEVICE="nvme-ns,drive=drive1,bus=zt-nvme,nsid=1,$lba,zoned=true")
        fi
        wrap+=(ZT_ARGS="zt.dev=nvme0n1 ${ZT_ARGS:-}") ;;
    esac
    if [ "$run" = multiqueue ]; then
        # 4 virtqueues over 2 iothreads: requests reach the node from two
        # threads at once
        script=script:$top/guest/tests/multiqueue.sh
        wrap=(DISK_OBJECTS="-object iothread,id=zt-io0 -object iothread,id=zt-io1"
              DISK_DEVICE='{"driver":"virtio-blk-pci","drive":"drive1","num-queues":4,"iothread-vq-mapping":[{"iothread":"zt-io0"},{"iothread":"zt-io1"}]}')
    fi
    case $run in
    jobs-backup | jobs-mirror)
        script=script:$top/guest/tests/jobs.sh
        wrap=(ZT_ARGS="zt.job=${run#jobs-}"
              HOST_HOOK="python3 $top/guest/lib/job-hook.py ${run#jobs-}") ;;
    jobs-throttle)
        # limits far above what the guest does under TCG: the filter is in
        # the path, it does not slow the test down
        script=script:$top/guest/tests/jobs.sh
        wrap=(ZT_ARGS="zt.job=throttle"
              DISK_OBJECTS="-object throttle-group,id=zt-tg,x-bps-total=4294967296,x-iops-total=1000000 -blockdev driver=throttle,node-name=zt-thr,throttle-group=zt-tg,file=drive1"
              DISK_DEVICE="virtio-blk-pci,drive=zt-thr") ;;
    esac
    out=$(env "${wrap[@]}" OUTDIR="$top/.cache/guest/runs/$run" \
        "$top/guest/run.sh" "$img" "$script" 2>"$dir/$run.err")
    rc=$?
    echo "$out" | grep -E '^(ok|not ok) ' | sed "s/^\(\(not \)\?ok [0-9]*\) /\1 $run: /"
    case $run in
    nvme-*)
        # (qemu-cmdline is quoted with printf %q: commas are escaped)
        if grep -q 'nvme-ns.,drive=drive1.,bus=zt-nvme.,nsid=1.,zoned=true' \
            "$top/.cache/guest/runs/$run/qemu-cmdline" 2>/dev/null &&
            grep -q '^# disk under test: /dev/nvme0n1 ' <<<"$out"; then
            echo "ok - $run: host: the disk under test was the NVMe namespace /dev/nvme0n1"
        else
            echo "not ok - $run: host: the disk under test was the NVMe namespace /dev/nvme0n1"
            failed=1
        fi
        # The namespace and the node agree at every step: of the zones
        # reloaded from the node after the guest's zone operations (the
        # first 'nr_zones' reloads of a boot are its realize), none
        # differed from the namespace's copy, and no write failed.
        # (The trace file holds the last boot.)
        nz=$(python3 "$top/guest/lib/qcow2-zone-info.py" "$img" | grep -o 'zt.nr_zones=[0-9]*' | cut -d= -f2)
        trace=$top/.cache/guest/runs/$run/nvme.trace
        if [ -s "$trace" ] && [ -n "$nz" ]; then
            adopts=$(grep -c 'pci_nvme_zoned_node_adopt' "$trace")
            differ=$(grep 'pci_nvme_zoned_node_adopt' "$trace" | tail -n +$((nz + 1)) |
                     grep -v -E 'state ([0-9]+) -> \1 wp (0x[0-9a-f]+) -> \2$' | head -n 3)
            errors=$(grep -c 'pci_nvme_err_aio' "$trace")
            if [ "$adopts" -ge "$nz" ] && [ -z "$differ" ] && [ "$errors" = 0 ]; then
                echo "ok - $run: host: namespace and node agreed on all $((adopts - nz)) zones reloaded after zone operations, no write error"
            else
                echo "not ok - $run: host: namespace and node agreed on all $((adopts - nz)) zones reloaded after zone operations, no write error ($errors errors)"
                sed 's/^/#   /' <<<"$differ"
                failed=1
            fi
        else
            echo "not ok - $run: host: namespace/node agreement: no trace ($trace) or no zone count"
            failed=1
        fi ;;
    esac
    if [ "$run" = jobs-throttle ]; then
        if grep -q 'driver=throttle.,node-name=zt-thr.*virtio-blk-pci.,drive=zt-thr' \
            "$top/.cache/guest/runs/$run/qemu-cmdline" 2>/dev/null; then
            echo "ok - $run: host: the disk was attached through the throttle node zt-thr"
        else
            echo "not ok - $run: host: the disk was attached through the throttle node zt-thr"
            failed=1
        fi
    fi
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
