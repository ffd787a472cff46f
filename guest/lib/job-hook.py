#!/usr/bin/env python3
"""Host side of guest/tests/jobs.sh: a block job on the running guest's disk.

guest/run.sh runs this as HOST_HOOK (HOST_HOOK="python3 job-hook.py MODE"),
once while QEMU runs ('during') and once after it exited ('after'), with
ZT_QMP (QEMU's QMP socket), ZT_TAP_FILE, ZT_SCRATCH, ZT_IMAGE, ZT_QEMU_PID,
OUTDIR and QEMU_IMG in the environment.  It prints 'ok - ...' and
'not ok - ...' lines, which run.sh counts as host results, and '# ...'
comments.

MODE backup: when the guest, idle after flushing its data set, prints
'# ZT-JOB-WAIT start', the image is copied (qemu-img convert -U: the
reference), a plain qcow2 target is added and blockdev-backup sync=full
starts on drive1 at 64 KiB/s; 'go' goes into the guest's mailbox (the
scratch disk at 1 GiB).  At '# ZT-JOB-WAIT end' (the guest's I/O is done
and flushed) the job must still be running; its speed limit is lifted, it
must complete without error, and 'done' goes to the guest (each word in its own 4 KiB block; 'stop'
in all of them when a step failed, so the guest stops waiting).  After QEMU
exited: the target equals the reference (the disk as it was when the job
started) and differs from the image (the guest rewrote zones meanwhile).

MODE mirror: the same reference, then blockdev-mirror sync=full to a plain
qcow2 target.  At '# ZT-JOB-WAIT end' the job must reach READY,
block-job-complete must be refused (a zoned source), block-job-cancel must
end the job with BLOCK_JOB_COMPLETED and no error; then 'done'.  After QEMU
exited: the target equals the image, and the image differs from the
reference (the mirror copied the guest's writes made during the job).

The time limits only guard against a guest or QEMU that stopped answering:
they never turn a result into a pass.
"""
import json
import os
import socket
import subprocess
import sys
import time

MAILBOX_OFFSET = 1 << 30
GUARD = 400  # seconds


def result(ok, desc):
    print(("ok - " if ok else "not ok - ") + desc, flush=True)
    return ok


def comment(text):
    for line in str(text).splitlines():
        print("#   " + line, flush=True)


def qemu_alive():
    try:
        os.kill(int(os.environ["ZT_QEMU_PID"]), 0)
        return True
    except (OSError, KeyError, ValueError):
        return False


class QMP:
    def __init__(self, path):
        deadline = time.time() + 60
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline or not qemu_alive():
                    raise
                time.sleep(0.2)
        self.f = self.sock.makefile("rw")
        self.events = []
        self.read()  # greeting
        self.cmd("qmp_capabilities")

    def read(self):
        line = self.f.readline()
        if not line:
            raise EOFError("QMP connection closed")
        return json.loads(line)

    def cmd(self, name, **args):
        self.f.write(json.dumps({"execute": name, "arguments": args}) + "\n")
        self.f.flush()
        while True:
            msg = self.read()
            if "event" in msg:
                self.events.append(msg)
            elif "return" in msg or "error" in msg:
                return msg

    def wait_event(self, names, job, timeout=GUARD):
        deadline = time.time() + timeout
        while True:
            for i, ev in enumerate(self.events):
                d = ev.get("data", {})
                if ev["event"] in names and d.get("device", d.get("id")) == job:
                    return self.events.pop(i)
            self.sock.settimeout(max(0.1, deadline - time.time()))
            try:
                self.events.append(self.read())
            except socket.timeout:
                return None
            finally:
                self.sock.settimeout(None)
            if time.time() > deadline:
                return None


def wait_tap(marker):
    tap = os.environ["ZT_TAP_FILE"]
    deadline = time.time() + GUARD
    while time.time() < deadline:
        with open(tap, errors="replace") as f:
            for line in f:
                if line.rstrip("\r\n") == "# " + marker:
                    return True
                if line.startswith("Bail out!"):
                    return False
        if not qemu_alive():
            return False
        time.sleep(0.2)
    return False


SLOTS = {"go": 0, "done": 1}


def mailbox(word, slot=None):
    """WORD into its 4 KiB block at 1 GiB of the scratch disk ('stop': all)"""
    with open(os.environ["ZT_SCRATCH"], "r+b") as f:
        for s in SLOTS.values() if slot is None and word == "stop" else \
                [SLOTS[word] if slot is None else slot]:
            f.seek(MAILBOX_OFFSET + 4096 * s)
            f.write(word.encode().ljust(4096, b"\0"))


def img(*args):
    p = subprocess.run([os.environ.get("QEMU_IMG", "qemu-img")] + list(args),
                       capture_output=True, text=True)
    return p.returncode, (p.stdout + p.stderr).strip()


def paths():
    out = os.environ["OUTDIR"]
    return (os.environ["ZT_IMAGE"], os.path.join(out, "job-target.qcow2"),
            os.path.join(out, "job-reference.qcow2"))


