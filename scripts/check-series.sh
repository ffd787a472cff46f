#!/bin/bash
# Check that each patch of the series applies, passes checkpatch, builds
# (tools) and passes the zoned iotests present at that point and the
# iotests it adds or changes, on its own.
# Uses a separate worktree and build directory under .cache/; prints TAP.
# SERIES_FROM=N checks patches N.. only (the build starts from patch N-1);
# SERIES_TO=M stops after patch M.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
q="$top/qemu"
wt="$top/.cache/series-src"
b="$top/.cache/series-build"

commits=$(git -C "$q" rev-list --reverse series-base..HEAD)
if [ -n "${SERIES_TO:-}" ]; then
    commits=$(echo "$commits" | head -n "$SERIES_TO")
fi
if [ -n "${SERIES_FROM:-}" ]; then
    commits=$(echo "$commits" | tail -n +"$SERIES_FROM")
fi
echo "1..$(( $(echo "$commits" | wc -l) * 3 ))"
git -C "$q" worktree prune
[ -d "$wt" ] || git -C "$q" worktree add -q --detach "$wt" series-base
n=0 failed=0
for c in $commits; do
    subject=$(git -C "$q" log -1 --format=%s "$c")
    git -C "$wt" checkout -q --detach "$c"
    n=$((n + 1))
    if git -C "$q" format-patch -1 --stdout "$c" |
            "$wt/scripts/checkpatch.pl" -q - >"$b.checkpatch.log" 2>&1 ||
            ! grep -q "^ERROR" "$b.checkpatch.log"; then
        echo "ok $n - checkpatch: $subject"
    else
        echo "not ok $n - checkpatch: $subject"; failed=1
        sed 's/^/# /' "$b.checkpatch.log" | head -n 20
    fi
    n=$((n + 1))
    if QEMU_SRC="$wt" BUILD_DIR="$b" "$top/scripts/build.sh" >"$b.build.log" 2>&1; then
        echo "ok $n - build: $subject"
    else
        echo "not ok $n - build: $subject"; failed=1
        tail -n 20 "$b.build.log" | sed 's/^/# /'
        n=$((n + 1)); echo "not ok $n - iotests: $subject # not built"
        continue
    fi
    n=$((n + 1))
    # The zoned group, and the iotests that the patch adds or changes
    own=$(git -C "$q" diff-tree --no-commit-id --name-only -r "$c" -- \
              tests/qemu-iotests/tests/ | sed -e 's|.*/||' -e 's|\.out$||' |
          sort -u | tr '\n' ' ')
    group=
    if ls "$wt"/tests/qemu-iotests/tests/zoned-* >/dev/null 2>&1; then
        group="-g zoned"
    fi
    if [ -z "$group$own" ]; then
        echo "ok $n - iotests: $subject # SKIP no zoned iotests yet"
    elif (cd "$b/tests/qemu-iotests" && ./check -qcow2 $group $own) \
            >"$b/iotests.log" 2>&1 &&
            ! grep -q "Not run" "$b/iotests.log"; then
        echo "ok $n - iotests $group $own: $subject"
    else
        echo "not ok $n - iotests $group $own: $subject"; failed=1
        grep -E "Failures|Not run|fail|No such" "$b/iotests.log" | sed 's/^/# /'
    fi
done
exit $failed
