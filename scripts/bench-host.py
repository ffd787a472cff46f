#!/usr/bin/python3
"""Host-side benchmarks of zoned qcow2 ('make bench', first part).

Everything is measured in one run, on the same file system, with the same
binaries:

 1. qemu-img bench -w (sequential writes, O_DIRECT) on a raw file, a plain
    qcow2 and a zoned qcow2 (zone capacity = zone size), at 128 KiB QD8 and
    4 KiB QD32; repetitions interleaved, a fresh image each time; median
    and spread.
 2. Zone operations, timed between the engine's trace events (start and
    end of the operation, timestamps from strace -ttt): a report of 4096
    zones, the reset of a full 256 MiB zone, the finish of a half-written
    one.
 3. Opening an image of 1,048,576 zones: wall time and resident memory,
    against a plain image of the same size.

With QEMU_IMG_BEFORE=PATH (a qemu-img of an earlier version of the
series), part 1 also runs that qemu-img on the zoned image ("zoned before"),
interleaved with the others, so that before and after come from one run.

Writes a Markdown table with ratios to bench/results-host.md (and prints
it) and the raw numbers to bench/results-host.json.
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get('BUILD_DIR', os.path.join(TOP, 'qemu', 'build'))
QEMU_IMG = os.path.join(BUILD, 'qemu-img')
QEMU_IO = os.path.join(BUILD, 'qemu-io')
QEMU_IMG_BEFORE = os.environ.get('QEMU_IMG_BEFORE')
WORK = os.path.join(TOP, '.cache', 'bench')
OUT = os.path.join(TOP, 'bench')
REPS = int(os.environ.get('BENCH_REPS', '5'))

MiB = 1024 * 1024
GiB = 1024 * MiB


def run(*args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True,
                          **kw)


def create(kind, path, size):
    if os.path.exists(path):
        os.unlink(path)
    if kind == 'raw':
        run(QEMU_IMG, 'create', '-q', '-f', 'raw', path, str(size))
    elif kind == 'zoned-before':
        run(QEMU_IMG_BEFORE, 'create', '-q', '-f', 'qcow2', path, str(size),
            '-o', 'zone.mode=host-managed,zone.size=256M')
    elif kind == 'qcow2':
        run(QEMU_IMG, 'create', '-q', '-f', 'qcow2', path, str(size))
    else:
        run(QEMU_IMG, 'create', '-q', '-f', 'qcow2', path, str(size),
            '-o', 'zone.mode=host-managed,zone.size=256M')


def img_bench(kind, path, size, bs, depth, count):
    fmt = 'raw' if kind == 'raw' else 'qcow2'
    qemu_img = QEMU_IMG_BEFORE if kind == 'zoned-before' else QEMU_IMG
    out = run(qemu_img, 'bench', '-w', '-f', fmt, '-t', 'none',
              '-c', str(count), '-d', str(depth), '-s', str(bs), path).stdout
    secs = float(re.search(r'Run completed in ([0-9.]+) seconds', out)[1])
    return count * bs / secs / MiB          # MiB/s


def traced_op(path, commands, start_event, end_event):
    """Microseconds between two trace events of one qemu-io run."""
    log = os.path.join(WORK, 'strace.log')
    args = ['strace', '-f', '-ttt', '-e', 'trace=write', '-o', log, QEMU_IO,
            '--trace', start_event, '--trace', end_event]
    for c in commands:
        args += ['-c', c]
    subprocess.run(args + [path], check=True, capture_output=True)
    t = {}
    with open(log) as f:
        for line in f:
            m = re.search(r'^\d+\s+([0-9.]+) write\(2, "(\w+) ', line)
            if m and m[2] in (start_event, end_event):
                t.setdefault(m[2], float(m[1]))
    return (t[end_event] - t[start_event]) * 1e6


def wall_and_rss(path):
    """Wall time and maximum resident memory of opening @path in qemu-io."""
    args = ['/usr/bin/time', '-f', '%M', QEMU_IO, '-c', 'quit', path]
    t0 = time.perf_counter()
    r = subprocess.run(args, check=True, capture_output=True, text=True)
    secs = time.perf_counter() - t0
    return secs, int(r.stderr.strip().splitlines()[-1])


def med(xs):
    return statistics.median(xs)


def spread(xs):
    return (max(xs) - min(xs)) / med(xs) * 100 if med(xs) else 0.0


def main():
    os.makedirs(WORK, exist_ok=True)
    os.makedirs(OUT, exist_ok=True)
    if not shutil.which('strace'):
        sys.exit('bench-host: strace is needed (scripts/deps.sh installs it)')
    results = {'reps': REPS, 'throughput': {}, 'ops_us': {}, 'open': {}}

    # 1. qemu-img bench, interleaved
    size = 1 * GiB
    # qemu-img bench wraps to offset 0 at the end of the image: stay below
    loads = {'seq-128k-qd8': (128 * 1024, 8, 768 * MiB // (128 * 1024)),
             'seq-4k-qd32': (4096, 32, 256 * MiB // 4096)}
    kinds = ['raw', 'qcow2', 'zoned']
    if QEMU_IMG_BEFORE:
        kinds.insert(2, 'zoned-before')
    tp = {(w, k): [] for w in loads for k in kinds}
    for rep in range(REPS):
        for w, (bs, depth, count) in loads.items():
            for k in kinds:
                path = os.path.join(WORK, f'{k}.img')
                create(k, path, size)
                tp[w, k].append(img_bench(k, path, size, bs, depth, count))
                os.unlink(path)
        print(f'bench-host: repetition {rep + 1}/{REPS} done', flush=True)
    for (w, k), xs in tp.items():
        results['throughput'][f'{w}/{k}'] = xs

    # 2. zone operations
    z = os.path.join(WORK, 'ops.qcow2')
    run(QEMU_IMG, 'create', '-q', '-f', 'qcow2', z, str(4 * GiB), '-o',
        'zone.mode=host-managed,zone.size=1M')
    rep_us = [traced_op(z, ['zrp 0 4096'], 'qcow2_zoned_report',
                        'qcow2_zoned_report_done') for _ in range(REPS)]
    run(QEMU_IMG, 'create', '-q', '-f', 'qcow2', z, str(1 * GiB), '-o',
        'zone.mode=host-managed,zone.size=256M')
    reset_us, finish_us = [], []
    for _ in range(REPS):
        run(QEMU_IO, '-c', 'write -P 0x5a 0 256M', '-c', 'write 256M 128M', z)
        reset_us.append(traced_op(z, ['zrs 0 256M'], 'qcow2_zoned_mgmt',
                                  'qcow2_zoned_mgmt_done'))
        finish_us.append(traced_op(z, ['zf 256M 256M'], 'qcow2_zoned_mgmt',
                                   'qcow2_zoned_mgmt_done'))
        run(QEMU_IO, '-c', 'zrs 0 1G', z)
    results['ops_us'] = {'report-4096-zones': rep_us,
                         'reset-full-256M-zone': reset_us,
                         'finish-half-256M-zone': finish_us}

    # 3. open of 1,048,576 zones (64 KiB zones, 64 GiB)
    nz = 1048576
    zpath = os.path.join(WORK, 'million.qcow2')
    ppath = os.path.join(WORK, 'plain64g.qcow2')
    run(QEMU_IMG, 'create', '-q', '-f', 'qcow2', zpath, str(64 * GiB), '-o',
        'zone.mode=host-managed,zone.size=64k,zone.max_append_bytes=32k')
    run(QEMU_IMG, 'create', '-q', '-f', 'qcow2', ppath, str(64 * GiB))
    zo = [wall_and_rss(zpath) for _ in range(REPS)]
    po = [wall_and_rss(ppath) for _ in range(REPS)]
    results['open'] = {'zoned': zo, 'plain': po, 'nr_zones': nz}
    for p in (z, zpath, ppath):
        os.unlink(p)

    with open(os.path.join(OUT, 'results-host.json'), 'w') as f:
        json.dump(results, f, indent=1)

    # Report
    lines = ['# Host-side benchmark results', '',
             f'Command: `make bench` (scripts/bench-host.py), {REPS} '
             f'interleaved repetitions, {time.strftime("%Y-%m-%d")}, '
             f'{os.cpu_count()} CPUs, file system of {WORK}.', '',
             '## qemu-img bench -w -t none (MiB/s, median and spread)', '',
             '| workload | raw | plain qcow2 | '
             + ('zoned qcow2 before | ' if QEMU_IMG_BEFORE else '')
             + 'zoned qcow2 | zoned/plain | zoned/raw |'
             + (' zoned before/plain |' if QEMU_IMG_BEFORE else ''),
             '|---|---|---|---|---|---|' + ('---|---|' if QEMU_IMG_BEFORE
                                            else '')]
    for w in loads:
        m = {k: med(tp[w, k]) for k in kinds}
        lines.append(f'| {w} | ' + ' | '.join(
            f'{m[k]:.0f} ±{spread(tp[w, k]):.0f}%' for k in kinds) +
            f' | {m["zoned"] / m["qcow2"]:.2f} | {m["zoned"] / m["raw"]:.2f} |'
            + (f' {m["zoned-before"] / m["qcow2"]:.2f} |' if QEMU_IMG_BEFORE
               else ''))
    if QEMU_IMG_BEFORE:
        lines += ['', f'"zoned qcow2 before": `{QEMU_IMG_BEFORE}`.']
    lines += ['', '## Zone operations (µs, median of '
              f'{REPS}; target in brackets)', '',
              '| operation | median | min | max | target |', '|---|---|---|---|---|']
    targets = {'report-4096-zones': '< 10000',
               'reset-full-256M-zone': '< 1000',
               'finish-half-256M-zone': '-'}
    for k, xs in results['ops_us'].items():
        lines.append(f'| {k} | {med(xs):.0f} | {min(xs):.0f} | {max(xs):.0f} '
                     f'| {targets[k]} |')
    zt = med([x[0] for x in zo])
    pt = med([x[0] for x in po])
    zr = med([x[1] for x in zo])
    pr = med([x[1] for x in po])
    per_zone = (zr - pr) * 1024 / nz
    lines += ['', f'## Opening {nz} zones (64 GiB, 64 KiB zones)', '',
              '| image | wall time (s) | max RSS (KiB) |', '|---|---|---|',
              f'| zoned | {zt:.3f} | {zr} |', f'| plain | {pt:.3f} | {pr} |', '',
              f'Zoned minus plain: {(zt - pt) * 1000:.0f} ms (target: open '
              f'< 200 ms), {per_zone:.1f} bytes of RAM per zone, of which 8 '
              f'are the write-pointer table itself (target: < 16 bytes per '
              f'zone beyond the table: {per_zone - 8:.1f}).']
    text = '\n'.join(lines) + '\n'
    with open(os.path.join(OUT, 'results-host.md'), 'w') as f:
        f.write(text)
    print(text)


if __name__ == '__main__':
    main()
