#!/usr/bin/python3
"""Print the zone geometry stored in a qcow2 image as zt.* kernel parameters.

Reads the header and the zoned header extension (type 0x007a6264, see
../../shared/ZONED-QCOW2-SPEC.md section 2) directly, independently of QEMU,
so that the guest's view can be checked against what the file says.
Prints nothing but 'zt.size_sectors=N' for an image without the extension,
and fails for a file that is not qcow2.
"""
import struct
import sys

QCOW_MAGIC = 0x514649FB
ZONED_EXT = 0x007A6264


def main(path):
    with open(path, "rb") as f:
        hdr = f.read(104)
        if len(hdr) < 72:
            sys.exit(f"{path}: too short for a qcow2 header")
        magic, version = struct.unpack(">II", hdr[0:8])
        if magic != QCOW_MAGIC:
            sys.exit(f"{path}: not a qcow2 image")
        size = struct.unpack(">Q", hdr[24:32])[0]
        if version >= 3:
            hdr_len = struct.unpack(">I", hdr[100:104])[0]
        else:
            hdr_len = 72
        out = {"size_sectors": size // 512}
        f.seek(hdr_len)
        for _ in range(1024):
            raw = f.read(8)
            if len(raw) < 8:
                break
            etype, elen = struct.unpack(">II", raw)
            if etype == 0:
                break
            data = f.read((elen + 7) & ~7)[:elen]
            if etype != ZONED_EXT:
                continue
            if elen < 48:
                sys.exit(f"{path}: zoned extension of {elen} bytes (< 48)")
            (model, nr_zones, zone_size, cap, conv, max_active, max_open,
             max_append) = struct.unpack(">B3xIQQIIII", data[:40])
            out["model"] = {0: "none", 1: "host-managed"}.get(model, str(model))
            if model == 1:
                out.update(nr_zones=nr_zones, zone_sectors=zone_size // 512,
                           cap_sectors=cap // 512, conv=conv,
                           max_open=max_open, max_active=max_active,
                           append_bytes=max_append)
        print(" ".join(f"zt.{k}={v}" for k, v in out.items()))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: qcow2-zone-info.py IMAGE")
    main(sys.argv[1])
