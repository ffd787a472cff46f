#!/bin/bash
# Locate (or fetch) the pinned upstream tarball and verify its checksum.
# Prints the path of the verified tarball on stdout.
#
# Sources, in order:
#   1. $QEMU_TARBALL (with $QEMU_SHA256 when it is not the pinned release)
#   2. ../shared/upstream/ next to the project
#   3. a cached download in .cache/
#   4. the pool of the Debian mirror that apt on this machine is configured
#      with, so no host name is written here
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/pin.sh"

want=${QEMU_SHA256:-$PIN_SHA256}
die() { echo "fetch-upstream: $*" >&2; exit 1; }

verify() {
    local have
    have=$(sha256sum "$1" | cut -d' ' -f1)
    if [ "$have" != "$want" ]; then
        die "$1: sha256 is $have, expected $want.
Remove the file or point QEMU_TARBALL at a good copy (and QEMU_SHA256 at its checksum)."
    fi
}

if [ -n "${QEMU_TARBALL:-}" ]; then
    [ -f "$QEMU_TARBALL" ] || die "QEMU_TARBALL=$QEMU_TARBALL does not exist"
    verify "$QEMU_TARBALL"
    echo "$QEMU_TARBALL"
    exit 0
fi

for cand in "$top/../shared/upstream/$PIN_FILE" "$top/.cache/$PIN_FILE"; do
    if [ -f "$cand" ]; then
        verify "$cand"
        echo "$cand"
        exit 0
    fi
done

# Fetch from the Debian mirror this machine's apt is configured with: the
# orig tarball lives in the archive's pool whatever suite carries it now.
. "$top/scripts/apt-mirror.sh"
read -r uri _ < <(apt_bookworm_mirror | head -n 1) || true
[ -n "${uri:-}" ] || die "$PIN_FILE not found and no Debian mirror configured in apt.
Put the file in ../shared/upstream/ or .cache/, or set QEMU_TARBALL=/path/to/it
(a qemu.org qemu-$PIN_VERSION.tar.xz works too, with QEMU_SHA256=<its sha256>)."
mkdir -p "$top/.cache"
url="${uri%/}/pool/main/q/qemu/$PIN_FILE"
echo "fetch-upstream: downloading $PIN_FILE from the configured Debian mirror" >&2
if ! curl -fsSL -o "$top/.cache/$PIN_FILE.part" "$url" &&
   ! wget -q -O "$top/.cache/$PIN_FILE.part" "$url"; then
    rm -f "$top/.cache/$PIN_FILE.part"
    die "could not download $url.
Put the file in ../shared/upstream/ or .cache/, or set QEMU_TARBALL=/path/to/it
(a qemu.org qemu-$PIN_VERSION.tar.xz works too, with QEMU_SHA256=<its sha256>)."
fi
mv "$top/.cache/$PIN_FILE.part" "$top/.cache/$PIN_FILE"
verify "$top/.cache/$PIN_FILE"
echo "$top/.cache/$PIN_FILE"
