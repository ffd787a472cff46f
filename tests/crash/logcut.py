#!/usr/bin/python3
"""Build the image file a power cut could leave: a blklogwrites write log
(dm-log-writes format, see replay.py) applied to a copy of the image file
as it was before the run, up to and including its last flush.

    logcut.py INITIAL LOG OUT

Without a flush, a disk may have persisted none of the writes that
followed the last flush: this is the oldest state a power cut at the end
of the log can leave, and everything acknowledged before that flush must
be in it.  The result is padded with zeros to the size of INITIAL or
--size (file extensions are not in the log; see replay.py).  Prints what
it applied.
"""

import argparse
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import replay  # noqa: E402


def uncounted_writes(path, nr):
    """Write entries logged after the @nr entries the super block counts:
    blklogwrites updates the count at each flush (and every 4096 entries),
    so the writes after the last flush are in the file but not counted.
    Scans while the entry headers look valid."""
    with open(path, "rb") as f:
        d = f.read()
    _m, _v, _n, ss = struct.unpack_from("<QQQI", d, 0)
    sec = 1
    for i in range(nr):          # skip the counted entries
        _s, ns, fl, _dl = struct.unpack_from("<QQQQ", d, sec * ss)
        sec += 1 if fl & (replay.FLUSH | replay.DISCARD) else 1 + ns
    n = 0
    while (sec + 1) * ss <= len(d):
        _s, ns, fl, _dl = struct.unpack_from("<QQQQ", d, sec * ss)
        if fl & ~(replay.FLUSH | replay.FUA | replay.DISCARD | replay.MARK):
            break
        if fl & (replay.FLUSH | replay.DISCARD):
            sec += 1
            continue
        if ns == 0 or (sec + 1 + ns) * ss > len(d):
            break
        n += 1
        sec += 1 + ns
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("initial")
    ap.add_argument("log")
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=0,
                    help="pad the result to this many bytes (e.g. the size "
                    "of the image file after the run)")
    args = ap.parse_args()
    entries = replay.parse_log(args.log)
    flushes = [i for i, e in enumerate(entries) if e[0] == "f"]
    if not flushes:
        print("logcut: no flush in %s (%d entries)" % (args.log,
                                                       len(entries)))
        return 1
    last = flushes[-1]
    with open(args.initial, "rb") as f:
        img = bytearray(f.read())
    nw = 0
    for e in entries[:last + 1]:
        replay.apply(img, e)
        nw += e[0] == "w"
    if len(img) < args.size:
        img.extend(bytes(args.size - len(img)))
    with open(args.out, "wb") as f:
        f.write(img)
    dropped = sum(1 for e in entries[last + 1:] if e[0] == "w")
    dropped += uncounted_writes(args.log, len(entries))
    print("logcut: %d entries, %d flushes; applied %d writes up to the "
          "last flush (entry %d), dropped the %d writes after it" % (
              len(entries), len(flushes), nw, last, dropped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
