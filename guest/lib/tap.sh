# TAP helpers for the in-guest tests (busybox sh).  Sourced, not executed.
#
# TAP goes to stdout (the serial console, mixed with kernel messages) and,
# when the host gave us a clean channel (zt.tap=ttyS1 on the kernel command
# line, see guest/run.sh), to that serial port too.
# shellcheck shell=sh

ZT_N=0
ZT_FAILED=0
ZT_SKIPPED=0

if [ -n "${ZT_TAP:-}" ] && [ -c "/dev/$ZT_TAP" ] &&
   stty -F "/dev/$ZT_TAP" raw -echo 2>/dev/null; then
    exec 7>>"/dev/$ZT_TAP"
else
    exec 7>/dev/null
fi

zt_emit() {
    echo "$*"
    echo "$*" >&7
}

diag() {
    zt_emit "# $*"
}

# diag_cmd CMD...: run CMD, its output (stdout and stderr) as diagnostics
diag_cmd() {
    "$@" >/tmp/zt-diag.out 2>&1 && _rc=0 || _rc=$?
    while IFS= read -r _l; do
        zt_emit "#   $_l"
    done </tmp/zt-diag.out
    return "$_rc"
}

ok() {
    ZT_N=$((ZT_N + 1))
    zt_emit "ok $ZT_N - $*"
}

not_ok() {
    ZT_N=$((ZT_N + 1))
    ZT_FAILED=$((ZT_FAILED + 1))
    zt_emit "not ok $ZT_N - $*"
}

skip() { # skip DESCRIPTION REASON
    ZT_N=$((ZT_N + 1))
    ZT_SKIPPED=$((ZT_SKIPPED + 1))
    zt_emit "ok $ZT_N - $1 # SKIP $2"
}

# t_run DESC CMD...: passes when CMD succeeds; its output goes to diagnostics
# when it fails (and to the console always)
t_run() {
    _d=$1
    shift
    "$@" >/tmp/zt-run.out 2>&1 && _rc=0 || _rc=$?
    if [ "$_rc" = 0 ]; then
        cat /tmp/zt-run.out
        ok "$_d"
        return 0
    fi
    not_ok "$_d"
    diag "command failed (exit $_rc): $*"
    while IFS= read -r _l; do zt_emit "#   $_l"; done </tmp/zt-run.out
    return 1
}

# t_fail DESC CMD...: passes when CMD fails (an operation that must be refused)
t_fail() {
    _d=$1
    shift
    "$@" >/tmp/zt-run.out 2>&1 && _rc=0 || _rc=$?
    if [ "$_rc" = 0 ]; then
        not_ok "$_d"
        diag "command unexpectedly succeeded: $*"
        return 1
    fi
    ok "$_d"
    diag "refused as expected (exit $_rc): $(tail -n 1 /tmp/zt-run.out)"
    return 0
}

# t_errno DESC ERRSTR CMD...: passes when CMD fails and the last line it
# printed ends with ": ERRSTR", the strerror() text of the errno the kernel
# returned (dd and blkzone print it that way)
t_errno() {
    _d=$1
    _e=$2
    shift 2
    "$@" >/tmp/zt-run.out 2>&1 && _rc=0 || _rc=$?
    _l=$(tail -n 1 /tmp/zt-run.out)
    if [ "$_rc" = 0 ]; then
        not_ok "$_d"
        diag "command unexpectedly succeeded: $*"
        return 1
    fi
    case $_l in
    *": $_e")
        ok "$_d ($_e)"
        return 0 ;;
    esac
    not_ok "$_d"
    diag "refused (exit $_rc) with: $_l"
    diag "expected an error ending in: $_e"
    return 1
}

# t_eq DESC GOT EXPECTED
t_eq() {
    if [ "$2" = "$3" ]; then
        ok "$1 ($2)"
        return 0
    fi
    not_ok "$1"
    diag "got: '$2'"
    diag "expected: '$3'"
    return 1
}

# expect DESC GOT PARAM: compare GOT with the value of zt.PARAM (the host
# passes the image's geometry on the kernel command line); a skip without it
expect() {
    _v=$(eval "echo \${ZT_$3:-}")
    if [ -z "$_v" ]; then
        skip "$1 ($2)" "no zt.$(echo "$3" | tr '[:upper:]' '[:lower:]') given"
    else
        t_eq "$1" "$2" "$_v"
    fi
}

# output block for the host: run.sh saves the lines between the markers
# into OUTDIR/NAME
zt_out() { # zt_out NAME FILE
    zt_emit "# ZT-BEGIN $1"
    while IFS= read -r _l; do zt_emit "# ZT| $_l"; done <"$2"
    zt_emit "# ZT-END $1"
}

done_testing() {
    zt_emit "1..$ZT_N"
    diag "$((ZT_N - ZT_FAILED - ZT_SKIPPED)) passed, $ZT_FAILED failed, $ZT_SKIPPED skipped"
    [ "$ZT_FAILED" = 0 ]
}

bail() {
    zt_emit "Bail out! $*"
    exit 2
}
