#!/usr/bin/env python3
"""Turns a disk image into the sparse input fuzz_format_inspect reads: the
file's size, then its non-zero 512-byte sectors as (sector, length, bytes)
records, so a seed for an 8 MiB VHDX is a few KiB.

    fuzz/format_seed.py IMAGE OUT
"""
import struct
import sys


def main():
    src, out = sys.argv[1], sys.argv[2]
    data = open(src, "rb").read()
    recs = [struct.pack("<Q", len(data))]
    sector = 0
    while sector * 512 < len(data):
        chunk = data[sector * 512:(sector + 1) * 512]
        if chunk.strip(b"\0"):
            # merge a run of non-zero sectors, up to 64 KiB - 512 per record
            run = sector
            while (run + 1) * 512 < len(data) and (run + 1 - sector) < 127 and \
                    data[(run + 1) * 512:(run + 2) * 512].strip(b"\0"):
                run += 1
            body = data[sector * 512:(run + 1) * 512]
            recs.append(struct.pack("<IH", sector, len(body)) + body)
            sector = run + 1
        else:
            sector += 1
    open(out, "wb").write(b"".join(recs))


if __name__ == "__main__":
    main()
