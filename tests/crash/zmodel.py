"""Workload model and invariant checker shared by zoned-crash.py and replay.py.

A seeded workload is a list of qemu-io commands on a zoned image:
concurrent aio_writes at the write pointers of several sequential zones,
synchronous writes whose every 512-byte sector says which (iteration, zone,
generation, write, offset) it belongs to, zone appends (zap -p), finishes
(zf), resets (zrs), flushes, and writes to the conventional zone.  "Marker"
writes (sync writes of a block that names the command index) go to the
first 64 KiB of conventional zone 0; in a write log they show how far the
workload had got.

Content that identifies its write: aio_write (qemu-io can only fill it with
one byte) uses a pattern byte that is unique per write within an iteration
(never 0x00, never 0xcd); zap data is always 0xcd; sync writes carry a full
header in every sector.  Every write is planned exactly at the planned
write pointer and within the capacity, and no zone limits are configured,
so in a correct implementation no command fails; any error is reported.

The checker gets what is left after a crash -- the stored write pointers
(read from the write-pointer table in the image file), the disk content as
the qcow2 driver returns it, the bounds "commands known completed" and
"commands possibly issued", and the acknowledgements seen -- and checks:

 1. every stored write pointer lies in [zone start, zone start + capacity];
 2. there is a generation g of the zone (the generation changes at each
    reset), between the last reset made durable by a completed flush and
    the last reset possibly issued, such that
      - the stored write pointer does not cover more than what gen g's
        issued writes wrote,
      - it covers every write of gen g acknowledged before a completed flush
        (and a finish of gen g completed before a completed flush),
      - every sector below it is exactly the data written there in gen g:
        a reset in flight leaves the zone either as it was or reset, never
        its old write pointer over zeros (docs/interop/qcow2.rst, "Write
        pointer updates");
 3. every byte at or above the stored write pointer, up to the zone's end,
    reads as zeros;
 4. in the conventional zone, each 4 KiB block holds the content of a write
    issued at that block (or its initial content, or zeros), and not older
    than the last write acknowledged before a completed flush.
"""

import os
import random
import re
import struct

KiB, MiB = 1 << 10, 1 << 20
APPEND_BYTE = 0xCD
MARKER_AREA = 64 * KiB          # first 64 KiB of zone 0: markers
BLOCK = 4 * KiB

# Geometries: the first zone is conventional (markers + random writes)
GEOMETRIES = [
    {"name": "64k-clusters", "size": 8 * MiB, "zone": 1 * MiB,
     "cap": 1 * MiB, "conv": 1, "max_append": 16 * KiB, "opts": ""},
    # tight limits: writes to 3 zones through 2 open slots, so implicit
    # closes (least recently used) happen all the time, around the crash
    # too; the workload writes only to the first 3 sequential zones (the
    # active limit is reached, never exceeded) and opens no zone explicitly
    {"name": "open2-active3", "size": 8 * MiB, "zone": 1 * MiB,
     "cap": 1 * MiB, "conv": 1, "max_append": 16 * KiB, "opts": "",
     "max_open": 2, "max_active": 3},
    {"name": "cap<size,short-last-zone", "size": 7680 * KiB, "zone": 1 * MiB,
     "cap": 768 * KiB, "conv": 1, "max_append": 32 * KiB, "opts": ""},
    # one open slot, no active limit: every write to another zone than the
    # last one written implicitly closes that one
    {"name": "open1,4k-clusters", "size": 4352 * KiB, "zone": 512 * KiB,
     "cap": 384 * KiB, "conv": 1, "max_append": 8 * KiB,
     "opts": "cluster_size=4k", "max_open": 1, "max_active": 0},
    {"name": "4k-clusters", "size": 4352 * KiB, "zone": 512 * KiB,
     "cap": 384 * KiB, "conv": 1, "max_append": 8 * KiB,
     "opts": "cluster_size=4k"},
    {"name": "extended-l2", "size": 6 * MiB, "zone": 1 * MiB,
     "cap": 960 * KiB, "conv": 1, "max_append": 16 * KiB,
     "opts": "extended_l2=on"},
    # dirty after a crash: the read-write open repairs the refcounts
    {"name": "lazy-refcounts", "size": 6 * MiB, "zone": 1 * MiB,
     "cap": 1 * MiB, "conv": 1, "max_append": 16 * KiB,
     "opts": "lazy_refcounts=on"},
]


