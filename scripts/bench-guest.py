#!/usr/bin/python3
"""Guest benchmarks of zoned qcow2 ('make bench', second part).

Boots the harness' Linux guest (guest/, Debian Linux 6.12, fio 3.33) under
the project's qemu-system-x86_64 and runs fio in it on four disks of the
same geometry, all in one run, on the same host file system (.cache/bench/):

  raw     a raw file                    -device virtio-blk-pci
  qcow2   a plain qcow2                 -device virtio-blk-pci
  zoned   a host-managed zoned qcow2    -device virtio-blk-pci
  nvme    a preallocated raw file (BENCH_NVME_PREALLOC, default full:
          every block written once, no allocation in the write path)
          behind QEMU's NVMe ZNS emulation (-device nvme -device
          nvme-ns,zoned=true,zoned.zone_size=...): volatile zones
  nvmezq  a host-managed zoned qcow2 as the drive of an NVMe zoned
          namespace (-device nvme -device nvme-ns,zoned=true): persistent
          zones, geometry from the image
  zonedio1  the zoned qcow2 on virtio-blk with 4 virtqueues all on one
            iothread (iothread-vq-mapping)
  zonedio2  the same with the 4 virtqueues over 2 iothreads

Geometry: 4 GiB, 64 MiB zones of 64 MiB capacity, max 8 open / 12 active
zones, zone append limit 64 KiB (zone.max_append_bytes=64k; NVMe
zoned.zasl=4, i.e. 2^4 pages of 4 KiB).  Every image file is opened the same
way: file.cache.direct=on, file.aio=native (BENCH_AIO=io_uring|threads to
change), fresh and sparse for every boot (first-write performance: zone and
cluster allocation).

Workloads (fio --ioengine=libaio --direct=1, JSON output):
  seq128k  128 KiB sequential writes, QD8, 2 GiB (QUICK: 512 MiB)
  qd32     4 KiB sequential writes, QD32, 4 jobs, each filling its own
           zone (64 MiB each; fio's zoned mode needs a zone per job)
  mq128k   128 KiB sequential writes, QD8, 4 jobs, each filling its own
           zone (64 MiB each): the iothread comparison; zoned, zonedio1 and
           zonedio2 only (the io targets run only qd32 and mq128k)
  zonefs   zonefs (guest/lib/mkzonefs), O_DIRECT 128 KiB QD8 appending
           writes to 4 sequential-zone files, 64 MiB each (a full zone);
           zoned disks only
  btrfs    zoned btrfs, O_DIRECT 128 KiB QD8 writes, 4 jobs of 64 MiB
           (QUICK: 32 MiB); data goes out as zone appends; zoned disks only,
           in a boot of its own on a fresh image
Zoned disks run fio with --zonemode=zbd.  One boot per target and
repetition (two for zoned, nvme and nvmezq: the btrfs boot starts from a
fresh image too); the order of the targets rotates from one repetition to
the next.  Ratios are of the medians, with the min-max of the ratios within
one repetition; where the min-max ranges of the two targets overlap the
report says "no measurable difference".  Issue 17's targets: zoned/nvme
>= 1.0, nvmezq/nvme >= 0.95; zonedio2/zonedio1 is reported.

Writes bench/results-guest.md, .json and .png (gnuplot).  Environment:
QUICK=1 (one repetition, small sizes, about 7 minutes under TCG on 2
shared cores with the 7 targets), BENCH_REPS (default 5: 50 boots,
estimated at 25-30 minutes under TCG on 2 cores), BENCH_TARGETS,
BENCH_LOADS (comma lists), BENCH_AIO, ACCEL (auto|tcg|kvm),
BENCH_NVME_IOEVENTFD (default on, like virtio-blk's default; QEMU's
default for nvme is off, which makes every doorbell write a synchronous
exit and the NVMe target much slower under TCG), BENCH_NVME_MDTS
(default 7, QEMU's default: 512 KiB requests; virtio-blk allows 1280 KiB),
BENCH_NVME_PREALLOC (full, falloc or off: the NVMe ZNS raw file).
"""

import datetime
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

import benchstats
from benchstats import ratio_cell, verdict

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get('BUILD_DIR', os.path.join(TOP, 'qemu', 'build'))
QEMU = os.environ.get('QEMU', os.path.join(BUILD, 'qemu-system-x86_64'))
QEMU_IMG = os.path.join(BUILD, 'qemu-img')
FIRMWARE = os.environ.get('FIRMWARE', os.path.join(
    BUILD, 'qemu-bundle', 'usr', 'local', 'share', 'qemu'))
