#!/bin/bash
# Boot the test guest on a qcow2 image and report the in-guest tests as TAP.
#
# Usage: guest/run.sh IMAGE [SCRIPT]
#
#   SCRIPT  zoned (default)  the zoned-disk tests (guest/tests/zoned.sh)
#           persist          two boots: persist-write, QEMU exits, then
#                            persist-check on the same image
#           persist-crash    the same, but QEMU is killed with SIGKILL right
#                            after the guest flushed (no clean shutdown)
#           persist-noflush  QEMU is killed with the writes not flushed: the
#                            second boot checks that every zone is
#                            consistent (its write pointer covers only data
#                            that is there)
#           persist-write, persist-check   one phase only (persist-check needs
#                            the report that persist-write saved in OUTDIR)
#           fs-crash-btrfs, fs-crash-f2fs (fs-crash = fs-crash-btrfs)
#                            two boots: make the file system, fsync a set of
#                            files, keep writing files; QEMU is killed with
#                            SIGKILL KILL_DELAY s into those writes; the
#                            second boot checks the zones, recovery, the
#                            fsynced files and the checker (tests/fscrash.sh)
#                            (f2fs needs conventional zones, btrfs
#                            max_active_zones > 8: e.g. 4G, zone.size=64M,
#                            4 conventional zones, max open 8, max active 12)
#           selftest         zoned.sh on a zoned null_blk device inside the
#                            guest (IMAGE may be 'none'): checks the harness
#           zbd              fio's own t/zbd suite (test-zbd-support, from
#                            Debian's fio source package: guest/build.sh
#                            ZBD=1) on the disk under test, one TAP line per
#                            test case, the failing cases' logs handed back
#                            (OUTDIR/zbd-log.N); zt.zbd_tests=N,M,... runs
#                            only those, zt.zbd_opts=-w,-o,8 adds options
#                            (TIMEOUT defaults to 3600 s under TCG);
#                            IMAGE 'none' with zt.zbd_nullb=512:2:2:4096 runs
#                            it on a zoned null_blk device in the guest
#           script:FILE      FILE (busybox sh) runs in the guest with the TAP
#                            and zone helpers (see tests/script.sh)
#           shell            an interactive shell in the guest (harness view:
#                            the scratch disk and TAP port are attached)
#           vm               'make vm': the image alone, as the specification
#                            attaches it; the guest prints the disk's zoned
#                            model and zones, then gives a shell (standard
#                            input is a terminal; leaving it powers off) or
#                            runs the commands read from standard input,
#                            prints their output and exits with their status
#                            (VM_TIMEOUT, default 600 s, guards a hang)
#
# The disk is attached exactly as a user would attach it:
#   -blockdev node-name=drive1,driver=qcow2,file.driver=file,file.filename=IMAGE
#   -device virtio-blk-pci,drive=drive1
# plus a sparse raw scratch disk (serial zt-scratch: f2fs metadata, data for
# the guest) and a second serial port that carries only TAP (zt.tap=ttyS1).
# The expected zone geometry is read from the image's zoned header extension
# (lib/qcow2-zone-info.py) and passed on the kernel command line.
#
# After a boot that ends with QEMU exiting or being killed, the host compares
# the guest's blkzone report with qemu-io's zone report of the image
# (lib/zone-report-compare.py) and runs qemu-img check: persist, persist-crash
# and the fs-crash modes print these as 'ok N - host: ...' lines.
#
# Environment:
#   ACCEL     auto (default: KVM when it boots the guest kernel, else TCG),
#             kvm or tcg
#   TIMEOUT   seconds per boot (default 600 under TCG, 240 with KVM)
#   OUTDIR    console log, TAP and saved blocks (default .cache/guest/runs/SCRIPT;
#             persist-write and persist-check share runs/persist-split)
#   ZT_ARGS   extra kernel parameters, e.g. "zt.only=geometry,states,fio"
#   VERBOSE=1 show the console while the guest runs
#   QEMU, FIRMWARE   binary and firmware directory (default: the project's
#             qemu/build and its qemu-bundle)
#   KILL_DELAY  fs-crash: seconds between the guest's ZT-HOLD (writes
#             start) and the SIGKILL (default 4)
#   POWER_CUT=1  persist-crash and fs-crash model a power cut, not only a
#             crash of QEMU (SIGKILL keeps the host's page cache): the write
#             boot attaches the image file through blklogwrites, and after
#             the kill the image file is rebuilt from its copy before the
#             boot and the write log up to the last flush
#             (tests/crash/logcut.py: every write after it is lost); the
#             image as QEMU left it is checked first (qemu-img check, zone
#             report), then the rest of the run uses the rebuilt one
#   QEMU_IO, QEMU_IMG   host tools for the comparisons (default qemu/build)
#   DISK_BLOCKDEV  the -blockdev of the disk under test instead of the
#             qcow2 node over IMAGE (node-name drive1 all the same), e.g. a
#             raw file for stock NVMe ZNS emulation; no geometry is then read
#             from IMAGE (give zt.* values in ZT_ARGS) and no host-side
#             comparison with the image is made
#   DISK_DEVICE, DISK_OBJECTS   the -device of the disk under test (default
#             virtio-blk-pci,drive=drive1) and -object options it needs, e.g.
#             iothreads (not for vm, which attaches the image as the spec does)
#   HOST_HOOK  a host command (split at spaces) that acts on the running
#             guest, e.g. "python3 guest/lib/job-hook.py backup": each boot
#             (not shell, vm) gets a QMP socket (OUTDIR/qmp.sock); the
#             command runs with 'during' appended while QEMU runs and with
#             'after' once QEMU exited, with ZT_QMP, ZT_TAP_FILE (the TAP
#             file, for the guest's markers), ZT_SCRATCH (the scratch disk,
#             the guest's mailbox), ZT_IMAGE, ZT_QEMU_PID, OUTDIR and
#             QEMU_IMG set; its 'ok - ' / 'not ok - ' lines become host
#             results, other lines comments (outputs in OUTDIR/hook-*.out)
#   MEM (1G), SMP (2), SCRATCH_SIZE (2G: f2fs needs that much with 64 MiB
#             zones when the disk has no conventional zones)
#
# Exit status: 0 when every test passed (skips allowed), 1 when a test failed
# or the plan is incomplete, 2 on a time-out or a harness error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
cache=${GUEST_CACHE:-$top/.cache/guest}
build_dir=$top/qemu/build
QEMU=${QEMU:-$build_dir/qemu-system-x86_64}
QEMU_IO=${QEMU_IO:-$build_dir/qemu-io}
QEMU_IMG=${QEMU_IMG:-$build_dir/qemu-img}
KILL_DELAY=${KILL_DELAY:-4}
FIRMWARE=${FIRMWARE:-$build_dir/qemu-bundle/usr/local/share/qemu}
MEM=${MEM:-1G}
SMP=${SMP:-2}
ACCEL=${ACCEL:-auto}
VERBOSE=${VERBOSE:-0}
ZT_ARGS=${ZT_ARGS:-}
SCRATCH_SIZE=${SCRATCH_SIZE:-2G}
POWER_CUT=${POWER_CUT:-0}
# set by power_cut_start: the write log of the next boot
disk_log=
# the device of the disk under test, and objects it needs (test runs only)
DISK_DEVICE=${DISK_DEVICE:-virtio-blk-pci,drive=drive1}
read -r -a disk_objects <<<"${DISK_OBJECTS:-}"

