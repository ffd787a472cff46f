#!/bin/bash
# 'make install PREFIX=DIR' into a temporary prefix, as the README shows it,
# then the installed programs run from DIR/bin with PATH set as the README
# says: they are the patched ones (zoned images), and qemu-system-x86_64
# finds its firmware under DIR without -L.  PREFIX=/usr is refused, and an
# unset PREFIX too, before anything is built.  Prints TAP.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/zoned-install.XXXXXX")
trap 'rm -rf "$dir"' EXIT
prefix="$dir/prefix with space"

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; sed 's/^/#   /' <<<"${3:-}" | head -n 20; fi; }

echo "1..9"
out=$(make -C "$top" --no-print-directory install PREFIX="$prefix" 2>&1)
rc=$?
check "make install PREFIX=DIR exits 0" '[ $rc = 0 ]' "$out"
check "the five programs are in DIR/bin" \
    'for p in qemu-img qemu-io qemu-nbd qemu-storage-daemon qemu-system-x86_64; do
         [ -x "$prefix/bin/$p" ] || exit 1; done' "$(ls -l "$prefix/bin" 2>&1)"
check "the firmware is in DIR/share/qemu, as files (not links into the build)" \
    '[ -f "$prefix/share/qemu/bios-256k.bin" ] && [ ! -L "$prefix/share/qemu/bios-256k.bin" ]'

# the README's way: DIR/bin first on PATH, from another directory
cd "$dir" || exit 1
export PATH="$prefix/bin:$PATH"
check "qemu-img on PATH is the installed one" '[ "$(command -v qemu-img)" = "$prefix/bin/qemu-img" ]'
out=$(qemu-img create -q -f qcow2 z.qcow2 -o size=128M -o zone.size=32M \
          -o zone.mode=host-managed 2>&1 &&
      qemu-io -f qcow2 -c "write -P 0x5a 32M 64k" -c "zrp 32M 1" z.qcow2 2>&1)
check "the installed qemu-img and qemu-io create and write a zoned image" \
    'grep -q -F "start: 0x10000, len 0x10000, cap 0x10000, wptr 0x10080, zcond:2, [type: 2]" <<<"$out"' "$out"
# firmware: the machine is created (BIOS loaded) and quits from the monitor
out=$(echo quit | timeout 120 qemu-system-x86_64 -machine q35 -accel tcg -nodefaults \
          -display none -monitor stdio -serial none -S \
          -blockdev node-name=d,driver=qcow2,file.driver=file,file.filename=z.qcow2 \
          -device virtio-blk-pci,drive=d 2>&1)
rc=$?
check "the installed qemu-system-x86_64 finds its firmware without -L and attaches the image" \
    '[ $rc = 0 ] && ! grep -q -i "could not load\|failed" <<<"$out"' "$out"
check "its data directory is DIR/share/qemu" \
    'dirs=$(qemu-system-x86_64 -L help 2>&1 | while read -r d; do realpath -m "$d"; done)
     grep -q -x -F "$prefix/share/qemu" <<<"$dirs"' \
    "$(qemu-system-x86_64 -L help 2>&1)"

out=$(make -C "$top" --no-print-directory install PREFIX=/usr 2>&1)
rc=$?
check "PREFIX=/usr is refused (the system's QEMU is never overwritten)" \
    '[ $rc != 0 ] && grep -q "would overwrite the system" <<<"$out" &&
     ! grep -q "^install: installed" <<<"$out"' "$out"
out=$(make -C "$top" --no-print-directory install PREFIX= 2>&1)
rc=$?
check "an empty PREFIX is refused before anything is built" \
    '[ $rc != 0 ] && grep -q "PREFIX is not set" <<<"$out" && ! grep -q "^build:" <<<"$out"' "$out"
exit $failed
