#!/usr/bin/python3
"""Compare the guest's `blkzone report` with qemu-io's `zone_report` (zrp).

Usage: zone-report-compare.py MODE GUEST_REPORT QEMU_IO_REPORT [NR_ZONES]

GUEST_REPORT is what `blkzone report DEV` printed in the guest (util-linux
2.38), QEMU_IO_REPORT what `qemu-io -r -f qcow2 -c "zrp 0 NR" IMAGE` printed
on the host after QEMU had exited.  Both print 512-byte sectors, in hex:

  blkzone: start: 0x000080000, len 0x020000, cap 0x018000, wptr 0x000010
           reset:0 non-seq:0, zcond: 2(oi) [type: 2(SEQ_WRITE_REQUIRED)]
           (start absolute, wptr relative to the zone start, 0 for a
           conventional zone)
  qemu-io: start: 0x80000, len 0x20000, cap 0x18000, wptr 0x80010,
           zcond:2, [type: 2]
           (start and wptr absolute; a conventional zone's wptr is its end)

Condition and type codes are the same in both (Linux BLK_ZONE_COND_* /
BLK_ZONE_TYPE_*, QEMU BLK_ZS_* / BLK_ZT_*: 0 not-wp, 1 empty, 2 implicitly
open, 3 explicitly open, 4 closed, 14 full; type 1 conventional, 2
sequential write required).

Zone by zone, these must be identical: the number of zones (and NR_ZONES
when given), start, length, capacity, type, and the write pointer, with two
representation rules:
  - a FULL zone: Linux's virtio-blk driver reports its write pointer as
    start + length (blkzone prints wptr = len) whatever the device says;
    qemu-io must report start + capacity (specification section 3: finish
    sets wp = start + capacity), so both are checked that way;
  - a conventional zone has no write pointer for Linux (blkzone prints 0):
    only its type and condition (not write pointer) are compared.

MODE says how the conditions relate:
  live  the guest report was taken in a running guest; qemu-io opened the
        image afterwards.  Open conditions live in memory (specification
        section 3): an implicitly or explicitly open zone is CLOSED at rest,
        or EMPTY when its write pointer is at the zone start.  Every other
        condition must be the same.
  rest  both reports describe the image at rest (qemu-io after QEMU exited,
        the guest report taken at the next boot before any zone command):
        conditions must be identical.

Prints TAP result lines without numbers ("ok - ..." / "not ok - ...") and
diagnostics ("# ..."); the caller numbers them.  Exit status 0 when every
result is ok, 1 otherwise, 2 on a usage error.
"""
import re
import sys

COND = {0: "nw", 1: "em", 2: "oi", 3: "oe", 4: "cl", 13: "ro", 14: "fu", 15: "ol"}

GUEST_RE = re.compile(
    r"start:\s*0x([0-9a-f]+),\s*len\s+0x([0-9a-f]+),\s*cap\s+0x([0-9a-f]+),"
    r"\s*wptr\s+0x([0-9a-f]+)\s.*zcond:\s*(\d+)\([a-z]+\)\s*\[type:\s*(\d+)\(")
QEMU_RE = re.compile(
    r"^start:\s*0x([0-9a-f]+),\s*len\s+0x([0-9a-f]+),\s*cap\s+0x([0-9a-f]+),"
    r"\s*wptr\s+0x([0-9a-f]+),\s*zcond:(\d+),\s*\[type:\s*(\d+)\]$")


def parse(path, regex, what):
    zones, bad = [], []
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if "start:" not in line:
                continue
            m = regex.search(line)
            if not m:
                bad.append(f"{what} line {n} unparsable: {line}")
                continue
            s, ln, cap, wp = (int(x, 16) for x in m.groups()[:4])
            zones.append(dict(start=s, len=ln, cap=cap, wp=wp,
                              cond=int(m.group(5)), type=int(m.group(6))))
    return zones, bad


def cname(c):
    return f"{c}({COND.get(c, '?')})"