log() { echo "guest/run.sh: $*" >&2; }
die() { log "error: $*"; exit 2; }

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//; /^set -e/d' >&2
    exit 2
fi
image=$1
script=${2:-zoned}
user_script=
case $script in
zoned | persist | persist-crash | persist-noflush | persist-write | persist-check | selftest | shell | vm | zbd) ;;
fs-crash | fs-crash-btrfs | fs-crash-f2fs) [ "$script" = fs-crash ] && script="fs-crash-btrfs" ;;
script:*)
    user_script=$(realpath "${script#script:}")
    [ -f "$user_script" ] || die "no script '${script#script:}'"
    script=script
    ;;
*) die "unknown SCRIPT '$script'" ;;
esac
if [ "$image" != none ]; then
    [ -f "$image" ] || die "no image '$image'"
    image=$(realpath "$image")
elif [ "$script" != selftest ] && [ "$script" != shell ] && [ "$script" != script ] &&
     [ "$script" != vm ] && [ "$script" != zbd ]; then
    die "IMAGE 'none' only goes with selftest, script:FILE, shell, vm or zbd (zt.zbd_nullb)"
fi
case $script in
persist-write | persist-check) OUTDIR=${OUTDIR:-$cache/runs/persist-split} ;;
*) OUTDIR=${OUTDIR:-$cache/runs/$script} ;;
esac
mkdir -p "$OUTDIR"
OUTDIR=$(realpath "$OUTDIR")

# QEMU may be rebuilt while we wait: give it a minute to reappear
for _ in $(seq 60); do
    [ -x "$QEMU" ] && break
    sleep 1
done
[ -x "$QEMU" ] || die "$QEMU not found (build QEMU first)"
[ -d "$FIRMWARE" ] || die "firmware directory $FIRMWARE not found"

if [ "$script" = vm ]; then
    [ -f "$cache/out/initramfs.cpio.gz" ] ||
        echo "vm: preparing the guest kernel and initramfs from Debian's packages (once; about 90 s)"
    "$here/build.sh" >"$OUTDIR/build.log" 2>&1 ||
        { tail -n 20 "$OUTDIR/build.log" >&2; die "guest/build.sh failed"; }
elif [ "$script" = zbd ]; then
    ZBD=1 "$here/build.sh"
else
    "$here/build.sh"
