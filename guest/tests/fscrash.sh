#!/bin/sh
# Power cut under a zoned file system (two boots; guest/run.sh IMAGE
# fs-crash runs both, with a SIGKILL of QEMU in between).
#
#   zt.fs=btrfs|f2fs   the file system (default btrfs; f2fs needs conventional
#                      zones for its metadata, btrfs max_active_zones > 8)
#   zt.phase=write     resets the zones, makes the file system and writes the
#                      durable set: files in keep/ (pattern files of 4 MiB,
#                      1 MiB, 256 KiB and 12345 bytes, a 512 KiB O_DIRECT
#                      file, 40 small files) and their checksums in
#                      keep.sha256, every one fsynced with its directory; the
#                      checksum list goes to the host (block "manifest").
#                      Then prints ZT-HOLD and, until the host kills QEMU,
#                      two writers run at once: run/fN, buffered, 256 KiB to
#                      1 MiB each, every 3rd fsynced with its directory, now
#                      and then an unsynced one removed, with a small
#                      dirty-page limit so that writeback is always in
#                      progress; and run/dN, 2 MiB O_DIRECT each (zone
#                      appends on btrfs), every 2nd fsynced.  After each
#                      fsync: "# ZT-SYNCED SHA256  run/XN ." (printed only
#                      once fsync has returned), after each file
#                      "# ZT-WROTE run/XN SHA256"; an error prints
#                      "# ZT-WRITER-FAILED ..." and stops that writer.
#   zt.phase=check     zt.in_len bytes at the start of the scratch disk list
#                      every file fsynced before the kill ("synced SHA256
#                      PATH") and every file the writers finished ("wrote
#                      SHA256 PATH").  Checks: the disk is host-managed with
#                      the image's geometry; every zone's condition agrees
#                      with its write pointer (nothing open after a boot, wp
#                      within the capacity); for every partially written
#                      zone the 16 KiB below the write pointer are not all
#                      zeros and the 4 KiB above it are zeros; the file
#                      system mounts (log replay / roll-forward recovery);
#                      every fsynced file has its checksum; every file reads
#                      without an I/O error; the checker is clean (btrfs
#                      check / fsck.f2fs --dry-run); the file system takes
#                      new writes that survive a remount.  The zone reports
#                      at the start ("report-boot") and at the end
#                      ("report-final") go to the host, which compares them
#                      with qemu-io's.
# shellcheck shell=sh
# shellcheck disable=SC1091,SC2086 # installed paths; numeric variables

. /usr/share/zt/tap.sh
. /usr/share/zt/zone.sh
set -u

FS=${ZT_FS:-btrfs}
diag "fs-crash phase ${ZT_PHASE:-?}, file system $FS, kernel $(uname -r)"
case $FS in btrfs | f2fs) ;; *) bail "zt.fs must be btrfs or f2fs" ;; esac
zt_find_dev || bail "no disk under test"
if ! t_eq "$DEV is a host-managed zoned disk (queue/zoned)" "$(q zoned)" host-managed; then
    done_testing
    exit 1
fi
zt_geometry
grep -qw "$FS" /proc/filesystems || bail "the kernel has no $FS"
ma=$(q max_active_zones)

fsck_fs() {
    case $FS in
    btrfs) timeout 300 btrfs check "$DEV" ;;
    # --dry-run: report, never repair; the exit status is non-zero on errors
    f2fs) timeout 300 fsck.f2fs --dry-run "$DEV" >/tmp/fsck.out 2>&1 && _r=0 || _r=$?
        cat /tmp/fsck.out
        grep -q '\[Fail\]' /tmp/fsck.out && return 1
        return $_r ;;
    esac
}

# fs_dmesg: the file system's kernel messages as diagnostics
fs_dmesg() {
    dmesg | grep -i "$FS" | grep -v -i "command line" | tail -n "${1:-20}" | while IFS= read -r l; do diag "dmesg: $l"; done
}

