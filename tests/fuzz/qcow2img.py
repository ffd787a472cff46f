"""Minimal reader for the parts of a qcow2 image that the zoned tests touch.

Python 3 standard library only.  Shared by tests/fuzz/zoned-fuzz.py and
tests/crash/*.py.  Everything is big-endian, as in docs/interop/qcow2.rst.

The parser is deliberately independent of QEMU: it reads the header, the
header extensions, the zoned format extension (type 0x007a6264) and its
write-pointer table, the refcount table/blocks and the L1/L2 tables, and
returns byte offsets into the file so that a fuzzer can mutate exactly one
field.
"""

import fcntl
import os
import struct

QCOW2_MAGIC = b"QFI\xfb"
EXT_ZONED = 0x007A6264
EXT_END = 0
INCOMPAT_ZONED_BIT = 5

WP_MASK = (1 << 59) - 1
WP_CONV = 1 << 59
# bit 60: the zone was explicitly open at a handover (live migration);
# valid on a sequential zone that is not full
WP_HANDOVER = 1 << 60
WP_RESERVED = ((1 << 64) - 1) & ~((1 << 61) - 1)

# Offsets of the header fields (version 3 header)
HDR = {
    "magic": (0, 4),
    "version": (4, 4),
    "backing_file_offset": (8, 8),
    "backing_file_size": (16, 4),
    "cluster_bits": (20, 4),
    "size": (24, 8),
    "crypt_method": (32, 4),
    "l1_size": (36, 4),
    "l1_table_offset": (40, 8),
    "refcount_table_offset": (48, 8),
    "refcount_table_clusters": (56, 4),
    "nb_snapshots": (60, 4),
    "snapshots_offset": (64, 8),
    "incompatible_features": (72, 8),
    "compatible_features": (80, 8),
    "autoclear_features": (88, 8),
    "refcount_order": (96, 4),
    "header_length": (100, 4),
}

# Zoned extension fields: name -> (offset in the extension data, width)
ZONED_FIELDS = {
    "zoned_model": (0, 1),
    "reserved1": (1, 1),
    "reserved2": (2, 1),
    "reserved3": (3, 1),
    "nr_zones": (4, 4),
    "zone_size": (8, 8),
    "zone_capacity": (16, 8),
    "conventional_zones": (24, 4),
    "max_active_zones": (28, 4),
    "max_open_zones": (32, 4),
    "max_append_bytes": (36, 4),
    "zonedmeta_offset": (40, 8),
}
ZONED_EXT_LEN = 48

_FMT = {1: ">B", 2: ">H", 4: ">I", 8: ">Q"}


def get_uint(buf, off, width):
    return struct.unpack_from(_FMT[width], buf, off)[0]


def put_uint(buf, off, width, value):
    struct.pack_into(_FMT[width], buf, off, value & ((1 << (8 * width)) - 1))


class Qcow2Error(Exception):
    pass


