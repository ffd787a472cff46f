#!/bin/sh
# fio's own zoned block device suite, t/zbd/test-zbd-support from Debian's
# source package of the guest's fio (guest/build.sh ZBD=1), on the disk under
# test (zt.dev, e.g. nvme0n1).  One TAP line per test case of the suite: PASS
# is ok, SKIP is a TAP skip with the suite's reason, FAIL is not ok with the
# end of the case's log as diagnostics and the whole log handed back to the
# host (OUTDIR/zbd-log.N).  The suite's own summary follows as comments.
#
#   zt.zbd_tests=N,M,...   run only these test cases (-t N for each)
#   zt.zbd_opts=-w,-o,8    options for test-zbd-support (commas -> spaces)
#   zt.zbd_nullb=SIZE:ZONE:CAP:BS   run on a zoned, memory-backed null_blk
#                          device made here instead (MiB, MiB, MiB, bytes;
#                          the suite's own reference target), e.g. 512:2:2:4096
# shellcheck shell=sh
# shellcheck disable=SC1091,SC2086 # installed paths; word splitting wanted

. /usr/share/zt/tap.sh
. /usr/share/zt/zone.sh

suite=/usr/share/zt/fio/t/zbd/test-zbd-support
[ -f "$suite" ] || bail "no $suite in the initramfs (guest/build.sh ZBD=1 puts it there)"
command -v bash >/dev/null || bail "no bash in the initramfs"
for t in grep timeout; do
    [ -x /usr/lib/zt/gnu/$t ] || bail "no GNU $t in the initramfs (/usr/lib/zt/gnu/$t)"
done
# bash's process substitution (the suite's "< <(...)") needs /dev/fd
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
for f in stdin:0 stdout:1 stderr:2; do
    [ -e "/dev/${f%:*}" ] || ln -s "/proc/self/fd/${f#*:}" "/dev/${f%:*}"
done
if [ -n "${ZT_ZBD_NULLB:-}" ]; then
    nb=/sys/kernel/config/nullb/nullb0
    nb_size=$(echo "$ZT_ZBD_NULLB" | cut -d: -f1)
    nb_zone=$(echo "$ZT_ZBD_NULLB" | cut -d: -f2)
    nb_cap=$(echo "$ZT_ZBD_NULLB" | cut -d: -f3)
    nb_bs=$(echo "$ZT_ZBD_NULLB" | cut -d: -f4)
    [ -d /sys/kernel/config/nullb ] || bail "null_blk configfs is not available"
    mkdir "$nb" || bail "cannot make $nb"
    for a in size:"$nb_size" blocksize:"$nb_bs" memory_backed:1 completion_nsec:0 \
             zoned:1 zone_size:"$nb_zone" zone_capacity:"$nb_cap" power:1; do
        echo "${a#*:}" >"$nb/${a%%:*}" || bail "null_blk: cannot set ${a%%:*}=${a#*:}"
    done
    sleep 1
    ZT_DEV=nullb0
fi
zt_find_dev || bail "no disk under test (zt.dev=${ZT_DEV:-})"

diag "disk under test: $DEV ($(cat /sys/block/$DEVNAME/device/model 2>/dev/null | sed 's/ *$//'))"
diag "$(cat /usr/share/zt/fio/VERSION)"
for a in zoned logical_block_size physical_block_size chunk_sectors nr_zones \
         max_open_zones max_active_zones zone_append_max_bytes max_sectors_kb; do
    diag "sysfs queue/$a: $(q $a)"
done
diag "size: $(cat /sys/block/$DEVNAME/size) sectors"
diag "blkzone report (first 2 zones):"
blkzone report -c 2 "$DEV" >/tmp/zbd-rep.txt 2>&1
diag_cmd cat /tmp/zbd-rep.txt
t_eq "$DEV is host-managed" "$(q zoned)" host-managed

args=
for t in $(echo "${ZT_ZBD_TESTS:-}" | tr ',' ' '); do args="$args -t $t"; done
opts=$(echo "${ZT_ZBD_OPTS:-}" | tr ',' ' ')
diag "running: bash $suite $opts$args $DEV"

logdir=${suite%/*}
log=$logdir/test-zbd-support.log
# GNU grep and timeout first in PATH: the suite uses grep -P and timeout -v
# (busybox has neither option)
# (through a FIFO, not a pipe: the loop must run in this shell to count)
rm -f /tmp/zbd.fifo /tmp/zbd.rc
mkfifo /tmp/zbd.fifo
{ PATH=/usr/lib/zt/gnu:$PATH bash "$suite" $opts $args "$DEV" 2>&1; echo $? >/tmp/zbd.rc; } \
    >/tmp/zbd.fifo &
while IFS= read -r line; do
    echo "$line"
    case $line in
    "Running test "*" ... "*)
        n=${line#Running test }
        n=${n%% *}
        st=${line#* ... }
        # the suite numbers its logs without the leading zero
        nn=$(echo "$n" | sed 's/^0*//')
        case $st in
        PASS*) ok "t/zbd test $n" ;;
        SKIP*)
            r=$(echo "${st#SKIP}" | sed 's/^ *//')
            skip "t/zbd test $n" "${r:-no reason given}" ;;
        *)
            not_ok "t/zbd test $n ($st)"
            if [ -f "$log.$nn" ]; then
                diag "last lines of its log (whole log: zbd-log.$nn):"
                tail -n 12 "$log.$nn" >/tmp/zbd-tail.txt
                diag_cmd cat /tmp/zbd-tail.txt
                zt_out "zbd-log.$nn" "$log.$nn"
            fi ;;
        esac
        diag "test $n done at $(cut -d' ' -f1 /proc/uptime) s of uptime"
        ;;
    *" tests passed" | *" tests skipped" | *" tests failed" | "Run time: "* | "First sequential zone"*)
        diag "suite: $line" ;;
    esac
done </tmp/zbd.fifo
wait
# the kernel's messages (all levels: the console shows only errors)
dmesg >/tmp/zbd-dmesg.txt 2>&1
zt_out zbd-dmesg /tmp/zbd-dmesg.txt
rc=$(cat /tmp/zbd.rc 2>/dev/null || echo none)
diag "test-zbd-support exited with status $rc"
case $rc in
0 | 1) ;;
*) not_ok "test-zbd-support ran to its end (exit $rc)" ;;
esac
done_testing
