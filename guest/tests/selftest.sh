#!/bin/sh
# Self-test of the harness: runs zoned.sh against a zoned null_blk device
# (Linux's own zoned emulation), so that a failure of zoned.sh on a qcow2
# image can be told apart from a bug in the harness.
#
# Geometry (kernel command line, defaults in brackets): zt.nb_zone_mb [16],
# zt.nb_zones [12], zt.nb_cap_mb [zone size], zt.nb_conv [0],
# zt.nb_max_open [6], zt.nb_max_active [10], zt.nb_append_sectors [8].
# (max_active 10, not the 8 of the specification's example: Linux 6.12 btrfs
# hangs with 8, see zoned.sh.)  null_blk returns a fill pattern, not zeros,
# for unwritten blocks, so those checks are skipped (zt.unwritten=any).
# shellcheck shell=sh
# shellcheck disable=SC1091,SC2086 # installed paths; numeric variables

zmb=${ZT_NB_ZONE_MB:-16}
nzones=${ZT_NB_ZONES:-12}
capmb=${ZT_NB_CAP_MB:-$zmb}
conv=${ZT_NB_CONV:-0}
mo=${ZT_NB_MAX_OPEN:-6}
ma=${ZT_NB_MAX_ACTIVE:-10}
app=${ZT_NB_APPEND_SECTORS:-8}

d=/sys/kernel/config/nullb/nullb0
if [ ! -d /sys/kernel/config/nullb ]; then
    echo "Bail out! null_blk configfs is not available" >&2
    echo "1..0"
    exit 1
fi
mkdir "$d"
set_attr() {
    if ! echo "$2" >"$d/$1" 2>/dev/null; then echo "selftest: cannot set $1=$2"; fi
}
set_attr size $((zmb * nzones))
set_attr blocksize 512
set_attr memory_backed 1
set_attr zoned 1
set_attr zone_size "$zmb"
set_attr zone_capacity "$capmb"
set_attr zone_nr_conv "$conv"
set_attr zone_max_open "$mo"
set_attr zone_max_active "$ma"
set_attr zone_append_max_sectors "$app"
set_attr power 1
sleep 1

export ZT_DEV=nullb0
export ZT_NR_ZONES=$nzones
export ZT_ZONE_SECTORS=$((zmb * 2048))
export ZT_CAP_SECTORS=$((capmb * 2048))
export ZT_CONV=$conv
export ZT_MAX_OPEN=$mo
export ZT_MAX_ACTIVE=$ma
export ZT_APPEND_BYTES=$((app * 512))
export ZT_SIZE_SECTORS=$((zmb * nzones * 2048))
export ZT_UNWRITTEN=any
exec sh /usr/share/zt/tests/zoned.sh
