#!/bin/sh
# Persistence across a restart of QEMU (two boots; guest/run.sh IMAGE persist
# runs both).
#
#   zt.phase=write  resets all zones and leaves zones in every condition,
#                   each written with a pattern named after its zone:
#                     S+0 closed (1 MiB)        S+1 implicitly open (64 KiB)
#                     S+2 explicitly open (128 KiB)
#                     S+3 explicitly open, empty
#                     S+4 finished (256 KiB)    S+5 full (whole capacity,
#                                                   only if zt.fill=1)
#                     zone 0, if conventional: 64 KiB at 512 KiB
#                   then flushes the disk (not with zt.noflush=1) and hands
#                   the zone report to the host (block "report").  With
#                   zt.hold=1 it then prints ZT-HOLD and waits to be killed
#                   (crash test).
#   zt.phase=check  reads that report back from the scratch disk
#                   (zt.in_len bytes at its start) and checks that every
#                   zone's write pointer and condition survived (open zones
#                   come back closed, or empty when nothing was written) and
#                   that the data reads back, with zeros above the write
#                   pointers.
#                   The report taken at the start goes to the host (block
#                   "report-boot"), which compares it with qemu-io's.
#                   With zt.consistent=1 (after a kill without flush) the
#                   report may differ, but each zone must be consistent:
#                   its data below the write pointer is the pattern written
#                   there, its condition matches its write pointer, and
#                   nothing beyond what was written is claimed.
# shellcheck shell=sh
# shellcheck disable=SC1091,SC2086 # installed paths; numeric variables

. /usr/share/zt/tap.sh
. /usr/share/zt/zone.sh

diag "persist phase ${ZT_PHASE:-?}, kernel $(uname -r)"
zt_find_dev || bail "no disk under test"
diag "disk under test: $DEV ($(cat "/sys/block/$DEVNAME/size") sectors)"
[ "$(q zoned)" = host-managed ] || { not_ok "$DEV is a host-managed zoned disk (queue/zoned=$(q zoned))"; done_testing; exit 1; }
zt_geometry
S=$SEQ0
NSEQ=$((NZ - NCONV))
[ $NSEQ -ge 6 ] || bail "persist needs 6 sequential zones, $DEV has $NSEQ"

# written bytes per zone (index relative to S)
size_of() {
    case $1 in
    0) echo 1048576 ;; 1) echo 65536 ;; 2) echo 131072 ;; 4) echo 262144 ;;
    5) echo $(( ${ZT_FILL:-0} == 1 ? ZCAP * 512 : 0 )) ;;
    *) echo 0 ;;
    esac
}

case ${ZT_PHASE:-} in
write)
    t_run "reset all zones" blkzone reset "$DEV"
    for r in 0 1 2 4 5; do
        zinfo $((S + r))
        n=$(size_of $r)
        [ "$n" -gt 0 ] || continue
        [ $r = 2 ] && zop open $((S + r))
        zt_pattern "zone$((S + r))" "$n" >/tmp/p
        t_run "zone $((S + r)): write $((n / 1024)) KiB" \
            dd if=/tmp/p of="$DEV" bs=65536 seek=$(((S + r) * ZS / 128)) oflag=direct
        [ $r = 0 ] && zop close $((S + r))
        [ $r = 4 ] && zop finish $((S + r))
    done
    zop open $((S + 3))
    if [ "$NCONV" -gt 0 ]; then
        zt_pattern zone0 65536 >/tmp/p
        t_run "conventional zone 0: write 64 KiB at 512 KiB" \
            dd if=/tmp/p of="$DEV" bs=65536 seek=8 oflag=direct
    fi
    # fsync on the block device sends a FLUSH to the disk (blockdev
    # --flushbufs would only write back the page cache)
    if [ "${ZT_NOFLUSH:-0}" = 1 ]; then
        diag "no flush: QEMU will be killed with the writes unflushed"
    else
        t_run "flush the disk (fsync of $DEV)" sync "$DEV"
    fi
    blkzone report "$DEV" >/tmp/report
    cond() { zinfo $((S + $1)); echo "$ZCOND"; }
    t_eq "conditions before the restart (S+0..S+5)" \
        "$(cond 0) $(cond 1) $(cond 2) $(cond 3) $(cond 4) $(cond 5)" \
        "cl oi oe oe fu $( [ "${ZT_FILL:-0}" = 1 ] && echo fu || echo em)"
    zt_out report /tmp/report
    if [ "${ZT_HOLD:-0}" = 1 ]; then
        done_testing
        zt_emit "# ZT-HOLD"
        while :; do sleep 60; done
    fi
    ;;
