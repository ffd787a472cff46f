#!/bin/bash
# Build qemu-img and qemu-io from series-base (unpatched 10.2.2 plus the
# build fixes) into .cache/upstream-tools, for tests that compare the series
# with what upstream does (e.g. that old tools refuse zoned images).
# Prints the build directory.  About a minute on two cores.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
q="$top/qemu"
src="$top/.cache/upstream-src"
b="$top/.cache/upstream-tools"

base=$(git -C "$q" rev-parse series-base)
if [ ! -x "$b/qemu-img" ] || [ "$(cat "$b/.series-base" 2>/dev/null)" != "$base" ]; then
    rm -rf "$src" "$b"
    git -C "$q" worktree prune
    git -C "$q" worktree add -q --detach "$src" series-base
    mkdir -p "$b"
    (cd "$b" && "$src/configure" --python=/usr/bin/python3 \
        --disable-system --disable-user --enable-tools --disable-docs \
        --disable-download --disable-install-blobs --disable-rust) \
        >"$b/configure.log" 2>&1 ||
        { tail -n 30 "$b/configure.log" >&2; exit 1; }
    ninja -C "$b" qemu-img qemu-io >"$b/ninja.log" 2>&1 ||
        { tail -n 30 "$b/ninja.log" >&2; exit 1; }
    echo "$base" >"$b/.series-base"
fi
echo "$b"