fi
kernel=$cache/out/vmlinuz
initrd=$cache/out/initramfs.cpio.gz
[ "$script" = zbd ] && initrd=$cache/out/initramfs-zbd.cpio.gz

# ---------------------------------------------------------------------------
# Accelerator: KVM only if it really runs a guest.  /dev/kvm can be present
# and open while the host cannot run an ordinary guest (no VMX/SVM, or a
# paravirtual KVM): boot the guest kernel for a few seconds and require it to
# reach /init.
kvm_boots() {
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
    local probe_log pid i ok=1
    probe_log=$(mktemp)
    "$QEMU" -machine q35 -accel kvm -cpu host -m 256M -nodefaults \
        -display none -monitor none -serial stdio \
        -no-reboot -L "$FIRMWARE" -kernel "$kernel" -initrd "$initrd" \
        -append "console=ttyS0 panic=-1 loglevel=0 zt.test=none" \
        </dev/null >"$probe_log" 2>&1 &
    pid=$!
    for i in $(seq 100); do # 25 s at most
        if grep -q "init: no test named 'none'" "$probe_log"; then
            ok=0
            break
        fi
        grep -q -E 'KVM internal error|emulation failure|failed to initialize kvm|Kernel panic' \
            "$probe_log" && break
        kill -0 $pid 2>/dev/null || break
        sleep 0.25
    done
    kill -9 $pid 2>/dev/null || true
    wait $pid 2>/dev/null || true
    [ $ok = 0 ] || log "KVM cannot run the guest here ($(grep -m1 -E 'KVM|kvm|panic' "$probe_log" || echo "no boot within ${i}/4 s")): using TCG"
    rm -f "$probe_log"
    return $ok
}
case $ACCEL in
auto)
    stamp=$cache/kvm-probe
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(uname -r) $(stat -c %Y "$QEMU")" ]; then
        accel=kvm
    elif [ -f "$stamp.no" ] && [ "$(cat "$stamp.no")" = "$(uname -r) $(stat -c %Y "$QEMU")" ]; then
        accel=tcg
    elif kvm_boots; then
        accel=kvm
        echo "$(uname -r) $(stat -c %Y "$QEMU")" >"$stamp"
    else
        accel=tcg
        echo "$(uname -r) $(stat -c %Y "$QEMU")" >"$stamp.no"
    fi
    ;;
kvm | tcg) accel=$ACCEL ;;
*) die "ACCEL must be auto, kvm or tcg" ;;
esac
if [ "$accel" = kvm ]; then
    accel_args=(-accel kvm -cpu host)
    TIMEOUT=${TIMEOUT:-240}
else
    accel_args=(-accel tcg -cpu max)
    [ "$script" = zbd ] && TIMEOUT=${TIMEOUT:-3600}
    TIMEOUT=${TIMEOUT:-600}
fi

# ---------------------------------------------------------------------------
# Expected geometry, straight from the image file
# (not for vm: the guest reports what it sees, whatever the image is)
geometry=
if [ "$image" != none ] && [ "$script" != vm ] && [ -z "${DISK_BLOCKDEV:-}" ]; then
    geometry=$(python3 "$here/lib/qcow2-zone-info.py" "$image") ||
        die "cannot read the qcow2 header of $image"
fi

