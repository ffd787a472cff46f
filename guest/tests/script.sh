#!/bin/sh
# Runs a script handed over by the host (guest/run.sh IMAGE script:FILE):
# FILE is at the start of the scratch disk, zt.in_len bytes long.  The script
# runs under busybox sh with the TAP and zone helpers already sourced
# (lib/tap.sh, lib/zone.sh) and DEV set to the disk under test; it should
# end with done_testing when it prints TAP.
# shellcheck shell=sh
# shellcheck disable=SC1091,SC2086 # installed paths; numeric variables

. /usr/share/zt/tap.sh
. /usr/share/zt/zone.sh

scratch=$(zt_scratch_dev) || bail "no scratch disk"
[ -n "${ZT_IN_LEN:-}" ] || bail "zt.in_len is not set"
head -c "$ZT_IN_LEN" "$scratch" >/tmp/user-script.sh
zt_find_dev && [ "$(q zoned)" != none ] && zt_geometry
# shellcheck disable=SC1091
. /tmp/user-script.sh
