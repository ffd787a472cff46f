#!/usr/bin/python3
"""Cost of a zone reset, and of writing a zone after it (issue 12).

Measured in one run, same binaries, same file system, interleaved
repetitions, a fresh image each time (1 GiB, 256 MiB zones, 64 KiB
clusters):

 1. the reset of a full 256 MiB zone, timed between the engine's trace
    events (timestamps from strace -ttt, as scripts/bench-host.py does):
      total     qcow2_zoned_mgmt -> qcow2_zoned_mgmt_done
      store     qcow2_zoned_mgmt -> qcow2_zoned_reset: the new write
                pointer stored and flushed (L2/refcount caches, flush,
                table, flush)
      flushes   the fdatasync() calls made in that interval (strace -T)
      release   qcow2_zoned_reset -> qcow2_zoned_mgmt_done: unmapping the
                zone's 4096 clusters and dropping their refcounts (and, with
                discard=unmap, punching them out of the image file)
    with discard=ignore (QEMU's default, though not qemu-io's) and with
    discard=unmap; then the flush that makes the reset durable, timed on
    its own: a qemu-io 'flush' right after the reset, from
    qcow2_zoned_mgmt_done to a marker command after the flush (whatever
    the reset left to the flush is counted there, not in the reset);
 2. qemu-img bench -w (O_DIRECT, 128 KiB, queue depth 8) over a whole
    zone: the zone just reset (its clusters freed, so they are allocated
    again; with discard=unmap they were also punched out of the image
    file) against a zone never written, in the same image; which one is
    written first alternates between repetitions.

Prints a Markdown table with medians, spreads and ratios.
Usage: tests/bench-reset.py [REPS]   (BUILD_DIR: default qemu/build)
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get('BUILD_DIR', os.path.join(TOP, 'qemu', 'build'))
QEMU_IMG = os.path.join(BUILD, 'qemu-img')
QEMU_IO = os.path.join(BUILD, 'qemu-io')
MiB = 1 << 20
EVENTS = ['qcow2_zoned_mgmt', 'qcow2_zoned_reset', 'qcow2_zoned_mgmt_done']


def run(*args):
    return subprocess.run(args, check=True, capture_output=True, text=True)


def make_full_zone(path):
    run(QEMU_IMG, 'create', '-q', '-f', 'qcow2', path, str(1024 * MiB),
        '-o', 'zone.mode=host-managed,zone.size=256M')
    run(QEMU_IO, '-c', 'write -P 0x5a 0 256M', path)


def traced_reset(work, path, unmap):
    """(total, store, flushes, release, flush after) in microseconds."""
    log = os.path.join(work, 'strace.log')
    args = ['strace', '-f', '-ttt', '-T', '--seccomp-bpf',
            '-e', 'trace=write,fdatasync', '-o', log, QEMU_IO]
    for e in EVENTS:
        args += ['--trace', e]
    # explicit: qemu-io passes discards through by default.  MARK is not a
    # qemu-io command: its error message (on stderr, unbuffered) marks the
    # end of the flush.
    args += ['-c', 'zrs 0 256M', '-c', 'flush', '-c', MARK, '--image-opts',
             'driver=qcow2,discard=%s,file.filename=%s' % (
                 'unmap' if unmap else 'ignore', path)]
    p = subprocess.run(args, capture_output=True, text=True)
    check_marked(p, 1)
    t = {}
    syncs = []
    mark = None
    with open(log) as f:
        for line in f:
            m = re.search(r'^\d+\s+([0-9.]+) write\(2, "(\w+) ', line)
            if m and m[2] in EVENTS:
                t.setdefault(m[2], float(m[1]))
            m = re.search(r'^\d+\s+([0-9.]+) write\(2, "command \\"%s'
                          % MARK, line)
            if m:
                mark = float(m[1])
            m = re.search(r'^\d+\s+([0-9.]+) fdatasync\(.*<([0-9.]+)>$',
                          line)
            if m:
                syncs.append((float(m[1]), float(m[2])))
    a, b, c = (t[e] for e in EVENTS)
    flushes = sum(d for s, d in syncs if a <= s <= b)
    return ((c - a) * 1e6, (b - a) * 1e6, flushes * 1e6, (c - b) * 1e6,
            (mark - c) * 1e6)


MARK = 'ztmark'

# Entry probes (uprobes, perf probe -x QEMU_IO): no strace, so no cost per
# system call.  qemu_fdatasync() is an ordinary function (it runs in a
# thread-pool worker), so it also gets a return probe; the coroutine
# functions get entry probes only (a return probe would follow the
# coroutine's stack switch).
PROBES = ['qcow2_zoned_co_mgmt', 'qcow2_cluster_discard', 'bdrv_co_flush',
          'qemu_fdatasync', 'qemu_fdatasync%return']


def add_probes():
    """Set the uprobes up; False if perf cannot (then traced_reset())."""
    if not shutil.which('perf'):
        return False
    del_probes()
    args = ['perf', 'probe', '-q', '-x', QEMU_IO]
    for pr in PROBES:
        args += ['-a', pr]
    return subprocess.run(args, capture_output=True).returncode == 0


def del_probes():
    subprocess.run(['perf', 'probe', '-q', '-d', 'probe_qemu:*'],
                   capture_output=True)


def probed_reset(work, path, unmap):
    """Like traced_reset(), from uprobes: (total, store, flushes, release,
    flush after) in microseconds.  The reset ends where the next command
    (qemu-io's flush) enters bdrv_co_flush(), a few microseconds of
    qemu-io's command loop later; the flush after it ends when its last
    fdatasync() returns."""
    data = os.path.join(work, 'probes.data')
    args = ['perf', 'record', '-q', '-e', 'probe_qemu:*', '-o', data, '--',
            QEMU_IO, '-c', 'zrs 0 256M', '-c', 'flush', '--image-opts',
            'driver=qcow2,discard=%s,file.filename=%s' % (
                'unmap' if unmap else 'ignore', path)]
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode or 'failed' in p.stdout:
        raise RuntimeError('qemu-io: %s' % (p.stderr or p.stdout)[-500:])
    out = subprocess.run(['perf', 'script', '-i', data, '-F', 'time,event'],
                         check=True, capture_output=True, text=True).stdout
    ev = []
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2:
            ev.append((float(f[0].rstrip(':')),
                       f[1].rstrip(':').split(':')[-1]))
    t0 = next(t for t, e in ev if e == 'qcow2_zoned_co_mgmt')
    discards = [t for t, e in ev if e == 'qcow2_cluster_discard' and t > t0]
    t1 = discards[0]
    t2 = next(t for t, e in ev if e == 'bdrv_co_flush' and t > discards[-1])
    syncs, start = [], None
    for t, e in ev:
        if e == 'qemu_fdatasync':
            start = t
        elif e == 'qemu_fdatasync__return' and start is not None:
            syncs.append((start, t))
            start = None
    flushes = sum(b - a for a, b in syncs if t0 <= a < t1)
    t3 = max(b for a, b in syncs if a >= t2)
    return ((t2 - t0) * 1e6, (t1 - t0) * 1e6, flushes * 1e6,
            (t2 - t1) * 1e6, (t3 - t2) * 1e6)


def check_marked(p, nr_marks):
    """qemu-io exits with 1 after MARK (not a command): anything else on
    stderr than the trace events and the MARK messages is a failure."""
    bad = [ln for ln in p.stderr.splitlines()
           if not re.match(r'^(\d+@[0-9.]+:)?qcow2_\w+ ', ln) and
           ln != 'command "%s" not found' % MARK and
           not re.match(r'^command "%s\d*" not found$' % MARK, ln)]
    marks = len(re.findall(r'^command "%s\d*" not found$' % MARK, p.stderr,
                           re.M))
    if bad or marks != nr_marks or 'failed' in p.stdout:
        raise RuntimeError('qemu-io: %s' % ('\n'.join(bad) or p.stdout[-500:]
                                            or 'missing marker'))


def bench_write(path, offset):
    out = run(QEMU_IMG, 'bench', '-w', '-f', 'qcow2', '-t', 'none',
              '-c', '2048', '-d', '8', '-s', '128K', '-o', str(offset),
              path).stdout
    secs = float(re.search(r'Run completed in ([0-9.]+) seconds', out)[1])
    return 256 / secs


def med(xs):
    return statistics.median(xs)


def spread(xs):
    return (max(xs) - min(xs)) / med(xs) * 100


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    work = tempfile.mkdtemp(prefix='bench-reset-',
                            dir=os.path.join(TOP, '.cache'))
    path = os.path.join(work, 'z.qcow2')
    res = {'ignore': [], 'unmap': []}
    wr = {(m, k): [] for m in res for k in ('reset', 'new')}
    try:
        for i in range(reps):
            for mode in ('ignore', 'unmap'):
                make_full_zone(path)
                res[mode].append(traced_reset(work, path, mode == 'unmap'))
                # zone 0 was just reset (clusters freed; with unmap, also
                # punched out of the file); zone 1 was never written
                order = [('reset', 0), ('new', 256 * MiB)]
                for kind, off in order if i % 2 == 0 else order[::-1]:
                    wr[mode, kind].append(bench_write(path, off))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print('Reset of a full 256 MiB zone (4096 clusters of 64 KiB), %d '
          'repetitions, microseconds (median, spread):' % reps)
    print()
    print('| discard | total | store + flush | of which fdatasync | '
          'release clusters | flush after the reset |')
    print('|---|---|---|---|---|---|')
    for mode, xs in res.items():
        cols = list(zip(*xs))
        print('| %s | %s |' % (mode, ' | '.join(
            '%.0f (%.0f%%)' % (med(c), spread(c)) for c in cols)))
    print()
    print('First write of a whole zone, qemu-img bench -w -t none 128 KiB '
          'QD8, MiB/s (median, spread):')
    print()
    print('| discard at the reset | zone | MiB/s | ratio to never written |')
    print('|---|---|---|---|')
    for mode in res:
        for kind in ('reset', 'new'):
            xs = wr[mode, kind]
            print('| %s | %s | %.0f (%.0f%%) | %.2f |' % (
                mode, 'just reset' if kind == 'reset' else 'never written',
                med(xs), spread(xs), med(xs) / med(wr[mode, 'new'])))


if __name__ == '__main__':
    main()
