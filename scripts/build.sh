#!/bin/bash
# Configure (once) and build qemu/ into qemu/build.
#
# Builds qemu-img, qemu-io, qemu-nbd, qemu-storage-daemon and
# qemu-system-x86_64 (KVM + TCG, the default device set: q35/pc,
# virtio-blk-pci, nvme with zoned namespaces).
#
# Choices, measured on the 2-core development machine (see README):
#  - no device trimming: a trimmed Kconfig set saved 9% of a cold build and
#    needs extra symbols in 10.2.2, so the default x86_64 set is kept;
#  - ccache is off by default: with an empty cache it made a cold build 50%
#    slower, and rebuilds in the same build directory are already incremental.
#    CCACHE=1 turns it on for people who rebuild in fresh directories often.
#
# Environment: QEMU_SRC (source tree, default qemu/), BUILD_DIR (default
# qemu/build), EXTRA_CONFIGURE (more
# ./configure options, e.g. sanitizers), TARGETS (ninja targets, default:
# the five programs above), JOBS.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
q=${QEMU_SRC:-$top/qemu}
b=${BUILD_DIR:-$q/build}
jobs=${JOBS:-$(nproc)}

[ -e "$q/.git" ] || { echo "build: no qemu/ tree; run 'make tree'" >&2; exit 1; }

configure_opts=(
    --python=/usr/bin/python3
    --target-list=x86_64-softmmu
    --disable-download --disable-install-blobs --disable-docs
    --enable-tools --enable-kvm --enable-tcg
    --enable-linux-aio --enable-linux-io-uring --enable-zstd
    --disable-gtk --disable-sdl --disable-vnc --disable-spice --disable-opengl
    --disable-pa --disable-alsa --disable-jack --disable-oss
    --disable-libusb --disable-usb-redir --disable-smartcard
    --disable-curl --disable-libssh --disable-rbd --disable-glusterfs
    --disable-libnfs --disable-rust --disable-xen
)
if [ "${CCACHE:-0}" = 1 ] && command -v ccache >/dev/null; then
    configure_opts+=(--cc="ccache cc" --cxx="ccache c++")
fi
# shellcheck disable=SC2206
configure_opts+=(${EXTRA_CONFIGURE:-})

if [ ! -f "$b/build.ninja" ]; then
    mkdir -p "$b"
    echo "build: configuring in $b"
    (cd "$b" && "$q/configure" "${configure_opts[@]}") >"$b/configure.log" 2>&1 || {
        tail -n 40 "$b/configure.log" >&2
        echo "build: configure failed (log: $b/../configure-$(basename "$b").log)" >&2
        exit 1
    }
fi

targets=${TARGETS:-qemu-img qemu-io qemu-nbd storage-daemon/qemu-storage-daemon qemu-system-x86_64}
echo "build: ninja -j$jobs in $b"
# shellcheck disable=SC2086
ninja -C "$b" -j"$jobs" $targets >"$b/ninja.log" 2>&1 || {
    grep -E -A5 "error|FAILED" "$b/ninja.log" | head -n 60 >&2 || true
    echo "build: ninja failed (log: $b/ninja.log)" >&2
    exit 1
}
# Firmware from Debian's packages (the +ds tarball ships none), where a VM
# started from the build directory looks for it.
fw="$b/qemu-bundle/usr/local/share/qemu"
mkdir -p "$fw"
for f in /usr/share/seabios/bios-256k.bin /usr/share/seabios/bios.bin \
         /usr/share/seabios/vgabios*.bin /usr/lib/ipxe/qemu/efi-*.rom \
         /usr/lib/ipxe/qemu/pxe-*.rom \
         /usr/share/qemu/kvmvapic.bin /usr/share/qemu/linuxboot.bin \
         /usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/multiboot.bin \
         /usr/share/qemu/multiboot_dma.bin /usr/share/qemu/pvh.bin \
         /usr/share/qemu/qboot.rom /usr/share/qemu/sgabios.bin; do
    [ -e "$f" ] || continue
    ln -sf "$f" "$fw/$(basename "$f")"
done
[ -e "$fw/bios-256k.bin" ] ||
    echo "build: warning: no bios-256k.bin (install seabios: scripts/deps.sh)" >&2

echo "build: $("$b/qemu-img" --version | head -n 1)"
