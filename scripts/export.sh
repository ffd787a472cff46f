#!/bin/bash
# Write qemu/ series-base..HEAD back into patches/ as 'git format-patch'
# output, with a cover letter (patches/0000-cover-letter.patch, from
# series/cover-letter.txt).  Deterministic: exporting an unchanged tree rewrites no byte
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
# The cover letter is from the author of the last patch
git -C "$q" -c core.abbrev=12 \
    -c user.name="$(git -C "$q" log -1 --format=%an HEAD)" \
    -c user.email="$(git -C "$q" log -1 --format=%ae HEAD)" \
    format-patch -q --no-signature --zero-commit --no-renames \
    --subject-prefix=PATCH --cover-letter -o "$tmp" series-base..HEAD
# The cover letter: subject and text from series/cover-letter.txt (its first
# line is the subject), then git's shortlog and diffstat; dated like the
# last patch, so that an unchanged series exports the same bytes.
cover="$tmp/0000-cover-letter.patch"
if [ -e "$cover" ]; then
    python3 - "$cover" "$top/series/cover-letter.txt" \
        "$(git -C "$q" log -1 --format=%aD HEAD)" <<'PY'
import sys
path, text_path, date = sys.argv[1:]
with open(text_path) as f:
    subject, _, blurb = f.read().partition('\n')
with open(path) as f:
    s = f.read()
s = s.replace('*** SUBJECT HERE ***', subject.strip(), 1)
s = s.replace('*** BLURB HERE ***', blurb.strip('\n'), 1)
lines = s.split('\n')
for i, line in enumerate(lines):
    if line.startswith('Date: '):
        lines[i] = 'Date: ' + date
        break
with open(path, 'w') as f:
    f.write('\n'.join(lines))
PY
fi
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
echo "export: $(ls "$tmp" | grep -vc -- '-cover-letter\.patch$') patches and a cover letter in patches/, $changed files changed"