GUEST_CACHE = os.path.join(TOP, '.cache', 'guest')
WORK = os.path.join(TOP, '.cache', 'bench', 'guest')
OUT = os.environ.get('BENCH_OUT', os.path.join(TOP, 'bench'))

QUICK = os.environ.get('QUICK', '0') == '1'
REPS = int(os.environ.get('BENCH_REPS', '1' if QUICK else '5'))
AIO = os.environ.get('BENCH_AIO', 'native')
NVME_IOEVENTFD = os.environ.get('BENCH_NVME_IOEVENTFD', 'on')
NVME_MDTS = os.environ.get('BENCH_NVME_MDTS', '7')
SMP = os.environ.get('SMP', '2')
MEM = os.environ.get('MEM', '1G')

TARGETS = ['raw', 'qcow2', 'zoned', 'nvme', 'nvmezq', 'zonedio1', 'zonedio2']
ZONED = ('zoned', 'nvme', 'nvmezq', 'zonedio1', 'zonedio2')
IOTHREADS = {'zonedio1': 1, 'zonedio2': 2}
LOADS = ['seq128k', 'qd32', 'mq128k', 'zonefs', 'btrfs']
NVME_PREALLOC = os.environ.get('BENCH_NVME_PREALLOC', 'full')
TARGETS = [t for t in os.environ.get('BENCH_TARGETS', ','.join(TARGETS))
           .split(',') if t]
LOADS = [w for w in os.environ.get('BENCH_LOADS', ','.join(LOADS))
         .split(',') if w]
LABEL = {'raw': 'raw (virtio-blk)', 'qcow2': 'plain qcow2 (virtio-blk)',
         'zoned': 'zoned qcow2 (virtio-blk)', 'nvme': 'NVMe ZNS (raw file)',
         'nvmezq': 'NVMe ZNS (zoned qcow2)',
         'zonedio1': 'zoned qcow2 (virtio-blk, 4 vqs, 1 iothread)',
         'zonedio2': 'zoned qcow2 (virtio-blk, 4 vqs, 2 iothreads)'}
DESC = {
    'seq128k': '128 KiB sequential write, QD8, 1 job',
    'qd32': '4 KiB sequential write, QD32, 4 jobs (one zone each)',
    'mq128k': '128 KiB sequential write, QD8, 4 jobs (one zone each)',
    'zonefs': 'O_DIRECT 128 KiB QD8 writes to 4 zonefs seq files',
    'btrfs': 'zoned btrfs, O_DIRECT 128 KiB QD8, 4 jobs (zone appends)',
}

MiB = 1024 * 1024
SIZE = 4096 * MiB
ZONE = 64 * MiB
CAP = 64 * MiB
MAX_OPEN = 8
MAX_ACTIVE = 12
APPEND = 64 * 1024        # = NVMe zasl 4 with 4 KiB pages
ZASL = 4

# sizes in MiB
if QUICK:
    SIZES = {'seq_mib': 512, 'qd32_mib': 64, 'zfs_mib': 64, 'btrfs_mib': 32}
else:
    SIZES = {'seq_mib': 2048, 'qd32_mib': 64, 'zfs_mib': 64, 'btrfs_mib': 64}
# disjoint zone ranges in one boot: seq128k zones 0-31, qd32 zones 32-35,
# zonefs zones 40-43, mq128k zones 48-51 (fio's zoned mode needs at least
# one zone per job)
SIZES.update({'qd32_off_mib': 2048, 'qd32_stride_mib': 64, 'zfs_zone': 40,
              'mq_off_mib': 3072, 'mq_mib': 64})
TIMEOUT = int(os.environ.get('TIMEOUT', '600' if QUICK else '1200'))


def log(msg):
    print(f'bench-guest: {msg}', file=sys.stderr, flush=True)


def wait_binary(path, secs=180):
    """Wait until @path is executable and not being written (a concurrent
    build may relink QEMU under us); returns its mtime."""
    last = None
    for _ in range(secs):
        try:
            st = os.stat(path)
            cur = (st.st_mtime_ns, st.st_size)
            if os.access(path, os.X_OK) and cur == last and \
                    time.time() - st.st_mtime > 2:
                return st.st_mtime
            last = cur
        except OSError:
            last = None
        time.sleep(1)
    sys.exit(f'bench-guest: {path} did not become usable')


def run(*args):
    for attempt in range(30):
        try:
            return subprocess.run(args, check=True, capture_output=True,
                                  text=True)
        except OSError:
            # relinked under us?  Wait for the binary, then try again
            if attempt == 29:
                raise
            wait_binary(args[0])


# ---------------------------------------------------------------------------
# Images and QEMU command line

