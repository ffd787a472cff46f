#!/usr/bin/python3
"""Power-failure model for zoned qcow2: replay a write log.

SIGKILL (zoned-crash.py) keeps the host page cache, so it only models a
crash of QEMU.  To model a power failure, each iteration runs a seeded
workload (zmodel.py) to completion in qemu-io with the image opened as

    driver=qcow2, file.driver=blklogwrites,
    file.file = the image, file.log = a log file

so that every write and flush that reaches the image file is recorded, in
completion order, in dm-log-writes format (block/blklogwrites.c).  Then it
rebuilds the image file as a disk could have it after a power failure, on
a copy of the image as it was before the workload, and checks each state
with qemu-img check (leaks are accepted if "check -r leaks" repairs
them) and the invariants of zmodel.check():

  prefixes   the log applied up to and including entry e, for e = every
             write and every flush (sampled down to --max-prefixes per
             iteration when there are more; the flushes are always kept);
  reorders   for each interval between two flushes with at least two
             writes, --reorders random subsets of its writes applied in a
             random order on top of the state at the interval's first
             flush: without a flush, a disk may persist any subset of the
             writes in any order.

What the workload had done at a point of the log is learnt from its
"marker" writes (a sync write naming its command index, issued right after
each flush command and every 8 commands): the first log entry holding
marker m shows that commands [0, m) had completed, and commands after m
cannot have been issued before it.  The acknowledgements come from qemu-io's
output.  The log records writes when they complete, so a write that
completed while a flush was running is replayed as if that flush covered
it: the states explored are possible ones, not all possible ones.

Deterministic given --seed (geometry, workload, sampled prefixes and
reorderings); prints "iterations N, states N, checks N, failures N".

The log has writes and flushes, not the extensions of the image file:
qcow2 grows the file with fallocate() before it maps clusters there, and
the extension is durable at the next flush, which comes before the L2
tables that map them are written (their refcounts go first, with a flush).
So every state is padded with zeros to the final size of the file, which
is what an extension made by fallocate() reads as.
"""

import argparse
import collections
import concurrent.futures
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True     # keep tests/ free of __pycache__
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fuzz"))
import zmodel as M  # noqa: E402
import qcow2img as Q  # noqa: E402

TOP = os.path.abspath(os.path.join(HERE, "..", ".."))

ZSTATS = collections.Counter()
STATS_LOCK = threading.Lock()

LOG_MAGIC = 0x6A736677736872
FLUSH, FUA, DISCARD, MARK = 1, 2, 4, 8


def run(args, timeout=60):
    return subprocess.run(args, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, errors="replace", timeout=timeout)


def parse_log(path):
    """Entries of a dm-log-writes log: ("w", offset, data) / ("f",) /
    ("d", offset, length)."""
    with open(path, "rb") as f:
        d = f.read()
    magic, version, nr, ss = struct.unpack_from("<QQQI", d, 0)
    if magic != LOG_MAGIC or version != 1:
        raise RuntimeError("%s is not a write log" % path)
    out = []
    sec = 1
    for _ in range(nr):
        s, ns, fl, _dl = struct.unpack_from("<QQQQ", d, sec * ss)
        if fl & FLUSH:
            out.append(("f",))
            sec += 1
        elif fl & DISCARD:
            out.append(("d", s * ss, ns * ss))
            sec += 1
        else:
            off = (sec + 1) * ss
            out.append(("w", s * ss, d[off:off + ns * ss]))
            sec += 1 + ns
    return out


def apply(img, e):
    if e[0] == "w":
        off, data = e[1], e[2]
        if len(img) < off + len(data):
            img.extend(bytes(off + len(data) - len(img)))
        img[off:off + len(data)] = data
    elif e[0] == "d":
        # a discarded range may read as anything it held or zeros: zeros
        off, ln = e[1], e[2]
        end = min(len(img), off + ln)
        if end > off:
            img[off:end] = bytes(end - off)


def markers(entries, iteration):
    """{command index: index of the first log entry holding that marker}"""
    first = {}
    tag = b"ZQMARK %08d " % iteration
    for i, e in enumerate(entries):
        if e[0] != "w":
            continue
        data = e[2]
        pos = data.find(tag)
        while pos >= 0:
            if pos % 512 == 0:
                m = int(data[pos + len(tag):pos + len(tag) + 8])
                first.setdefault(m, i)
            pos = data.find(tag, pos + 1)
    return first