def is_lazy(geo):
    return "lazy_refcounts=on" in geo["opts"]


def zones_of(geo):
    out = []
    start = 0
    i = 0
    while start < geo["size"]:
        length = min(geo["zone"], geo["size"] - start)
        out.append((start, length, min(geo["cap"], length), i < geo["conv"]))
        start += geo["zone"]
        i += 1
    return out


def create_opts(geo):
    o = ("size=%d,zone.mode=host-managed,zone.size=%d,zone.capacity=%d,"
         "zone.conventional_zones=%d,zone.max_append_bytes=%d" % (
             geo["size"], geo["zone"], geo["cap"], geo["conv"],
             geo["max_append"]))
    if geo.get("max_open") or geo.get("max_active"):
        o += ",zone.max_open_zones=%d,zone.max_active_zones=%d" % (
            geo.get("max_open", 0), geo.get("max_active", 0))
    return o + ("," + geo["opts"] if geo["opts"] else "")


def sector_header(iteration, zone, gen, serial, offset):
    h = b"ZQCT" + struct.pack(">IIIIQ", iteration, zone, gen, serial, offset)
    return h + bytes([serial & 0xFF]) * (512 - len(h))


def describe_sector(data):
    """Human-readable content of a 512-byte sector."""
    if data == bytes(len(data)):
        return "zeros"
    if data[:4] == b"ZQCT":
        it, z, g, s, o = struct.unpack(">IIIIQ", data[4:28])
        return "sync write #%d (iteration %d, zone %d, gen %d, offset %#x)" % (
            s, it, z, g, o)
    if data[:7] == b"ZQMARK ":
        return "marker %r" % data[:24]
    if data == bytes([data[0]]) * len(data):
        return "pattern 0x%02x%s" % (data[0], " (append)"
                                     if data[0] == APPEND_BYTE else "")
    return "mixed bytes %s..." % data[:16].hex()


class Cmd:
    def __init__(self, kind, text, zone=None, gen=None, offset=None,
                 length=0, data=None, pattern=None):
        self.kind = kind            # aio_write write zap zf zrs flush ...
        self.text = text
        self.zone = zone
        self.gen = gen
        self.offset = offset        # absolute
        self.length = length
        self.data = data            # bytes written (None: not a write)
        self.pattern = pattern
        self.file = None


class ZoneModel:
    """Planned state of a sequential zone: one entry per generation."""

    def __init__(self, idx, start, length, cap, init_wp, init_data):
        self.idx, self.start, self.length, self.cap = idx, start, length, cap
        # expected content of each generation, relative to the zone start
        self.gens = [bytearray(cap)]
        self.gens[0][:len(init_data)] = init_data
        self.gen_init_wp = [init_wp - start]
        self.ops = [[]]             # per gen: (cmd index, relative end)
        self.resets = []            # cmd indexes of the resets
        self.wp = init_wp - start   # planned, relative
        self.full = self.wp == cap


