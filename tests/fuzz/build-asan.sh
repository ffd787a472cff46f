#!/bin/bash
# Build qemu-img and qemu-io with AddressSanitizer + UndefinedBehaviorSanitizer
# into .cache/asan-build (or $ASAN_BUILD_DIR), for the zoned fuzzer.
#
# Idempotent: scripts/build.sh configures only when build.ninja is missing,
# so a second run is an incremental ninja build (a no-op when the patched
# tree did not change).  Prints the build directory on stdout; the build's
# own chatter goes to stderr.
#
# Options: --enable-asan --enable-ubsan (QEMU 10.2.2 meson options asan/ubsan;
# meson also adds -fno-sanitize=function), --disable-werror (sanitizer
# builds can trigger extra warnings in gcc 12).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
b=${ASAN_BUILD_DIR:-$top/.cache/asan-build}

# Serialise concurrent invocations, and wait while a fuzz or crash run
# holds the lock shared (tests/fuzz/qcow2img.py: hold_build()): never
# relink the programs under a running test.
mkdir -p "$(dirname "$b")"
exec 9>"$b.lock"
if ! flock -n 9; then
    if [ -x "$b/qemu-img" ] && [ -x "$b/qemu-io" ]; then
        echo "build-asan: a fuzz or crash run is using $b: not rebuilding" \
             "it now" >&2
        echo "$b"
        exit 0
    fi
    flock 9
fi

BUILD_DIR=$b \
EXTRA_CONFIGURE="--enable-asan --enable-ubsan --disable-werror" \
TARGETS="qemu-img qemu-io" \
    "$top/scripts/build.sh" >&2

for p in qemu-img qemu-io; do
    [ -x "$b/$p" ] || { echo "build-asan: $b/$p missing" >&2; exit 1; }
done
# Sanity: the binaries really are instrumented.  The symbol lists are read
# whole before they are searched: 'nm | grep -q' under pipefail fails at
# random when grep exits at the first match and nm dies of SIGPIPE.
syms=$( { nm -D "$b/qemu-io"; nm "$b/qemu-io"; ldd "$b/qemu-io"; } 2>/dev/null || true)
if ! grep -q -E '__asan_init|libasan' <<<"$syms"; then
    echo "build-asan: $b/qemu-io is not built with ASan" >&2
    exit 1
fi
echo "$b"
