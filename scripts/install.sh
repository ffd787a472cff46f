#!/bin/bash
# 'make install PREFIX=DIR': install the patched programs so that they run
# from DIR/bin on this machine:
#
#   DIR/bin/qemu-img, qemu-io, qemu-nbd, qemu-storage-daemon,
#   qemu-system-x86_64
#   DIR/share/qemu/   the firmware qemu-system-x86_64 needs (SeaBIOS, the
#                     option ROMs), copied from the build's qemu-bundle, which
#                     links Debian's files
#
# QEMU finds its data directory relative to the executable (DIR/bin ->
# DIR/share/qemu), so the tree can live anywhere; nothing outside DIR is
# touched.  The system's QEMU is never overwritten: PREFIX=/usr (or /) is
# refused, and so is any target file that a Debian package owns, unless
# FORCE=1.
#
# Environment: PREFIX (required), BUILD_DIR (default qemu/build), FORCE.
# --check-prefix: only check PREFIX (make does it before building).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
b=${BUILD_DIR:-$top/qemu/build}
die() { echo "install: $*" >&2; exit 1; }

prefix=${PREFIX:-}
[ -n "$prefix" ] || die "PREFIX is not set: e.g. 'make install PREFIX=\$HOME/zoned-qemu'"
case $prefix in
/*) ;;
*) prefix=$(pwd)/$prefix ;;
esac
prefix=$(realpath -m "$prefix")
case $prefix in
/ | /usr)
    [ "${FORCE:-0}" = 1 ] ||
        die "PREFIX=$prefix would overwrite the system's QEMU; use another directory (or FORCE=1)" ;;
esac

[ "${1:-}" = --check-prefix ] && exit 0

progs=(qemu-img qemu-io qemu-nbd storage-daemon/qemu-storage-daemon qemu-system-x86_64)
for p in "${progs[@]}"; do
    [ -x "$b/$p" ] || die "$b/$p is not built (run 'make build')"
done
fw="$b/qemu-bundle/usr/local/share/qemu"
[ -e "$fw/bios-256k.bin" ] || die "no firmware in $fw (run 'make build')"

# Never replace a file that a Debian package installed (the system's QEMU).
if [ "${FORCE:-0}" != 1 ] && command -v dpkg-query >/dev/null; then
    for p in "${progs[@]}"; do
        t="$prefix/bin/$(basename "$p")"
        [ -e "$t" ] || continue
        if owner=$(dpkg-query -S "$(realpath "$t")" 2>/dev/null); then
            die "$t belongs to the Debian package ${owner%%:*}; not overwriting it (FORCE=1 to do so)"
        fi
    done
fi

mkdir -p "$prefix/bin" "$prefix/share/qemu"
for p in "${progs[@]}"; do
    install -m 0755 "$b/$p" "$prefix/bin/$(basename "$p")"
done
# -L: real copies of the files the bundle links, so that DIR stands alone
# (entries whose target was not built, such as trace-events-all, are left out)
for f in "$fw"/*; do
    [ -e "$f" ] || continue
    cp -L -r --preserve=mode "$f" "$prefix/share/qemu/"
done

echo "install: installed into $prefix:"
for p in "${progs[@]}"; do
    echo "  bin/$(basename "$p")"
done
echo "  share/qemu/ ($(find "$prefix/share/qemu" -type f | wc -l) firmware files)"
echo "install: to use them, put $prefix/bin first on PATH:"
echo "  export PATH=\"$prefix/bin:\$PATH\""