# boot TEST PARAMS [HOLD [DELAY [NEED]]]: one boot; sets rc_boot (0 ok, 1
# failures, 2 time-out or no TAP), and leaves OUTDIR/{console.log,tap.txt}.
# HOLD=1: SIGKILL QEMU DELAY seconds (default 0) after the guest printed
# ZT-HOLD, and not before a line matching the regular expression NEED (if
# given) is in the TAP file (sets boot_killed=1).
boot() {
    local test=$1 params=$2 hold=${3:-0} delay=${4:-0} need=${5:-}
    local console=$OUTDIR/console.log tap=$OUTDIR/tap.txt scratch=$OUTDIR/scratch.raw
    local append="console=ttyS0 panic=-1 loglevel=4 zt.tap=ttyS1 zt.test=$test $params $ZT_ARGS"
    local disk_args=()
    : >"$console"
    : >"$tap"
    if [ ! -f "$scratch" ] || [ -z "${scratch_input:-}" ]; then
        rm -f "$scratch"
        truncate -s "$SCRATCH_SIZE" "$scratch"
    fi
    scratch_input=
    if [ "$image" != none ]; then
        # shellcheck disable=SC2054 # commas belong to QEMU's option syntax
        disk_args=(-blockdev "node-name=drive1,driver=qcow2,file.driver=file,file.filename=${image//,/,,}"
                   "${disk_objects[@]}" -device "$DISK_DEVICE")
        [ -n "${DISK_BLOCKDEV:-}" ] && disk_args[1]=$DISK_BLOCKDEV
        if [ -n "$disk_log" ]; then
            # shellcheck disable=SC2054
            disk_args[1]="node-name=drive1,driver=qcow2,file.driver=blklogwrites,file.file.driver=file,file.file.filename=${image//,/,,},file.log.driver=file,file.log.filename=${disk_log//,/,,}"
        fi
    fi
    local con_args=(-display none -monitor none -serial stdio)
    [ "$test" = shell ] && con_args=(-display none -serial mon:stdio)
    # -nodefaults: SeaBIOS takes ~30 s under TCG with the default devices
    # shellcheck disable=SC2054
    local cmd=("$QEMU" -machine q35 "${accel_args[@]}" -smp "$SMP" -m "$MEM"
        -nodefaults "${con_args[@]}" -no-reboot -L "$FIRMWARE"
        -kernel "$kernel" -initrd "$initrd" -append "$append"
        -chardev "file,id=zttap,path=$tap" -device isa-serial,chardev=zttap,index=1
        "${disk_args[@]}"
        -blockdev "node-name=scratch,driver=raw,file.driver=file,file.filename=${scratch//,/,,}"
        -device virtio-blk-pci,drive=scratch,serial=zt-scratch)
    local hook=() hookpid=''
    if [ -n "${HOST_HOOK:-}" ] && [ "$test" != shell ]; then
        read -r -a hook <<<"$HOST_HOOK"
        rm -f "$OUTDIR/qmp.sock" "$OUTDIR"/hook-*.out
        cmd+=(-qmp "unix:$OUTDIR/qmp.sock,server=on,wait=off")
    fi
    printf '%q ' "${cmd[@]}" >"$OUTDIR/qemu-cmdline"
    echo >>"$OUTDIR/qemu-cmdline"
    log "booting ($accel, zt.test=$test): console in $console"

    if [ "$test" = shell ]; then
        "${cmd[@]}"
        rc_boot=0
        return
    fi
    local t0 pid tailpid='' killed=0 timed_out=0 t_hold='' attempt
    # QEMU may be relinked under us: a binary that cannot be executed (126,
    # 127) is waited for and started again (the guest never ran)
    for attempt in 1 2 3 4 5 6; do
        t0=$(date +%s)
        "${cmd[@]}" </dev/null >"$console" 2>&1 &
        pid=$!
        if [ "$VERBOSE" = 1 ]; then
            tail -n +1 -f --pid=$pid "$console" &
            tailpid=$!
        fi
        if [ ${#hook[@]} -gt 0 ]; then
            [ -n "$hookpid" ] && { wait "$hookpid" 2>/dev/null || true; }
            env ZT_QMP="$OUTDIR/qmp.sock" ZT_TAP_FILE="$tap" ZT_SCRATCH="$scratch" \
                ZT_IMAGE="$image" ZT_QEMU_PID="$pid" OUTDIR="$OUTDIR" QEMU_IMG="$QEMU_IMG" \
                "${hook[@]}" during >"$OUTDIR/hook-during.out" 2>&1 </dev/null &
            hookpid=$!
        fi
        while kill -0 $pid 2>/dev/null; do
            if [ $(($(date +%s) - t0)) -ge "$TIMEOUT" ]; then
                timed_out=1
                kill $pid 2>/dev/null || true
                sleep 2
                kill -9 $pid 2>/dev/null || true
                break
            fi
            if [ "$hold" = 1 ] && [ -z "$t_hold" ] && grep -q 'ZT-HOLD' "$tap"; then
                t_hold=$(date +%s)
            fi
            if [ -n "$t_hold" ] && [ $(($(date +%s) - t_hold)) -ge "$delay" ] &&
                { [ -z "$need" ] || grep -q -E "$need" "$tap"; }; then
                kill -9 $pid 2>/dev/null || true
                killed=1
                break
            fi
            sleep 0.5
        done
        wait $pid 2>/dev/null && qrc=0 || qrc=$?
        [ -n "$tailpid" ] && { wait "$tailpid" 2>/dev/null || true; }
        if [ "$killed$timed_out" = 00 ] && { [ "$qrc" = 126 ] || [ "$qrc" = 127 ]; }; then
            log "QEMU could not be started (status $qrc, attempt $attempt): $(tail -n 1 "$console")"
            sleep 10
            continue
        fi
        break
    done
    boot_secs=$(($(date +%s) - t0))
    sed -i 's/\r$//' "$tap" "$console"
    # no TAP channel output (e.g. an old initramfs): take TAP from the console
    if ! grep -q -E '^(ok|not ok|1\.\.|Bail out!)' "$tap"; then
        grep -E '^(ok [0-9]|not ok [0-9]|1\.\.[0-9]|Bail out!|# )' "$console" >"$tap" || true
    fi
    extract_blocks "$tap"
    boot_killed=$killed
    if [ $killed = 1 ]; then
        log "QEMU killed with SIGKILL as planned ($boot_secs s${t_hold:+, $delay s after ZT-HOLD})"
    elif [ $timed_out = 1 ]; then
        log "time-out after $TIMEOUT s; last console lines:"
        tail -n 20 "$console" >&2
    elif [ "$qrc" != 0 ]; then
        log "QEMU exited with status $qrc; last console lines:"
        tail -n 20 "$console" >&2
    fi
    evaluate "$tap" "$timed_out"
    if [ ${#hook[@]} -gt 0 ]; then
        # the hook ends when QEMU closes its QMP socket
        wait "$hookpid" 2>/dev/null || true
        env ZT_TAP_FILE="$tap" ZT_SCRATCH="$scratch" ZT_IMAGE="$image" OUTDIR="$OUTDIR" \
            QEMU_IMG="$QEMU_IMG" "${hook[@]}" after >"$OUTDIR/hook-after.out" 2>&1 </dev/null || true
        hook_results "$OUTDIR/hook-during.out" "$OUTDIR/hook-after.out"
    fi
    log "boot took $boot_secs s"
}

# hook_results FILE...: the HOST_HOOK's lines as host results; a hook that
# reported nothing is a failure
hook_results() {
    local line n=0
    while IFS= read -r line; do
        case $line in
        "ok - "*) host_result ok "${line#ok - }"; n=$((n + 1)) ;;
        "not ok - "*) host_result not_ok "${line#not ok - }"; n=$((n + 1)) ;;
        *) echo "# hook: $line" ;;
        esac
    done < <(cat "$@" 2>/dev/null)
    [ $n -gt 0 ] || host_result not_ok "HOST_HOOK ($HOST_HOOK) reported results"
}

extract_blocks() { # ZT-BEGIN NAME ... ZT-END NAME -> OUTDIR/NAME
    local name
    sed -n 's/^# ZT-BEGIN \([A-Za-z0-9_.-]*\)$/\1/p' "$1" | while IFS= read -r name; do
        sed -n "/^# ZT-BEGIN $name\$/,/^# ZT-END $name\$/p" "$1" |
            sed -n 's/^# ZT| \{0,1\}//p' >"$OUTDIR/$name"
    done
}

# put_input FILE: FILE at the start of a fresh scratch disk, for the next boot
put_input() {
    rm -f "$OUTDIR/scratch.raw"
    truncate -s "$SCRATCH_SIZE" "$OUTDIR/scratch.raw"
    dd if="$1" of="$OUTDIR/scratch.raw" conv=notrunc status=none
    scratch_input=1
}

npass=0 nfail=0 nskip=0
evaluate() { # TAPFILE TIMED_OUT
    local tap=$1 to=$2 plan p f s n
    p=$(grep -c -E '^ok [0-9]+' "$tap" || true)
    s=$(grep -c -E '^ok [0-9]+ .*# SKIP' "$tap" || true)
    f=$(grep -c -E '^not ok [0-9]+' "$tap" || true)
    n=$((p + f))
    plan=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$tap" | tail -n 1)
    grep -v -E '^# ZT\||^# ZT-(BEGIN|END|WROTE|SYNCED) ' "$tap" || true
    npass=$((npass + p - s))
    nskip=$((nskip + s))
    nfail=$((nfail + f))
    rc_boot=0
    [ "$f" -gt 0 ] && rc_boot=1
    if grep -q '^Bail out!' "$tap"; then
        rc_boot=1
    fi
    if [ "$to" = 1 ]; then
        echo "not ok $((n + 1)) - guest finished within $TIMEOUT s"
        echo "Bail out! time-out"
        nfail=$((nfail + 1))
        rc_boot=2
    elif [ -z "$plan" ] || [ "$plan" != "$n" ]; then
        echo "not ok $((n + 1)) - TAP plan complete (plan '${plan:-none}', $n results)"
        nfail=$((nfail + 1))
        [ $rc_boot = 0 ] && rc_boot=1
        [ "$n" = 0 ] && rc_boot=2
    fi
    return 0
}

# ---------------------------------------------------------------------------
# Host-side checks between and after boots: 'ok N - host: ...' lines, counted
# with the guest's results
hn=0 host_failed=0
host_result() { # host_result ok|not_ok DESCRIPTION
    hn=$((hn + 1))
    if [ "$1" = ok ]; then
        echo "ok $hn - host: $2"
        npass=$((npass + 1))
    else
        echo "not ok $hn - host: $2"
        nfail=$((nfail + 1))
        host_failed=1
    fi
}

nr_zones=$(sed -n 's/.*zt\.nr_zones=\([0-9]*\).*/\1/p' <<<"$geometry")

# qemu_io_report OUT: qemu-io's zone report of the image (read-only open)
# (one try: a retry would hide a report that fails now and then)
qemu_io_report() {
    local out=$1
    if "$QEMU_IO" -r -f qcow2 -c "zrp 0 ${nr_zones:-1}" "$image" >"$out" 2>&1 &&
        grep -q '^start:' "$out"; then
        return 0
    fi
    host_result not_ok "qemu-io zone report of the image"
    head -n 10 "$out" | sed 's/^/#   /'
    return 1
}

# compare_reports MODE GUEST_REPORT QEMU_IO_REPORT WHAT: zone by zone (see
# lib/zone-report-compare.py; MODE live or rest)
compare_reports() {
    local mode=$1 g=$2 qf=$3 what=$4 out line
    if [ ! -s "$g" ]; then
        host_result not_ok "zone report $mode: the guest handed back its report ($what)"
        return
    fi
    [ -s "$qf" ] || return # qemu_io_report failed and said so
    echo "# host: guest blkzone report ($what) vs qemu-io zrp: $(basename "$g") vs $(basename "$qf")"
    # (exit status 1 = some comparison failed: the lines say which)
    out=$(python3 "$here/lib/zone-report-compare.py" "$mode" "$g" "$qf" "${nr_zones:-}" 2>&1) || true
    if ! grep -q -E '^(not )?ok - ' <<<"$out"; then
        host_result not_ok "zone report $mode: comparison ran ($what)"
        sed 's/^/#   /' <<<"$out"
        return
    fi
    while IFS= read -r line; do
        case $line in
        "ok - "*) host_result ok "${line#ok - } ($what)" ;;
        "not ok - "*) host_result not_ok "${line#not ok - } ($what)" ;;
        *) echo "$line" ;;
        esac
    done <<<"$out"
}

