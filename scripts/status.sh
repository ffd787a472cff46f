#!/bin/bash
# Say whether qemu/ holds work that patches/ does not have.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
q="$top/qemu"
if [ ! -d "$q/.git" ]; then
    echo "status: no qemu/ tree ('make tree' creates it)"
    exit 0
fi
rc=0
dirty=$(git -C "$q" status --porcelain --untracked-files=no)
if [ -n "$dirty" ]; then
    echo "status: qemu/ has uncommitted changes:"
    echo "$dirty" | sed 's/^/    /'
    rc=1
fi
tree_ids=$(for c in $(git -C "$q" rev-list --reverse series-base..HEAD); do
               git -C "$q" show "$c" | git patch-id --stable | cut -d' ' -f1
           done)
file_ids=$(for f in $(ls "$top"/patches/[0-9]*.patch | grep -v -- -cover-letter.patch); do
               [ -e "$f" ] || continue
               git patch-id --stable <"$f" | cut -d' ' -f1
           done)
n=$(git -C "$q" rev-list --count series-base..HEAD)
if [ "$tree_ids" = "$file_ids" ]; then
    echo "status: qemu/ (series-base + $n commits) matches patches/"
else
    echo "status: qemu/ (series-base + $n commits) differs from patches/: run 'make export'"
    rc=1
fi
if [ -n "$(git -C "$top" status --porcelain -- patches)" ]; then
    echo "status: patches/ has changes not committed to the project"
fi
exit $rc
