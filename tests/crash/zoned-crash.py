#!/usr/bin/python3
"""SIGKILL crash loop for zoned qcow2 images.

Each iteration runs qemu-io in interactive mode on a zoned image, fed a
seeded workload through stdin (see zmodel.py: concurrent aio_writes at the
write pointers of several zones, identifiable sync writes, zone appends,
finishes, resets, flushes, conventional-zone writes), kills it with SIGKILL
after a seeded random delay, then checks:

  - the image still opens (a zone report works);
  - 'qemu-img check' finds no corruption.  Leaked clusters are accepted:
    after a crash, qcow2 may leave clusters whose refcount was written but
    whose L2 entry was not; check reports them as leaks (exit code 3) and
    'check -r leaks' frees them.  Exit code 2 (corruption) or 1 fails;
  - the invariants of zmodel.check(): stored write pointers (read from the
    write-pointer table in the image file: extension 0x007a6264, field
    zonedmeta_offset) inside their zones, data below them exactly that of
    one generation of the zone, zeros above them, flushed acknowledged
    writes covered, conventional blocks from issued writes.

Iterations are chained on one image (the state found after a crash is the
starting point of the next workload) and a fresh image with the next
geometry is created every --chain iterations.

SIGKILL keeps the host page cache, so what this models is a crash of QEMU
(its caches of L2 tables, refcounts and write pointers are lost), not a
power failure; see replay.py for that.

Deterministic given --seed: the geometry, the workload and the kill delay
of every iteration come from random.Random("crash:<seed>:<iteration>");
where exactly the kill lands in the workload depends on timing.
Prints "iterations N, checks N, failures N"; exits non-zero on a failure.
"""

import argparse
import collections
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True     # keep tests/ free of __pycache__
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "fuzz"))
import zmodel as M  # noqa: E402
import qcow2img as Q  # noqa: E402

TOP = os.path.abspath(os.path.join(HERE, "..", ".."))


def run(args, timeout=60, **kw):
    return subprocess.run(args, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, errors="replace", timeout=timeout, **kw)