class Bounds:
    """Progress of the workload at a log position (for zmodel.check)."""

    def __init__(self, base, completed, issued):
        self.ack = base.ack
        self.errors = []
        self.completed = completed
        self.issued = issued


def bounds_for(first, n, applied_max, applied_set):
    """completed: the largest marker among the applied entries;
    issued: the smallest marker whose first entry is after the last
    applied entry in log order."""
    completed = 0
    issued = n
    for m, i in first.items():
        if i in applied_set:
            completed = max(completed, m)
        if i > applied_max:
            issued = min(issued, m)
    return completed, issued


def inspect(img_bin, file_size, build, wl, prog, work, tag):
    """Check one replayed state; returns (checks, failures)."""
    path = os.path.join(work, "state-%s.qcow2" % tag)
    with open(path, "wb") as f:
        f.write(img_bin)
        # What the file extensions (not in the log) read as: zeros
        f.truncate(max(len(img_bin), file_size))
    fails = []
    checks = 1
    try:
        if M.is_lazy(wl.geo):
            # dirty: the first read-write open repairs the refcounts
            r = run([os.path.join(build, "qemu-io"), "-f", "qcow2", "-c",
                     "zrp 0 1", path])
            if r.returncode:
                fails.append("the read-write open (repair of the lazy "
                             "refcounts) failed: %s %s" % (
                                 r.stdout.strip()[-400:],
                                 r.stderr.strip()[-400:]))
        r = run([os.path.join(build, "qemu-img"), "check", "-f", "qcow2",
                 path])
        if r.returncode not in (0, 3):
            fails.append("qemu-img check exit %d: %s %s" % (
                r.returncode, r.stdout.strip()[-600:], r.stderr.strip()))
        elif r.returncode == 3:
            # leaked clusters: check -r leaks must repair them all
            checks += 1
            r = run([os.path.join(build, "qemu-img"), "check", "-r", "leaks",
                     "-f", "qcow2", path])
            if r.returncode != 0:
                fails.append("qemu-img check -r leaks exit %d: %s %s" % (
                    r.returncode, r.stdout.strip()[-600:],
                    r.stderr.strip()))
            with STATS_LOCK:
                ZSTATS["states with leaks repaired by check -r leaks"] += 1
        raw_path = path + ".raw"
        r = run([os.path.join(build, "qemu-img"), "convert", "-f", "qcow2",
                 "-O", "raw", path, raw_path])
        checks += 1
        if r.returncode:
            fails.append("the image does not open: " + r.stderr.strip())
            return checks, fails
        with open(raw_path, "rb") as f:
            raw = f.read()
        os.unlink(raw_path)
        im = Q.Image(bytearray(img_bin))
        stored = im.wp_entries()
        st = collections.Counter()
        n, f2 = M.check(wl, prog, raw, stored, stats=st)
        with STATS_LOCK:
            ZSTATS.update(st)
        return checks + n, fails + f2
    finally:
        os.unlink(path)


