#!/bin/sh
# Guest side of the guest benchmark (scripts/bench-guest.py; zt.test=bench).
#
# Runs fio (JSON output) on the disk under test and hands each result to the
# host as a block (# ZT-BEGIN fio-LOAD ... # ZT-END fio-LOAD).  One TAP
# result per workload: "ok" when fio succeeded.
#
# Kernel parameters (set by the host script):
#   zt.target    raw | qcow2 | zoned | zonedio1 | zonedio2 | nvme | nvmezq
#                (label; nvme*: /dev/nvme0n1,
#                otherwise the virtio disk with serial zt-bench)
#   zt.loads     comma list of:
#                seq128k  128 KiB sequential writes, QD8, one job, zt.seq_mib
#                         MiB from offset 0
#                qd32     4 KiB sequential writes, QD32, 4 jobs, each
#                         zt.qd32_mib MiB in its own zone (offset_increment =
#                         zt.qd32_stride_mib), starting at zt.qd32_off_mib
#                mq128k   128 KiB sequential writes, QD8, 4 jobs, each
#                         zt.mq_mib MiB in its own zone (offset_increment =
#                         zt.qd32_stride_mib), starting at zt.mq_off_mib
#                         (for the iothread comparison: 4 jobs, 4 zones)
#                zonefs   zonefs, 4 files of sequential zones starting at
#                         zone zt.zfs_zone (never written before in this
#                         boot), O_DIRECT 128 KiB writes, QD8 each,
#                         zt.zfs_mib MiB per file
#                btrfs    zoned btrfs (data as zone appends), 4 jobs of
#                         O_DIRECT 128 KiB writes at QD8, zt.btrfs_mib MiB
#                         each, to 4 files
#   zt.runtime   fio runtime cap in seconds per workload (default 120)
#
# Zoned disks run fio with --zonemode=zbd; the others plain.  For zonefs and
# btrfs the number of zone-append requests is counted (block_rq_issue,
# rwbs N with data) and reported with the number of writes from the disk's
# stat file, so the report says which write path the workload really took.
# shellcheck shell=sh
# shellcheck disable=SC1091,SC2086 # installed paths; numeric variables

. /usr/share/zt/tap.sh
. /usr/share/zt/zone.sh

target=${ZT_TARGET:-unknown}
loads=${ZT_LOADS:-seq128k,qd32}
runtime=${ZT_RUNTIME:-120}

diag "running kernel: $(uname -r)"
diag "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $(nproc) cpus"
diag "fio: $(fio --version)"
[ -s /run/zt-modules-failed ] && diag "modules that failed to load: $(tr '\n' ' ' </run/zt-modules-failed)"

if [ "$target" = nvme ] || [ "$target" = nvmezq ]; then
    DEVNAME=
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        [ -b /dev/nvme0n1 ] && { DEVNAME=nvme0n1; break; }
        sleep 0.5
    done