# writer f|d: writes run/f0, run/f1, ... (buffered, 256 KiB to 1 MiB of a
# pattern named after the file, every 3rd fsynced, now and then an older
# unsynced one removed) or run/d0, run/d1, ... (2 MiB O_DIRECT writes of
# /tmp/direct, every 2nd fsynced) until QEMU is killed
writer() {
    _i=0 _every=3
    [ "$1" = d ] && _every=2
    while :; do
        _f=run/$1$_i
        if [ "$1" = f ]; then
            _w=/tmp/w
            zt_pattern "run$_i" $(((_i % 4 + 1) * 262144)) >$_w
            cp $_w "/mnt/$_f" 2>/tmp/w-$1.err
        else
            _w=/tmp/direct
            dd if=$_w of="/mnt/$_f" bs=2097152 oflag=direct 2>/tmp/w-$1.err
        fi || { zt_emit "# ZT-WRITER-FAILED writing $_f: $(tail -n 1 /tmp/w-$1.err)"; break; }
        if [ $((_i % _every)) = 1 ]; then
            sync "/mnt/$_f" /mnt/run 2>/tmp/w-$1.err ||
                { zt_emit "# ZT-WRITER-FAILED fsync of $_f: $(tail -n 1 /tmp/w-$1.err)"; break; }
            zt_emit "# ZT-SYNCED $(sum <$_w)  $_f ."
        fi
        zt_emit "# ZT-WROTE $_f $(sum <$_w)"
        _o=$((_i - 5))
        if [ "$1" = f ] && [ $((_i % 7)) = 6 ] && [ $((_o % 3)) != 1 ]; then rm -f "/mnt/run/f$_o"; fi
        _i=$((_i + 1))
    done
    zt_emit "# ZT-WRITER-STOPPED ($1) after $_i files"
}

