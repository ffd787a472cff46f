#!/usr/bin/python3
"""Write-pointer cache benchmark of zoned qcow2 (issue 19, item 5).

Writes 4 KiB at the start of 1,000 random zones (seeded) of a zoned image
with 1,048,576 zones and of one with 4,096 zones,
same zone size (64 KiB), same cluster size (64 KiB), with qemu-io and
cache=none (O_DIRECT; writeback where the file system refuses it).  The
table of the large image is 8 MiB (128 clusters); the one of the small
image fits in one cluster.  The same qemu-io first writes the zones once,
resets all zones and flushes (so that the clusters and L2 tables of both
images are allocated and only the write-pointer table differs), then
does the measured writes.  Each write's time comes from qemu-io's own
report of that write (1 / ops per second); the figure is the sum over the
1,000 writes, and the ratio is small-image time / large-image time (1.0:
no cliff; the target is >= 0.9).

Several qemu-io binaries can be compared in the same run, repetitions
interleaved: QEMU_IO_BINS="name=path name2=path2" (default: the build's
qemu-io as "current").  BENCH_REPS repetitions (default 5), median.

Writes bench/results-wpcache.md and bench/results-wpcache.json.
"""

import json
import os
import random
import re
import statistics
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get('BUILD_DIR', os.path.join(TOP, 'qemu', 'build'))
QEMU_IMG = os.path.join(BUILD, 'qemu-img')
WORK = os.path.join(TOP, '.cache', 'bench')
OUT = os.path.join(TOP, 'bench')
REPS = int(os.environ.get('BENCH_REPS', '5'))
ZONE = 64 * 1024
NR_WRITES = 1000
IMAGES = {'4096 zones': 4096, '1048576 zones': 1048576}


def bins():
    spec = os.environ.get('QEMU_IO_BINS')
    if not spec:
        return [('current', os.path.join(BUILD, 'qemu-io'))]
    return [tuple(x.split('=', 1)) for x in spec.split()]


def create(path, nr_zones):
    if os.path.exists(path):
        os.unlink(path)
    subprocess.run([QEMU_IMG, 'create', '-q', '-f', 'qcow2', path,
                    str(nr_zones * ZONE), '-o',
                    'zone.mode=host-managed,zone.size=64k,'
                    'zone.max_append_bytes=4096'], check=True)


def run_writes(qemu_io, path, nr_zones, zones, cache):
    args = [qemu_io, '-f', 'qcow2', '-t', cache]
    # Warm-up: the zones' clusters and L2 tables are allocated, so that the
    # measured writes differ only in where their write pointers are stored;
    # reset-all keeps the clusters, and the flush makes the resets durable.
    for z in zones:
        args += ['-c', 'write -P 0x5a %d 4k' % (z * ZONE)]
    args += ['-c', 'zrs 0 %d' % (nr_zones * ZONE), '-c', 'flush']
    for z in zones:
        args += ['-c', 'write -P 0xa5 %d 4k' % (z * ZONE)]
    p = subprocess.run(args + [path], capture_output=True, text=True)
    if p.returncode != 0 or 'failed' in p.stdout + p.stderr:
        raise RuntimeError('qemu-io failed: ' + (p.stderr or p.stdout)[-500:])
    rates = [float(m) for m in
             re.findall(r'and ([0-9.]+) ops/sec', p.stdout)]
    if len(rates) != 2 * len(zones):
        raise RuntimeError('expected %d results, got %d' %
                           (2 * len(zones), len(rates)))
    return sum(1.0 / r for r in rates[len(zones):])


def main():
    os.makedirs(WORK, exist_ok=True)
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(19)
    # The same zone numbers for both images: they must exist in the small one
    zones = rng.sample(range(4096), NR_WRITES)
    # ... and spread over the whole table of the large one
    big_zones = [z * 256 + rng.randrange(256) for z in zones]
    cache = 'none'
    results = {}
    for rep in range(REPS):
        for name, qemu_io in bins():
            for label, nr in IMAGES.items():
                path = os.path.join(WORK, 'wpcache.qcow2')
                create(path, nr)
                zs = zones if nr == 4096 else big_zones
                try:
                    t = run_writes(qemu_io, path, nr, zs, cache)
                except RuntimeError:
                    if cache != 'none':
                        raise
                    cache = 'writeback'
                    create(path, nr)
                    t = run_writes(qemu_io, path, nr, zs, cache)
                results.setdefault(name, {}).setdefault(label, []).append(t)
                print('rep %d %s %s: %.3f s' % (rep, name, label, t),
                      file=sys.stderr)
    lines = ['# Write-pointer cache: 1,000 writes to random zones',
             '',
             '4 KiB at the start of 1,000 random zones, qemu-io, cache=%s, '
             'zones of 64 KiB, clusters of 64 KiB, after a warm-up pass, a '
             'reset of all zones and a flush; sum of the per-write '
             'times, median of %d interleaved repetitions '
             '(`scripts/bench-wpcache.py`).' % (cache, REPS),
             '',
             '| qemu-io | 4,096 zones (s) | 1,048,576 zones (s) | '
             'ratio 4,096 / 1,048,576 |',
             '|---|---|---|---|']
    summary = {}
    for name, _ in bins():
        small = statistics.median(results[name]['4096 zones'])
        big = statistics.median(results[name]['1048576 zones'])
        summary[name] = {'small_s': small, 'big_s': big,
                         'ratio': small / big,
                         'raw': results[name]}
        lines.append('| %s | %.3f | %.3f | %.2f |' %
                     (name, small, big, small / big))
    text = '\n'.join(lines) + '\n'
    print(text)
    with open(os.path.join(OUT, 'results-wpcache.md'), 'w') as f:
        f.write(text)
    with open(os.path.join(OUT, 'results-wpcache.json'), 'w') as f:
        json.dump({'cache': cache, 'reps': REPS, 'results': summary}, f,
                  indent=1)


if __name__ == '__main__':
    main()