# power_cut_start: copy the image file as it is before the write boot and
# make the next boot log its writes (POWER_CUT=1)
power_cut_start() {
    [ "$POWER_CUT" = 1 ] || return 0
    cp --sparse=always "$image" "$OUTDIR/power-cut-initial.qcow2"
    disk_log=$OUTDIR/power-cut.log
    rm -f "$disk_log"
    : >"$disk_log"
}

# power_cut_apply: after the killed boot, keep the image as QEMU left it in
# OUTDIR/killed.qcow2 and rebuild IMAGE as a power cut leaves it: the copy
# from before the boot plus the write log up to its last flush
power_cut_apply() {
    [ "$POWER_CUT" = 1 ] || return 0
    local out
    disk_log_used=$disk_log
    disk_log=
    cp --sparse=always "$image" "$OUTDIR/killed.qcow2"
    if out=$(python3 "$top/tests/crash/logcut.py" --size "$(stat -c %s "$image")" \
             "$OUTDIR/power-cut-initial.qcow2" "$disk_log_used" "$image" 2>&1); then
        host_result ok "power cut: the image file rebuilt from the write log up to its last flush (${out#logcut: })"
    else
        host_result not_ok "power cut: the image file could not be rebuilt from the write log"
        echo "$out" | sed 's/^/#   /'
        return 1
    fi
}

