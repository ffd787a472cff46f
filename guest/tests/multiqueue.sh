#!/bin/sh
# Multiqueue run of tests/guest.sh (guest/run.sh IMAGE script:THIS): the
# disk under test has 4 virtqueues on 2 iothreads (DISK_DEVICE and DISK_OBJECTS of guest/run.sh, set by tests/guest.sh).
# Four fio jobs (zonemode=zbd, libaio, iodepth 4, crc32c verification) write
# four zones, two jobs on each CPU (so on both queues in use, and so on both
# iothreads), while a loop writes, finishes and resets four other zones.
# Sourced by tests/script.sh with the TAP and zone helpers, DEV and the
# geometry (ZS, NZ, SEQ0) set.
# shellcheck shell=sh
# shellcheck disable=SC2086 # numeric variables

if [ "$(q zoned)" != host-managed ]; then
    not_ok "/dev/$DEVNAME is a host-managed zoned disk (got $(q zoned))"
    done_testing
    exit 0
fi
ok "/dev/$DEVNAME is a host-managed zoned disk"
# Linux uses at most one hardware queue per CPU: with 2 CPUs, virtqueues 0
# and 1, which iothread-vq-mapping gives to zt-io0 and zt-io1
ncpu=$(grep -c '^processor' /proc/cpuinfo)
[ "$ncpu" -ge 2 ] && ok "the guest has $ncpu CPUs" ||
    not_ok "the guest has 2 CPUs or more (got $ncpu)"
nq=$(ls -d /sys/block/$DEVNAME/mq/[0-9]* 2>/dev/null | wc -l)
t_eq "the disk has one hardware queue per CPU (at most 4)" "$nq" \
    $((ncpu < 4 ? ncpu : 4))

zb=$((ZS * 512))
io=$((32 * 1048576))
blkzone reset "$DEV"

# Zone management in zones SEQ0+4 .. SEQ0+7 while fio runs: write 128 KiB,
# then finish (even rounds) or reset (odd rounds) and check the condition,
# then reset for the next round.
rm -f /tmp/mq.stop /tmp/mq.mgmt /tmp/mq.rounds
(
    i=0 bad=0
    while [ ! -f /tmp/mq.stop ] || [ $i -lt 8 ]; do
        z=$((SEQ0 + 4 + i % 4))
        zwrite $z 0 65536 && zwrite $z 128 65536 || bad=$((bad + 1))
        if [ $((i % 2)) = 0 ]; then
            zop finish $z && [ "$(zcond $z)" = fu ] || bad=$((bad + 1))
        else
            [ "$(zstate $z)" = oi.256 ] || bad=$((bad + 1))
        fi
        zop reset $z && [ "$(zstate $z)" = em.0 ] || bad=$((bad + 1))
        i=$((i + 1))
        echo $i >/tmp/mq.rounds
    done
    echo "$i $bad" >/tmp/mq.mgmt
) &
mgmt=$!

o0=$((SEQ0 * zb))
if timeout 600 fio --filename="$DEV" --direct=1 --zonemode=zbd \
    --ioengine=libaio --iodepth=4 --rw=write --bs=64k --size=$zb \
    --io_size=$io --verify=crc32c --do_verify=1 --group_reporting \
    --name=j0 --offset=$o0 --cpus_allowed=0 \
    --name=j1 --offset=$((o0 + zb)) --cpus_allowed=1 \
    --name=j2 --offset=$((o0 + 2 * zb)) --cpus_allowed=0 \
    --name=j3 --offset=$((o0 + 3 * zb)) --cpus_allowed=1 \
    >/tmp/fio.out 2>&1 && ! grep -qi 'verify.*bad\|bad.*verify' /tmp/fio.out; then
    ok "fio: 4 jobs in 4 zones on 2 CPUs, libaio iodepth 4, 32 MiB each, crc32c verify"
    diag "$(grep -E '^ *(WRITE|READ):' /tmp/fio.out | sed 's/^ *//' | tr '\n' ' ')"
else
    not_ok "fio: 4 jobs in 4 zones on 2 CPUs, libaio iodepth 4, 32 MiB each, crc32c verify"
    diag_cmd tail -n 30 /tmp/fio.out
fi
during=$(cat /tmp/mq.rounds 2>/dev/null || echo 0)
touch /tmp/mq.stop
wait $mgmt
[ "$during" -ge 2 ] && ok "zone management rounds while fio ran: $during" ||
    not_ok "zone management rounds while fio ran: at least 2 (got $during)"
read -r rounds bad </tmp/mq.mgmt
t_eq "zone writes, finishes and resets during the fio run: failures (of $rounds rounds)" "$bad" 0
[ "$rounds" -ge 8 ] && ok "zone management ran $rounds rounds" ||
    not_ok "zone management ran at least 8 rounds (got $rounds)"
for j in 0 1 2 3; do
    t_eq "fio zone $((SEQ0 + j)): write pointer after 32 MiB" \
        "$(zwp $((SEQ0 + j)))" $((io / 512))
done
# The data of a fio zone again, read now (zeros would mean a lost write)
if [ "$(zread $SEQ0 0 65536 | sum)" != "$(head -c 65536 /dev/zero | sum)" ]; then
    ok "fio zone $SEQ0 reads back data"
else
    not_ok "fio zone $SEQ0 reads back data (got zeros)"
fi
blkzone reset "$DEV"
done_testing
