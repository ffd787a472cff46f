#!/bin/bash
# Install everything the project needs, from Debian's archive only.
#
# Idempotent and non-interactive.  bookworm-backports is added (for meson >= 1.5
# and python3-pycotap) with the URI and keyring of the bookworm entry that apt
# is already configured with, so that no host name is written anywhere by us.
#
# Usage: scripts/deps.sh [--guest]
#   --guest  also fetch what the Linux guest harness needs (not installed on
#            the host: the kernel and guest tools are only downloaded)
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
    echo "deps.sh: must run as root (it calls apt-get)" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
bp_file=/etc/apt/sources.list.d/zoned-qcow2-backports.sources
src_file=/etc/apt/sources.list.d/zoned-qcow2-bookworm-src.sources

. "$(dirname "$0")/apt-mirror.sh"

if [ ! -f "$bp_file" ]; then
    read -r uri key < <(apt_bookworm_mirror | head -n 1) || true
    if [ -z "${uri:-}" ]; then
        echo "deps.sh: no bookworm entry found in the apt configuration;" >&2
        echo "add Debian bookworm to /etc/apt/sources.list(.d) first" >&2
        exit 1
    fi
    key=${key:-/usr/share/keyrings/debian-archive-keyring.gpg}
    echo "deps.sh: adding bookworm-backports from the configured mirror"
    cat >"$bp_file" <<EOF
Types: deb deb-src
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: $key
EOF
    rm -f /var/lib/apt/zoned-qcow2-updated
fi
# bookworm's sources (deb-src) for guest/build-zbd.sh: fio's t/zbd suite
# comes from the source package of the fio the guest runs
if [ ! -f "$src_file" ]; then
    read -r uri key < <(apt_bookworm_mirror | head -n 1) || true
    if [ -n "${uri:-}" ]; then
        key=${key:-/usr/share/keyrings/debian-archive-keyring.gpg}
        echo "deps.sh: adding bookworm's deb-src from the configured mirror"
        cat >"$src_file" <<EOF
Types: deb-src
URIs: $uri
Suites: bookworm
Components: main
Signed-By: $key
EOF
        rm -f /var/lib/apt/zoned-qcow2-updated
    fi
fi

# 'apt-get update' once per day at most, and always after a sources change.
stamp=/var/lib/apt/zoned-qcow2-updated
if [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mmin +1440)" ]; then
    apt-get update -q
    touch "$stamp"
fi

host_pkgs=(
    build-essential git pkg-config ninja-build python3 python3-venv
    libglib2.0-dev libpixman-1-dev libaio-dev liburing-dev libzstd-dev
    zlib1g-dev libfdt-dev device-tree-compiler
    xz-utils file jq bsdextrautils socat strace time
    # make bench: the guest benchmark's plot
    gnuplot-nox
    # iotests: firmware for VMs the tests start
    seabios ipxe-qemu qemu-system-data
)
bp_pkgs=(meson python3-pycotap)

missing=()
# installed PKG: dpkg knows PKG as installed (the status is read whole, then
# compared: no pipe into 'grep -q', which can fail under pipefail)
installed() {
    local st
    st=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [[ $st == *"ok installed" ]]
}
for p in "${host_pkgs[@]}"; do
    installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps.sh: installing ${missing[*]}"
    apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

meson_ok() {
    dpkg --compare-versions \
        "$(dpkg-query -W -f='${Version}' meson 2>/dev/null || echo 0)" ge 1.5
}
if ! meson_ok || ! installed python3-pycotap; then
    echo "deps.sh: installing ${bp_pkgs[*]} from bookworm-backports"
    apt-get install -y -q --no-install-recommends -t bookworm-backports \
        "${bp_pkgs[@]}"
fi
meson_ok || { echo "deps.sh: meson >= 1.5 is not installed" >&2; exit 1; }

echo "deps.sh: host dependencies are installed"