class Image:
    """A parsed view of a qcow2 image held in memory (bytes/bytearray)."""

    def __init__(self, data):
        self.data = data
        if len(data) < 104 or bytes(data[0:4]) != QCOW2_MAGIC:
            raise Qcow2Error("not a qcow2 image")
        self.h = {k: get_uint(data, o, w) for k, (o, w) in HDR.items()
                  if k != "magic"}
        if self.h["version"] < 3:
            # version 2: a 72-byte header without feature bits
            self.h["header_length"] = 72
            self.h["refcount_order"] = 4
            for k in ("incompatible_features", "compatible_features",
                      "autoclear_features"):
                self.h[k] = 0
        self.cluster_size = 1 << self.h["cluster_bits"]
        self.refcount_bits = 1 << self.h["refcount_order"]
        self.exts = []          # (type, offset of the type field, len)
        # Offset of the zoned extension *data*.  QEMU reads every
        # extension in turn, so with duplicates the last one wins.
        self.zoned_ext_off = None
        self.zoned_ext_count = 0
        self._parse_exts()

    # --- header extensions ------------------------------------------------
    def _parse_exts(self):
        off = self.h["header_length"]
        end = min(len(self.data), self.cluster_size)
        while off + 8 <= end:
            typ = get_uint(self.data, off, 4)
            ln = get_uint(self.data, off + 4, 4)
            self.exts.append((typ, off, ln))
            if typ == EXT_END:
                break
            if typ == EXT_ZONED:
                self.zoned_ext_off = off + 8
                self.zoned_ext_count += 1
            off += 8 + ((ln + 7) & ~7)

    @property
    def zoned(self):
        """The zoned extension's fields, or None."""
        if self.zoned_ext_off is None:
            return None
        o = self.zoned_ext_off
        if o + ZONED_EXT_LEN > len(self.data):
            return None
        return {k: get_uint(self.data, o + fo, w)
                for k, (fo, w) in ZONED_FIELDS.items()}

    def zoned_field_offset(self, name):
        return self.zoned_ext_off + ZONED_FIELDS[name][0]

    # --- zone geometry and write-pointer table ----------------------------
    def zone_geometry(self):
        """List of (start, length, capacity, conventional) per zone."""
        z = self.zoned
        size = self.h["size"]
        zs, cap = z["zone_size"], z["zone_capacity"]
        zones = []
        for i in range(z["nr_zones"]):
            start = i * zs
            length = min(zs, size - start)
            zones.append((start, length, min(cap, length),
                          i < z["conventional_zones"]))
        return zones

    def wp_table_offset(self):
        return self.zoned["zonedmeta_offset"]

    def wp_entries(self):
        z = self.zoned
        off = z["zonedmeta_offset"]
        return [get_uint(self.data, off + 8 * i, 8)
                for i in range(z["nr_zones"])]

    def table_clusters(self):
        """Host offsets of the clusters of the write-pointer table."""
        z = self.zoned
        n = -(-z["nr_zones"] * 8 // self.cluster_size)
        return [z["zonedmeta_offset"] + i * self.cluster_size
                for i in range(n)]

    # --- refcounts --------------------------------------------------------
    def refcount_entry(self, host_offset):
        """(file offset of the refcount block, bit index) for a cluster, or
        None when the refcount block is not allocated."""
        cs = self.cluster_size
        cluster = host_offset // cs
        entries_per_block = cs * 8 // self.refcount_bits
        rt_index = cluster // entries_per_block
        rt = self.h["refcount_table_offset"]
        rt_len = self.h["refcount_table_clusters"] * cs // 8
        if rt_index >= rt_len or rt + 8 * rt_index + 8 > len(self.data):
            return None
        block = get_uint(self.data, rt + 8 * rt_index, 8) & ~(cs - 1) \
            & ((1 << 56) - 1)
        if block == 0 or block + cs > len(self.data):
            return None
        return block, cluster % entries_per_block

    def refcount_table_entry_offset(self, host_offset):
        cs = self.cluster_size
        entries_per_block = cs * 8 // self.refcount_bits
        return self.h["refcount_table_offset"] + \
            8 * (host_offset // cs // entries_per_block)

    def get_refcount(self, host_offset):
        e = self.refcount_entry(host_offset)
        if e is None:
            return None
        block, idx = e
        bits = self.refcount_bits
        if bits >= 8:
            return get_uint(self.data, block + idx * bits // 8, bits // 8)
        byte = self.data[block + idx * bits // 8]
        shift = (idx * bits) % 8
        return (byte >> shift) & ((1 << bits) - 1)

    def set_refcount(self, host_offset, value):
        e = self.refcount_entry(host_offset)
        if e is None:
            return False
        block, idx = e
        bits = self.refcount_bits
        value &= (1 << bits) - 1
        if bits >= 8:
            put_uint(self.data, block + idx * bits // 8, bits // 8, value)
        else:
            p = block + idx * bits // 8
            shift = (idx * bits) % 8
            mask = ((1 << bits) - 1) << shift
            self.data[p] = (self.data[p] & ~mask) | (value << shift)
        return True

    # --- L1/L2 ------------------------------------------------------------
    def l1_entries(self):
        """List of (file offset of the entry, value)."""
        off = self.h["l1_table_offset"]
        out = []
        for i in range(self.h["l1_size"]):
            p = off + 8 * i
            if p + 8 > len(self.data):
                break
            out.append((p, get_uint(self.data, p, 8)))
        return out

    def l2_tables(self):
        """Host offsets of the allocated L2 tables."""
        cs = self.cluster_size
        res = []
        for _, v in self.l1_entries():
            t = v & ((1 << 56) - 1) & ~511
            if t and t + cs <= len(self.data):
                res.append(t)
        return res

    def l2_entry_size(self):
        return 16 if self.h["incompatible_features"] & (1 << 4) else 8

    def l2_entries(self):
        """List of (file offset, value) of the non-zero L2 entries."""
        out = []
        es = self.l2_entry_size()
        for t in self.l2_tables():
            for i in range(self.cluster_size // es):
                p = t + es * i
                v = get_uint(self.data, p, 8)
                if v:
                    out.append((p, v))
        return out

    def data_clusters(self):
        """Host offsets of the allocated (non-compressed) data clusters."""
        res = []
        for _, v in self.l2_entries():
            if v & (1 << 62):
                continue
            h = v & ((1 << 56) - 1) & ~511
            if h:
                res.append(h)
        return res


def read_image(path):
    with open(path, "rb") as f:
        return Image(bytearray(f.read()))


def read_wps(path):
    """Parse a zoned image file: (geometry list, raw entries list).

    Raises Qcow2Error if the image has no zoned extension.
    """
    img = read_image(path)
    if img.zoned is None:
        raise Qcow2Error("no zoned extension (0x007a6264) in the header "
                         "extension list")
    return img.zone_geometry(), img.wp_entries()


def _overlaps(a, alen, b, blen):
    return a < b + blen and b < a + alen


def spec_violations(im, file_size=None):
    """What makes @im an invalid zoned image according to
    docs/interop/qcow2.rst ("Zoned format extension", "Zoned images",
    "Write pointer table").

    Returns a list of (category, text).  Categories:
      "invalid"      a "must" of the format is broken: a reader must refuse
      "padding"      non-zero entries after nr_zones in the table's last
                     cluster ("must be zero")
      "unaligned-wp" a write pointer that is not a multiple of 512 (the
                     format does not say; zoned devices count in sectors)
    An image without the zoned extension or with model 0 is checked only
    for the feature bit.
    """
    out = []
    bad = lambda t: out.append(("invalid", t))  # noqa: E731
    data = im.data
    file_size = len(data) if file_size is None else file_size
    bit = bool(im.h["incompatible_features"] & (1 << INCOMPAT_ZONED_BIT))
    z = im.zoned
    if z is None or z["zoned_model"] == 0:
        if bit:
            bad("zoned feature bit without a zoned extension")
        return out
    ext_len = [ln for t, o, ln in im.exts if o + 8 == im.zoned_ext_off][0]
    if ext_len != ZONED_EXT_LEN:
        bad("zoned extension length %d" % ext_len)
    if z["zoned_model"] != 1:
        bad("zoned model %d" % z["zoned_model"])
    if not bit:
        bad("zoned extension without the feature bit")
    if im.h["version"] < 3:
        bad("version %d" % im.h["version"])
    if im.h["incompatible_features"] & (1 << 2) or im.h["backing_file_offset"]:
        bad("external data file or backing file")
    if z["reserved1"] or z["reserved2"] or z["reserved3"]:
        bad("reserved bytes")
    zs, cap, size = z["zone_size"], z["zone_capacity"], im.h["size"]
    cs = im.cluster_size
    if zs == 0 or zs & (zs - 1) or zs < cs or zs > 1 << 40:
        bad("zone_size %#x" % zs)
        return out
    if size == 0:
        bad("empty disk")
        return out
    if size > (1 << 59) - 512:
        bad("disk size %#x: write pointers are 59-bit" % size)
        return out
    nr = -(-size // zs)
    # QEMU loads at most a 32 MiB table (4194304 zones)
    if nr != z["nr_zones"] or nr > 536870911 or nr * 8 > 32 << 20:
        bad("nr_zones %d, expected %d" % (z["nr_zones"], nr))
        return out
    if cap == 0 or cap % 512 or cap > zs:
        bad("zone_capacity %#x" % cap)
        return out
    conv = z["conventional_zones"]
    if conv >= nr:
        bad("conventional_zones %d" % conv)
        return out
    nseq = nr - conv
    ma, mo = z["max_active_zones"], z["max_open_zones"]
    if ma > nseq or mo > nseq or (ma and mo > ma):
        bad("limits open %d active %d (seq %d)" % (mo, ma, nseq))
    mab = z["max_append_bytes"]
    if mab == 0 or mab % 512 or mab >= cap:
        bad("max_append_bytes %d" % mab)
    toff = z["zonedmeta_offset"]
    tbytes = nr * 8
    talloc = -(-tbytes // cs) * cs
    if toff % cs:
        bad("table offset %#x not cluster aligned" % toff)
        return out
    if toff == 0 or toff + tbytes > file_size:
        bad("table %#x+%#x outside the file (%#x)" % (toff, tbytes,
                                                       file_size))
        return out
    # overlaps with the metadata QEMU's open-time overlap check knows
    meta = [(0, cs, "header")]
    meta.append((im.h["l1_table_offset"], im.h["l1_size"] * 8, "L1"))
    meta.append((im.h["refcount_table_offset"],
                 im.h["refcount_table_clusters"] * cs, "refcount table"))
    rt = im.h["refcount_table_offset"]
    for i in range(im.h["refcount_table_clusters"] * cs // 8):
        if rt + 8 * i + 8 > len(data):
            break
        b = get_uint(data, rt + 8 * i, 8) & ~(cs - 1) & ((1 << 56) - 1)
        if b:
            meta.append((b, cs, "refcount block"))
    for t in im.l2_tables():
        meta.append((t, cs, "L2 table"))
    if im.h["nb_snapshots"]:
        meta.append((im.h["snapshots_offset"], cs, "snapshot table"))
    for o, ln, what in meta:
        if ln and _overlaps(toff, talloc, o, ln):
            bad("table overlaps the %s" % what)
            return out
    for i in range(nr):
        e = get_uint(data, toff + 8 * i, 8)
        start = i * zs
        zcap = min(cap, size - start)
        wp = e & WP_MASK
        if e & WP_RESERVED:
            bad("entry %d reserved bits" % i)
        elif e & WP_HANDOVER and (e & WP_CONV or wp == start + zcap):
            bad("entry %d handover bit on a conventional or full zone" % i)
        elif bool(e & WP_CONV) != (i < conv):
            bad("entry %d conventional bit" % i)
        elif i < conv and wp != start:
            bad("conventional entry %d is %#x" % (i, wp))
        elif not start <= wp <= start + zcap:
            bad("entry %d wp %#x outside [%#x, %#x]" % (i, wp, start,
                                                        start + zcap))
        elif wp % 512:
            out.append(("unaligned-wp", "entry %d wp %#x" % (i, wp)))
    for i in range(nr, talloc // 8):
        if toff + 8 * i + 8 <= len(data) and get_uint(data, toff + 8 * i, 8):
            out.append(("padding", "table padding entry %d is not zero" % i))
            break
    return out


def hold_build(build_dir):
    """Hold a shared lock on @build_dir while its programs run, so that
    tests/fuzz/build-asan.sh (which takes the lock exclusively) does not
    relink them under a running test.  Returns the open lock file."""
    f = open(os.path.normpath(build_dir) + ".lock", "a")
    fcntl.flock(f, fcntl.LOCK_SH)
    return f
