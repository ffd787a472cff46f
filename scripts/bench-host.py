#!/usr/bin/python3
"""Host-side benchmarks of zoned qcow2 ('make bench', first part; issue 17).

Everything is measured in one run, on the same file system, with the same
binaries, and every ratio comes from that run:

 1. First writes: qemu-img bench -w -t none -i native (sequential writes,
    O_DIRECT, Linux AIO) at 128 KiB QD8, 4 KiB QD32 and 128 KiB QD1, on a
    fresh image per run (`sync` after each create) of each kind:
      raw-full      raw, preallocation=full: every block written once, no
                    allocation in the write path: the disk's limit
      raw-falloc    raw, preallocation=falloc (allocated, unwritten extents)
      qcow2-falloc  plain qcow2, preallocation=falloc
      raw           raw, sparse
      qcow2         plain qcow2, no preallocation
      zoned         zoned qcow2 (host-managed, 256 MiB zones), no
                    preallocation
      raw-rezeroed  raw, preallocation=falloc, written whole once, then
                    zeroed with fallocate -z (FALLOC_FL_ZERO_RANGE): the
                    same unwritten extents as raw-falloc, over blocks that
                    were written before
      zoned-reset   zoned qcow2 written whole once, then every zone reset
                    with discard=ignore (the clusters are given back to
                    the image, the host keeps its blocks): a zoned disk
                    that is used again, as zoned applications do
      zoned-before  (only with QEMU_IMG_BEFORE=PATH, a qemu-img of an
                    earlier version of the series) the zoned image written
                    by that binary
    The order of the kinds rotates in every repetition (interleaved).  The
    number of requests is calibrated on raw-full (the faster of two probe
    runs) so that its runs last about 1.5 times the minimum
    (BENCH_MIN_SECS, default 2 s); a run shorter than the minimum is
    reported (warning on stderr and in the
    results).  Median and min-max of every kind; ratios of medians, with
    the min-max of the ratios of the same repetition; where the min-max
    ranges of two compared kinds overlap, "no measurable difference".
 2. Large images (64 KiB zones, 64 KiB clusters, cache=none):
      a. first writes of 1,000 random zones, 64 KiB (the whole zone) each,
         fresh images, then a flush, timed separately, on a 1,048,576-zone
         image (64 GiB) and on a 4,096-zone image (256 MiB), and the same
         writes on plain qcow2 images of the same sizes (what qcow2 itself
         costs on the large image: L2 tables);
      b. scripts/bench-wpcache.py's measurement: 4 KiB at the start of
         1,000 random zones after their clusters were allocated and the
         zones reset: only the write-pointer table differs;
      c. opening the 1,048,576-zone image and a plain 64 GiB qcow2 with the
         page cache dropped before each open (sync; echo 3 >
         /proc/sys/vm/drop_caches): wall time and maximum RSS.
 3. Zone operations: a report of 4,096 zones and the finish of a
    half-written zone, timed between the engine's trace events (timestamps
    from strace -ttt --seccomp-bpf); the reset of a full 256 MiB zone
    (tests/bench-reset.py: the reset itself, the fdatasync it does, then
    the flush after it, timed on its own), with discard=unmap (qemu-io's
    default) and discard=ignore (QEMU's), timed with uprobes (perf probe)
    where perf can set them, since strace's cost per system call would be
    in the reset, else with strace too.  The reset target is on the reset
    without the fdatasync it needs, which is reported apart.

Environment: QUICK=1 (2 repetitions, 0.2 s minimum run length, a format
check, not a measurement), BENCH_REPS (default 5), BENCH_MIN_SECS,
BENCH_LOADS, BENCH_KINDS (comma lists), BENCH_DIR (default .cache/bench:
the file system measured), QEMU_IMG_BEFORE, BENCH_OUT (default bench/).

Writes bench/results-host.md (and prints it) and bench/results-host.json.
"""

import datetime
import importlib.util
import json
import math
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import time

import benchstats
from benchstats import ratio_cell, verdict

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get('BUILD_DIR', os.path.join(TOP, 'qemu', 'build'))
QEMU_IMG = os.path.join(BUILD, 'qemu-img')
QEMU_IO = os.path.join(BUILD, 'qemu-io')
QEMU_IMG_BEFORE = os.environ.get('QEMU_IMG_BEFORE')
WORK = os.path.abspath(os.environ.get('BENCH_DIR',
                                      os.path.join(TOP, '.cache', 'bench')))