def create(target, path):
    if os.path.exists(path):
        os.unlink(path)
    if target == 'raw':
        run(QEMU_IMG, 'create', '-q', '-f', 'raw', path, str(SIZE))
    elif target == 'nvme':
        # stock NVMe ZNS writes zeroes at a reset: preallocated, as its
        # users run it; full by default: no allocation in the write path
        run(QEMU_IMG, 'create', '-q', '-f', 'raw', '-o',
            f'preallocation={NVME_PREALLOC}', path, str(SIZE))
        os.sync()
    elif target == 'qcow2':
        run(QEMU_IMG, 'create', '-q', '-f', 'qcow2', path, str(SIZE))
    else:
        run(QEMU_IMG, 'create', '-q', '-f', 'qcow2', path, str(SIZE), '-o',
            f'zone.mode=host-managed,zone.size={ZONE},zone.capacity={CAP},'
            f'zone.max_open_zones={MAX_OPEN},'
            f'zone.max_active_zones={MAX_ACTIVE},'
            f'zone.max_append_bytes={APPEND}')


def disk_args(target, path):
    fmt = 'raw' if target in ('raw', 'nvme') else 'qcow2'
    p = path.replace(',', ',,')
    node = (f'node-name=bench,driver={fmt},cache.direct=on,'
            f'file.driver=file,file.filename={p},file.cache.direct=on,'
            f'file.aio={AIO}')
    if target in IOTHREADS:
        n = IOTHREADS[target]
        objs = []
        for i in range(n):
            objs += ['-object', f'iothread,id=ztio{i}']
        dev = {'driver': 'virtio-blk-pci', 'drive': 'bench',
               'serial': 'zt-bench', 'num-queues': 4,
               'iothread-vq-mapping': [{'iothread': f'ztio{i}'}
                                       for i in range(n)]}
        return objs + ['-blockdev', node, '-device',
                       json.dumps(dev, separators=(',', ':'))]
    if target not in ('nvme', 'nvmezq'):
        return ['-blockdev', node,
                '-device', 'virtio-blk-pci,drive=bench,serial=zt-bench']
    if target == 'nvmezq':
        # zone geometry and limits, and zasl, come from the image
        return ['-blockdev', node,
                '-device', f'nvme,serial=ztbench,id=nvme0,'
                           f'ioeventfd={NVME_IOEVENTFD},mdts={NVME_MDTS}',
                '-device', 'nvme-ns,drive=bench,bus=nvme0,nsid=1,zoned=true']
    return ['-blockdev', node,
            '-device', f'nvme,serial=ztbench,id=nvme0,zoned.zasl={ZASL},'
                       f'ioeventfd={NVME_IOEVENTFD},mdts={NVME_MDTS}',
            '-device', 'nvme-ns,drive=bench,bus=nvme0,nsid=1,zoned=true,'
                       f'zoned.zone_size={ZONE},zoned.zone_capacity={CAP},'
                       f'zoned.max_open={MAX_OPEN},'
                       f'zoned.max_active={MAX_ACTIVE}']


def pick_accel():
    """The harness' choice (guest/run.sh): KVM only if it boots the guest."""
    want = os.environ.get('ACCEL', 'auto')
    if want in ('tcg', 'kvm'):
        return want
    key = f'{platform.release()} {int(os.stat(QEMU).st_mtime)}'
    for name, acc in (('kvm-probe', 'kvm'), ('kvm-probe.no', 'tcg')):
        try:
            with open(os.path.join(GUEST_CACHE, name)) as f:
                if f.read().strip() == key:
                    return acc
        except OSError:
            pass
    if not (os.access('/dev/kvm', os.R_OK | os.W_OK)):
        return 'tcg'
    # probe: the guest kernel must reach /init under KVM within 25 s
    cmd = [QEMU, '-machine', 'q35', '-accel', 'kvm', '-cpu', 'host', '-m',
           '256M', '-nodefaults', '-display', 'none', '-monitor', 'none',
           '-serial', 'stdio', '-no-reboot', '-L', FIRMWARE, '-kernel',
           KERNEL, '-initrd', INITRD, '-append',
           'console=ttyS0 panic=-1 loglevel=0 zt.test=none']
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL)
    ok = False
    try:
        out, _ = p.communicate(timeout=25)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
    ok = b"init: no test named 'none'" in out
    with open(os.path.join(GUEST_CACHE, 'kvm-probe' if ok else
                           'kvm-probe.no'), 'w') as f:
        f.write(key + '\n')
    return 'kvm' if ok else 'tcg'


KERNEL = os.path.join(GUEST_CACHE, 'out', 'vmlinuz')
INITRD = os.path.join(GUEST_CACHE, 'out', 'initramfs.cpio.gz')