# image_check WHEN LEAKS_OK: qemu-img check of the image, read-only; leaked
# clusters are accepted when LEAKS_OK=1 (after a SIGKILL)
image_check() {
    local out rc leaks
    out=$("$QEMU_IMG" check -f qcow2 "$image" 2>&1) && rc=0 || rc=$?
    leaks=$(sed -n 's/^\([0-9]*\) leaked clusters were found.*/\1/p' <<<"$out")
    if [ $rc = 0 ]; then
        host_result ok "qemu-img check $1: no errors, no leaks"
    elif [ $rc = 3 ] && [ "$2" = 1 ]; then
        host_result ok "qemu-img check $1: no errors (${leaks:-some} leaked clusters, allowed after a SIGKILL)"
    else
        host_result not_ok "qemu-img check $1 (exit $rc)"
        head -n 20 <<<"$out" | sed 's/^/#   /'
    fi
}

# vm_boot: 'make vm' (see the usage above).  The image is the only disk
# when standard input is a terminal; otherwise the commands go in on a second,
# raw disk (serial zt-input) and the console, without carriage returns and
# init's own lines, is the output.  Exits with the commands' status, 2 when
# the guest did not report one (time-out, QEMU error).
vm_boot() {
    local disk_args=() cmd append console=$OUTDIR/console.log st
    if [ "$image" != none ]; then
        # shellcheck disable=SC2054 # commas belong to QEMU's option syntax
        disk_args=(-blockdev "node-name=drive1,driver=qcow2,file.driver=file,file.filename=${image//,/,,}"
                   -device virtio-blk-pci,drive=drive1)
    fi
    append="console=ttyS0 panic=-1 loglevel=1 zt.test=vm"
    if [ -t 0 ]; then
        cmd=("$QEMU" -machine q35 "${accel_args[@]}" -smp "$SMP" -m "$MEM"
             -nodefaults -display none -serial mon:stdio -no-reboot -L "$FIRMWARE"
             -kernel "$kernel" -initrd "$initrd" -append "$append" "${disk_args[@]}")
        printf '%q ' "${cmd[@]}" >"$OUTDIR/qemu-cmdline"
        echo "vm: booting Linux ($accel) with ${image##*/} attached as /dev/vda:"
        echo "vm:   ${disk_args[*]}"
        echo "vm: leave with 'exit' in the guest shell (powers the guest off);"
        echo "vm: Ctrl-A x stops QEMU at once"
        "${cmd[@]}" && exit 0
        st=$?
        log "QEMU exited with status $st"
        exit 2
    fi
    local input=$OUTDIR/vm-input.raw len
    cat >"$OUTDIR/vm-commands"
    len=$(stat -c %s "$OUTDIR/vm-commands")
    rm -f "$input"
    cp "$OUTDIR/vm-commands" "$input"
    truncate -s 1M "$input"
    [ "$len" -le $((1024 * 1024)) ] || die "more than 1 MiB of commands on standard input"
    # shellcheck disable=SC2054
    cmd=("$QEMU" -machine q35 "${accel_args[@]}" -smp "$SMP" -m "$MEM"
         -nodefaults -display none -monitor none -serial stdio -no-reboot -L "$FIRMWARE"
         -kernel "$kernel" -initrd "$initrd" -append "$append zt.in_len=$len"
         "${disk_args[@]}"
         -blockdev "node-name=vminput,driver=raw,read-only=on,file.driver=file,file.filename=${input//,/,,}"
         -device virtio-blk-pci,drive=vminput,serial=zt-input)
    printf '%q ' "${cmd[@]}" >"$OUTDIR/qemu-cmdline"
    echo "vm: booting Linux ($accel) with ${image##*/} attached as /dev/vda:"
    echo "vm:   ${disk_args[*]}"
    # a guard against a command that never returns, not a verdict on it
    timeout --kill-after=10 "${VM_TIMEOUT:-600}" "${cmd[@]}" </dev/null 2>&1 |
        tr -d '\r' | tee "$console" |
        grep --line-buffered -v -E '^init: |^\[ *[0-9.]+\] reboot: Power down$' || true
    st=$(sed -n 's/^vm: commands exited with status \([0-9]*\)$/\1/p' "$console" | tail -n 1)
    if [ -z "$st" ]; then
        log "the guest did not finish the commands (time-out after ${VM_TIMEOUT:-600} s or QEMU error); console: $console"
        exit 2
    fi
    exit "$st"
}