OUT = os.environ.get('BENCH_OUT', os.path.join(TOP, 'bench'))
QUICK = os.environ.get('QUICK', '0') == '1'
REPS = int(os.environ.get('BENCH_REPS', '2' if QUICK else '5'))
MIN_SECS = float(os.environ.get('BENCH_MIN_SECS', '0.2' if QUICK else '2'))

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
ZONE = 256 * MiB            # zone size of the zoned image of part 1

LOADS = {'128k-qd8': (128 * KiB, 8), '4k-qd32': (4 * KiB, 32),
         '128k-qd1': (128 * KiB, 1)}
KINDS = ['raw-full', 'raw-falloc', 'qcow2-falloc', 'raw', 'qcow2', 'zoned',
         'raw-rezeroed', 'zoned-reset']
if QEMU_IMG_BEFORE:
    KINDS.append('zoned-before')
LABEL = {'raw-full': 'raw preallocation=full',
         'raw-falloc': 'raw preallocation=falloc',
         'qcow2-falloc': 'plain qcow2 preallocation=falloc',
         'raw': 'raw sparse', 'qcow2': 'plain qcow2', 'zoned': 'zoned qcow2',
         'raw-rezeroed': 'raw falloc, written, fallocate -z',
         'zoned-reset': 'zoned qcow2, written, reset',
         'zoned-before': 'zoned qcow2 before'}
# (numerator, denominator, target or None)
COMPARE = [('zoned', 'raw-full', 0.90), ('zoned', 'raw-falloc', None),
           ('zoned', 'qcow2-falloc', None), ('zoned', 'raw', None),
           ('zoned', 'qcow2', None), ('raw', 'raw-full', None),
           ('qcow2', 'raw-full', None), ('raw-falloc', 'raw-full', None),
           ('raw-rezeroed', 'raw-full', None),
           ('zoned-reset', 'raw-full', None), ('zoned', 'zoned-before', None)]


def env_list(name, default):
    v = os.environ.get(name)
    return [x for x in v.split(',') if x] if v else list(default)


def log(msg):
    print(f'bench-host: {msg}', file=sys.stderr, flush=True)


def run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True,
                          **kw)


def load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def med(xs):
    return statistics.median(xs)


def rng_str(xs, digits=0):
    return (f'{med(xs):.{digits}f} ({min(xs):.{digits}f}-'
            f'{max(xs):.{digits}f})')


# ---------------------------------------------------------------------------
# 1. First writes