def boot(accel, target, loads, rundir):
    """One boot on a fresh image; returns (tap lines, blocks, secs, error)."""
    os.makedirs(rundir, exist_ok=True)
    img = os.path.join(WORK, f'{target}.img')
    create(target, img)
    tap = os.path.join(rundir, 'tap.txt')
    console = os.path.join(rundir, 'console.log')
    params = ' '.join(f'zt.{k}={v}' for k, v in SIZES.items())
    append = (f'console=ttyS0 panic=-1 loglevel=4 zt.tap=ttyS1 zt.test=bench '
              f'zt.target={target} zt.loads={",".join(loads)} {params}')
    acc = ['-accel', 'kvm', '-cpu', 'host'] if accel == 'kvm' else \
        ['-accel', 'tcg', '-cpu', 'max']
    cmd = [QEMU, '-machine', 'q35', *acc, '-smp', SMP, '-m', MEM,
           '-nodefaults', '-display', 'none', '-monitor', 'none',
           '-serial', 'stdio', '-no-reboot', '-L', FIRMWARE,
           '-kernel', KERNEL, '-initrd', INITRD, '-append', append,
           '-chardev', f'file,id=zttap,path={tap}',
           '-device', 'isa-serial,chardev=zttap,index=1',
           *disk_args(target, img)]
    with open(os.path.join(rundir, 'qemu-cmdline'), 'w') as f:
        f.write(shlex.join(cmd) + '\n')
    err = None
    with open(console, 'wb') as con:
        for attempt in range(30):
            mtime = wait_binary(QEMU)
            t0 = time.monotonic()
            try:
                p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=con,
                                     stderr=subprocess.STDOUT)
                break
            except OSError as e:       # relinked under us
                log(f'cannot start QEMU ({e}); waiting for the binary')
        else:
            sys.exit('bench-guest: cannot start QEMU')
        try:
            rc = p.wait(timeout=TIMEOUT)
            if rc != 0:
                err = f'QEMU exited with status {rc}'
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            err = f'time-out after {TIMEOUT} s'
    secs = time.monotonic() - t0
    os.unlink(img)
    lines = []
    if os.path.exists(tap):
        with open(tap, errors='replace') as f:
            lines = [ln.rstrip('\r\n') for ln in f]
    blocks, cur = {}, None
    for ln in lines:
        m = re.match(r'^# ZT-BEGIN (\S+)$', ln)
        if m:
            cur = m[1]
            blocks[cur] = []
        elif cur and ln == f'# ZT-END {cur}':
            cur = None
        elif cur and ln.startswith('# ZT|'):
            blocks[cur].append(ln[6:] if ln.startswith('# ZT| ') else ln[5:])
    if err is None and not any(re.match(r'^1\.\.\d+$', ln) for ln in lines):
        err = 'no complete TAP plan'
    if err:
        with open(console, errors='replace') as f:
            tail = f.read().splitlines()[-15:]
        log(f'{target}: {err}; last console lines:\n  ' + '\n  '.join(tail))
    return lines, blocks, secs, err, mtime


def fio_metrics(text):
    """Write bandwidth (MiB/s), IOPS and completion latency from fio JSON."""
    text = text[text.index('{'):]
    j = json.loads(text)
    job = j['jobs'][0]
    w = job['write']
    pct = w.get('clat_ns', {}).get('percentile', {})
    return {'mibs': w['bw_bytes'] / MiB, 'iops': w['iops'],
            'bytes': w['io_bytes'], 'runtime_ms': w['runtime'],
            'clat_mean_us': w['clat_ns']['mean'] / 1000,
            'clat_p99_us': pct.get('99.000000', 0) / 1000,
            'errors': job.get('error', 0)}


# ---------------------------------------------------------------------------
# Report

def med(xs):
    return statistics.median(xs) if xs else None


def fmt(x, digits=0):
    return '-' if x is None else f'{x:.{digits}f}'


def ratio(a, b):
    return a / b if a is not None and b else None


COMPARE = [('zoned', 'qcow2'), ('zoned', 'raw'), ('zoned', 'nvme'),
           ('nvmezq', 'nvme'), ('zonedio2', 'zonedio1'),
           ('zonedio1', 'zoned')]
GOALS = [('zoned/nvme', 1.0), ('nvmezq/nvme', 0.95)]


def compare(by_target, a, b):
    """Ratio a/b of the median throughputs, the min-max of the ratios of
    the same repetition, and whether the min-max ranges overlap."""
    xa = [s['mibs'] for s in by_target.get(a, [])]
    xb = [s['mibs'] for s in by_target.get(b, [])]
    if not xa or not xb:
        return None
    rb = {s['rep']: s['mibs'] for s in by_target[b]}
    per = [s['mibs'] / rb[s['rep']] for s in by_target[a] if s['rep'] in rb]
    return benchstats.comparison(xa, xb, per)


