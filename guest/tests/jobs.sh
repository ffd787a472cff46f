#!/bin/sh
# Block jobs and filters under guest I/O (tests/guest.sh runs backup, mirror,
# throttle; guest/run.sh IMAGE script:THIS with zt.job=backup|mirror|throttle).
#
# backup, mirror: the guest writes a known data set into six zones, flushes
# the disk, prints '# ZT-JOB-WAIT start' and waits for the host
# (guest/lib/job-hook.py, HOST_HOOK of guest/run.sh) to start its job and
# write 'go' into the mailbox (the scratch disk at 1 GiB).  Then, while the
# job runs: the six zones are reset, fio (zonemode=zbd, crc32c verify)
# writes one job across a zone boundary and four libaio jobs in four zones,
# zone report/open/finish/reset work; the disk is flushed, the guest prints
# '# ZT-JOB-WAIT end' and waits for 'done' (the host ended its job).
# throttle: the same I/O with no waits (the disk is below a throttle node).
# Sourced by tests/script.sh with the TAP and zone helpers, DEV and the
# geometry (ZS, NZ, SEQ0) set.
# shellcheck shell=sh
# shellcheck disable=SC2086,SC2018 # numeric variables; ASCII words

job=${ZT_JOB:-throttle}
if [ "$(q zoned)" != host-managed ]; then
    not_ok "/dev/$DEVNAME is a host-managed zoned disk (got $(q zoned))"
    done_testing
    exit 0
fi
ok "/dev/$DEVNAME is a host-managed zoned disk ($job)"
t_eq "zone size seen by the guest (sectors)" "$ZS" "${ZT_ZONE_SECTORS:-?}"
t_eq "number of zones seen by the guest" "$NZ" "${ZT_NR_ZONES:-?}"

zb=$((ZS * 512))
scratch=$(zt_scratch_dev) || bail "no scratch disk"

# mailbox_wait WORD SLOT: the host wrote WORD into block SLOT (4 KiB) at
# 1 GiB of the scratch disk (one block per word, so a later word cannot
# hide an earlier one; direct reads: the guest's page cache would keep the
# old block).  Fails at once on 'stop' (a host step failed and said so); the
# limit only guards against a host that never answers.
mailbox_wait() {
    _i=0
    while [ $_i -lt 1500 ]; do
        _w=$(dd if="$scratch" bs=4096 count=1 skip=$((262144 + $2)) iflag=direct 2>/dev/null |
             head -c 16 | tr -cd 'a-z')
        [ "$_w" = "$1" ] && return 0
        [ "$_w" = stop ] && return 1
        sleep 0.2
        _i=$((_i + 1))
    done
    return 1
}

blkzone reset "$DEV"
if [ "$job" != throttle ]; then
    # the data set the job starts from: 4 MiB of a pattern named after the
    # zone in zones SEQ0 .. SEQ0+5
    bad=0
    for z in 0 1 2 3 4 5; do
        zt_pattern "set$z" 4194304 >/tmp/set
        dd if=/tmp/set of="$DEV" bs=1M seek=$(((SEQ0 + z) * zb / 1048576)) \
            oflag=direct 2>/dev/null || bad=$((bad + 1))
    done
    t_eq "data set written (4 MiB in 6 zones): failures" "$bad" 0
    t_run "flush the disk before the job starts (fsync of $DEV)" sync "$DEV"
    diag "ZT-JOB-WAIT start"
    mailbox_wait go 0 || bail "the host did not start its $job job"
    ok "the host started the $job job"
fi

# while the job runs: reset the data set's zones (the backup must keep
# their old data, the mirror must copy the reset)
for z in 0 1 2 3 4 5; do
    zop reset $((SEQ0 + z))
done
st=
for z in 0 1 2 3 4 5; do st="$st$(zstate $((SEQ0 + z))) "; done
t_eq "zone reset of 6 written zones during the job" "$st" "em.0 em.0 em.0 em.0 em.0 em.0 "

fio_job() { # fio_job DESC FIO-ARGS...
    _d=$1
    shift
    if timeout 300 fio --name=zt --filename="$DEV" --direct=1 --zonemode=zbd \
        --verify=crc32c --do_verify=1 --group_reporting "$@" >/tmp/fio.out 2>&1 &&
        ! grep -qi 'verify.*bad\|bad.*verify\|err= *[1-9]' /tmp/fio.out; then
        ok "$_d"
        diag "$(grep -E '^ *(WRITE|READ):' /tmp/fio.out | sed 's/^ *//' | tr '\n' ' ')"
    else
        not_ok "$_d"
        diag_cmd tail -n 30 /tmp/fio.out
    fi
}
# one job across the boundary of zones SEQ0 and SEQ0+1 (requests that
# virtio-blk merged across it would fail), then four libaio jobs
fio_job "fio during the $job job: sequential write across a zone boundary ($((zb / 1048576 + 8)) MiB), crc32c verify" \
    --offset=$((SEQ0 * zb)) --size=$((2 * zb)) --io_size=$((zb + 8388608)) \
    --rw=write --bs=128k --ioengine=libaio --iodepth=8
fio_job "fio during the $job job: 4 jobs in 4 zones, libaio iodepth 4, 8 MiB each, crc32c verify" \
    --offset=$(((SEQ0 + 2) * zb)) --size=$zb --io_size=8388608 --rw=write \
    --bs=64k --ioengine=libaio --iodepth=4 --numjobs=4 --offset_increment=$zb
t_eq "write pointer of zone SEQ0+1 after the boundary job" "$(zwp $((SEQ0 + 1)))" 16384
for z in 2 3 4 5; do
    t_eq "write pointer of zone SEQ0+$z after its fio job" "$(zwp $((SEQ0 + z)))" 16384
done
# zone commands while the job runs
t_run "blkzone report during the $job job" blkzone report "$DEV"
z=$((SEQ0 + 6))
zop open $z
c1=$(zcond $z)
zwrite $z 0 65536
zop finish $z
c2=$(zcond $z)
t_eq "zone open, write, finish during the $job job" "$c1 $c2" "oe fu"
zop reset $z
t_eq "zone reset during the $job job" "$(zstate $z)" em.0

if [ "$job" != throttle ]; then
    t_run "flush the disk after the guest's I/O (fsync of $DEV)" sync "$DEV"
    diag "ZT-JOB-WAIT end"
    mailbox_wait "done" 1 || bail "the host did not end its $job job"
    ok "the host ended the $job job"
fi
# the data is still there after the job ended
if [ "$(zread $((SEQ0 + 2)) 0 65536 | sum)" != "$(head -c 65536 /dev/zero | sum)" ]; then
    ok "zone SEQ0+2 reads back fio's data after the job"
else
    not_ok "zone SEQ0+2 reads back fio's data after the job (got zeros)"
fi
done_testing
