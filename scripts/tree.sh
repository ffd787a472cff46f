#!/bin/bash
# Create or refresh the ignored qemu/ git tree:
#
#   upstream      the pristine, checksum-verified tarball, one commit
#   (build fixes) build-fixes/*.patch, which the stripped Debian +ds tarball
#                 needs; they are not part of the series
#   series-base   tag: the commit the series applies to
#   ...           'git am' of patches/*.patch
#
# Re-running it is safe: a tree that already holds exactly patches/ is left
# alone; a tree with commits that are not in patches/ is not touched unless
# FORCE=1 (export them first with 'make export').
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/pin.sh"
q="$top/qemu"
say() { echo "tree: $*"; }
die() { echo "tree: $*" >&2; exit 1; }

# Fixed identities and dates keep the base commits (and so the exported
# patches' index lines and the series-base hash) reproducible.
export GIT_AUTHOR_NAME="Zoned qcow2 tooling" GIT_AUTHOR_EMAIL="tooling@localhost"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
base_date="2026-01-01T00:00:00Z"

gitq() { git -C "$q" -c core.autocrlf=false -c advice.detachedHead=false "$@"; }

series_patches() {
    ls "$top"/patches/[0-9]*.patch 2>/dev/null | grep -v -- '-cover-letter\.patch$' || true
}

patch_ids_files() {
    local f
    for f in $(series_patches); do
        git patch-id --stable <"$f" | cut -d' ' -f1
    done
}

patch_ids_tree() {
    local c
    for c in $(gitq rev-list --reverse series-base..HEAD); do
        gitq show "$c" | git patch-id --stable | cut -d' ' -f1
    done
}

apply_series() {
    local p
    p=$(series_patches)
    if [ -z "$p" ]; then
        say "patches/ is empty: qemu/ is at series-base"
        return
    fi
    say "applying $(echo "$p" | wc -l) patches from patches/"
    # shellcheck disable=SC2086
    if ! gitq am --quiet --committer-date-is-author-date $p; then
        gitq am --abort || true
        die "a patch in patches/ does not apply to series-base"
    fi
}

if [ ! -d "$q/.git" ]; then
    tarball=$("$top/scripts/fetch-upstream.sh")
    say "unpacking $(basename "$tarball") into qemu/"
    rm -rf "$q"
    mkdir -p "$q"
    tar -xJf "$tarball" -C "$q" --strip-components=1
    git -C "$q" init -q -b upstream
    gitq config user.name "$GIT_AUTHOR_NAME"
    gitq config user.email "$GIT_AUTHOR_EMAIL"
    # The tarball ships its own .gitignore, which ignores *.patch and a few
    # generated files that are in it: add everything regardless.
    gitq add -A -f .
    GIT_AUTHOR_DATE=$base_date GIT_COMMITTER_DATE=$base_date \
        gitq commit -q -m "QEMU $PIN_VERSION (Debian $PIN_FILE)" \
                    -m "sha256 $PIN_SHA256"
    gitq tag upstream
    for f in "$top"/build-fixes/*.patch; do
        [ -e "$f" ] || continue
        say "build fix: $(basename "$f")"
        GIT_COMMITTER_DATE=$base_date gitq am --quiet \
            --committer-date-is-author-date "$f"
    done
    gitq tag series-base
    gitq checkout -q -b zoned
    apply_series
    say "qemu/ is ready on branch 'zoned' ($(gitq rev-list --count series-base..HEAD) commits over series-base)"
    exit 0
fi

gitq rev-parse -q --verify series-base >/dev/null ||
    die "qemu/ exists but has no series-base tag; remove qemu/ and run again"
if [ -n "$(gitq status --porcelain --untracked-files=no)" ]; then
    [ "${FORCE:-0}" = 1 ] || die "qemu/ has uncommitted changes; commit them (and 'make export') or run with FORCE=1 to discard them"
fi
if [ "$(patch_ids_tree)" = "$(patch_ids_files)" ]; then
    say "qemu/ already holds the series in patches/ ($(gitq rev-list --count series-base..HEAD) commits); nothing to do"
    exit 0
fi
if [ "${FORCE:-0}" != 1 ]; then
    # Commits in the tree that patches/ does not have would be lost.
    tree_only=$(comm -23 <(patch_ids_tree | sort) <(patch_ids_files | sort))
    if [ -n "$tree_only" ]; then
        die "qemu/ has commits that are not in patches/: run 'make export' first, or FORCE=1 to drop them"
    fi
fi
say "qemu/ differs from patches/: resetting to series-base and applying the series"
gitq checkout -q -B zoned series-base
gitq reset -q --hard series-base
apply_series
say "qemu/ now holds patches/ ($(gitq rev-list --count series-base..HEAD) commits)"