def job_state(qmp, job):
    for j in qmp.cmd("query-block-jobs").get("return", []):
        if j.get("device") == job:
            return j
    return None


def during(mode):
    """the job; True when the guest was told 'done'"""
    image, target, ref = paths()
    for p in (target, ref):
        if os.path.exists(p):
            os.unlink(p)
    qmp = QMP(os.environ["ZT_QMP"])
    if not result(wait_tap("ZT-JOB-WAIT start"),
                  "the guest flushed its data set and waits for the " + mode):
        return
    # the guest is idle and has flushed: the image file is the disk now
    rc, out = img("convert", "-U", "-f", "qcow2", "-O", "qcow2", image, ref)
    if not result(rc == 0, "reference copy of the disk at the job's start"):
        comment(out)
        return
    size = json.loads(img("info", "-U", "--output=json", image)[1])["virtual-size"]
    rc, out = img("create", "-q", "-f", "qcow2", target, str(size))
    r = qmp.cmd("blockdev-add", driver="qcow2", **{"node-name": "jobtgt"},
                file={"driver": "file", "filename": target})
    if not result(rc == 0 and "return" in r, "plain qcow2 target added"):
        comment(out + " " + json.dumps(r))
        return
    if mode == "backup":
        r = qmp.cmd("blockdev-backup", **{"job-id": "job0"}, device="drive1",
                    target="jobtgt", sync="full", speed=64 << 10)
    else:
        r = qmp.cmd("blockdev-mirror", **{"job-id": "job0"}, device="drive1",
                    target="jobtgt", sync="full")
    if not result("return" in r, "blockdev-%s sync=full of drive1 started" % mode):
        comment(json.dumps(r))
        return
    mailbox("go")
    if not result(wait_tap("ZT-JOB-WAIT end"),
                  "the guest's I/O during the %s ended, disk flushed" % mode):
        return
    j = job_state(qmp, "job0")
    if mode == "backup":
        if not result(j is not None and j["offset"] < j["len"],
                      "the backup was still running when the guest's I/O ended"
                      + (" (%d of %d bytes copied)" % (j["offset"], j["len"])
                         if j else "")):
            return
        qmp.cmd("block-job-set-speed", device="job0", speed=0)
        ev = qmp.wait_event(("BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED"), "job0")
        if not result(ev is not None and ev["event"] == "BLOCK_JOB_COMPLETED"
                      and "error" not in ev["data"]
                      and ev["data"]["offset"] == ev["data"]["len"],
                      "the backup completed without error"):
            comment(json.dumps(ev))
            return
    else:
        if not (j and j.get("ready")):
            ev = qmp.wait_event(("BLOCK_JOB_READY", "BLOCK_JOB_COMPLETED",
                                 "BLOCK_JOB_CANCELLED"), "job0")
            j = job_state(qmp, "job0")
        if not result(j is not None and j.get("ready"),
                      "the mirror is READY after the guest's I/O"):
            comment(json.dumps(j))
            return
        r = qmp.cmd("block-job-complete", device="job0")
        result("error" in r, "block-job-complete of the mirror of a zoned "
               "source is refused" + (": " + r["error"]["desc"] if "error" in r else ""))
        r = qmp.cmd("block-job-cancel", device="job0")
        ev = qmp.wait_event(("BLOCK_JOB_COMPLETED", "BLOCK_JOB_CANCELLED"), "job0") \
            if "return" in r else None
        if not result(ev is not None and ev["event"] == "BLOCK_JOB_COMPLETED"
                      and "error" not in ev["data"],
                      "block-job-cancel of the READY mirror ended it with "
                      "BLOCK_JOB_COMPLETED, no error"):
            comment(json.dumps(r) + " " + json.dumps(ev))
            return
    mailbox("done")
    return True


def after(mode):
    image, target, ref = paths()
    if not (os.path.exists(target) and os.path.exists(ref)):
        result(False, "the %s left a target and a reference to compare" % mode)
        return
    def compare(a, b, same, what):
        rc, out = img("compare", "-f", "qcow2", "-F", "qcow2", a, b)
        result(rc == (0 if same else 1), what)
        comment(out)

    if mode == "backup":
        compare(ref, target, True,
                "backup target identical to the disk at the job's start")
        compare(image, target, False, "the disk at the end differs from the "
                "backup (the guest rewrote zones during the job)")
    else:
        compare(image, target, True,
                "mirror target identical to the disk after QEMU exited")
        compare(image, ref, False, "the disk at the end differs from the disk "
                "at the job's start (the mirror copied the guest's writes)")

def main():
    mode, phase = sys.argv[1], sys.argv[2]
    if mode not in ("backup", "mirror"):
        sys.exit("job-hook.py: MODE is backup or mirror")
    try:
        if phase == "after":
            after(mode)
        elif not during(mode):
            mailbox("stop")  # the guest stops waiting: a step failed
    except Exception as e:  # pylint: disable=broad-except
        # (any failure of the hook is a result, and the guest must not wait)
        result(False, "%s hook (%s) ran: %s" % (mode, phase, e))
        if phase == "during":
            mailbox("stop")


if __name__ == "__main__":
    main()
