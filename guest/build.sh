#!/bin/bash
# Build the Linux guest of the zoned-qcow2 test harness: a Debian kernel and an
# initramfs holding busybox, util-linux's zone tools, fio, btrfs-progs,
# f2fs-tools, the test scripts and the kernel modules they need.
#
# Everything comes from Debian's archive through 'apt-get download' (nothing
# is installed on the host) and is unpacked with 'dpkg-deb -x'.  Idempotent:
# downloads, extractions and the module index are cached under
# .cache/guest/, and the initramfs is rebuilt only when an input changed.
#
# Usage: guest/build.sh [-f]        (-f: rebuild the initramfs even if current)
#
# Environment:
#   KERNEL_PKG   Debian kernel package to use (default: the newest
#                linux-image-6.12.*+deb12*-amd64-unsigned that apt offers)
#   BTRFS_SUITE  suite for btrfs-progs (default bookworm-backports: 6.14 knows
#                zoned mode better than bookworm's 6.2; empty = default suite)
#   COMPRESS     gzip (default) or zstd for the initramfs
#   ZBD=1        also build initramfs-zbd.cpio.gz: the initramfs plus fio's
#                t/zbd test suite (test-zbd-support, functions) from Debian's
#                source package of the guest's fio ('apt-get source', which
#                needs bookworm's deb-src: scripts/deps.sh adds it), run by
#                'guest/run.sh IMAGE zbd' under the guest's bash and GNU grep
#
# Outputs (in .cache/guest/out/): vmlinuz, initramfs.cpio.gz (= base.cpio.gz
# + harness.cpio.gz), versions.txt, kernel-release; with ZBD=1 also
# zbd.cpio.gz and initramfs-zbd.cpio.gz (= initramfs.cpio.gz + zbd.cpio.gz).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cache=${GUEST_CACHE:-$top/.cache/guest}
debs=$cache/debs
xdir=$cache/x
out=$cache/out
force=0
[ "${1:-}" = "-f" ] && force=1

BTRFS_SUITE=${BTRFS_SUITE-bookworm-backports}
COMPRESS=${COMPRESS:-gzip}
ZBD=${ZBD:-0}
export LC_ALL=C

log() { echo "guest/build.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

for t in apt-get apt-cache dpkg-deb readelf xz sha256sum find sort flock; do
    command -v "$t" >/dev/null || die "'$t' is missing on the host"
done
case $COMPRESS in
gzip) command -v gzip >/dev/null || die "gzip is missing" ;;
zstd) command -v zstd >/dev/null || die "zstd is missing" ;;
*) die "COMPRESS must be gzip or zstd" ;;
esac

mkdir -p "$debs" "$xdir" "$out"
# one build at a time (run.sh calls this script; several runs may start)
exec 9>"$cache/.build.lock"
flock 9

# ---------------------------------------------------------------------------
# Package resolution

