#!/bin/bash
# Compare the series with unpatched QEMU 10.2.2 (series-base), built by
# scripts/build-upstream-tools.sh:
#  - an image created without zone options is byte for byte what
#    unpatched qemu-img creates;
#  - unpatched tools refuse a zoned image and name the "zoned format"
#    feature they lack;
#  - unpatched tools still open a plain image created by the series.
# Prints TAP.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
b=${BUILD_DIR:-$top/qemu/build}
old=$("$top/scripts/build-upstream-tools.sh") || {
    echo "1..1"
    echo "not ok 1 - build the unpatched tools"
    exit 1
}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; fi; }

echo "1..7"
for opts in "" "-o cluster_size=4k,lazy_refcounts=on" "-o compat=0.10"; do
    "$b/qemu-img" create -q -f qcow2 $opts "$dir/new.qcow2" 1G
    "$old/qemu-img" create -q -f qcow2 $opts "$dir/old.qcow2" 1G
    check "plain image${opts:+ ($opts)} is identical to unpatched 10.2.2" \
        'cmp "$dir/new.qcow2" "$dir/old.qcow2"'
done

"$b/qemu-img" create -q -f qcow2 "$dir/z.qcow2" -o size=768M \
    -o zone.size=64M -o zone.mode=host-managed
out=$("$old/qemu-img" info "$dir/z.qcow2" 2>&1)
echo "$out" | sed 's/^/# unpatched qemu-img info: /'
check "unpatched qemu-img info refuses a zoned image naming 'zoned format'" \
    '[[ $out == *"Unsupported qcow2 feature(s): zoned format"* ]]'
out=$("$old/qemu-io" -c "write 0 4k" "$dir/z.qcow2" 2>&1)
echo "$out" | sed 's/^/# unpatched qemu-io: /'
check "unpatched qemu-io refuses to write a zoned image" \
    '[[ $out == *"zoned format"* && $out != *"wrote"* ]]'
out=$("$old/qemu-img" check "$dir/z.qcow2" 2>&1)
check "unpatched qemu-img check refuses a zoned image" \
    '[[ $out == *"zoned format"* ]]'

"$b/qemu-img" create -q -f qcow2 "$dir/p.qcow2" 64M
"$b/qemu-io" -c "write -P 0x5a 0 1M" "$dir/p.qcow2" >/dev/null
check "unpatched qemu-io reads a plain image written by the series" \
    '[[ $("$old/qemu-io" -c "read -P 0x5a 0 1M" "$dir/p.qcow2") == *"read 1048576/1048576"* ]]'
exit $failed