def create(kind, path, size):
    if os.path.exists(path):
        os.unlink(path)
    img = QEMU_IMG_BEFORE if kind == 'zoned-before' else QEMU_IMG
    fmt = 'raw' if kind.startswith('raw') else 'qcow2'
    opts = {'raw-full': 'preallocation=full',
            'raw-falloc': 'preallocation=falloc',
            'raw-rezeroed': 'preallocation=falloc',
            'zoned-reset': f'zone.mode=host-managed,zone.size={ZONE}',
            'qcow2-falloc': 'preallocation=falloc',
            'zoned': f'zone.mode=host-managed,zone.size={ZONE}',
            'zoned-before': f'zone.mode=host-managed,zone.size={ZONE}'}
    args = [img, 'create', '-q', '-f', fmt]
    if kind in opts:
        args += ['-o', opts[kind]]
    run(*args, path, str(size))
    if kind in ('raw-rezeroed', 'zoned-reset'):
        # written whole once, in offset order (what a zoned image needs)
        run(img, 'bench', '-w', '-f', fmt, '-t', 'none', '-i', 'native',
            '-c', str(size // MiB), '-d', '8', '-s', str(MiB), path)
    if kind == 'raw-rezeroed':
        run('fallocate', '-z', '-o', '0', '-l', str(size), path)
    elif kind == 'zoned-reset':
        run(QEMU_IO, '-f', 'qcow2', '-t', 'none', '-d', 'ignore', '-c',
            f'zone_reset 0 {size}', path)
    os.sync()


def img_bench(kind, path, bs, depth, count):
    """Seconds of one qemu-img bench -w run."""
    fmt = 'raw' if kind.startswith('raw') else 'qcow2'
    img = QEMU_IMG_BEFORE if kind == 'zoned-before' else QEMU_IMG
    out = run(img, 'bench', '-w', '-f', fmt, '-t', 'none', '-i', 'native',
              '-c', str(count), '-d', str(depth), '-s', str(bs), path).stdout
    return float(re.search(r'Run completed in ([0-9.]+) seconds', out)[1])


def image_size(count, bs):
    # qemu-img bench wraps to offset 0 at the end of the image: stay below
    return (count * bs // ZONE + 1) * ZONE


def calibrate(loads):
    """Requests per run so that raw-full runs about 1.5 * MIN_SECS (from
    the faster of two probe runs)."""
    counts = {}
    path = os.path.join(WORK, 'calibrate.img')
    for w in loads:
        bs, depth = LOADS[w]
        count = (256 if QUICK else 1024) * MiB // bs
        for _ in range(4):
            # the faster of two probes: a slow one (a busy machine) would
            # give too few requests
            secs = []
            for _ in range(2):
                create('raw-full', path, image_size(count, bs))
                secs.append(img_bench('raw-full', path, bs, depth, count))
            secs = min(secs)
            if secs >= 0.25 * MIN_SECS:
                break
            count *= 4              # too short to extrapolate from
        want = math.ceil(count * 1.5 * MIN_SECS / secs)
        # whole MiB of requests
        per_mib = max(1, MiB // bs)
        counts[w] = max(per_mib, -(-want // per_mib) * per_mib)
        log(f'calibration {w}: {count} requests in {secs:.3f} s on raw-full '
            f'-> {counts[w]} requests ({counts[w] * bs / GiB:.2f} GiB)')
    os.unlink(path)
    return counts


def first_writes(loads, kinds):
    counts = calibrate(loads)
    secs = {(w, k): [] for w in loads for k in kinds}
    short = []
    for rep in range(REPS):
        order = kinds[rep % len(kinds):] + kinds[:rep % len(kinds)]
        for w in loads:
            bs, depth = LOADS[w]
            for k in order:
                path = os.path.join(WORK, f'{k}.img')
                create(k, path, image_size(counts[w], bs))
                s = img_bench(k, path, bs, depth, counts[w])
                os.unlink(path)
                secs[w, k].append(s)
                if s < MIN_SECS:
                    short.append(f'{w} {k} rep {rep + 1}: {s:.3f} s')
                    log(f'WARNING: {w} {k} rep {rep + 1} ran {s:.3f} s, '
                        f'less than the {MIN_SECS} s minimum')
        log(f'first writes: repetition {rep + 1}/{REPS} done (order '
            f'{",".join(order)})')
    mibs = {key: [counts[key[0]] * LOADS[key[0]][0] / s / MiB for s in xs]
            for key, xs in secs.items()}
    return counts, secs, mibs, short


def compare(mibs, w, a, b):
    """Ratio a/b of one workload: medians, per-repetition ratios, overlap."""
    xa, xb = mibs[w, a], mibs[w, b]
    per_rep = [x / y for x, y in zip(xa, xb)]
    return benchstats.comparison(xa, xb, per_rep)


# ---------------------------------------------------------------------------
# 2. Large images

LZONE = 64 * KiB
BIG, SMALL = 1048576, 4096
NR_ZONE_WRITES = 1000
MARK = 'ztmark'


def create_large(path, nr_zones, zoned):
    if os.path.exists(path):
        os.unlink(path)
    args = [QEMU_IMG, 'create', '-q', '-f', 'qcow2', path,
            str(nr_zones * LZONE)]
    if zoned:
        args += ['-o', 'zone.mode=host-managed,zone.size=64k,'
                 'zone.max_append_bytes=32k']
    run(*args)
    os.sync()


def marked_qemu_io(path, commands, nr_marks):
    """Run qemu-io (cache=none, aio=native) with @commands, in which
    MARKn (not qemu-io commands) print an error on stderr; returns the
    strace -ttt timestamps of those messages, in order."""
    slog = os.path.join(WORK, 'strace-large.log')
    args = ['strace', '-f', '-ttt', '--seccomp-bpf', '-e', 'trace=write',
            '-o', slog, QEMU_IO, '-f', 'qcow2', '-t', 'none', '-i', 'native']
    for c in commands:
        args += ['-c', c]
    p = subprocess.run(args + [path], capture_output=True, text=True)
    RESET.check_marked(p, nr_marks)
    marks = []
    with open(slog) as f:
        for line in f:
            m = re.search(r'^\d+\s+([0-9.]+) write\(2, "command \\"%s'
                          % MARK, line)
            if m:
                marks.append(float(m[1]))
    if len(marks) != nr_marks:
        raise RuntimeError(f'{len(marks)} markers, expected {nr_marks}')
    return marks


def zone_writes(path, zones):
    """(seconds of the writes, seconds of the flush after them)."""
    cmds = [MARK + '0'] + [f'write -q -P 0x5a {z * LZONE} 64k'
                           for z in zones]
    cmds += [MARK + '1', 'flush', MARK + '2']
    m = marked_qemu_io(path, cmds, 3)
    return m[1] - m[0], m[2] - m[1]


def drop_caches():
    os.sync()
    with open('/proc/sys/vm/drop_caches', 'w') as f:
        f.write('3\n')


def wall_and_rss(path):
    """Wall time and maximum RSS (KiB) of opening @path in qemu-io, with a
    cold page cache."""
    drop_caches()
    args = ['/usr/bin/time', '-f', '%M', QEMU_IO, '-c', 'quit', path]
    t0 = time.perf_counter()
    r = subprocess.run(args, check=True, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    return secs, int(r.stderr.strip().splitlines()[-1])


def large_images():
    res = {'writes_s': {}, 'flush_s': {}, 'wpcache_s': {}, 'open': {}}
    kinds = [('zoned', BIG), ('zoned', SMALL), ('plain', BIG),
             ('plain', SMALL)]
    for k, n in kinds:
        res['writes_s'][f'{k}-{n}'] = []
        res['flush_s'][f'{k}-{n}'] = []
    path = os.path.join(WORK, 'large.qcow2')
    for rep in range(REPS):
        rnd = random.Random(17 + rep)
        picks = {BIG: rnd.sample(range(BIG), NR_ZONE_WRITES),
                 SMALL: rnd.sample(range(SMALL), NR_ZONE_WRITES)}
        for k, n in kinds[rep % 4:] + kinds[:rep % 4]:
            create_large(path, n, k == 'zoned')
            w, f = zone_writes(path, picks[n])
            res['writes_s'][f'{k}-{n}'].append(w)
            res['flush_s'][f'{k}-{n}'].append(f)
        log(f'large images: first writes, repetition {rep + 1}/{REPS} done')

    # b. the write-pointer table alone (scripts/bench-wpcache.py)
    wpc = load_module('bench_wpcache',
                      os.path.join(TOP, 'scripts', 'bench-wpcache.py'))
    rnd = random.Random(19)
    zones = rnd.sample(range(SMALL), NR_ZONE_WRITES)
    big_zones = [z * 256 + rnd.randrange(256) for z in zones]
    for label in ('4096', '1048576'):
        res['wpcache_s'][label] = []
    for rep in range(REPS):
        order = [(SMALL, zones), (BIG, big_zones)]
        for n, zs in order if rep % 2 == 0 else order[::-1]:
            wpc.create(path, n)
            os.sync()
            res['wpcache_s'][str(n)].append(
                wpc.run_writes(QEMU_IO, path, n, zs, 'none'))
    log('large images: write-pointer table figures done')

    # c. open with a cold page cache
    zpath = os.path.join(WORK, 'million.qcow2')
    ppath = os.path.join(WORK, 'plain64g.qcow2')
    create_large(zpath, BIG, True)
    create_large(ppath, BIG, False)
    zo, po = [], []
    for rep in range(REPS):
        for lst, p in ([(zo, zpath), (po, ppath)] if rep % 2 == 0 else
                       [(po, ppath), (zo, zpath)]):
            lst.append(wall_and_rss(p))
    res['open'] = {'zoned': zo, 'plain': po}
    for p in (path, zpath, ppath):
        os.unlink(p)
    return res


# ---------------------------------------------------------------------------
# 3. Zone operations

def traced_op(path, commands, start_event, end_event):
    """Microseconds between two trace events of one qemu-io run."""
    slog = os.path.join(WORK, 'strace.log')
    args = ['strace', '-f', '-ttt', '--seccomp-bpf', '-e', 'trace=write',
            '-o', slog, QEMU_IO, '--trace', start_event, '--trace',
            end_event]
    for c in commands:
        args += ['-c', c]
    subprocess.run(args + [path], check=True, capture_output=True)
    t = {}
    with open(slog) as f:
        for line in f:
            m = re.search(r'^\d+\s+([0-9.]+) write\(2, "(\w+) ', line)
            if m and m[2] in (start_event, end_event):
                t.setdefault(m[2], float(m[1]))
    return (t[end_event] - t[start_event]) * 1e6


def zone_ops():
    z = os.path.join(WORK, 'ops.qcow2')
    run(QEMU_IMG, 'create', '-q', '-f', 'qcow2', z, str(4 * GiB), '-o',
        'zone.mode=host-managed,zone.size=1M')
    rep_us = [traced_op(z, ['zrp 0 4096'], 'qcow2_zoned_report',
                        'qcow2_zoned_report_done') for _ in range(REPS)]
    # resets: tests/bench-reset.py's measurement, from uprobes when perf
    # can set them (no strace: its cost per system call is in the reset)
    probed = RESET.add_probes()
    measure = RESET.probed_reset if probed else RESET.traced_reset
    resets = {'unmap': [], 'ignore': [], 'probed': probed}
    try:
        for i in range(REPS):
            for mode in (('unmap', 'ignore') if i % 2 == 0 else
                         ('ignore', 'unmap')):
                RESET.make_full_zone(z)
                os.sync()
                resets[mode].append(measure(WORK, z, mode == 'unmap'))
    finally:
        if probed:
            RESET.del_probes()
    finish_us = []
    run(QEMU_IMG, 'create', '-q', '-f', 'qcow2', z, str(1 * GiB), '-o',
        'zone.mode=host-managed,zone.size=256M')
    for _ in range(REPS):
        run(QEMU_IO, '-c', 'write 256M 128M', z)
        finish_us.append(traced_op(z, ['zf 256M 256M'], 'qcow2_zoned_mgmt',
                                   'qcow2_zoned_mgmt_done'))
        run(QEMU_IO, '-c', 'zrs 0 1G', z)
    os.unlink(z)
    return rep_us, resets, finish_us


# ---------------------------------------------------------------------------

def mount_info(path):
    r = subprocess.run(['findmnt', '-n', '-T', path, '-o',
                        'TARGET,SOURCE,FSTYPE,OPTIONS'],
                       capture_output=True, text=True)
    if r.returncode == 0 and r.stdout.strip():
        t, s, fs, o = r.stdout.split(None, 3)
        return {'mount': t, 'source': s, 'fstype': fs, 'options': o.strip()}
    # /proc/mounts: the longest mount point that is a prefix of @path
    best = None
    with open('/proc/mounts') as f:
        for ln in f:
            s, t, fs, o = ln.split()[:4]
            if (path + '/').startswith(t.rstrip('/') + '/') and \
                    (best is None or len(t) > len(best['mount'])):
                best = {'mount': t, 'source': s, 'fstype': fs, 'options': o}
    return best


def qemu_rev():
    r = subprocess.run(['git', '-C', os.path.join(TOP, 'qemu'), 'describe',
                        '--always', '--dirty'], capture_output=True,
                       text=True)
    return r.stdout.strip() or '?'


def main():
    global RESET
    os.makedirs(WORK, exist_ok=True)
    os.makedirs(OUT, exist_ok=True)
    if not shutil.which('strace'):
        sys.exit('bench-host: strace is needed (scripts/deps.sh installs it)')
    if os.geteuid() != 0:
        sys.exit('bench-host: root is needed (drop_caches before the opens)')
    RESET = load_module('bench_reset',
                        os.path.join(TOP, 'tests', 'bench-reset.py'))
    loads = env_list('BENCH_LOADS', LOADS)
    kinds = env_list('BENCH_KINDS', KINDS)
    for w in loads:
        if w not in LOADS:
            sys.exit(f'bench-host: unknown workload {w}')
    for k in kinds:
        if k not in LABEL or (k == 'zoned-before' and not QEMU_IMG_BEFORE):
            sys.exit(f'bench-host: unknown kind {k}')
    t_start = time.time()
    load_start = os.getloadavg()
    meta = {'date': datetime.datetime.now(datetime.timezone.utc)
            .isoformat(timespec='seconds'),
            'quick': QUICK, 'reps': REPS, 'min_secs': MIN_SECS,
            'cpus': os.cpu_count(), 'kernel': platform.release(),
            'bench_dir': WORK, 'mount': mount_info(WORK),
            'qemu_img': run(QEMU_IMG, '--version').stdout.splitlines()[0],
            'qemu_rev': qemu_rev(), 'qemu_img_before': QEMU_IMG_BEFORE,
            'loadavg_start': load_start}
    log(f'{REPS} repetitions, minimum run {MIN_SECS} s, in {WORK} '
        f'({meta["mount"]["fstype"]})')

    parts = {}
    t = time.time()
    counts, secs, mibs, short = first_writes(loads, kinds)
    parts['first_writes'] = round(time.time() - t)
    t = time.time()
    large = large_images()
    parts['large_images'] = round(time.time() - t)
    t = time.time()
    rep_us, resets, finish_us = zone_ops()
    parts['zone_ops'] = round(time.time() - t)
    meta['parts_s'] = parts

    meta['loadavg_end'] = os.getloadavg()
    meta['duration_s'] = round(time.time() - t_start)
    comps = {}
    for w in loads:
        for a, b, target in COMPARE:
            if a in kinds and b in kinds:
                comps[f'{w} {a}/{b}'] = dict(compare(mibs, w, a, b),
                                             target=target)
    results = {'meta': meta, 'counts': counts,
               'first_writes_s': {f'{w}/{k}': v for (w, k), v in
                                  secs.items()},
               'first_writes_mibs': {f'{w}/{k}': v for (w, k), v in
                                     mibs.items()},
               'short_runs': short, 'ratios': comps, 'large': large,
               'ops_us': {'report-4096-zones': rep_us,
                          'reset-full-256M-zone': resets,
                          'finish-half-256M-zone': finish_us}}
    with open(os.path.join(OUT, 'results-host.json'), 'w') as f:
        json.dump(results, f, indent=1)

    # ---- report
    mnt = meta['mount']
    targets = []
    L = ['# Host-side benchmark results', '',
         f'`make bench` (scripts/bench-host.py), {meta["date"]}, '
         f'{REPS} interleaved repetitions (order rotated in every one), '
         f'total {meta["duration_s"] / 60:.1f} min (first writes '
         f'{parts["first_writes"]} s, large images {parts["large_images"]} '
         f's, zone operations {parts["zone_ops"]} s).'
         + (' **QUICK mode: runs far shorter than 2 s, 2 repetitions: a '
            'format check, not a measurement.**' if QUICK else ''), '',
         f'- Host: {meta["cpus"]} CPUs, Linux {meta["kernel"]}, load '
         f'average {load_start[0]:.1f} at the start, '
         f'{meta["loadavg_end"][0]:.1f} at the end.',
         f'- Bench directory `{WORK}`: {mnt["fstype"]} on {mnt["source"]} '
         f'(mounted on {mnt["mount"]}), options `{mnt["options"]}`.',
         f'- {meta["qemu_img"]}, qemu/ at {meta["qemu_rev"]}.', '',
         '## First writes: qemu-img bench -w -t none -i native', '',
         'MiB/s, median (min-max) of a new image per run (`sync` after each '
         'create). Requests per run, calibrated on raw-full for about '
         f'{1.5 * MIN_SECS:g} s: '
         + ', '.join(f'{w} {counts[w]} ({counts[w] * LOADS[w][0] / GiB:.2f}'
                     f' GiB)' for w in loads) + '.', '',
         '| workload | ' + ' | '.join(LABEL[k] for k in kinds) + ' |',
         '|---|' + '---|' * len(kinds)]
    for w in loads:
        L.append(f'| {w} | ' + ' | '.join(rng_str(mibs[w, k])
                                          for k in kinds) + ' |')
    if {'raw-rezeroed', 'zoned-reset'} & set(kinds):
        L += ['', 'Not fresh images: *raw falloc, written, fallocate -z* is '
              'a raw preallocation=falloc file written whole once, then '
              'zeroed with `fallocate -z` (the same unwritten extents as '
              'raw preallocation=falloc, over blocks written before); '
              '*zoned qcow2, written, reset* is a zoned image written whole '
              'once, then every zone reset with discard=ignore (`qemu-io -d '
              'ignore -c "zone_reset 0 SIZE"`: the clusters go back to the '
              'image, the file keeps its blocks), so that its writes reuse '
              'clusters, as a zoned disk in use does. Their preparation is '
              'not timed.']
    L += ['', 'Shortest run of each kind (s): ' + '; '.join(
        f'{w}: ' + ', '.join(f'{k} {min(secs[w, k]):.2f}' for k in kinds)
        for w in loads) + '.']
    if short:
        L += ['', f'**WARNING: {len(short)} runs shorter than the '
              f'{MIN_SECS:g} s minimum:** ' + '; '.join(short) + '.']
    pairs = [(a, b) for a, b, _ in COMPARE if a in kinds and b in kinds]
    L += ['', 'Ratios of the medians (min-max of the ratios within one '
          'repetition); "no measurable difference" where the min-max '
          'ranges of the two kinds overlap:', '',
          '| workload | ' + ' | '.join(f'{a} / {b}' for a, b in pairs) +
          ' |', '|---|' + '---|' * len(pairs)]
    for w in loads:
        L.append(f'| {w} | ' + ' | '.join(
            ratio_cell(comps[f'{w} {a}/{b}']) for a, b in pairs) + ' |')
        c = comps.get(f'{w} zoned/raw-full')
        if c:
            targets.append(f'first writes {w}: zoned / raw-full >= 0.90: '
                           f'{verdict(c, 0.90)}')

    # large images
    ws, fs = large['writes_s'], large['flush_s']

    def lrow(key, label):
        return (f'| {label} | {rng_str([x * 1000 for x in ws[key]])} | '
                f'{rng_str([x * 1000 for x in fs[key]])} |')
    L += ['', '## Large images (64 KiB zones and clusters, cache=none, '
          'aio=native)', '',
          f'### First writes of {NR_ZONE_WRITES} random zones', '',
          f'One 64 KiB write (the whole zone: empty -> full) at the start of '
          f'each of {NR_ZONE_WRITES} distinct random zones, in random order '
          f'(seeded, new zones every repetition), one qemu-io, fresh image; '
          f'then a flush. Milliseconds, median (min-max), between marker '
          f'commands (strace -ttt). The plain qcow2 rows are the same writes '
          f'at the same offsets on plain images of the same sizes.', '',
          '| image | writes (ms) | flush after them (ms) |', '|---|---|---|',
          lrow(f'zoned-{BIG}', f'zoned, {BIG:,} zones (64 GiB)'),
          lrow(f'zoned-{SMALL}', f'zoned, {SMALL:,} zones (256 MiB)'),
          lrow(f'plain-{BIG}', 'plain qcow2, 64 GiB'),
          lrow(f'plain-{SMALL}', 'plain qcow2, 256 MiB'), '']

    def lcomp(xa, xb):
        return benchstats.comparison(xa, xb,
                                     [x / y for x, y in zip(xa, xb)])
    wsum = {k: [w + f for w, f in zip(ws[k], fs[k])] for k in ws}
    lc = {'zoned writes': lcomp(ws[f'zoned-{SMALL}'], ws[f'zoned-{BIG}']),
          'zoned writes + flush': lcomp(wsum[f'zoned-{SMALL}'],
                                        wsum[f'zoned-{BIG}']),
          'plain writes': lcomp(ws[f'plain-{SMALL}'], ws[f'plain-{BIG}']),
          'plain writes + flush': lcomp(wsum[f'plain-{SMALL}'],
                                        wsum[f'plain-{BIG}']),
          # what the zones add on the large image, over qcow2's own cost
          'zoned vs plain, 64 GiB, writes + flush':
              lcomp(wsum[f'plain-{BIG}'], wsum[f'zoned-{BIG}'])}
    results['large_ratios'] = lc
    L += [f'Speed of the {BIG:,}-zone image relative to the {SMALL:,}-zone '
          f'one (time small / time large; target for the zoned writes: '
          f'>= 0.9); last row: the zoned 64 GiB image relative to the '
          f'plain one (time plain / time zoned):', '',
          '| | ratio |', '|---|---|'] + \
        [f'| {k} | {ratio_cell(c)} |' for k, c in lc.items()]
    targets.append(f'{NR_ZONE_WRITES} random zones, {BIG:,} vs {SMALL:,} '
                   f'zones, first writes + flush >= 0.9: '
                   f'{verdict(lc["zoned writes + flush"], 0.9)}')
    wp = large['wpcache_s']
    wpc = lcomp(wp['4096'], wp['1048576'])
    results['large_ratios']['wpcache'] = wpc
    L += ['', '### The write-pointer table alone (scripts/bench-wpcache.py)',
          '', f'4 KiB at the start of {NR_ZONE_WRITES} random zones after a '
          'pass that allocated their clusters, a reset of all zones and a '
          'flush (only the write-pointer table differs); sum of qemu-io\'s '
          'per-write times:', '',
          f'| {SMALL:,} zones (ms) | {BIG:,} zones (ms) | ratio |',
          '|---|---|---|',
          f'| {rng_str([x * 1000 for x in wp["4096"]])} | '
          f'{rng_str([x * 1000 for x in wp["1048576"]])} | '
          f'{ratio_cell(wpc)} |']
    targets.append(f'{NR_ZONE_WRITES} random zones, write-pointer table '
                   f'alone >= 0.9: {verdict(wpc, 0.9)}')
    zo, po = large['open']['zoned'], large['open']['plain']
    zt, pt = [x[0] * 1000 for x in zo], [x[0] * 1000 for x in po]
    zr, pr = [x[1] for x in zo], [x[1] for x in po]
    open_ms = med(zt) - med(pt)
    per_zone = (med(zr) - med(pr)) * 1024 / BIG
    L += ['', f'### Opening {BIG:,} zones (64 GiB), page cache dropped '
          'before every open', '',
          '`qemu-io -c quit` (cache=writeback, its default), after `sync; '
          'echo 3 > /proc/sys/vm/drop_caches`; wall time and maximum RSS '
          '(`/usr/bin/time -f %M`), median (min-max):', '',
          '| image | open (ms) | max RSS (KiB) |', '|---|---|---|',
          f'| zoned, {BIG:,} zones | {rng_str(zt)} | {rng_str(zr)} |',
          f'| plain qcow2, 64 GiB | {rng_str(pt)} | {rng_str(pr)} |', '',
          f'Zoned minus plain: {open_ms:.0f} ms; {per_zone:.1f} bytes of RAM '
          f'per zone, of which 8 are the write-pointer table itself: '
          f'{per_zone - 8:.1f} beyond it.']
    targets.append(f'open of {BIG:,} zones, zoned minus plain < 200 ms: '
                   f'{"holds" if open_ms < 200 else "MISSED"} '
                   f'({open_ms:.0f} ms)')
    targets.append(f'RAM per zone beyond the table < 16 B: '
                   f'{"holds" if per_zone - 8 < 16 else "MISSED"} '
                   f'({per_zone - 8:.1f} B)')

    # zone operations
    L += ['', '## Zone operations (µs, median (min-max))', '',
          'Report and finish: between the engine\'s trace events (qemu-io, '
          'strace -ttt --seccomp-bpf: each traced write or fdatasync costs '
          'a few µs more than without strace).  Reset: ' +
          ('from uprobes (perf probe -x qemu-io: entries of '
           'qcow2_zoned_co_mgmt, qcow2_cluster_discard and bdrv_co_flush, '
           'entry and return of qemu_fdatasync), no strace; the reset ends '
           'where the next command (flush) enters bdrv_co_flush.'
           if resets['probed'] else
           'as report and finish (perf could not set uprobes).'), '',
          '| operation | µs | target |', '|---|---|---|',
          f'| report of 4,096 zones (zrp, 1 MiB zones) | {rng_str(rep_us)} '
          f'| < 10000 |']
    targets.append(f'report of 4,096 zones < 10 ms: '
                   f'{"holds" if med(rep_us) < 10000 else "MISSED"} '
                   f'({med(rep_us):.0f} µs)')
    for mode in ('unmap', 'ignore'):
        cols = list(zip(*resets[mode]))
        total, store, syncs, release, flush = cols
        alone = [t - s for t, s in zip(total, syncs)]
        L += [f'| reset of a full 256 MiB zone, discard={mode}: the zrs '
              f'request | {rng_str(total)} | |',
              f'| - of which write pointer stored | '
              f'{rng_str(store)} | |',
              f'| - of which fdatasync inside the reset | {rng_str(syncs)} '
              f'| |',
              f'| - the reset without its fdatasyncs | {rng_str(alone)} | '
              f'< 1000 |',
              f'| - of which clusters released '
              f'| {rng_str(release)} | |',
              f'| the flush after the reset (qemu-io flush, on its own) | '
              f'{rng_str(flush)} | reported |']
        targets.append(f'reset of a full 256 MiB zone (discard={mode}) '
                       f'< 1 ms, its flush reported apart: '
                       f'{"holds" if med(alone) < 1000 else "MISSED"} '
                       f'({med(alone):.0f} µs without its fdatasyncs, '
                       f'{med(syncs):.0f} µs in them, {med(total):.0f} µs '
                       f'in all; the flush after it {med(flush):.0f} µs)')
    L += [f'| finish of a half-written 256 MiB zone | {rng_str(finish_us)} '
          f'| - |']
    L += ['', '## Targets (issue 17), from this run', ''] + \
        [f'- {t}' for t in targets]
    if QUICK:
        L += ['', '(QUICK mode: these verdicts are not measurements.)']
    text = '\n'.join(L) + '\n'
    results['targets'] = targets
    with open(os.path.join(OUT, 'results-host.json'), 'w') as f:
        json.dump(results, f, indent=1)
    with open(os.path.join(OUT, 'results-host.md'), 'w') as f:
        f.write(text)
    print(text)


if __name__ == '__main__':
    main()