# candidate versions: 'NAME VERSION' for each NAME that has a candidate
candidates() {
    [ $# -gt 0 ] || return 0
    apt-cache policy "$@" 2>/dev/null | awk '
        /^[^ ].*:$/ { name = substr($0, 1, length($0) - 1) }
        /^  Candidate:/ { if ($2 != "(none)") print name, $2 }'
}

# version of NAME in SUITE
suite_version() {
    apt-cache madison "$1" 2>/dev/null |
        awk -F'|' -v s=" $2/" 'index($3, s) { gsub(/ /, "", $2); print $2; exit }'
}

pick_kernel() {
    if [ -n "${KERNEL_PKG:-}" ]; then
        echo "$KERNEL_PKG"
        return
    fi
    local best='' bestv=0 p v
    # shellcheck disable=SC2046
    while read -r p v; do
        if dpkg --compare-versions "$v" gt "$bestv"; then
            best=$p
            bestv=$v
        fi
    done < <(candidates $(apt-cache pkgnames linux-image-6.12. 2>/dev/null |
             grep -E '^linux-image-6\.12\.[0-9]+\+deb12(\.[0-9]+)?-amd64-unsigned$'))
    [ -n "$best" ] || die "no linux-image-6.12.*-amd64-unsigned in apt's lists (run scripts/deps.sh, which adds bookworm-backports, and apt-get update)"
    echo "$best"
}

# the .deb of NAME=VERSION in the download directory, if there
deb_file() {
    local f
    for f in "$debs/${1}_${2//:/%3a}_"*.deb; do
        [ -s "$f" ] && { echo "$f"; return 0; }
    done
    return 1
}

extract() {
    local name=$1 ver=$2 f d
    f=$(deb_file "$name" "$ver")
    d=$xdir/${name}_${ver//:/%3a}
    if [ ! -f "$d/.done" ]; then
        rm -rf "$d"
        mkdir -p "$d"
        dpkg-deb -x "$f" "$d"
        touch "$d/.done"
    fi
    echo "$d"
}

# library packages (lib*) that the given NAME=VERSION specs depend on
lib_deps() {
    apt-cache depends --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances "$@" 2>/dev/null |
        awk '$1 ~ /^\|?(Pre)?Depends:$/ && $2 !~ /^</ { print $2 }' |
        sed 's/:any$//' | grep -E '^(lib|zlib1g$)' | sort -u || true
}

# tool packages: name and suite ('' = default)
declare -A suite_of=(
    [busybox-static]=''
    [util-linux]=''
    [fio]=''
    [f2fs-tools]=''
    [bash]=''
    [grep]=''
    [coreutils]=''
    [btrfs-progs]="$BTRFS_SUITE"
)

# Resolving versions costs many apt-cache calls: the result is kept until
# apt's lists, this script or the settings change.
resolved=$cache/resolved.txt
lists_key=$( { ls -l --time-style=+%s /var/lib/apt/lists/ 2>/dev/null
               echo "${KERNEL_PKG:-} $BTRFS_SUITE"; cat "$0"; } | sha256sum | cut -d' ' -f1)
declare -A ver_of=()
if [ -f "$resolved" ] && [ "$(head -n 1 "$resolved")" = "$lists_key" ]; then
    read -r kernel_pkg kernel_ver < <(sed -n 2p "$resolved")
    while read -r p v; do ver_of[$p]=$v; done < <(tail -n +3 "$resolved")
else
    kernel_pkg=$(pick_kernel)
    read -r _ kernel_ver < <(candidates "$kernel_pkg") ||
        die "$kernel_pkg has no candidate version"
    for p in "${!suite_of[@]}"; do
        if [ -n "${suite_of[$p]}" ]; then
            ver_of[$p]=$(suite_version "$p" "${suite_of[$p]}")
        else
            ver_of[$p]=$(candidates "$p" | cut -d' ' -f2)
        fi
        [ -n "${ver_of[$p]}" ] ||
            die "no version of $p${suite_of[$p]:+ in ${suite_of[$p]}} in apt's lists"
    done
    # closure of the library packages the tools depend on (downloaded
    # whole; only the shared objects the binaries need are copied)
    frontier=()
    for p in "${!ver_of[@]}"; do frontier+=("$p=${ver_of[$p]}"); done
    while [ ${#frontier[@]} -gt 0 ]; do
        new=()
        for l in $(lib_deps "${frontier[@]}"); do
            [ -n "${ver_of[$l]:-}" ] || new+=("$l")
        done
        frontier=()
        [ ${#new[@]} -gt 0 ] || break
        while read -r p v; do
            ver_of[$p]=$v
            frontier+=("$p=$v")
        done < <(candidates "${new[@]}")
    done
    { echo "$lists_key"; echo "$kernel_pkg $kernel_ver"
      for p in "${!ver_of[@]}"; do echo "$p ${ver_of[$p]}"; done | sort; } >"$resolved"
fi

# fio's t/zbd suite, from the source package of the guest's fio
zbd_stamp() {
    { echo "fio ${ver_of[fio]}"; cat "$0"; } | sha256sum | cut -d' ' -f1
}
zbd_current() {
    [ -f "$out/zbd.stamp" ] && [ "$(cat "$out/zbd.stamp")" = "$(zbd_stamp)" ] &&
        [ -s "$out/zbd.cpio.gz" ] && [ "$out/initramfs-zbd.cpio.gz" -nt "$out/initramfs.cpio.gz" ]
}
build_zbd() {
    local v=${ver_of[fio]} src=$cache/src z=$cache/zbd-root d
    if [ ! -f "$out/zbd.stamp" ] || [ "$(cat "$out/zbd.stamp")" != "$(zbd_stamp)" ] ||
       [ ! -s "$out/zbd.cpio.gz" ]; then
        mkdir -p "$src"
        d=$src/fio-${v%-*}
        if [ ! -f "$d/.done" ]; then
            log "fetching the source package fio=$v (fio's t/zbd)"
            (cd "$src" && apt-get source --download-only -q=2 \
                -o APT::Sandbox::User=root "fio=$v") ||
                die "apt-get source fio=$v failed: it needs bookworm's deb-src (scripts/deps.sh adds it, then apt-get update)"
            rm -rf "$d"
            (cd "$src" && dpkg-source -q -x "fio_${v#*:}.dsc" "fio-${v%-*}") >&2 ||
                die "dpkg-source -x fio_${v#*:}.dsc failed"
            touch "$d/.done"
        fi
        if [ ! -f "$d/t/zbd/test-zbd-support" ] || [ ! -f "$d/t/zbd/functions" ]; then
            die "t/zbd/test-zbd-support or t/zbd/functions missing in fio=$v"
        fi
        rm -rf "$z"
        # test-zbd-support runs $(dirname $0)/../../fio and writes its logs
        # beside itself: a writable copy under /usr/share/zt/fio
        mkdir -p "$z/usr/share/zt/fio/t/zbd"
        install -m 755 "$d/t/zbd/test-zbd-support" "$z/usr/share/zt/fio/t/zbd/"
        install -m 644 "$d/t/zbd/functions" "$z/usr/share/zt/fio/t/zbd/"
        ln -s /usr/bin/fio "$z/usr/share/zt/fio/fio"
        echo "t/zbd: fio $v source package (test-zbd-support $(sha256sum \
            "$d/t/zbd/test-zbd-support" | cut -c1-12), functions $(sha256sum \
            "$d/t/zbd/functions" | cut -c1-12))" >"$z/usr/share/zt/fio/VERSION"
        mkcpio "$z" "$out/zbd.cpio"
        compress "$out/zbd.cpio"
        zbd_stamp >"$out/zbd.stamp"
    fi
    cat "$out/initramfs.cpio.gz" "$out/zbd.cpio.gz" >"$out/initramfs-zbd.cpio.gz.new"
    mv "$out/initramfs-zbd.cpio.gz.new" "$out/initramfs-zbd.cpio.gz"
}

# the inputs of this build, for the up-to-date check and versions.txt
pkglist=$( { echo "$kernel_pkg=$kernel_ver"
             for p in "${!ver_of[@]}"; do echo "$p=${ver_of[$p]}"; done; } | sort)
# The initramfs is two concatenated archives (Linux unpacks one after the
# other): the base (kernel modules, tools, libraries), rebuilt when the
# packages or this script change, and the harness (init, lib/, tests/),
# rebuilt in a second when a test changes.
base_stamp=$( { echo "$pkglist"; echo "COMPRESS=$COMPRESS"; cat "$0"; } |
              sha256sum | cut -d' ' -f1)
harness_files=("$here/init" "$here"/lib/*.sh "$here/lib/mkzonefs" "$here"/tests/*.sh)
harness_stamp=$(cat "${harness_files[@]}" | sha256sum | cut -d' ' -f1)
base_ok=0
if [ $force = 0 ] && [ -f "$out/base.stamp" ] && [ "$(cat "$out/base.stamp")" = "$base_stamp" ] &&
   [ -s "$out/vmlinuz" ] && [ -s "$out/base.cpio.gz" ]; then
    base_ok=1
    if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$base_stamp.$harness_stamp" ] &&
       [ -s "$out/initramfs.cpio.gz" ] && { [ "$ZBD" != 1 ] || zbd_current; }; then
        log "up to date ($(cat "$out/kernel-release"), $out)"
        exit 0
    fi
fi

compress() { # compress FILE: FILE.gz (gzip or zstd data, as COMPRESS says)
    case $COMPRESS in
    gzip) gzip -n -6 -f "$1" ;;
    zstd) zstd -q -19 -T0 --rm -f "$1" -o "$1.gz" ;;
    esac
}

mkcpio() { # mkcpio DIR OUT: newc archive of DIR, sorted, for reproducibility
    (cd "$1" && find . -mindepth 1 | sort |
        "$busybox" cpio -o -H newc 2>/dev/null) >"$2"
}

build_harness() {
    local h=$cache/harness-root
    rm -rf "$h"
    mkdir -p "$h/usr/share/zt/tests" "$h/usr/sbin"
    install -m 755 "$here/init" "$h/init"
    install -m 644 "$here"/lib/*.sh "$h/usr/share/zt/"
    install -m 755 "$here"/tests/*.sh "$h/usr/share/zt/tests/"
    install -m 755 "$here/lib/mkzonefs" "$h/usr/sbin/mkzonefs"
    mkcpio "$h" "$out/harness.cpio"
    compress "$out/harness.cpio"
    cat "$out/base.cpio.gz" "$out/harness.cpio.gz" >"$out/initramfs.cpio.gz.new"
    mv "$out/initramfs.cpio.gz.new" "$out/initramfs.cpio.gz"
    echo "$base_stamp.$harness_stamp" >"$out/stamp"
    if [ "$ZBD" = 1 ]; then build_zbd; fi
}

if [ $base_ok = 1 ]; then
    busybox=$xdir/busybox-static_${ver_of[busybox-static]//:/%3a}/bin/busybox
    build_harness
    log "harness updated in $out/initramfs.cpio.gz ($(cat "$out/kernel-release"))"
    exit 0
fi

t0=$(date +%s)
fetch=()
deb_file "$kernel_pkg" "$kernel_ver" >/dev/null || fetch+=("$kernel_pkg=$kernel_ver")
for p in "${!ver_of[@]}"; do
    deb_file "$p" "${ver_of[$p]}" >/dev/null || fetch+=("$p=${ver_of[$p]}")
done
if [ ${#fetch[@]} -gt 0 ]; then
    log "downloading ${#fetch[@]} packages"
    (cd "$debs" && apt-get download -q=2 -o APT::Sandbox::User=root "${fetch[@]}") ||
        die "apt-get download failed"
    for spec in "${fetch[@]}"; do
        deb_file "${spec%%=*}" "${spec#*=}" >/dev/null || die "apt-get download did not fetch $spec"
    done
fi

kx=$(extract "$kernel_pkg" "$kernel_ver")
declare -A tree=()
for p in "${!ver_of[@]}"; do
    tree[$p]=$(extract "$p" "${ver_of[$p]}")
done
t1=$(date +%s)
log "packages ready ($((t1 - t0)) s)"

busybox=${tree[busybox-static]}/bin/busybox
[ -x "$busybox" ] || die "busybox not found in busybox-static"

# ---------------------------------------------------------------------------
# Kernel and modules

kver=$(basename "$(ls -d "$kx"/lib/modules/*/)")
kmods=$kx/lib/modules/$kver
kconfig=$kx/boot/config-$kver
[ -f "$kconfig" ] || die "kernel config not found in $kernel_pkg"
if [ ! -s "$kmods/modules.dep" ]; then
    log "indexing modules of $kver (busybox depmod)"
    "$busybox" depmod -b "$kx" "$kver"
fi

for opt in CONFIG_BLK_DEV_ZONED CONFIG_VIRTIO_PCI CONFIG_DEVTMPFS CONFIG_SERIAL_8250_CONSOLE; do
    grep -q "^$opt=y" "$kconfig" || die "$kver: $opt is not built in"
done

# modules wanted, in the order /init loads them (each after its dependencies);
# a name whose option is built in (=y) or absent is skipped with a note
wanted=(
    configfs:CONFIG_CONFIGFS_FS
    virtio_blk:CONFIG_VIRTIO_BLK
    null_blk:CONFIG_BLK_DEV_NULL_BLK
    crc32c_generic:CONFIG_CRYPTO_CRC32C
    crc32c-intel:CONFIG_CRYPTO_CRC32C_INTEL
    crc32_generic:CONFIG_CRYPTO_CRC32
    crc32-pclmul:CONFIG_CRYPTO_CRC32_PCLMUL
    xxhash_generic:CONFIG_CRYPTO_XXHASH
    blake2b_generic:CONFIG_CRYPTO_BLAKE2B
    btrfs:CONFIG_BTRFS_FS
    f2fs:CONFIG_F2FS_FS
    zonefs:CONFIG_ZONEFS_FS
    nvme:CONFIG_BLK_DEV_NVME
)

declare -A deps_of=() path_of=()
while IFS= read -r line; do
    m=${line%%:*}
    n=$(basename "$m")
    n=${n%.ko*}
    path_of[$n]=${m%.xz}
    path_of[$n]=${path_of[$n]%.zst}
    deps_of[$n]=${line#*:}
done <"$kmods/modules.dep"

declare -A placed=()
load_order=()
place() { # depth first: dependencies before the module itself
    local n=$1 d dn
    [ -n "${placed[$n]:-}" ] && return
    placed[$n]=1
    for d in ${deps_of[$n]}; do
        dn=$(basename "$d")
        place "${dn%.ko*}"
    done
    load_order+=("$n")
}
mod_notes=()
for w in "${wanted[@]}"; do
    n=${w%%:*}
    opt=${w#*:}
    state=$(sed -n "s/^$opt=//p" "$kconfig")
    case $state in
    m) [ -n "${path_of[$n]:-}" ] || die "$n ($opt=m) not found in modules.dep"
       place "$n" ;;
    y) mod_notes+=("$n: built in") ;;
    *) mod_notes+=("$n: not available ($opt unset)") ;;
    esac
done

# ---------------------------------------------------------------------------
# Root file system

root=$cache/root
rm -rf "$root"
mkdir -p "$root"/usr/{bin,sbin,lib/x86_64-linux-gnu,lib64,share/zt/tests} \
    "$root"/{dev,proc,sys,tmp,mnt,run,etc,root}
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/usr/lib64/ld-linux-x86-64.so.2"
echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
echo "root:x:0:" >"$root/etc/group"
: >"$root/etc/fstab"
ln -s /proc/self/mounts "$root/etc/mtab"

# binaries: package -> paths inside it (first found wins)
bins=(
    util-linux:sbin/blkzone util-linux:sbin/blkdiscard util-linux:sbin/blockdev
    util-linux:bin/lsblk util-linux:sbin/blkid util-linux:sbin/wipefs
    fio:usr/bin/fio
    btrfs-progs:bin/btrfs btrfs-progs:sbin/mkfs.btrfs
    f2fs-tools:sbin/mkfs.f2fs f2fs-tools:sbin/fsck.f2fs f2fs-tools:sbin/dump.f2fs
    bash:bin/bash
    # GNU grep and timeout off PATH (the tests use busybox's): fio's t/zbd
    # needs grep -P and timeout -v
    grep:bin/grep:usr/lib/zt/gnu coreutils:usr/bin/timeout:usr/lib/zt/gnu
)
elfs=()
for b in "${bins[@]}"; do
    p=${b%%:*}
    rel=${b#*:}
    dest=
    case $rel in *:*) dest=${rel#*:}; rel=${rel%%:*} ;; esac
    src=
    for cand in "${tree[$p]}/$rel" "${tree[$p]}/usr/$rel"; do
        [ -e "$cand" ] && { src=$cand; break; }
    done
    [ -n "$src" ] || die "$rel not found in $p"
    dir=${dest:-usr/$(dirname "${rel#usr/}")}
    mkdir -p "$root/$dir"
    cp -L "$src" "$root/$dir/"
    elfs+=("$root/$dir/$(basename "$rel")")
done
ln -s btrfs "$root/usr/bin/btrfsck"
ln -s btrfs "$root/usr/bin/fsck.btrfs"
cp "$busybox" "$root/usr/bin/busybox"

# shared objects: every DT_NEEDED, transitively, from the extracted packages
# first, then from the host's libraries (same Debian release)
declare -A so_path=()
while IFS= read -r f; do
    b=$(basename "$f")
    [ -n "${so_path[$b]:-}" ] || so_path[$b]=$f
done < <(for p in "${!tree[@]}"; do
             find "${tree[$p]}" \( -path '*/lib/x86_64-linux-gnu/*' -o -path '*/lib64/*' \) \
                 -name '*.so*' \( -type f -o -type l \)
         done | sort)
host_so() {
    local d
    for d in /lib/x86_64-linux-gnu /usr/lib/x86_64-linux-gnu; do
        [ -e "$d/$1" ] && { echo "$d/$1"; return 0; }
    done
    return 1
}
declare -A have_so=() from_host=()
need=("ld-linux-x86-64.so.2")
for e in "${elfs[@]}"; do
    while read -r s; do need+=("$s"); done < <(readelf -d "$e" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done
missing=()
while [ ${#need[@]} -gt 0 ]; do
    s=${need[0]}
    need=("${need[@]:1}")
    [ -n "${have_so[$s]:-}" ] && continue
    have_so[$s]=1
    src=${so_path[$s]:-}
    if [ -z "$src" ] || [ ! -e "$src" ]; then
        if src=$(host_so "$s"); then
            from_host[$s]=1
        else
            missing+=("$s")
            continue
        fi
    fi
    cp -L "$src" "$root/usr/lib/x86_64-linux-gnu/$s"
    while read -r n; do need+=("$n"); done < <(readelf -d "$src" 2>/dev/null |
        sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done
[ ${#missing[@]} -eq 0 ] || die "shared objects not found: ${missing[*]}"
[ ${#from_host[@]} -eq 0 ] || log "note: taken from the host: ${!from_host[*]}"

# smoke test: every binary runs against the initramfs' own libraries
ld="$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
libp="$root/usr/lib/x86_64-linux-gnu"
runx() { "$ld" --library-path "$libp" "$@"; }
for e in "${elfs[@]}"; do
    if ! libs=$(runx --list "$e" 2>&1) || grep -q 'not found' <<<"$libs"; then
        runx --list "$e" >&2 || true
        die "$(basename "$e") has unresolved libraries"
    fi
done

# busybox applets for everything the packages did not provide
for a in $("$busybox" --list); do
    [ "$a" = busybox ] && continue
    [ -e "$root/usr/bin/$a" ] || [ -e "$root/usr/sbin/$a" ] || ln -s busybox "$root/usr/bin/$a"
done

# kernel modules, decompressed (busybox insmod takes plain .ko files)
mdest=$root/usr/lib/modules/$kver
mkdir -p "$mdest"
: >"$root/usr/share/zt/modules.load"
for n in "${load_order[@]}"; do
    rel=${path_of[$n]}
    mkdir -p "$mdest/$(dirname "$rel")"
    src=$kmods/$rel
    if [ -f "$src.xz" ]; then
        xz -dc "$src.xz" >"$mdest/$rel"
    elif [ -f "$src.zst" ]; then
        zstd -qdc "$src.zst" >"$mdest/$rel"
    else
        cp "$src" "$mdest/$rel"
    fi
    echo "$rel" >>"$root/usr/share/zt/modules.load"
done
# a modules.dep for busybox modprobe (the kernel's request_module)
for n in "${load_order[@]}"; do
    line="${path_of[$n]}:"
    for d in ${deps_of[$n]}; do
        d=${d%.xz}
        line="$line ${d%.zst}"
    done
    echo "$line"
done >"$mdest/modules.dep"
cp "$kmods/modules.builtin" "$mdest/"
cp "$kx/boot/vmlinuz-$kver" "$out/vmlinuz.new"

# versions
{
    echo "kernel: $kver ($kernel_pkg $kernel_ver)"
    echo "$pkglist" | grep -v '^lib' | grep -v '^linux-image' | sed 's/=/ /; s/^/package: /'
    echo "busybox: $("$busybox" 2>&1 | head -n 1)"
    echo "blkzone: $(runx "$root/usr/sbin/blkzone" --version 2>&1)"
    echo "fio: $(runx "$root/usr/bin/fio" --version 2>&1)"
    echo "bash: $(runx "$root/usr/bin/bash" --version 2>&1 | head -n 1)"
    echo "GNU grep (fio's t/zbd only): $(runx "$root/usr/lib/zt/gnu/grep" --version 2>&1 | head -n 1)"
    echo "GNU timeout (fio's t/zbd only): $(runx "$root/usr/lib/zt/gnu/timeout" --version 2>&1 | head -n 1)"
    echo "mkfs.btrfs: $(runx "$root/usr/sbin/mkfs.btrfs" --version 2>&1 | head -n 1)"
    echo "mkfs.f2fs: $(runx "$root/usr/sbin/mkfs.f2fs" -V 2>&1 | head -n 1)"
    echo "mkzonefs: harness script (zonefs-tools is not in Debian 12)"
    for n in "${mod_notes[@]}"; do echo "module $n"; done
    echo "modules loaded: ${load_order[*]}"
} >"$root/usr/share/zt/versions.txt"
cp "$root/usr/share/zt/versions.txt" "$out/versions.txt.new"

# ---------------------------------------------------------------------------
# Archives
rm -f "$out/stamp" "$out/base.stamp"
mkcpio "$root" "$out/base.cpio"
compress "$out/base.cpio"
mv "$out/vmlinuz.new" "$out/vmlinuz"
mv "$out/versions.txt.new" "$out/versions.txt"
echo "$kver" >"$out/kernel-release"
echo "$base_stamp" >"$out/base.stamp"
build_harness
t2=$(date +%s)
log "built $out/initramfs.cpio.gz ($(du -h "$out/initramfs.cpio.gz" | cut -f1), $((t2 - t1)) s) for $kver"