def main(argv):
    if len(argv) not in (4, 5) or argv[1] not in ("live", "rest"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    mode, gpath, qpath = argv[1:4]
    want_nr = int(argv[4]) if len(argv) == 5 and argv[4] else None
    guest, gbad = parse(gpath, GUEST_RE, "guest report")
    qemu, qbad = parse(qpath, QEMU_RE, "qemu-io report")
    results = []  # (ok, description, [diagnostics])

    def result(desc, problems):
        results.append((not problems, desc, problems))

    # number of zones
    probs = gbad + qbad
    if len(guest) != len(qemu):
        probs.append(f"guest reports {len(guest)} zones, qemu-io {len(qemu)}")
    if want_nr is not None and len(qemu) != want_nr:
        probs.append(f"the image has {want_nr} zones, qemu-io reports {len(qemu)}")
    if not guest or not qemu:
        probs.append("a report is empty")
    result(f"number of zones (guest {len(guest)}, qemu-io {len(qemu)}"
           + (f", image {want_nr})" if want_nr is not None else ")"), probs)

    pairs = list(enumerate(zip(guest, qemu)))

    def field(desc, check):
        probs = []
        for i, (g, q) in pairs:
            p = check(g, q)
            if p:
                probs.append(f"zone {i}: {p}")
        if not pairs:
            probs.append("no zones to compare")
        result(desc, probs)

    field("start and length of every zone",
          lambda g, q: None if (g["start"], g["len"]) == (q["start"], q["len"]) else
          f"guest start 0x{g['start']:x} len 0x{g['len']:x}, "
          f"qemu-io start 0x{q['start']:x} len 0x{q['len']:x}")
    field("capacity of every zone",
          lambda g, q: None if g["cap"] == q["cap"] else
          f"guest cap 0x{g['cap']:x}, qemu-io cap 0x{q['cap']:x}")
    field("type of every zone",
          lambda g, q: None if g["type"] == q["type"] else
          f"guest type {g['type']}, qemu-io type {q['type']}")

    def wp(g, q):
        if g["type"] == 1 or q["type"] == 1:
            return None  # no write pointer for Linux; the type check covers it
        if g["cond"] == 14 or q["cond"] == 14:
            probs = []
            if g["wptr_abs"] != g["start"] + g["len"]:
                probs.append(f"guest: full zone with wp 0x{g['wptr_abs']:x}, "
                             f"Linux reports start + len 0x{g['start'] + g['len']:x}")
            if q["wp"] != q["start"] + q["cap"]:
                probs.append(f"qemu-io: full zone with wp 0x{q['wp']:x}, "
                             f"not start + cap 0x{q['start'] + q['cap']:x}")
            if g["cond"] != q["cond"]:
                probs.append(f"full on one side only (guest {cname(g['cond'])}, "
                             f"qemu-io {cname(q['cond'])})")
            return "; ".join(probs) or None
        if g["wptr_abs"] != q["wp"]:
            return (f"guest wp 0x{g['wptr_abs']:x} (start + 0x{g['wp']:x}), "
                    f"qemu-io wp 0x{q['wp']:x} (start + 0x{q['wp'] - q['start']:x})")
        return None

    for g in guest:
        g["wptr_abs"] = g["start"] + g["wp"]
    field("write pointer of every sequential zone (full zone: Linux "
          "start+len, qemu-io start+cap)", wp)

    def cond(g, q):
        exp = g["cond"]
        if mode == "live" and exp in (2, 3):
            exp = 4 if g["wp"] > 0 else 1
        if q["cond"] == exp:
            return None
        how = "" if exp == g["cond"] else f", i.e. {cname(exp)} at rest"
        return f"guest {cname(g['cond'])}{how}, qemu-io {cname(q['cond'])}"
    field("condition of every zone" +
          (" (open in the guest = closed, or empty at wp 0, at rest)"
           if mode == "live" else " (identical)"), cond)

    ok_all = True
    for ok, desc, probs in results:
        print(f"{'ok' if ok else 'not ok'} - zone report {mode}: {desc}")
        ok_all &= ok
        for p in probs[:12]:
            print(f"#   {p}")
        if len(probs) > 12:
            print(f"#   ... {len(probs) - 12} more")
    return 0 if ok_all else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
