# Zone helpers for the in-guest tests (busybox sh).  Sourced, not executed.
# shellcheck shell=sh
# shellcheck disable=SC2034 # the variables are for the scripts that source this

# zt_find_dev: the disk under test.  zt.dev=NAME on the kernel command line
# wins; otherwise the first virtio disk that is not the harness' scratch disk
# (serial "zt-scratch").  Sets DEV (/dev/vda) and DEVNAME (vda).
zt_find_dev() {
    DEVNAME=${ZT_DEV:-}
    if [ -z "$DEVNAME" ]; then
        for _b in /sys/block/vd*; do
            [ -e "$_b" ] || continue
            [ "$(cat "$_b/serial" 2>/dev/null)" = zt-scratch ] && continue
            DEVNAME=${_b##*/}
            break
        done
    fi
    DEV=/dev/$DEVNAME
    [ -n "$DEVNAME" ] && [ -b "$DEV" ]
}

# zt_scratch_dev: prints the scratch disk (serial zt-scratch), if any
zt_scratch_dev() {
    for _b in /sys/block/vd*; do
        [ "$(cat "$_b/serial" 2>/dev/null)" = zt-scratch ] && { echo "/dev/${_b##*/}"; return 0; }
    done
    return 1
}

q() { # q ATTR: a queue attribute of the disk under test
    cat "/sys/block/$DEVNAME/queue/$1" 2>/dev/null || echo "(missing)"
}

# zt_geometry: ZS (zone sectors), NZ (zones), NCONV (conventional zones,
# counted from the report), SEQ0 (index of the first sequential zone)
zt_geometry() {
    ZS=$(q chunk_sectors)
    NZ=$(q nr_zones)
    NCONV=$(blkzone report "$DEV" 2>/dev/null | grep -c 'CONVENTIONAL')
    SEQ0=$NCONV
}

# zinfo IDX: report zone IDX; sets ZSTART ZLEN ZCAP ZWP (relative to the
# zone start, in sectors), ZCOND (em oi oe cl fu nw ...) and ZTYPE (1 =
# conventional, 2 = sequential write required)
zinfo() {
    ZCOND=none
    _l=$(blkzone report -o $(($1 * ZS)) -c 1 "$DEV" 2>/dev/null | grep 'start:' | head -n 1)
    # shellcheck disable=SC2046
    set -- $(echo "$_l" | sed -n 's/.*start: *\(0x[0-9a-f]*\), len \(0x[0-9a-f]*\), cap \(0x[0-9a-f]*\), wptr \(0x[0-9a-f]*\).*zcond: *[0-9]*(\([a-z0-9]*\)) \[type: *\([0-9]*\).*/\1 \2 \3 \4 \5 \6/p')
    [ $# = 6 ] || return 1
    ZSTART=$(($1))
    ZLEN=$(($2))
    ZCAP=$(($3))
    ZWP=$(($4))
    ZCOND=$5
    ZTYPE=$6
}

# these print, so they run in a subshell: ZCOND and friends are not set
zcond() { zinfo "$1"; echo "$ZCOND"; }
zwp() { zinfo "$1"; echo "$ZWP"; }
zstate() { zinfo "$1"; echo "$ZCOND.$ZWP"; } # e.g. oi.8

zop() { # zop open|close|finish|reset IDX [COUNT]
    blkzone "$1" -o $(($2 * ZS)) -c "${3:-1}" "$DEV"
}

# zwrite IDX OFFSET_SECTORS BYTES: a direct write of BYTES (multiple of 4096)
# at sector OFFSET_SECTORS of zone IDX.  The data is the same part of
# /tmp/zt-pattern (1 MiB) when it fits, so a zone's first MiB is always a
# prefix of that pattern; further out the pattern starts over.  Fails unless
# every block was written.
zwrite() {
    [ -f /tmp/zt-pattern ] || zt_pattern default 1048576 >/tmp/zt-pattern
    _cnt=$(($3 / 4096))
    _skip=$(($2 / 8))
    [ $((_skip + _cnt)) -le 256 ] || _skip=0
    [ "$_cnt" -le 256 ] || { echo "zwrite: at most 1 MiB" >&2; return 1; }
    if dd if=/tmp/zt-pattern of="$DEV" bs=4096 count="$_cnt" skip="$_skip" \
        seek=$((($1 * ZS + $2) / 8)) oflag=direct 2>/tmp/zt-dd.err; then
        grep -q "^$_cnt+0 records out" /tmp/zt-dd.err && return 0
        echo "zwrite: short write: $(grep 'records out' /tmp/zt-dd.err)" >&2
        return 1
    fi
    grep -v 'records' /tmp/zt-dd.err >&2
    return 1
}

# zread IDX OFFSET_SECTORS BYTES: prints the bytes (direct read)
zread() {
    dd if="$DEV" bs=4096 count=$(($3 / 4096)) skip=$((($1 * ZS + $2) / 8)) \
        iflag=direct 2>/dev/null
}

# zt_pattern SEED BYTES: deterministic data that names its seed and block
zt_pattern() {
    awk -v s="$1" 'BEGIN { for (i = 0; ; i++) printf "%-16s %012d zoned-qcow2 harness data.\n", s, i }' 2>/dev/null |
        head -c "$2"
}

# zeros BYTES: succeeds when stdin is BYTES zero bytes
zeros() {
    [ "$(sum)" = "$(head -c "$1" /dev/zero | sum)" ]
}

sum() { sha256sum | cut -d' ' -f1; }
