#!/bin/bash
# 'make vm': boot the project's qemu-system-x86_64 with a zoned qcow2 image
# attached as the specification's example attaches it
#
#   -blockdev node-name=drive1,driver=qcow2,file.driver=file,file.filename=IMAGE
#   -device virtio-blk-pci,drive=drive1
#
# and the guest kernel and initramfs of the test harness (guest/build.sh;
# Debian's Linux 6.12, busybox, util-linux, fio, btrfs-progs, f2fs-tools,
# nvme-cli).  The guest prints the disk's zoned model and zones, then:
#  - at a terminal: a shell ('blkzone report /dev/vda' works); 'exit' powers
#    the guest off and 'make vm' returns; Ctrl-A x stops QEMU at once;
#  - otherwise: the commands read from standard input run in the guest shell,
#    their output is printed, the guest powers off, and the exit status is
#    the commands' (echo 'blkzone report /dev/vda' | make vm).
#
# VM_IMAGE=PATH attaches another image (default: the demo's
# .cache/demo/zbc.qcow2, created by the demo when it is missing).  The guest
# writes to the image only what you tell it to.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
b=${BUILD_DIR:-$top/qemu/build}
img=${VM_IMAGE:-$top/.cache/demo/zbc.qcow2}

if [ -z "${VM_IMAGE:-}" ] && [ ! -f "$img" ]; then
    echo "vm: no demo image yet; creating it with the demo"
    "$top/scripts/demo.sh" >/dev/null
fi
[ -f "$img" ] || { echo "vm: no image '$img'" >&2; exit 2; }
info=$("$b/qemu-img" info -U "$img" 2>&1) || { echo "vm: $info" >&2; exit 2; }
if ! grep -q 'host-managed' <<<"$info"; then
    echo "vm: warning: $img is not a zoned image; the guest will see an ordinary disk" >&2
fi
exec "$top/guest/run.sh" "$img" vm