def plot(summary, loads, targets, png, accel):
    if not shutil.which('gnuplot'):
        log('gnuplot not found (scripts/deps.sh installs gnuplot-nox): no plot')
        return False
    dat = os.path.join(WORK, 'plot.dat')
    with open(dat, 'w') as f:
        for w in loads:
            row = [w]
            for t in targets:
                s = summary.get(w, {}).get(t)
                row += ([f'{s["median"]:.2f}', f'{s["min"]:.2f}',
                         f'{s["max"]:.2f}'] if s else ['NaN'] * 3)
            f.write(' '.join(row) + '\n')
    cols = []
    colors = ['#4c72b0', '#55a868', '#c44e52', '#8172b2', '#ccb974',
              '#64b5cd', '#8c8c8c']
    for i, t in enumerate(targets):
        c = 2 + 3 * i
        cols.append(f"'{dat}' using {c}:{c + 1}:{c + 2}"
                    f"{':xtic(1)' if i == 0 else ''} title '{LABEL[t]}' "
                    f"lc rgb '{colors[i % len(colors)]}'")
    script = f"""
set terminal pngcairo size 1000,560 font 'sans,10'
set output '{png}'
set title 'fio write throughput in the guest (median, min-max bars; {"QUICK" if QUICK else f"{REPS} reps"}; {accel.upper()})'
set ylabel 'MiB/s'
set style data histogram
set style histogram errorbars gap 2 lw 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set yrange [0:*]
set grid ytics
set key top right
plot {', '.join(cols)}
"""
    r = subprocess.run(['gnuplot'], input=script, text=True,
                       capture_output=True)
    if r.returncode != 0:
        log(f'gnuplot failed: {r.stderr.strip()}')
        return False
    return True