check)
    scratch=$(zt_scratch_dev) || bail "no scratch disk with the saved report"
    [ -n "${ZT_IN_LEN:-}" ] || bail "zt.in_len is not set"
    head -c "$ZT_IN_LEN" "$scratch" >/tmp/saved
    diag "saved report: $(grep -c start: /tmp/saved) zones"
    blkzone report "$DEV" >/tmp/report
    # for the host: it compares this with qemu-io's report of the image
    zt_out report-boot /tmp/report
    diag "report after the restart:"
    while IFS= read -r l; do diag "  $l"; done </tmp/report
    if [ "${ZT_CONSISTENT:-0}" = 1 ]; then
        for r in 0 1 2 3 4 5; do
            z=$((S + r))
            zinfo $z
            n=$(size_of $r)
            wpb=$((ZWP * 512))
            case $ZCOND in
            em) [ "$ZWP" = 0 ] && c=ok || c="em with wp $ZWP" ;;
            cl) [ "$ZWP" -gt 0 ] && [ "$ZWP" -lt "$ZCAP" ] && c=ok || c="cl with wp $ZWP" ;;
            fu) c=ok ;;
            *) c="condition $ZCOND after a restart" ;;
            esac
            t_eq "zone $z: condition $ZCOND agrees with wp $ZWP" "$c" ok
            if [ "$ZCOND" = fu ]; then
                # full: either finished (zone S+4) or written to capacity
                [ $r = 4 ] || [ $r = 5 ] || { not_ok "zone $z: full, but it was never finished or filled"; continue; }
                len=$n
            else
                if [ "$wpb" -gt "$n" ]; then
                    not_ok "zone $z: wp $ZWP covers more than the $n bytes written"
                    continue
                fi
                len=$wpb
            fi
            [ "$len" -gt 0 ] || continue
            zt_pattern "zone$z" "$len" >/tmp/p
            t_eq "zone $z: the $((len / 1024)) KiB below the write pointer are the data written" \
                "$(dd if="$DEV" bs=4096 count=$((len / 4096)) skip=$((z * ZS / 8)) iflag=direct 2>/dev/null | sum)" \
                "$(sum </tmp/p)"
        done
        t_run "reset all zones" blkzone reset "$DEV"
        done_testing
        exit
    fi
    # what the saved report must look like after a restart: open zones are
    # closed, or empty when their write pointer is at the zone start
    awk '
        /start:/ {
            if ($0 ~ /\((oi|oe)\)/) {
                match($0, /wptr 0x[0-9a-f]+/)
                wp = substr($0, RSTART + 5, RLENGTH - 5)
                if (wp ~ /^0x0+$/) { sub(/zcond: *[0-9]+\((oi|oe)\)/, "zcond: 1(em)") }
                else { sub(/zcond: *[0-9]+\((oi|oe)\)/, "zcond: 4(cl)") }
            }
        }
        { print }' /tmp/saved | grep start: >/tmp/expected
    grep start: /tmp/report >/tmp/got
    if [ -s /tmp/expected ] && cmp -s /tmp/expected /tmp/got; then
        ok "zone report after the restart = saved report with open zones closed"
    else
        not_ok "zone report after the restart = saved report with open zones closed"
        diag_cmd diff /tmp/expected /tmp/got
    fi
    for r in 0 1 2 4 5; do
        z=$((S + r))
        zinfo $z
        n=$(size_of $r)
        [ "$n" -gt 0 ] || continue
        zt_pattern "zone$z" "$n" >/tmp/p
        t_eq "zone $z: $((n / 1024)) KiB of data read back" \
            "$(dd if="$DEV" bs=65536 count=$((n / 65536)) skip=$((z * ZS / 128)) iflag=direct 2>/dev/null | sum)" \
            "$(sum </tmp/p)"
        if [ $((ZWP * 512)) -lt $((ZCAP * 512)) ]; then
            if zread $z "$ZWP" 65536 | zeros 65536; then ok "zone $z: zeros above the write pointer"
            else not_ok "zone $z: zeros above the write pointer"; fi
        fi
    done
    if [ "$NCONV" -gt 0 ]; then
        zt_pattern zone0 65536 >/tmp/p
        t_eq "conventional zone 0: data read back" \
            "$(dd if="$DEV" bs=65536 count=1 skip=8 iflag=direct 2>/dev/null | sum)" "$(sum </tmp/p)"
    fi
    t_run "zone $S: a closed zone takes a write at its write pointer" zwrite "$S" 2048 4096
    t_eq "zone $S: implicitly open again" "$(zstate "$S")" oi.2056
    t_run "zone $((S + 3)): an empty zone (was explicitly open) takes a write" zwrite $((S + 3)) 0 4096
    t_run "reset all zones" blkzone reset "$DEV"
    ;;
*)
    bail "zt.phase must be write or check"
    ;;
esac
done_testing