class Runner:
    def __init__(self, args):
        self.a = args
        self.img = os.path.join(args.build, "qemu-img")
        self.io = os.path.join(args.io_build or args.build, "qemu-io")
        self.env = dict(os.environ)
        if args.io_build:
            self.env.update({
                "ASAN_OPTIONS": "halt_on_error=1:exitcode=86:"
                                "detect_leaks=0:print_stacktrace=1",
                "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:"
                                 "exitcode=87"})

    def create(self, path, geo):
        if os.path.exists(path):
            os.unlink(path)
        r = run([self.img, "create", "-q", "-f", "qcow2", "-o",
                 M.create_opts(geo), path])
        if r.returncode:
            raise RuntimeError("qemu-img create: " + r.stderr)

    def workload(self, path, lines, kill_after=None):
        """Run qemu-io on @path with @lines on stdin.  With @kill_after,
        SIGKILL it after that many seconds; otherwise let it finish."""
        # -t writeback: qemu-io defaults to writethrough, which flushes
        # after every write and would hide the crash window
        p = subprocess.Popen([self.io, "-f", "qcow2", "-t", "writeback",
                              path],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=self.env)
        script = "\n".join(lines) + "\n"
        if kill_after is not None:
            script += "sleep 60000\n"
        p.stdin.write(script.encode())
        p.stdin.close()
        p.stdin = None
        if kill_after is not None:
            time.sleep(kill_after)
            p.send_signal(signal.SIGKILL)
        try:
            out, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            return None, out.decode(errors="replace"), \
                err.decode(errors="replace")
        return p.returncode, out.decode(errors="replace"), \
            err.decode(errors="replace")

    def inspect(self, path, wl):
        """After the crash: (failures, checks, raw, stored, check output)."""
        fails = []
        checks = 0
        nz = len(wl.zones)
        if M.is_lazy(wl.geo):
            # lazy refcounts: the image is dirty after a crash and the first
            # read-write open repairs it (what any user of it gets)
            r = run([self.io, "-f", "qcow2", "-c", "zrp 0 %d" % nz, path],
                    env=self.env)
            checks += 1
            if r.returncode or M.parse_report(r.stdout, nz) is None:
                fails.append("the read-write open (repair of the lazy "
                             "refcounts) failed: %s %s" % (
                                 r.stdout.strip()[-400:],
                                 r.stderr.strip()[-400:]))
        # qemu-img check: 0 clean, 3 leaks only; anything else fails
        r = run([self.img, "check", "-f", "qcow2", path])
        checks += 1
        leaks = r.returncode == 3
        if r.returncode not in (0, 3):
            fails.append("qemu-img check exit %d: %s%s" % (
                r.returncode, r.stdout.strip()[-800:], r.stderr.strip()))
        # the image opens; the zone report
        r = run([self.io, "-f", "qcow2", "-r", "-c", "zrp 0 %d" % nz, path],
                env=self.env)
        checks += 1
        reported = M.parse_report(r.stdout, nz)
        if r.returncode or reported is None:
            fails.append("the image does not open or report zones: %s %s" % (
                r.stdout.strip()[-400:], r.stderr.strip()[-400:]))
            return fails, checks, None, None, leaks
        geom, stored = Q.read_wps(path)
        raw_path = path + ".raw"
        r = run([self.img, "convert", "-f", "qcow2", "-O", "raw", path,
                 raw_path])
        if r.returncode:
            fails.append("qemu-img convert failed: " + r.stderr)
            return fails, checks, None, stored, leaks
        with open(raw_path, "rb") as f:
            raw = f.read()
        os.unlink(raw_path)
        n, f2 = M.check(wl, self.prog, raw, stored, reported,
                        self.zstats)
        return fails + f2, checks + n, raw, stored, leaks