def iteration(args, it, work, pool):
    rng = M.make_rng("replay", args.seed, it)
    geo = M.GEOMETRIES[it % len(M.GEOMETRIES)]
    d = os.path.join(work, "it%d" % it)
    os.makedirs(d)
    img = os.path.join(d, "zoned.qcow2")
    log = os.path.join(d, "writes.log")
    r = run([os.path.join(args.build, "qemu-img"), "create", "-q", "-f",
             "qcow2", "-o", M.create_opts(geo), img])
    if r.returncode:
        raise RuntimeError("qemu-img create: " + r.stderr)
    with open(img, "rb") as f:
        initial = f.read()
    open(log, "wb").close()
    wl = M.Workload(rng, geo, it, {}, n_cmds=rng.randint(30, 60))
    lines = wl.write_files(d)
    opts = ("driver=qcow2,file.driver=blklogwrites,file.file.driver=file,"
            "file.file.filename=%s,file.log.driver=file,"
            "file.log.filename=%s" % (img, log))
    # -t writeback: qemu-io defaults to writethrough (a flush after every
    # write), which would leave nothing between two flushes to reorder
    p = subprocess.run([os.path.join(args.build, "qemu-io"), "-t",
                        "writeback", "--image-opts", opts],
                       input="\n".join(lines) + "\n",
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    prog = M.Progress(wl, p.stdout, p.stderr, all_done=True)
    fails = ["workload: unexpected: " + e for e in prog.errors]
    if p.returncode != 0:
        fails.append("workload: qemu-io exit %d" % p.returncode)
    entries = parse_log(log)
    first = markers(entries, it)
    n = len(wl.cmds)
    nw = sum(1 for e in entries if e[0] == "w")
    nf = sum(1 for e in entries if e[0] == "f")

    # The final state of the log must be the image qemu-io left behind
    final = bytearray(initial)
    for e in entries:
        apply(final, e)
    with open(img, "rb") as f:
        real = f.read()
    # (padded like the states below: file extensions are not in the log)
    final.extend(bytes(max(0, len(real) - len(final))))
    if bytes(final[:len(real)]) != real:
        fails.append("replaying the whole log does not give the image "
                     "qemu-io wrote (the log parser is wrong)")

    # prefixes
    flush_idx = [i for i, e in enumerate(entries) if e[0] == "f"]
    write_idx = [i for i, e in enumerate(entries) if e[0] != "f"]
    sample = write_idx
    if args.max_prefixes and len(write_idx) > args.max_prefixes:
        sample = sorted(rng.sample(write_idx, args.max_prefixes))
    points = sorted(set(sample) | set(flush_idx))
    states = []         # (tag, image bytes, Bounds)
    cur = bytearray(initial)
    pos = 0
    for e_idx in points:
        while pos <= e_idx:
            apply(cur, entries[pos])
            pos += 1
        c, i = bounds_for(first, n, e_idx, set(range(e_idx + 1)))
        states.append(("p%d" % e_idx, bytes(cur), Bounds(prog, c, i)))
    # reorderings inside flush intervals
    bounds = [-1] + flush_idx + [len(entries)]
    cur = bytearray(initial)
    pos = 0
    for k in range(len(bounds) - 1):
        lo, hi = bounds[k], bounds[k + 1]
        while pos <= lo:
            apply(cur, entries[pos])
            pos += 1
        ws = [i for i in range(lo + 1, hi) if entries[i][0] != "f"]
        if len(ws) < 2:
            continue
        durable = set(range(lo + 1))
        for j in range(args.reorders):
            sub = rng.sample(ws, rng.randint(1, len(ws)))
            rng.shuffle(sub)
            st = bytearray(cur)
            for i in sub:
                apply(st, entries[i])
            c, iss = bounds_for(first, n, max(sub), durable | set(sub))
            states.append(("r%d.%d" % (hi, j), bytes(st),
                           Bounds(prog, c, iss)))

    # Negative controls: states that break the flush order (a write of
    # the write-pointer table applied while an earlier write is dropped).
    # A disk cannot produce them; some of them must be caught, which shows
    # that the checks can fail.
    controls = []
    cs = Q.Image(bytearray(initial)).cluster_size
    tabs = Q.Image(bytearray(initial)).table_clusters()

    def is_table_write(e):
        return e[0] == "w" and any(e[1] < t + cs and t < e[1] + len(e[2])
                                   for t in tabs)
    tw = [i for i, e in enumerate(entries) if is_table_write(e)]
    # the table writes that move a write pointer forward
    toff = Q.Image(bytearray(initial)).wp_table_offset()
    nzones = len(wl.zones)
    wps = bytearray(initial[toff:toff + 8 * nzones])
    forward = []
    for i in tw:
        before = bytes(wps)
        off, data = entries[i][1], entries[i][2]
        lo, hi = max(off, toff), min(off + len(data), toff + 8 * nzones)
        wps[lo - toff:hi - toff] = data[lo - off:hi - off]
        if any(struct.unpack_from(">Q", wps, 8 * z)[0] >
               struct.unpack_from(">Q", before, 8 * z)[0]
               for z in range(nzones)):
            forward.append(i)
    for w in rng.sample(forward, min(len(forward), args.controls)):
        # drop the writes (except table writes) since the previous table
        # write: they include what the new write pointer covers
        prev = [i for i in tw if i < w]
        since = prev[-1] if prev else -1
        drop = set(i for i in range(since + 1, w) if entries[i][0] == "w"
                   and not is_table_write(entries[i]))
        if not drop:
            continue
        st = bytearray(initial)
        for i in range(w + 1):
            if i not in drop:
                apply(st, entries[i])
        applied = set(range(w + 1)) - drop
        c, iss = bounds_for(first, n, w, applied)
        controls.append(("c%d" % w, bytes(st), Bounds(prog, c, iss)))

    checks = 0
    cfuts = [pool.submit(inspect, b, len(real), args.build, wl, bd, d, tag)
             for tag, b, bd in controls]
    futs = [pool.submit(inspect, b, len(real), args.build, wl, bd, d, tag)
            for tag, b, bd in states]
    caught = sum(1 for fu in cfuts if fu.result()[1])
    for (tag, b, bd), fu in zip(states, futs):
        nchk, f2 = fu.result()
        checks += nchk
        for x in f2:
            fails.append("state %s (completed %d, issued %d): %s" % (
                tag, bd.completed, bd.issued, x))
                # saved below
        if f2 and args.keep:
            with open(os.path.join(args.keep, "seed%d-it%d-%s.qcow2" % (
                    args.seed, it, tag)), "wb") as f:
                f.write(b)
    info = "%s: %d commands, log %d writes + %d flushes, %d markers, " \
        "%d states" % (geo["name"], n, nw, nf, len(first), len(states))
    if fails and args.keep:
        with open(os.path.join(args.keep, "seed%d-it%d.txt" % (
                args.seed, it)), "w") as f:
            f.write("\n".join(fails) + "\n--- script\n")
            f.write("\n".join("%d: %s" % (i, c.text)
                              for i, c in enumerate(wl.cmds)))
            f.write("\n--- stdout\n" + p.stdout + "\n--- stderr\n" +
                    p.stderr)
    shutil.rmtree(d, ignore_errors=True)
    info += ", %d/%d negative controls caught" % (caught, len(controls))
    return len(states), checks, fails, info, caught, len(controls)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=8)
    ap.add_argument("--max-prefixes", type=int, default=0,
                    help="sample at most this many write prefixes per "
                    "iteration (0: all)")
    ap.add_argument("--reorders", type=int, default=3,
                    help="random subsets/permutations per flush interval")
    ap.add_argument("--controls", type=int, default=6,
                    help="negative-control states per iteration")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--build", default=os.environ.get(
        "BUILD_DIR", os.path.join(TOP, "qemu", "build")))
    ap.add_argument("--work", default=os.path.join(TOP, ".cache", "replay"))
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    args.keep = os.path.join(args.work, "failures")
    os.makedirs(args.keep, exist_ok=True)
    work = tempfile.mkdtemp(prefix="run-", dir=args.work)
    t0 = time.time()
    states = checks = failures = 0
    ctl = [0, 0]
    try:
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            for it in range(args.iterations):
                s, c, f, info, cc, cn = iteration(args, it, work, pool)
                ctl[0] += cc
                ctl[1] += cn
                states += s
                checks += c
                failures += len(f)
                if args.verbose or f:
                    print("# iteration %d: %s%s" % (
                        it, info, ", %d failures" % len(f) if f else ""),
                        flush=True)
                for x in f[:5]:
                    print("# FAIL iteration %d: %s" % (it, x), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("# seed %d: %.1f s; negative controls (states that break the "
          "flush order): %d of %d caught" % (args.seed, time.time() - t0,
                                             ctl[0], ctl[1]))
    if ctl[1] and not ctl[0]:
        print("# FAIL: no negative control was caught: the checks cannot "
              "see an ordering bug")
        failures += 1
    print("# zone states checked: %s" % ", ".join(
        "%s %d" % kv for kv in sorted(ZSTATS.items())))
    if failures:
        print("# failing states saved in %s" % args.keep)
    print("iterations %d, states %d, checks %d, failures %d" % (
        args.iterations, states, checks, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