case ${ZT_PHASE:-} in
write)
    if [ "$FS" = btrfs ] && [ "$ma" -gt 0 ] && [ "$ma" -le 8 ]; then
        bail "btrfs hangs in Linux 6.12 with max_active_zones <= 8 (here $ma): use an image with more"
    fi
    if [ "$FS" = f2fs ] && [ "$NCONV" = 0 ]; then
        bail "f2fs needs conventional zones on the disk for its metadata (this one has none)"
    fi
    t_run "reset all zones" blkzone reset "$DEV" || bail "zone reset fails"
    wipefs -a "$DEV" >/dev/null 2>&1
    case $FS in
    btrfs) t_run "mkfs.btrfs $DEV (zoned)" timeout 120 mkfs.btrfs -f -L zt "$DEV" ;;
    f2fs) t_run "mkfs.f2fs -m $DEV (metadata in the $NCONV conventional zones)" \
        timeout 120 mkfs.f2fs -f -m -l zt "$DEV" ;;
    esac || bail "mkfs failed"
    t_run "mount -t $FS" mount -t "$FS" "$DEV" /mnt || bail "mount failed"

    # the durable set
    mkdir -p /mnt/keep /mnt/run
    for spec in k0:4194304 k1:1048576 k2:262144 k3:12345; do
        zt_pattern "keep-${spec%%:*}" "${spec#*:}" >"/mnt/keep/${spec%%:*}"
    done
    zt_pattern keep-d0 524288 >/tmp/d0
    dd if=/tmp/d0 of=/mnt/keep/d0 bs=65536 oflag=direct 2>/dev/null
    i=0
    while [ $i -lt 40 ]; do echo "small file $i" >"/mnt/keep/s$i"; i=$((i + 1)); done
    (cd /mnt && sha256sum keep/*) >/mnt/keep.sha256
    t_eq "durable set: 45 files and their checksums written" "$(wc -l </mnt/keep.sha256)" 45
    t_run "fsync the files, keep/, keep.sha256 and / (busybox sync FILE = fsync)" \
        sync /mnt/keep/* /mnt/keep /mnt/keep.sha256 /mnt
    zt_out manifest /mnt/keep.sha256

    # keep writeback busy: the kill must find writes in flight
    echo 1048576 >/proc/sys/vm/dirty_background_bytes
    echo 4194304 >/proc/sys/vm/dirty_bytes
    echo 50 >/proc/sys/vm/dirty_writeback_centisecs
    echo 100 >/proc/sys/vm/dirty_expire_centisecs
    done_testing
    zt_pattern direct 2097152 >/tmp/direct
    zt_emit "# ZT-HOLD"
    writer f &
    writer d &
    while :; do sleep 60; done
    ;;
check)
    expect "number of zones (queue/nr_zones)" "$NZ" NR_ZONES
    expect "zone size in sectors (queue/chunk_sectors)" "$ZS" ZONE_SECTORS
    expect "max open zones (queue/max_open_zones)" "$(q max_open_zones)" MAX_OPEN
    expect "max active zones (queue/max_active_zones)" "$ma" MAX_ACTIVE
    expect "number of conventional zones in the report" "$NCONV" CONV
    scratch=$(zt_scratch_dev) || bail "no scratch disk with the checksum list"
    [ -n "${ZT_IN_LEN:-}" ] || bail "zt.in_len is not set"
    head -c "$ZT_IN_LEN" "$scratch" >/tmp/input
    sed -n -E 's,^synced ([0-9a-f]{64}) ((keep|run)/[a-z0-9]+)$,\1  \2,p' /tmp/input >/tmp/synced
    sed -n -E 's,^wrote ([0-9a-f]{64}) (run/[a-z0-9]+)$,\1  \2,p' /tmp/input >/tmp/wrote
    nkeep=$(grep -c '  keep/' /tmp/synced)
    nrun=$(grep -c '  run/' /tmp/synced)
    diag "checksums from the host: $nkeep files of the durable set, $nrun fsynced by the writer"

    blkzone report "$DEV" >/tmp/report0
    zt_out report-boot /tmp/report0
    # idx wptr(relative) len cap cond type, one line per zone
    sed -n 's/.*start: *\(0x[0-9a-f]*\), len \(0x[0-9a-f]*\), cap \(0x[0-9a-f]*\), wptr \(0x[0-9a-f]*\).*zcond: *[0-9]*(\([a-z]*\)) \[type: *\([0-9]*\).*/\1 \4 \2 \3 \5 \6/p' \
        /tmp/report0 >/tmp/zones
    t_eq "zone report after the kill: every zone parsed" "$(wc -l </tmp/zones)" "$NZ"
    bad=
    closed=
    used=0
    idx=0
    while read -r _start wp len cap cond type; do
        wp=$((wp)) len=$((len)) cap=$((cap))
        case $type.$cond in
        1.nw) ;;
        2.em) [ "$wp" = 0 ] || bad="$bad zone$idx:em,wp=$wp" ;;
        2.cl)
            if [ "$wp" -gt 0 ] && [ "$wp" -lt "$cap" ]; then closed="$closed $idx:$wp:$cap"
            else bad="$bad zone$idx:cl,wp=$wp,cap=$cap"; fi ;;
        2.fu) [ "$wp" = "$len" ] || bad="$bad zone$idx:fu,wp=$wp(Linux reports len)" ;;
        *) bad="$bad zone$idx:type$type,$cond,wp=$wp" ;;
        esac
        [ "$cond" = em ] || [ "$cond" = nw ] || used=$((used + 1))
        idx=$((idx + 1))
    done </tmp/zones
    t_eq "every zone: condition agrees with the write pointer (em: 0, cl: inside the capacity, fu; nothing open after a boot)" \
        "${bad:-none}" none
    if [ "$used" -gt 0 ]; then
        ok "the file system wrote into $used sequential zones before the kill"
    else
        not_ok "the file system wrote into sequential zones before the kill (none in use: nothing tested)"
    fi
    diag "partially written (closed) zones, index:wp:cap:$closed"
    grep -v -E '\((em|nw)\)' /tmp/report0 | while IFS= read -r l; do diag "  $l"; done
    if [ -z "$closed" ]; then
        skip "data below and above the write pointers of partially written zones" "no partially written zone"
    else
        below='' above='' n=0
        for z in $closed; do
            idx=${z%%:*} rest=${z#*:}
            wp=${rest%%:*} cap=${rest#*:}
            # the last 16 KiB below the write pointer (a whole btrfs node;
            # file data here is never zero): not all zeros
            b=$((wp < 32 ? wp : 32))
            if dd if="$DEV" bs=512 skip=$((idx * ZS + wp - b)) count=$b iflag=direct 2>/dev/null |
                zeros $((b * 512)); then
                below="$below zone$idx"
            fi
            # and the 4 KiB above it read as zeros (specification section 3)
            if [ $((wp + 8)) -le "$cap" ] &&
                ! dd if="$DEV" bs=512 skip=$((idx * ZS + wp)) count=8 iflag=direct 2>/dev/null | zeros 4096; then
                above="$above zone$idx"
            fi
            n=$((n + 1))
        done
        t_eq "$n partially written zones: the 16 KiB below the write pointer hold data (not all zeros)" "${below:-none}" none
        t_eq "$n partially written zones: the 4 KiB above the write pointer read as zeros" "${above:-none}" none
    fi

    if ! t_run "mount -t $FS after the kill (recovery)" mount -t "$FS" "$DEV" /mnt; then
        fs_dmesg 30
        t_run "$FS checker after the kill" fsck_fs
        done_testing
        exit 1
    fi
    fs_dmesg 20
    t_eq "the host handed back the checksums of the durable set" "$nkeep" 45
    # every file that was fsynced before the kill
    badk='' badr=''
    while read -r sha path; do
        got=$(sum <"/mnt/$path" 2>/dev/null) || got=unreadable
        if [ "$got" != "$sha" ]; then
            case $path in keep/*) badk="$badk $path" ;; *) badr="$badr $path" ;; esac
        fi
    done </tmp/synced
    t_eq "the $nkeep files of the durable set are intact (sha256)" "${badk:-none}" none
    if [ "$nrun" -gt 0 ]; then
        t_eq "the $nrun files the writer fsynced before the kill are intact (sha256)" "${badr:-none}" none
    else
        skip "files fsynced by the writer are intact" "the writer fsynced none before the kill"
    fi
    t_eq "the checksum file keep.sha256 on the file system is the one handed over" \
        "$(sum </mnt/keep.sha256 2>/dev/null)" "$(grep '  keep/' /tmp/synced | sum)"
    # everything the file system lists must read (btrfs verifies data
    # checksums on the way)
    find /mnt -type f >/tmp/files
    nfiles=$(wc -l </tmp/files)
    unread=
    while IFS= read -r f; do cat "$f" >/dev/null 2>&1 || unread="$unread ${f#/mnt/}"; done </tmp/files
    t_eq "all $nfiles files read without an I/O error" "${unread:-none}" none
    # the files the writers finished but did not fsync: information only
    # (no promise after a power cut)
    nw=0 full=0 other=0 gone=0
    while read -r sha path; do
        grep -q "  $path\$" /tmp/synced && continue
        nw=$((nw + 1))
        if [ ! -f "/mnt/$path" ]; then gone=$((gone + 1))
        elif [ "$(sum <"/mnt/$path")" = "$sha" ]; then full=$((full + 1))
        else
            other=$((other + 1))
            sz=$(stat -c %s "/mnt/$path")
            if [ "$sz" = 0 ]; then what=empty
            elif zeros "$sz" <"/mnt/$path"; then what="all zeros"
            else what="not all zeros"; fi
            diag "  $path: $sz bytes, $what (not its complete content)"
        fi
    done </tmp/wrote
    diag "files written but not fsynced before the kill: $nw; after it: $full complete, $other partial or empty, $gone absent (some were removed on purpose)"
    diag "run/ holds $(find /mnt/run -type f | wc -l) files"
    diag_cmd df -k /mnt
    t_run "umount" umount /mnt
    t_run "$FS checker after the recovery is clean ($([ "$FS" = btrfs ] && echo 'btrfs check' || echo 'fsck.f2fs --dry-run'))" fsck_fs
    # the recovered file system goes on working
    if t_run "mount again" mount -t "$FS" "$DEV" /mnt; then
        zt_pattern after 4194304 >/tmp/after
        # btrfs writes data as zone appends: count them (type N with data)
        tr=/sys/kernel/tracing/events/block/block_rq_issue
        if [ "$FS" = btrfs ] && [ -d $tr ]; then
            echo 'rwbs == "N" && nr_sector > 0' >$tr/filter
            : >/sys/kernel/tracing/trace
            echo 1 >$tr/enable
        fi
        # shellcheck disable=SC2016 # expanded by the inner shell
        t_run "write 4 MiB and 20 small files after the recovery, syncfs" \
            sh -c 'cp /tmp/after /mnt/after && mkdir -p /mnt/after.d && i=0 &&
                   while [ $i -lt 20 ]; do echo "after $i" >/mnt/after.d/a$i; i=$((i + 1)); done &&
                   sync -f /mnt/after'
        if [ "$FS" = btrfs ] && [ -d $tr ]; then
            echo 0 >$tr/enable
            n=$(grep -c block_rq_issue /sys/kernel/tracing/trace)
            if [ "$n" -gt 0 ]; then ok "btrfs: the new data went out as zone appends ($n requests)"
            else not_ok "btrfs: the new data went out as zone appends (none seen)"; fi
            echo 0 >$tr/filter
        fi
        umount /mnt
        if mount -t "$FS" "$DEV" /mnt; then
            t_eq "new data after a remount" "$(sum </mnt/after).$(cat /mnt/after.d/a19)" "$(sum </tmp/after).after 19"
            t_eq "the durable set still intact" "$(cd /mnt && sha256sum -c /mnt/keep.sha256 2>&1 | grep -c ': OK$')" 45
            umount /mnt
        else
            not_ok "mount after the new writes"
            fs_dmesg 20
        fi
    fi
    blkzone report "$DEV" >/tmp/report1
    zt_out report-final /tmp/report1
    ;;
*)
    bail "zt.phase must be write or check"
    ;;
esac
done_testing