def calibrate(runner, workdir, seed):
    """Time a whole workload run to completion (for the kill delays)."""
    rng = M.make_rng("crash-calibrate", seed, 0)
    geo = M.GEOMETRIES[0]
    path = os.path.join(workdir, "calibrate.qcow2")
    runner.create(path, geo)
    wl = M.Workload(rng, geo, 0, {}, n_cmds=70)
    d = os.path.join(workdir, "cal")
    os.makedirs(d, exist_ok=True)
    t = time.time()
    rc, out, err = runner.workload(path, [])
    t_start = time.time() - t
    t = time.time()
    rc, out, err = runner.workload(path, wl.write_files(d))
    el = time.time() - t
    prog = M.Progress(wl, out, err, all_done=True)
    if rc != 0 or prog.errors:
        raise RuntimeError("calibration run failed (rc %s): %s" % (
            rc, "; ".join(prog.errors[:5])))
    return t_start, el


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--chain", type=int, default=10,
                    help="iterations per image before a fresh one")
    ap.add_argument("--build", default=os.environ.get(
        "BUILD_DIR", os.path.join(TOP, "qemu", "build")))
    ap.add_argument("--io-build", default=None,
                    help="build whose qemu-io runs the workload (e.g. the "
                    "ASan build); default: --build")
    ap.add_argument("--work", default=os.path.join(TOP, ".cache", "crash"))
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    os.makedirs(args.work, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="run-", dir=args.work)
    if args.io_build:
        lock = Q.hold_build(args.io_build)  # noqa: F841 (held until exit)
    runner = Runner(args)
    runner.zstats = collections.Counter()
    t0 = time.time()
    checks = failures = 0
    failed_its = []
    stats = {"completed": 0, "commands": 0, "leaks": 0, "acked": 0,
             "self": 0}
    try:
        t_start, t_run = calibrate(runner, workdir, args.seed)
        per_cmd = max(t_run - t_start, 0.001) / 70
        print("# qemu-io starts in %.3f s, a workload of 70 commands takes "
              "%.3f s: each is killed between 0.8 x startup and the end of "
              "its commands" % (t_start, t_run), flush=True)
        path = os.path.join(workdir, "zoned.qcow2")
        state = {}
        geo = None
        for it in range(args.iterations):
            rng = M.make_rng("crash", args.seed, it)
            if it % args.chain == 0:
                geo = M.GEOMETRIES[(it // args.chain) % len(M.GEOMETRIES)]
                runner.create(path, geo)
                state = {}
            wl = M.Workload(rng, geo, it, state,
                            n_cmds=rng.randint(30, 70))
            d = os.path.join(workdir, "it")
            shutil.rmtree(d, ignore_errors=True)
            os.makedirs(d)
            delay = 0.8 * t_start + rng.random() * (
                0.2 * t_start + per_cmd * len(wl.cmds))
            rc, out, err = runner.workload(path, wl.write_files(d), delay)
            prog = M.Progress(wl, out, err)
            runner.prog = prog
            fails = ["unexpected: " + e for e in prog.errors]
            if rc is None or (rc != -signal.SIGKILL):
                fails.append("qemu-io did not die of SIGKILL (rc %s)" % rc)
            f2, n, raw, stored, leaks = runner.inspect(path, wl)
            fails += f2
            checks += n
            stats["completed"] += prog.completed
            stats["commands"] += len(wl.cmds)
            stats["acked"] += len(prog.ack)
            stats["leaks"] += leaks
            if args.verbose:
                print("# iteration %d (%s): killed after %.3f s, %d/%d "
                      "commands completed, %d checks%s" % (
                          it, geo["name"], delay, prog.completed,
                          len(wl.cmds), n, ", leaks" if leaks else ""))
            if raw is not None and stored is not None and not fails:
                t, dt = M.self_test(wl, prog, raw, stored, rng)
                stats["self"] += t
                if dt != t:
                    fails.append("checker self-test: %d of %d corruptions "
                                 "went undetected" % (t - dt, t))
            if fails:
                failures += len(fails)
                failed_its.append(it)
                save = os.path.join(args.work, "failures",
                                    "seed%d-it%d" % (args.seed, it))
                shutil.rmtree(save, ignore_errors=True)
                os.makedirs(save)
                shutil.copy(path, os.path.join(save, "image.qcow2"))
                with open(os.path.join(save, "report.txt"), "w") as f:
                    f.write("seed %d iteration %d geometry %s\n" % (
                        args.seed, it, geo["name"]))
                    f.write("completed %d issued %d\n" % (prog.completed,
                                                          prog.issued))
                    f.write("\n".join(fails) + "\n--- script\n")
                    f.write("\n".join("%d: %s" % (i, c.text)
                                      for i, c in enumerate(wl.cmds)))
                    f.write("\n--- stdout\n" + out + "\n--- stderr\n" + err)
                for x in fails[:5]:
                    print("# FAIL iteration %d: %s" % (it, x), flush=True)
            if raw is None or stored is None:
                # cannot continue on this image
                runner.create(path, geo)
                state = {}
            else:
                state = M.next_state(wl, raw, stored)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    el = time.time() - t0
    print("# seed %d: %.1f s; %d of %d commands completed before the kills, "
          "%d writes acknowledged; %d iterations left leaked clusters "
          "(accepted); the checker caught all %d corruptions planted by its "
          "self-test" % (args.seed, el, stats["completed"],
                         stats["commands"], stats["acked"], stats["leaks"],
                         stats["self"]))
    print("# zone states checked: %s" % ", ".join(
        "%s %d" % kv for kv in sorted(runner.zstats.items())))
    if failed_its:
        print("# failing iterations: %s (saved in %s)" % (
            " ".join(map(str, failed_its[:20])),
            os.path.join(args.work, "failures")))
    print("iterations %d, checks %d, failures %d" % (args.iterations, checks,
                                                      failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