def main():
    os.makedirs(WORK, exist_ok=True)
    os.makedirs(OUT, exist_ok=True)
    shutil.rmtree(os.path.join(WORK, 'runs'), ignore_errors=True)
    for t in TARGETS:
        if t not in LABEL:
            sys.exit(f'bench-guest: unknown target {t}')
    for w in LOADS:
        if w not in DESC:
            sys.exit(f'bench-guest: unknown workload {w}')
    wait_binary(QEMU)           # QEMU may be relinked under us
    wait_binary(QEMU_IMG)
    r = subprocess.run([os.path.join(TOP, 'guest', 'build.sh')])
    if r.returncode != 0:
        sys.exit('bench-guest: guest/build.sh failed')
    accel = pick_accel()
    qemu_version = run(QEMU, '--version').stdout.splitlines()[0]
    t_start = time.time()
    load_start = os.getloadavg()
    log(f'accel {accel}, {REPS} repetition(s), targets {",".join(TARGETS)}, '
        f'workloads {",".join(LOADS)}{", QUICK" if QUICK else ""}')

    main_loads = [w for w in LOADS if w != 'btrfs']
    samples = {w: {t: [] for t in TARGETS} for w in LOADS}
    counts = {}
    boots, failures, guest_kernel, guest_cpu, queues = [], [], None, None, {}
    for rep in range(REPS):
        order = TARGETS[rep % len(TARGETS):] + TARGETS[:rep % len(TARGETS)]
        plan = []
        for t in order:
            ls = [w for w in main_loads
                  if (t in ZONED or w not in ('zonefs',)) and
                  (w != 'mq128k' or t in ('zoned', *IOTHREADS)) and
                  (t not in IOTHREADS or w in ('qd32', 'mq128k'))]
            if ls:
                plan.append((t, ls))
        if 'btrfs' in LOADS:
            plan += [(t, ['btrfs']) for t in order
                     if t in ZONED and t not in IOTHREADS]
        for t, ls in plan:
            rundir = os.path.join(WORK, 'runs', f'{rep + 1}-{t}-{ls[-1]}')
            lines, blocks, secs, err, mtime = boot(accel, t, ls, rundir)
            rec = {'rep': rep + 1, 'target': t, 'loads': ls,
                   'secs': round(secs, 1), 'error': err, 'not_ok': [],
                   'qemu_mtime': mtime}
            for ln in lines:
                m = re.match(r'^# running kernel: (.*)', ln)
                if m:
                    guest_kernel = m[1]
                m = re.match(r'^# cpu: (.*)', ln)
                if m:
                    guest_cpu = m[1].strip()
                m = re.match(r'^# queue/(\S+): (.*)', ln)
                if m:
                    queues.setdefault(t, {})[m[1]] = m[2]
                if ln.startswith('not ok') or ln.startswith('Bail out!'):
                    rec['not_ok'].append(ln)
            nreq = {}
            for ln in lines:
                m = re.match(r'^ok \d+ - \S+ (\S+) \((\d+) write requests', ln)
                if m:
                    nreq[m[1]] = int(m[2])
            for w in ls:
                b = blocks.get(f'fio-{w}')
                if b:
                    try:
                        m = fio_metrics('\n'.join(b))
                        m['requests'] = nreq.get(w)
                        m['rep'] = rep + 1
                        samples[w][t].append(m)
                    except (ValueError, KeyError) as e:
                        rec['not_ok'].append(f'{w}: bad fio JSON ({e})')
                c = blocks.get(f'count-{w}')
                if c:
                    kv = dict(x.split('=') for x in c[0].split()[1:])
                    counts.setdefault(w, {}).setdefault(t, []).append(kv)
            if rec['not_ok'] or err:
                failures.append(rec)
                diags = [ln for ln in lines if ln.startswith('#   ') or
                         ln.startswith('# dmesg') or
                         ln.startswith('# fio ')]
                rec['diagnostics'] = diags[:60]
                log(f'{t} rep {rep + 1}: FAILED: {err or ""} '
                    f'{"; ".join(rec["not_ok"])} (logs in {rundir})')
            got = ', '.join(
                f'{w} {samples[w][t][-1]["mibs"]:.1f} MiB/s'
                for w in ls if samples[w][t] and
                len(samples[w][t]) == rep + 1)
            log(f'rep {rep + 1}/{REPS} {t} [{",".join(ls)}]: {got} '
                f'({secs:.0f} s)')
            boots.append(rec)
    duration = time.time() - t_start
    load_end = os.getloadavg()

    # summary
    summary = {}
    for w in LOADS:
        for t in TARGETS:
            xs = [s['mibs'] for s in samples[w][t]]
            if not xs:
                continue
            iops = [s['iops'] for s in samples[w][t]]
            summary.setdefault(w, {})[t] = {
                'median': med(xs), 'min': min(xs), 'max': max(xs), 'n': len(xs),
                'iops_median': med(iops),
                'clat_mean_us_median': med([s['clat_mean_us']
                                            for s in samples[w][t]]),
                'clat_p99_us_median': med([s['clat_p99_us']
                                           for s in samples[w][t]]),
                'request_kib_median': med([
                    s['bytes'] / s['requests'] / 1024
                    for s in samples[w][t] if s.get('requests')])}
    ratios = {}
    for w in summary:
        ratios[w] = {f'{a}/{b}': compare(samples[w], a, b)
                     for a, b in COMPARE}

    command = ' '.join(
        [f'{k}={os.environ[k]}' for k in
         ('QUICK', 'BENCH_REPS', 'BENCH_TARGETS', 'BENCH_LOADS', 'BENCH_AIO',
          'ACCEL', 'BENCH_NVME_IOEVENTFD', 'BENCH_NVME_MDTS',
          'BENCH_NVME_PREALLOC') if k in os.environ] +
        [os.path.relpath(sys.argv[0], TOP)] + sys.argv[1:])
    meta = {
        'date': datetime.datetime.now().astimezone().isoformat(timespec='seconds'),
        'command': command, 'quick': QUICK, 'reps': REPS,
        'host_cpus': os.cpu_count(), 'host_kernel': platform.release(),
        'loadavg_start': load_start, 'loadavg_end': load_end,
        'accel': accel, 'guest_smp': SMP, 'guest_mem': MEM,
        'guest_kernel': guest_kernel, 'guest_cpu': guest_cpu,
        'qemu': qemu_version, 'aio': AIO, 'cache': 'cache.direct=on',
        'nvme_ioeventfd': NVME_IOEVENTFD, 'nvme_mdts': NVME_MDTS,
        'nvme_prealloc': NVME_PREALLOC,
        'geometry': {'size': SIZE, 'zone_size': ZONE, 'zone_capacity': CAP,
                     'max_open': MAX_OPEN, 'max_active': MAX_ACTIVE,
                     'max_append_bytes': APPEND, 'nvme_zasl': ZASL},
        'sizes_mib': SIZES, 'duration_s': round(duration),
        'work_dir': WORK,
        'device_args': {t: shlex.join(disk_args(t, f'{WORK}/{t}.img'))
                        for t in TARGETS},
    }
    results = {'meta': meta, 'summary': summary, 'ratios': ratios,
               'append_counts': counts, 'queues': queues,
               'samples': samples, 'boots': boots, 'failures': failures}
    with open(os.path.join(OUT, 'results-guest.json'), 'w') as f:
        json.dump(results, f, indent=1)

    png = os.path.join(OUT, 'results-guest.png')
    # gnuplot refuses a column without any point
    have_png = plot(summary, [w for w in LOADS if w in summary],
                    [t for t in TARGETS
                     if any(t in summary[w] for w in summary)], png, accel)

    cols = [t for t in TARGETS]
    pairs = [(a, b) for a, b in COMPARE if a in TARGETS and b in TARGETS]
    L = ['# Guest benchmark results (fio in a Linux guest)', '',
         f'Command: `{command}` (`make bench`, second part), '
         f'{meta["date"]}, {REPS} repetition(s) interleaved (target order '
         f'rotated per repetition), total {duration / 60:.1f} min.'
         + (' QUICK mode: small sizes, one repetition by default; an '
            'indication only.' if QUICK else ''), '',
         f'- Host: {os.cpu_count()} CPUs, Linux {platform.release()}, load '
         f'average {load_start[0]:.1f} at the start and {load_end[0]:.1f} at '
         f'the end (the machine is shared: numbers are noisy).',
         f'- Accelerator: **{accel.upper()}**'
         + (' (KVM does not run guests on this machine: every guest '
            'instruction is emulated, so absolute numbers are far below '
            'hardware speed and CPU-bound)' if accel == 'tcg' else '') + '.',
         f'- Guest: Linux {guest_kernel}, {SMP} vCPUs, {MEM}, fio 3.33 '
         f'(libaio, direct=1); {qemu_version}.',
         f'- Images: fresh files in `{os.path.relpath(WORK, TOP)}` for '
         f'every boot (sparse, except the NVMe ZNS raw file: '
         f'preallocation={NVME_PREALLOC}), 4 GiB, zones 64 MiB, '
         f'capacity 64 MiB, max open '
         f'{MAX_OPEN}, max active {MAX_ACTIVE}, zone append limit 64 KiB '
         f'(NVMe zasl={ZASL}); all opened with cache.direct=on, aio={AIO}.',
         f'- Zoned qcow2: `qemu-img create -f qcow2 IMG {SIZE} -o '
         f'zone.mode=host-managed,zone.size={ZONE},zone.capacity={CAP},'
         f'zone.max_open_zones={MAX_OPEN},zone.max_active_zones={MAX_ACTIVE},'
         f'zone.max_append_bytes={APPEND}`; plain qcow2 with defaults; raw '
         f'`qemu-img create -f raw`, NVMe backing file `qemu-img create -f '
         f'raw -o preallocation={NVME_PREALLOC}` then `sync`. NVMe '
         f'controller '
         f'with ioeventfd={NVME_IOEVENTFD} (virtio-blk uses ioeventfd by '
         f'default; QEMU\'s nvme default is off) and mdts={NVME_MDTS} '
         f'(requests up to {4 << int(NVME_MDTS)} KiB; virtio-blk: 1280 KiB).',
         '- Zoned targets run fio with `--zonemode=zbd`; Linux 6.12 zone '
         'write plugging keeps one regular write per zone in flight, so '
         'QD8/QD32 on one zone is QD1 at the device for both zoned targets '
         '(not for raw/plain qcow2).', '']
    L += ['Device arguments (besides the guest kernel, serial ports, '
          f'`-machine q35 -accel {accel} -smp {SMP} -m {MEM} -nodefaults`):',
          '']
    for t in TARGETS:
        L.append(f'- {t}: `{meta["device_args"][t]}`')
    hwq = [f'{t} {queues[t]["nr_hw_queues"]}' for t in TARGETS
           if t in IOTHREADS and 'nr_hw_queues' in queues.get(t, {})]
    if hwq:
        L += ['', 'blk-mq hardware queues of the disk in the guest (Linux '
              f'uses at most one virtqueue per vCPU; the guest has {SMP} '
              f'vCPUs; virtqueue i runs in iothread i modulo their number): '
              + ', '.join(hwq) + '.']
    L += ['', '## Write throughput (MiB/s: median, min-max)', '',
          '| workload | ' + ' | '.join(LABEL[t] for t in cols) +
          ' | ' + ' | '.join(f'{a} / {b}' for a, b in pairs) + ' |',
          '|---|' + '---|' * (len(cols) + len(pairs))]
    for w in LOADS:
        if w not in summary:
            continue
        st = summary[w]
        cells = []
        for t in cols:
            s = st.get(t)
            cells.append('-' if not s else
                         f'{s["median"]:.1f} ({s["min"]:.1f}-{s["max"]:.1f})')
        rt = ratios[w]
        L.append(f'| {w}: {DESC[w]} | ' + ' | '.join(cells) + ' | ' +
                 ' | '.join(ratio_cell(rt[f'{a}/{b}']) for a, b in pairs)
                 + ' |')
    L += ['', 'Ratios: of the medians, with the min-max of the ratios '
          'within one repetition; "no measurable difference" where the '
          'min-max ranges of the two targets overlap.']
    L += ['', '## IOPS and completion latency (medians)', '',
          '| workload | ' + ' | '.join(f'{t} IOPS' for t in cols) + ' | ' +
          ' | '.join(f'{t} clat mean/p99 (µs)' for t in cols) + ' |',
          '|---|' + '---|' * (2 * len(cols))]
    for w in LOADS:
        if w not in summary:
            continue
        st = summary[w]
        L.append(f'| {w} | ' + ' | '.join(
            fmt(st[t]['iops_median']) if t in st else '-' for t in cols) +
            ' | ' + ' | '.join(
            f'{st[t]["clat_mean_us_median"]:.0f}/{st[t]["clat_p99_us_median"]:.0f}'
            if t in st else '-' for t in cols) + ' |')
    L += ['', '## Average write request at the disk (KiB, median)', '',
          'fio submits 128 KiB or 4 KiB writes; the disk sees fewer, larger '
          'requests when Linux merges them (zone write plugging holds the '
          'writes of a zone and merges them while one is in flight), as '
          'counted from /sys/block/DEV/stat:', '',
          '| workload | ' + ' | '.join(cols) + ' |',
          '|---|' + '---|' * len(cols)]
    for w in LOADS:
        if w not in summary:
            continue
        st = summary[w]
        L.append(f'| {w} | ' + ' | '.join(
            fmt(st[t]['request_kib_median']) if t in st else '-'
            for t in cols) + ' |')
    if counts:
        L += ['', '## Write path of the file-system workloads', '',
              'Zone-append requests (block_rq_issue, rwbs N with data) among '
              'the write requests of the disk, per boot:', '']
        for w, byt in counts.items():
            for t, lst in byt.items():
                L.append(f'- {w} on {t}: ' + ', '.join(
                    f'{c["appends"]} appends / {c["writes"]} writes'
                    for c in lst))
        L += ['', 'Linux 6.12 zonefs sends O_DIRECT writes to sequential files '
              'as regular writes at the write pointer (no zone append), so '
              'the zonefs workload exercises the file-system path with zone '
              'write plugging; zoned btrfs sends its data as zone appends '
              '(of at most the 64 KiB limit). The btrfs workload is bound by '
              'the guest under TCG: the same fio job on btrfs on a '
              'memory-backed zoned null_blk in the same guest reached '
              '10 MiB/s when both disks gave 11-15 MiB/s (2026-11-26), so it '
              'checks the append path more than it measures the disk.']
    targets_line = []
    for w in ('seq128k', 'qd32'):
        for key, goal in GOALS:
            c = ratios.get(w, {}).get(key)
            if c is not None:
                targets_line.append(f'- {w} {key} >= {goal:.2f}: '
                                    f'{verdict(c, goal)}')
    for w in ('qd32', 'mq128k'):
        c = ratios.get(w, {}).get('zonedio2/zonedio1')
        if c is not None:
            targets_line.append(f'- {w} 2 iothreads / 1 iothread (4 jobs, '
                                f'4 zones): {ratio_cell(c)}')
    if targets_line:
        L += ['', '## Issue-17 targets (from this run)', ''] + targets_line
        if QUICK:
            L += ['', '(QUICK mode: one short repetition; not a '
                  'measurement.)']
    binaries = sorted({b['qemu_mtime'] for b in boots})
    L += ['', '## Boots', '',
          f'{len(boots)} boots, {len(failures)} with failures.']
    if len(binaries) > 1:
        L.append(f'**The QEMU binary changed during the run** (relinked by a '
                 f'concurrent build: {len(binaries)} versions, see '
                 f'boots[].qemu_mtime in the JSON): the samples do not all '
                 f'come from the same build.')
    for rec in failures:
        L.append(f'- rep {rec["rep"]} {rec["target"]} '
                 f'[{",".join(rec["loads"])}]: {rec["error"] or ""} '
                 + '; '.join(rec['not_ok']))
        for d in rec.get('diagnostics', [])[:20]:
            L.append(f'    {d}')
    if have_png:
        L += ['', '![throughput](results-guest.png)']
    text = '\n'.join(L) + '\n'
    with open(os.path.join(OUT, 'results-guest.md'), 'w') as f:
        f.write(text)
    print(text)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
