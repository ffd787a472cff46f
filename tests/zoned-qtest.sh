#!/bin/bash
# QEMU qtests of the series' zoned support, for 'make check': builds
# tests/qtest/qos-test if needed (not part of 'make'; about 95 compile steps
# on a fresh build) and runs the zoned virtio-blk tests: virtio-blk merges no
# writes across a zone boundary; host errors on zoned writes and appends
# follow werror=stop while the node's zone errors stay zone statuses
# (a case that waits for an error event that never comes times out and
# fails).  Prints TAP.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
b=${BUILD_DIR:-$top/qemu/build}
log_dir="$top/.cache/qtest"
mkdir -p "$log_dir"
tests=(
    /x86_64/pc/i440FX-pcihost/pci-bus-pc/pci-bus/virtio-blk-pci/virtio-blk/virtio-blk-tests/zoned-merge-split
    /x86_64/pc/i440FX-pcihost/pci-bus-pc/pci-bus/virtio-blk-pci/virtio-blk/virtio-blk-tests/zoned-write-errors
    /x86_64/pc/i440FX-pcihost/pci-bus-pc/pci-bus/virtio-blk-pci/virtio-blk/virtio-blk-tests/zoned-append-error
)
echo "1..${#tests[@]}"
start=$(date +%s)
if ! ninja -C "$b" tests/qtest/qos-test >"$log_dir/build.log" 2>&1; then
    tail -n 20 "$log_dir/build.log" | sed 's/^/# /'
    n=0
    for t in "${tests[@]}"; do
        n=$((n + 1))
        echo "not ok $n - ${t##*/}: could not build qos-test"
    done
    exit 1
fi
echo "# qos-test built or checked in $(( $(date +%s) - start )) s"
n=0
failed=0
for t in "${tests[@]}"; do
    n=$((n + 1))
    out=$(cd "$b" && QTEST_QEMU_BINARY=./qemu-system-x86_64 \
          QTEST_QEMU_IMG=./qemu-img timeout 300 \
          tests/qtest/qos-test --tap -p "$t" 2>&1)
    # exactly one test ran, and passed (a path that matches nothing runs
    # nothing and exits 0)
    if [ "$(grep -c '^ok ' <<<"$out")" = 1 ] && ! grep -q '^not ok' <<<"$out"; then
        echo "ok $n - qtest ${t##*/}"
    else
        grep -E 'ERROR|^not ok|Bail' <<<"$out" | head -n 10 | sed 's/^/# /'
        echo "not ok $n - qtest ${t##*/}"
        failed=1
    fi
done
exit $failed
