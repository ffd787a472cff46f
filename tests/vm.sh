#!/bin/bash
# 'make vm', as a user runs it (README): with commands on standard input,
# and at a terminal (a pseudo-terminal driven by tests/vm-tty.py).  Prints
# TAP.  Boots the guest three times (about 15 s each under TCG).
#
#  1. echo '...' | make vm   on the demo image: exits 0; the guest's banner
#     gives the zoned model and number of zones of the image; the commands'
#     output is printed ('cat /sys/block/vda/queue/zoned', 'blkzone report');
#     the report agrees zone by zone with qemu-io's report of the image
#     (guest/lib/zone-report-compare.py, at rest: nothing was written)
#  2. VM_IMAGE=another image (conventional zones, capacity < size): its
#     geometry in the banner and the report; the exit status of the commands
#     is the exit status of scripts/vm.sh
#  3. at a terminal: the prompt comes, a command runs, 'exit' powers the
#     guest off and scripts/vm.sh returns 0
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
b=${BUILD_DIR:-$top/qemu/build}
dir="$top/.cache/vm-test"
rm -rf "$dir"
mkdir -p "$dir"

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }
check() { if eval "$2"; then ok "$1"; else nok "$1"; sed 's/^/#   /' <<<"${3:-}" | head -n 20; fi; }

# expect_report NAME IMAGE OUT NR: the blkzone report in OUT against qemu-io's
expect_report() {
    local name=$1 img=$2 out=$3 nr=$4 cmp
    grep -E '^ *start: 0x' "$out" >"$dir/$name.guest-report" || true
    "$b/qemu-io" -r -f qcow2 -c "zrp 0 $nr" "$img" >"$dir/$name.qemu-io-report" 2>&1
    cmp=$(python3 "$top/guest/lib/zone-report-compare.py" rest \
        "$dir/$name.guest-report" "$dir/$name.qemu-io-report" "$nr" 2>&1)
    check "$name: blkzone report in the guest agrees with qemu-io's zone report ($nr zones)" \
        '! grep -q "^not ok" <<<"$cmp" && grep -q "^ok" <<<"$cmp"' "$cmp"
}

echo "1..12"

# --- 1. the demo image, through make -----------------------------------------
demo="$top/.cache/demo/zbc.qcow2"
[ -f "$demo" ] || "$top/scripts/demo.sh" >"$dir/demo.log" 2>&1
printf '%s\n' 'cat /sys/block/vda/queue/zoned' 'blkzone report /dev/vda' \
    >"$dir/cmds1"
sum_before=$(sha256sum <"$demo")
start=$(date +%s)
make -C "$top" --no-print-directory vm <"$dir/cmds1" >"$dir/out1" 2>"$dir/err1"
rc=$?
echo "# make vm (commands on stdin): $(( $(date +%s) - start )) s, exit $rc"
check "demo: 'echo ... | make vm' exits 0" '[ $rc = 0 ]' "$(tail -n 20 "$dir/err1")"
check "demo: the banner gives the zoned model and the number of zones" \
    'grep -q -x "vm: /dev/vda: 768 MiB, zoned model: host-managed" "$dir/out1" &&
     grep -q "^vm: /dev/vda: 12 zones of 64 MiB, max open 6, max active 8, zone append up to 4096 bytes$" "$dir/out1"' \
    "$(head -n 20 "$dir/out1")"
check "demo: 'cat /sys/block/vda/queue/zoned' prints host-managed" \
    'grep -A1 -x "cat /sys/block/vda/queue/zoned" "$dir/out1" | grep -q -x host-managed' \
    "$(head -n 20 "$dir/out1")"
check "demo: 'blkzone report /dev/vda' prints 12 zones" \
    '[ "$(grep -c -E "^ *start: 0x" "$dir/out1")" = 12 ]' "$(cat "$dir/out1")"
expect_report demo "$demo" "$dir/out1" 12
"$b/qemu-img" check "$demo" >"$dir/check1" 2>&1
rc=$?
check "demo: the image is unchanged by the VM (same bytes) and clean (qemu-img check)" \
    '[ "$(sha256sum <"$demo")" = "$sum_before" ] && [ $rc = 0 ]' "$(cat "$dir/check1")"

# --- 2. VM_IMAGE, exit status ------------------------------------------------
img="$dir/other.qcow2"
"$b/qemu-img" create -q -f qcow2 "$img" -o size=256M -o zone.size=32M \
    -o zone.capacity=24M -o zone.conventional_zones=2 -o zone.max_open_zones=3 \
    -o zone.max_active_zones=4 -o zone.mode=host-managed
"$b/qemu-io" -f qcow2 -c "write -P 0x11 64M 1M" -c "zf 96M 32M" "$img" >/dev/null
printf '%s\n' 'blkzone report /dev/vda' 'exit 7' >"$dir/cmds2"
VM_IMAGE=$img "$top/scripts/vm.sh" <"$dir/cmds2" >"$dir/out2" 2>"$dir/err2"
rc=$?
check "VM_IMAGE: the commands' exit status (7) is scripts/vm.sh's" '[ $rc = 7 ]' \
    "$(tail -n 20 "$dir/err2")"
check "VM_IMAGE: the banner gives that image's geometry" \
    'grep -q "^vm: /dev/vda: 8 zones of 32 MiB, max open 3, max active 4," "$dir/out2"' \
    "$(head -n 20 "$dir/out2")"
check "VM_IMAGE: the report shows 2 conventional zones and capacity 24 MiB" \
    '[ "$(grep -c "CONVENTIONAL" "$dir/out2")" = 2 ] &&
     [ "$(grep -c "cap 0x00c000" "$dir/out2")" = 6 ]' "$(cat "$dir/out2")"
expect_report other "$img" "$dir/out2" 8

# --- 3. at a terminal ----------------------------------------------------------
start=$(date +%s)
out=$(VM_IMAGE=$img python3 "$top/tests/vm-tty.py" "$top/scripts/vm.sh" 2>&1)
rc=$?
echo "# make vm at a terminal: $(( $(date +%s) - start )) s, exit $rc"
printf '%s\n' "$out" >"$dir/out3"
check "terminal: the prompt comes, a command runs, 'exit' powers off, exit 0" \
    '[ $rc = 0 ]' "$(tail -n 20 "$dir/out3")"
check "terminal: /sys/block/vda/queue/zoned read at the prompt is host-managed" \
    'grep -q "^zoned=host-managed" "$dir/out3"' "$(tail -n 20 "$dir/out3")"
exit $failed