t_start=$(date +%s)
rc=0
case $script in
zoned)
    boot zoned "$geometry"
    rc=$rc_boot
    ;;
selftest)
    boot selftest ""
    rc=$rc_boot
    ;;
zbd)
    boot zbd "$geometry"
    rc=$rc_boot
    ;;
script)
    put_input "$user_script"
    boot script "$geometry zt.in_len=$(stat -c %s "$user_script")"
    rc=$rc_boot
    ;;
shell)
    boot shell "$geometry"
    exit 0
    ;;
vm)
    vm_boot
    ;;
persist | persist-crash | persist-noflush | persist-write)
    hold=0 wparams="" cparams=""
    case $script in
    persist-crash) hold=1 ;;
    persist-noflush) hold=1 wparams="zt.noflush=1" cparams="zt.consistent=1" ;;
    esac
    rm -f "$OUTDIR/report" "$OUTDIR/report-boot" "$OUTDIR"/qemu-io-*
    [ "$script" = persist-crash ] && power_cut_start
    boot persist "$geometry zt.phase=write zt.hold=$hold $wparams" "$hold"
    rc=$rc_boot
    if [ "$script" = persist-crash ] && [ "$POWER_CUT" = 1 ] &&
       [ -s "$OUTDIR/report" ] && [ "$rc_boot" != 2 ]; then
        # the image as QEMU left it (the host page cache kept), then the
        # power cut: the checks below see only what was flushed
        image_check "after the kill, before the power cut" 1
        if qemu_io_report "$OUTDIR/qemu-io-killed"; then
            compare_reports live "$OUTDIR/report" "$OUTDIR/qemu-io-killed" \
                "guest after its flush, image after QEMU killed"
        fi
        power_cut_apply || rc=1
    fi
    if [ -s "$OUTDIR/report" ] && [ "$rc_boot" != 2 ]; then
        # the report was taken after the flush: the image at rest must say
        # the same (open zones closed, or empty)
        how=$([ "$hold" = 1 ] && echo "killed" || echo "exited")
        image_check "after the first boot (QEMU $how)" "$hold"
        if qemu_io_report "$OUTDIR/qemu-io-after-write"; then
            if [ "$script" = persist-noflush ]; then
                echo "# host: the guest's report is not compared: nothing was flushed before the kill"
            else
                compare_reports live "$OUTDIR/report" "$OUTDIR/qemu-io-after-write" \
                    "guest after its flush, image after QEMU $how"
            fi
        fi
    fi
    if [ "$script" != persist-write ]; then
        if [ ! -s "$OUTDIR/report" ]; then
            log "the first boot saved no zone report; not booting again"
            rc=1
        else
            cp "$OUTDIR/tap.txt" "$OUTDIR/tap-write.txt"
            cp "$OUTDIR/console.log" "$OUTDIR/console-write.log"
            script=persist-check
        fi
    fi
    ;;