else
    DEVNAME=
    for b in /sys/block/vd*; do
        [ "$(cat "$b/serial" 2>/dev/null)" = zt-bench ] && { DEVNAME=${b##*/}; break; }
    done
fi
DEV=/dev/$DEVNAME
if [ -z "$DEVNAME" ] || [ ! -b "$DEV" ]; then bail "no disk under test for target $target"; fi
zoned=$(q zoned)
dmesg -c >/dev/null
diag "target $target: $DEV, $(cat /sys/block/$DEVNAME/size) sectors, zoned: $zoned"
for a in chunk_sectors nr_zones max_open_zones max_active_zones zone_append_max_bytes \
    max_sectors_kb max_hw_sectors_kb nr_requests scheduler logical_block_size; do
    diag "queue/$a: $(q $a)"
done
# the iothread targets have 4 virtqueues: blk-mq hardware queues
# shellcheck disable=SC2012 # numeric directory names
diag "queue/nr_hw_queues: $(ls /sys/block/$DEVNAME/mq 2>/dev/null | wc -l)"
if [ "$zoned" != none ]; then
    zt_geometry
    zbd="--zonemode=zbd"
else
    zbd=
fi

# write I/O count of the disk (field 5 of the stat file)
# shellcheck disable=SC2046 # split the fields
writes() { set -- $(cat /sys/block/$DEVNAME/stat); echo "$5"; }

tr=/sys/kernel/tracing/events/block/block_rq_issue
trace_on() {
    [ -d $tr ] || return 0
    echo "rwbs ~ \"N*\" && nr_sector > 0" >$tr/filter
    : >/sys/kernel/tracing/trace
    echo 1 >$tr/enable
}
trace_off() { # prints the number of zone appends seen
    [ -d $tr ] || { echo "?"; return 0; }
    echo 0 >$tr/enable
    grep -c block_rq_issue /sys/kernel/tracing/trace
    echo 0 >$tr/filter
}

# runfio LOAD FIO-ARGS...: one workload; the JSON goes to the host
runfio() {
    _ld=$1
    shift
    _w0=$(writes)
    _t0=$(cut -d' ' -f1 /proc/uptime)
    if fio --output-format=json --output=/tmp/fio-$_ld.json --runtime=$runtime \
        --ioengine=libaio --direct=1 --group_reporting "$@" >/tmp/fio-$_ld.out 2>&1; then
        _t1=$(cut -d' ' -f1 /proc/uptime)
        zt_out "fio-$_ld" /tmp/fio-$_ld.json
        ok "$target $_ld ($(($(writes) - _w0)) write requests, $_t0-$_t1 s uptime)"
    else
        not_ok "$target $_ld"
        diag "fio $*"
        while IFS= read -r l; do diag "  $l"; done </tmp/fio-$_ld.out
        [ -s /tmp/fio-$_ld.json ] && while IFS= read -r l; do diag "  $l"; done </tmp/fio-$_ld.json
        dmesg | tail -n 20 | while IFS= read -r l; do diag "dmesg: $l"; done
    fi
}

want() { case ",$loads," in *",$1,"*) return 0 ;; esac; return 1; }

if want seq128k; then
    runfio seq128k --name=seq128k --filename=$DEV $zbd --rw=write --bs=128k \
        --iodepth=8 --offset=0 --size=${ZT_SEQ_MIB:-2048}M
fi

if want qd32; then
    runfio qd32 --name=qd32 --filename=$DEV $zbd --rw=write --bs=4k \
        --iodepth=32 --numjobs=4 --offset=${ZT_QD32_OFF_MIB:-2048}M \
        --offset_increment=${ZT_QD32_STRIDE_MIB:-64}M --size=${ZT_QD32_MIB:-64}M
fi

if want mq128k; then
    runfio mq128k --name=mq128k --filename=$DEV $zbd --rw=write --bs=128k \
        --iodepth=8 --numjobs=4 --offset=${ZT_MQ_OFF_MIB:-3072}M \
        --offset_increment=${ZT_QD32_STRIDE_MIB:-64}M --size=${ZT_MQ_MIB:-64}M
fi

if want zonefs; then
    if [ "$zoned" = none ]; then
        skip "$target zonefs" "not a zoned disk"
    elif mkzonefs -L bench "$DEV" >/tmp/mkzonefs.out 2>&1 && mount -t zonefs "$DEV" /mnt; then
        # /mnt/seq/N is zone N+1 (zone 0 holds the super block)
        z=${ZT_ZFS_ZONE:-40}
        set --
        for i in 0 1 2 3; do set -- "$@" --name=f$i --filename=/mnt/seq/$((z - 1 + i)); done
        trace_on
        w0=$(writes)
        runfio zonefs --rw=write --bs=128k --iodepth=8 --size=${ZT_ZFS_MIB:-64}M \
            --file_append=1 --allow_file_create=0 --fallocate=none "$@"
        n=$(trace_off)
        diag "zonefs: $n zone append requests of $(($(writes) - w0)) write requests"
        echo "zonefs appends=$n writes=$(($(writes) - w0))" >/tmp/zfs-count
        zt_out count-zonefs /tmp/zfs-count
        i=0
        while [ $i -lt 4 ]; do diag "zonefs: /mnt/seq/$((z - 1 + i)): $(stat -c %s /mnt/seq/$((z - 1 + i))) bytes"; i=$((i + 1)); done
        umount /mnt
    else
        not_ok "$target zonefs: mkzonefs and mount"
        while IFS= read -r l; do diag "  $l"; done </tmp/mkzonefs.out
        dmesg | tail -n 10 | while IFS= read -r l; do diag "dmesg: $l"; done
    fi
fi

if want btrfs; then
    if [ "$zoned" = none ]; then
        skip "$target btrfs" "not a zoned disk"
    elif timeout 120 mkfs.btrfs -f -L bench "$DEV" >/tmp/mkfs.out 2>&1 &&
        mount -t btrfs "$DEV" /mnt; then
        trace_on
        w0=$(writes)
        runfio btrfs --directory=/mnt --name=btrfs --numjobs=4 --rw=write \
            --bs=128k --iodepth=8 --size=${ZT_BTRFS_MIB:-64}M --fallocate=none
        n=$(trace_off)
        diag "btrfs: $n zone append requests of $(($(writes) - w0)) write requests"
        echo "btrfs appends=$n writes=$(($(writes) - w0))" >/tmp/btrfs-count
        zt_out count-btrfs /tmp/btrfs-count
        umount /mnt
    else
        not_ok "$target btrfs: mkfs.btrfs and mount"
        while IFS= read -r l; do diag "  $l"; done </tmp/mkfs.out
        dmesg | tail -n 10 | while IFS= read -r l; do diag "dmesg: $l"; done
    fi
fi

# kernel messages since the set-up that look like trouble
dmesg | grep -i -E 'error|fail|warn|bug|timeout|abort|reset|call trace' | tail -n 30 |
    while IFS= read -r l; do diag "dmesg: $l"; done
done_testing
