#!/bin/sh
# 'make vm' (guest/run.sh IMAGE vm): a guest to try the zoned disk in.
#
# Prints what Linux sees of /dev/vda (the zoned qcow2 image), then either
#  - gives an interactive shell (the host's standard input is a terminal;
#    leaving the shell powers the guest off), or
#  - with zt.in_len set, runs the commands the host read from its standard
#    input (at the start of the disk with serial "zt-input", /dev/vdb),
#    with their output on the console, and prints their exit status as
#    "vm: commands exited with status N" for the host.
# shellcheck shell=sh

dev=vda
qa() { cat "/sys/block/$dev/queue/$1" 2>/dev/null || echo "?"; }

if [ ! -b /dev/$dev ]; then
    echo "vm: there is no /dev/$dev: the image was not attached"
else
    model=$(qa zoned)
    sectors=$(cat /sys/block/$dev/size 2>/dev/null || echo 0)
    echo "vm: /dev/$dev: $((sectors / 2048)) MiB, zoned model: $model"
    if [ "$model" != none ]; then
        echo "vm: /dev/$dev: $(qa nr_zones) zones of $(($(qa chunk_sectors) / 2048)) MiB," \
             "max open $(qa max_open_zones), max active $(qa max_active_zones)," \
             "zone append up to $(qa zone_append_max_bytes) bytes"
    fi
fi

if [ -n "${ZT_IN_LEN:-}" ]; then
    input=
    for b in /sys/block/vd*; do
        [ "$(cat "$b/serial" 2>/dev/null)" = zt-input ] && input=/dev/${b##*/}
    done
    if [ -z "$input" ]; then
        echo "vm: the disk with the commands (serial zt-input) is missing"
        echo "vm: commands exited with status 2"
        exit 0
    fi
    head -c "$ZT_IN_LEN" "$input" >/tmp/vm-commands
    echo "vm: running the commands from standard input (each line is echoed first)"
    cd /root 2>/dev/null || cd /tmp
    # -v: each line as it is read; no standard input (a command reading it
    # must not wait for a terminal that is not there)
    sh -v /tmp/vm-commands </dev/null 2>&1
    echo "vm: commands exited with status $?"
else
    echo "vm: a shell in the guest; try 'blkzone report /dev/$dev' and"
    echo "vm: 'cat /sys/block/$dev/queue/zoned'. 'exit' (or Ctrl-D) powers the guest off."
    export PS1='zoned-vm# '
    mkdir -p /root
    cd /root || cd /
    setsid cttyhack sh
fi