esac
if [ "$script" = persist-check ]; then
    [ -s "$OUTDIR/report" ] || die "no saved report in $OUTDIR (run persist-write first)"
    put_input "$OUTDIR/report"
    rm -f "$OUTDIR/report-boot"
    qemu_io_report "$OUTDIR/qemu-io-before-check" || true
    boot persist "$geometry zt.phase=check zt.in_len=$(stat -c %s "$OUTDIR/report") ${cparams:-}"
    [ $rc_boot -gt $rc ] && rc=$rc_boot
    compare_reports rest "$OUTDIR/report-boot" "$OUTDIR/qemu-io-before-check" \
        "image before boot 2, guest at boot 2"
fi
if [ "$script" = fs-crash-btrfs ] || [ "$script" = fs-crash-f2fs ]; then
    fs=${script#fs-crash-}
    rm -f "$OUTDIR"/{manifest,synced,wrote,fs-input,report-boot,report-final} "$OUTDIR"/qemu-io-*
    # the kill comes KILL_DELAY s into the writes, and not before the
    # O_DIRECT writer has written and fsynced run/d1 (a slow machine)
    power_cut_start
    boot fscrash "$geometry zt.phase=write zt.fs=$fs" 1 "$KILL_DELAY" '^# ZT-WROTE run/d1 '

    rc=$rc_boot
    cp "$OUTDIR/tap.txt" "$OUTDIR/tap-write.txt"
    cp "$OUTDIR/console.log" "$OUTDIR/console-write.log"
    # what the guest's writer had done when QEMU was killed (a line cut by
    # the kill does not match)
    sed -n 's/^# ZT-SYNCED \([0-9a-f]\{64\}\)  \(run\/[fd][0-9]*\) \.$/synced \1 \2/p' \
        "$OUTDIR/tap-write.txt" >"$OUTDIR/synced"
    sed -n 's/^# ZT-WROTE \(run\/[fd][0-9]*\) \([0-9a-f]\{64\}\)$/wrote \2 \1/p' \
        "$OUTDIR/tap-write.txt" >"$OUTDIR/wrote"
    nwrote=$(wc -l <"$OUTDIR/wrote")
    nsynced=$(wc -l <"$OUTDIR/synced")
    stopped=$(grep -m1 -E '^# ZT-WRITER-(FAILED|STOPPED)' "$OUTDIR/tap-write.txt" || true)
    if [ "$boot_killed" = 1 ] && [ -z "$stopped" ] && [ "$nwrote" -gt 0 ]; then
        host_result ok "QEMU killed with SIGKILL $KILL_DELAY s into the guest's writes ($nwrote files written after the durable set, $nsynced of them fsynced, writer still running)"
    else
        host_result not_ok "QEMU killed with SIGKILL while the guest's writer was running (killed: $boot_killed, files written: $nwrote)"
        [ -n "$stopped" ] && echo "#   guest: ${stopped#\# }"
    fi
    if [ ! -s "$OUTDIR/manifest" ] || [ "$rc_boot" = 2 ]; then
        log "the first boot handed back no checksum list; not booting again"
        [ $rc = 0 ] && rc=1
    else
        if [ "$POWER_CUT" = 1 ]; then
            image_check "after the kill, before the power cut" 1
            power_cut_apply || rc=1
        fi
        image_check "after the kill" 1
        qemu_io_report "$OUTDIR/qemu-io-after-kill" || true
        { sed -n 's/^\([0-9a-f]\{64\}\)  \(keep\/[a-z0-9]*\)$/synced \1 \2/p' "$OUTDIR/manifest"
          cat "$OUTDIR/synced" "$OUTDIR/wrote"; } >"$OUTDIR/fs-input"
        put_input "$OUTDIR/fs-input"
        boot fscrash "$geometry zt.phase=check zt.fs=$fs zt.in_len=$(stat -c %s "$OUTDIR/fs-input")"
        [ $rc_boot -gt $rc ] && rc=$rc_boot
        compare_reports rest "$OUTDIR/report-boot" "$OUTDIR/qemu-io-after-kill" \
            "image after the kill, guest at boot 2"
        if [ "$rc_boot" != 2 ]; then
            image_check "after the check boot (QEMU exited)" 1
            qemu_io_report "$OUTDIR/qemu-io-final" &&
                compare_reports live "$OUTDIR/report-final" "$OUTDIR/qemu-io-final" \
                    "guest at the end of boot 2, image after QEMU exited"
        fi
    fi
fi
[ "$host_failed" = 1 ] && [ "$rc" = 0 ] && rc=1
echo "guest: $npass passed, $nfail failed, $nskip skipped"
log "total $(($(date +%s) - t_start)) s; logs in $OUTDIR"
exit $rc