class Workload:
    """A seeded command script for one iteration."""

    def __init__(self, rng, geo, iteration, state, n_cmds=60, markers=True):
        self.geo = geo
        self.iteration = iteration
        self.zones = zones_of(geo)
        self.cmds = []
        self.models = {}
        pat = [0]
        for i, (start, length, cap, conv) in enumerate(self.zones):
            if conv:
                continue
            wp, data = state.get(i, (start, b""))
            self.models[i] = ZoneModel(i, start, length, cap, wp, data)
        self.conv_init = state.get("conv", b"")
        serial = [0]

        def next_pattern():
            while True:
                pat[0] += 1
                p = pat[0] % 256
                assert pat[0] < 256, "too many aio writes for unique patterns"
                if p not in (0, APPEND_BYTE):
                    return p

        def rich(zone, gen, off, length):
            serial[0] += 1
            return b"".join(sector_header(iteration, zone, gen, serial[0],
                                          off + k)
                            for k in range(0, length, 512))

        seq = sorted(self.models)
        if geo.get("max_active"):
            # never more active zones than the limit (chained iterations
            # leave their zones closed)
            seq = seq[:geo["max_active"]]
            active = rng.sample(seq, min(len(seq), rng.choice([2, 3])))
        else:
            active = rng.sample(seq, min(len(seq), rng.choice([2, 3, 4])))
        conv_start, conv_len = self.zones[0][0], self.zones[0][1]
        n_marker = 0
        for n in range(n_cmds):
            if markers and (n % 8 == 0 or (self.cmds and
                                           self.cmds[-1].kind == "flush")):
                data = (b"ZQMARK %08d %08d " % (iteration, len(self.cmds)))
                data = data + bytes(BLOCK - len(data))
                off = conv_start + (n_marker % (MARKER_AREA // BLOCK)) * BLOCK
                n_marker += 1
                self.cmds.append(Cmd("marker", "write -s %%s %d %d" % (
                    off, BLOCK), zone=0, offset=off, length=BLOCK, data=data))
            r = rng.random()
            z = self.models[rng.choice(active)]
            room = z.cap - z.wp
            if r < 0.40 and room > 0:
                ln = min(room, BLOCK * rng.randint(1, 4))
                off = z.start + z.wp
                if rng.random() < 0.7:
                    p = next_pattern()
                    c = Cmd("aio_write", "aio_write -P %d %d %d" % (p, off, ln),
                            zone=z.idx, gen=len(z.gens) - 1, offset=off,
                            length=ln, data=bytes([p]) * ln, pattern=p)
                else:
                    d = rich(z.idx, len(z.gens) - 1, off, ln)
                    c = Cmd("write", "write -s %%s %d %d" % (off, ln),
                            zone=z.idx, gen=len(z.gens) - 1, offset=off,
                            length=ln, data=d)
                self._plan_write(z, c)
            elif r < 0.52 and room > 0:
                ln = min(room, geo["max_append"],
                         BLOCK * rng.randint(1, 4))
                off = z.start + z.wp
                c = Cmd("zap", "zap -p %d %d" % (z.start, ln), zone=z.idx,
                        gen=len(z.gens) - 1, offset=off, length=ln,
                        data=bytes([APPEND_BYTE]) * ln)
                self._plan_write(z, c)
            elif r < 0.58 and not z.full:
                c = Cmd("zf", "zf %d %d" % (z.start, z.length), zone=z.idx,
                        gen=len(z.gens) - 1, offset=z.start + z.wp,
                        length=z.cap - z.wp)
                # the rest of the capacity reads as zeros: already zero in
                # the expected content
                self.cmds.append(c)
                z.ops[-1].append((len(self.cmds) - 1, z.cap))
                z.wp = z.cap
                z.full = True
            elif r < 0.66 or (room == 0 and r < 0.8):
                c = Cmd("zrs", "zrs %d %d" % (z.start, z.length), zone=z.idx)
                self.cmds.append(c)
                self._plan_reset(z, len(self.cmds) - 1)
            elif r < 0.70:
                if rng.random() < 0.5:
                    # reset all: every sequential zone, conventional ones
                    # are skipped
                    c = Cmd("zrs_all", "zrs 0 %d" % geo["size"])
                    self.cmds.append(c)
                    for zm in self.models.values():
                        self._plan_reset(zm, len(self.cmds) - 1)
                else:
                    # open/close: no data change
                    # (with an open limit, explicit opens could take every
                    # slot and make the next write fail: no zo there)
                    op = rng.choice(["zc"] if geo.get("max_open")
                                    else ["zo", "zc"])
                    self.cmds.append(Cmd(op, "%s %d %d" % (op, z.start,
                                                           z.length)))
            elif r < 0.78:
                self.cmds.append(Cmd("flush", "flush"))
            elif r < 0.82:
                self.cmds.append(Cmd("aio_flush", "aio_flush"))
            elif r < 0.86:
                self.cmds.append(Cmd("sleep", "sleep %d" % rng.randint(1, 3)))
            else:
                # conventional zone: 4 KiB aligned, outside the marker area
                nblk = (conv_len - MARKER_AREA) // BLOCK
                b = rng.randrange(nblk)
                ln = BLOCK * min(rng.randint(1, 4), nblk - b)
                off = conv_start + MARKER_AREA + b * BLOCK
                if rng.random() < 0.6:
                    p = next_pattern()
                    c = Cmd("conv_write", "aio_write -P %d %d %d" % (p, off, ln),
                            zone=0, offset=off, length=ln,
                            data=bytes([p]) * ln, pattern=p)
                else:
                    c = Cmd("conv_write", "write -s %%s %d %d" % (off, ln),
                            zone=0, offset=off, length=ln,
                            data=rich(0, 0, off, ln))
                self.cmds.append(c)

    def _plan_reset(self, z, idx):
        z.resets.append(idx)
        z.gens.append(bytearray(z.cap))
        z.gen_init_wp.append(0)
        z.ops.append([])
        z.wp = 0
        z.full = False

    def _plan_write(self, z, c):
        rel = c.offset - z.start
        assert rel == z.wp and rel + c.length <= z.cap
        z.gens[-1][rel:rel + c.length] = c.data
        self.cmds.append(c)
        z.ops[-1].append((len(self.cmds) - 1, rel + c.length))
        z.wp = rel + c.length
        z.full = z.wp == z.cap

    def write_files(self, d):
        """Write the data files of the sync writes; returns the script."""
        lines = []
        for i, c in enumerate(self.cmds):
            if "%s" in c.text:
                c.file = os.path.join(d, "w%03d.bin" % i)
                with open(c.file, "wb") as f:
                    f.write(c.data)
                lines.append(c.text % c.file)
            else:
                lines.append(c.text)
        return lines


# ---------------------------------------------------------------------------
# qemu-io output
# ---------------------------------------------------------------------------

WROTE_RE = re.compile(r"^wrote (\d+)/(\d+) bytes at offset (\d+)$", re.M)
ZAP_RE = re.compile(r"^After zap done, the append sector is 0x([0-9a-f]+)$",
                    re.M)
PROMPT = "qemu-io> "


class Progress:
    """What qemu-io's output says about a run of a workload.

    completed: commands [0, completed) returned (their prompt followed);
    issued:    commands [0, issued) may have started;
    ack[i]:    for a write/append command i, the index of the command during
               or after which its completion was printed (sync commands:
               their own index); missing if not seen.
    errors:    unexpected error lines.
    """

    def __init__(self, wl, stdout, stderr, all_done=False):
        parts = stdout.split(PROMPT)
        nprompts = len(parts) - 1
        n = len(wl.cmds)
        self.completed = max(0, min(n, nprompts - 1))
        self.issued = min(n, max(0, nprompts))
        if all_done:
            self.completed = self.issued = n
        self.ack = {}
        self.errors = []
        self.zap_landed = {}
        pending = [i for i, c in enumerate(wl.cmds)
                   if c.kind in ("aio_write", "conv_write")
                   and c.text.startswith("aio_write")]
        for j in range(1, len(parts)):
            ci = j - 1                       # command run after prompt j
            text = parts[j]
            complete = j < len(parts) - 1 or all_done
            lines = text.split("\n")
            if not complete:
                lines = lines[:-1]           # the last line may be cut
            body = "\n".join(lines)
            for m in WROTE_RE.finditer(body):
                ln, off = int(m.group(1)), int(m.group(3))
                if ci < n and wl.cmds[ci].text.startswith(("write", "zap")) \
                        and wl.cmds[ci].offset == off \
                        and wl.cmds[ci].length == ln and ci not in self.ack:
                    self.ack[ci] = ci
                    continue
                for i in pending:
                    c = wl.cmds[i]
                    if i <= ci and c.offset == off and c.length == ln \
                            and i not in self.ack:
                        self.ack[i] = ci
                        break
                else:
                    self.errors.append("unmatched completion %r after "
                                       "command %d" % (m.group(0), ci))
            for m in ZAP_RE.finditer(body):
                if ci < n and wl.cmds[ci].kind == "zap":
                    self.ack[ci] = ci
                    self.zap_landed[ci] = int(m.group(1), 16) * 512
            for line in lines:
                if "failed" in line or "error" in line.lower() or \
                        "Invalid" in line:
                    self.errors.append("after command %d (%s): %s" % (
                        ci, wl.cmds[ci].text if ci < n else "end", line))
        for ci, landed in self.zap_landed.items():
            if landed != wl.cmds[ci].offset:
                self.errors.append("zap %d landed at %#x, planned %#x" % (
                    ci, landed, wl.cmds[ci].offset))
        for line in stderr.splitlines():
            if line.strip() and "WARNING: ASan" not in line and \
                    "False positive" not in line and "sanitizers/issues" \
                    not in line:
                self.errors.append("stderr: %s" % line)


# ---------------------------------------------------------------------------
# The checker
# ---------------------------------------------------------------------------

def completed_flushes(wl, completed):
    return [i for i, c in enumerate(wl.cmds[:completed]) if c.kind == "flush"]


def check(wl, prog, raw, stored, reported=None, stats=None):
    """Check the invariants; returns (number of checks, list of failures).

    raw: the virtual disk as read through the qcow2 driver (bytes);
    stored: raw 64-bit entries of the write-pointer table in the file;
    reported: write pointers from a zone report after reopening, or None.
    """
    checks = 0
    fails = []
    flushes = completed_flushes(wl, prog.completed)
    last_flush = flushes[-1] if flushes else -1

    def acked_before(i, f):
        a = prog.ack.get(i)
        if wl.cmds[i].kind in ("zf", "zrs", "zrs_all"):
            return i < f            # synchronous
        return a is not None and a < f

    for zi, (start, length, cap, conv) in enumerate(wl.zones):
        e = stored[zi]
        checks += 1
        if conv:
            if e != (start | (1 << 59)):
                fails.append("zone %d: conventional entry %#x" % (zi, e))
            continue
        if e >> 59 != 0:
            fails.append("zone %d: entry %#x has flag bits" % (zi, e))
            continue
        W = e & ((1 << 59) - 1)
        if not start <= W <= start + cap:
            fails.append("zone %d: stored write pointer %#x outside [%#x, "
                         "%#x]" % (zi, W, start, start + cap))
            continue
        rel = W - start
        if reported is not None:
            checks += 1
            if reported[zi] != W:
                fails.append("zone %d: zone report says wp %#x, the table "
                             "%#x" % (zi, reported[zi], W))
        # 3. at and above the write pointer: zeros
        checks += 1
        tail = raw[W:start + length]
        if tail != bytes(len(tail)):
            k = next(i for i, b in enumerate(tail) if b)
            fails.append("zone %d: byte %#x at/above the write pointer %#x "
                         "is not zero (%s)" % (
                             zi, W + k, W,
                             describe_sector(raw[(W + k) & ~511:
                                                 ((W + k) & ~511) + 512])))
        # 2. generations
        z = wl.models[zi]
        g_hi = sum(1 for r in z.resets if r < prog.issued)
        g_lo = sum(1 for r in z.resets if r < last_flush)
        data = raw[start:W]
        why = []
        ok = False
        # The data below the stored write pointer must be exactly that of
        # one generation: a reset in flight may leave the zone as it was or
        # reset, never its old write pointer over zeros (spec section 4)
        for g in range(g_lo, g_hi + 1):
            ops = [(i, end) for i, end in z.ops[g] if i < prog.issued]
            limit = max([z.gen_init_wp[g]] + [end for _, end in ops])
            if rel > limit:
                why.append("gen %d: wp beyond the %#x bytes issued"
                           % (g, limit))
                continue
            req = z.gen_init_wp[g]
            for i, end in z.ops[g]:
                if any(acked_before(i, f) for f in flushes):
                    req = max(req, end)
            if rel < req:
                why.append("gen %d: wp below %#x, acknowledged "
                           "before a completed flush" % (g, req))
                continue
            exp = bytes(z.gens[g][:rel])
            if data == exp:
                ok = True
                if stats is not None:
                    stats["zones with data"] += rel > 0
                    stats["zones with flushed data"] += req > 0
                    stats["zones in an older generation"] += g < g_hi
                break
            torn = g < g_hi and all(
                data[s_:s_ + 512] == exp[s_:s_ + 512] or
                data[s_:s_ + 512] == bytes(len(data[s_:s_ + 512]))
                for s_ in range(0, rel, 512))
            for s_ in range(0, rel, 512):
                if data[s_:s_ + 512] != exp[s_:s_ + 512]:
                    why.append("gen %d: sector %#x holds %s, expected %s%s" % (
                        g, start + s_, describe_sector(data[s_:s_ + 512]),
                        describe_sector(exp[s_:s_ + 512]),
                        " (a torn reset: the old write pointer over "
                        "zeros)" if torn else ""))
                    break
        checks += 1
        if not ok:
            fails.append("zone %d: stored wp %#x (+%#x) fits no generation "
                         "in [%d, %d]: %s" % (zi, W, rel, g_lo, g_hi,
                                              "; ".join(why)))
    # 4. the conventional zone, per 4 KiB block
    start, length = wl.zones[0][0], wl.zones[0][1]
    writes = [(i, c) for i, c in enumerate(wl.cmds[:prog.issued])
              if c.kind == "conv_write"]
    for b in range(start + MARKER_AREA, start + length, BLOCK):
        cands = []          # (cmd index, content); -1 = initial content
        init = wl.conv_init[b:b + BLOCK] if len(wl.conv_init) >= b + BLOCK \
            else bytes(BLOCK)
        cands.append((-1, init))
        for i, c in writes:
            if c.offset <= b < c.offset + c.length:
                cands.append((i, c.data[b - c.offset:b - c.offset + BLOCK]))
        req = -1
        for i, _ in cands[1:]:
            if any(acked_before(i, f) for f in flushes):
                req = i

        def allowed(i):
            # a write issued before @req is still possible if it had not
            # completed when @req was issued (overlapping writes in flight
            # complete in any order)
            if i >= req:
                return True
            a = prog.ack.get(i)
            return i >= 0 and (a is None or a >= req)
        got = raw[b:b + BLOCK]
        checks += 1
        if not any(allowed(i) and got == d for i, d in cands) and \
                not (req == -1 and got == bytes(BLOCK)):
            fails.append("conventional block %#x holds %s; issued there: %s "
                         "(must be at least command %d)" % (
                             b, describe_sector(got[:512]),
                             ", ".join("%d" % i for i, _ in cands), req))
    return checks, fails


def next_state(wl, raw, stored):
    """The initial state of the next iteration on the same image."""
    st = {}
    for zi, (start, length, cap, conv) in enumerate(wl.zones):
        if conv:
            continue
        W = stored[zi] & ((1 << 59) - 1)
        st[zi] = (W, bytes(raw[start:W]))
    st["conv"] = bytes(raw[:wl.zones[0][1]])
    return st


def parse_report(text, nzones):
    """Write pointers (bytes) from qemu-io's zone report."""
    wps = []
    for m in re.finditer(r"start: 0x([0-9a-f]+), len 0x[0-9a-f]+, cap "
                         r"0x[0-9a-f]+, wptr 0x([0-9a-f]+)", text):
        wps.append(int(m.group(2), 16) * 512)
    return wps if len(wps) == nzones else None


def make_rng(tag, seed, iteration):
    return random.Random("%s:%d:%d" % (tag, seed, iteration))


def self_test(wl, prog, raw, stored, rng):
    """Make sure the checker can fail: corrupt one sector below a stored
    write pointer, and one conventional block, in copies of @raw.
    Returns (tests, detected)."""
    tests = detected = 0
    cands = [zi for zi, (start, length, cap, conv) in enumerate(wl.zones)
             if not conv and (stored[zi] & ((1 << 59) - 1)) - start >= 512]
    if cands:
        zi = rng.choice(cands)
        start = wl.zones[zi][0]
        W = stored[zi] & ((1 << 59) - 1)
        pos = start + rng.randrange((W - start) // 512) * 512 + 100
        bad = bytearray(raw)
        bad[pos] ^= 0x40
        tests += 1
        detected += bool(check(wl, prog, bytes(bad), stored)[1])
    b = wl.zones[0][0] + MARKER_AREA + rng.randrange(
        (wl.zones[0][1] - MARKER_AREA) // BLOCK) * BLOCK
    bad = bytearray(raw)
    bad[b + 7] ^= 0x01
    tests += 1
    detected += bool(check(wl, prog, bytes(bad), stored)[1])
    return tests, detected
