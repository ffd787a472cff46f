#!/bin/bash
# Write qemu/ series-base..HEAD back into patches/ as 'git format-patch'
# output.  Deterministic: exporting an unchanged tree rewrites no byte
# (zeroed 'From' hashes, index hashes of a fixed length, no version
# signature, stable file names).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
q="$top/qemu"
[ -d "$q/.git" ] || { echo "export: no qemu/ tree" >&2; exit 1; }
git -C "$q" rev-parse -q --verify series-base >/dev/null ||
    { echo "export: qemu/ has no series-base tag" >&2; exit 1; }
if [ -n "$(git -C "$q" status --porcelain --untracked-files=no)" ]; then
    echo "export: warning: qemu/ has uncommitted changes; they are not exported" >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
git -C "$q" -c core.abbrev=12 format-patch -q --no-signature --zero-commit --no-renames \
    --subject-prefix=PATCH -o "$tmp" series-base..HEAD
mkdir -p "$top/patches"
changed=0
for f in "$tmp"/*.patch; do
    [ -e "$f" ] || continue
    if ! cmp -s "$f" "$top/patches/$(basename "$f")"; then
        changed=$((changed + 1))
    fi
done
for f in "$top"/patches/[0-9]*.patch; do
    [ -e "$f" ] || continue
    [ -e "$tmp/$(basename "$f")" ] || { rm -f "$f"; changed=$((changed + 1)); }
done
cp "$tmp"/*.patch "$top/patches/" 2>/dev/null || true
echo "export: $(ls "$tmp" | wc -l) patches in patches/, $changed files changed"
