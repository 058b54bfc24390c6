#!/usr/bin/env python3
"""Copies a shared library (ELF64, little-endian) and patches its dynamic section, for the
preload's loading tests:

  elf_patch.py SRC DST --symbolic       sets DF_SYMBOLIC in DT_FLAGS: the dynamic linker then
                                        binds the library's own calls inside it, as for a libssl
                                        linked with -Bsymbolic (OpenSSL's default build)
  elf_patch.py SRC DST --soname NAME    renames DT_SONAME in place (NAME no longer than the old
                                        name), so that a second copy loads beside the first
"""
import struct
import sys

DT_NULL, DT_STRTAB, DT_SONAME, DT_FLAGS = 0, 5, 14, 30
DF_SYMBOLIC = 0x2
PT_LOAD, PT_DYNAMIC = 1, 2


def dynamic(b):
    """The PT_DYNAMIC entries as (file offset, tag, value), and the PT_LOAD segments."""
    if b[:4] != b"\x7fELF" or b[4] != 2 or b[5] != 1:
        sys.exit("only ELF64 little-endian libraries")
    phoff, = struct.unpack_from("<Q", b, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", b, 0x36)
    loads, entries = [], []
    for i in range(phnum):
        off = phoff + i * phentsize
        p_type, _, p_offset, p_vaddr, _, p_filesz = struct.unpack_from("<IIQQQQ", b, off)
        if p_type == PT_LOAD:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == PT_DYNAMIC:
            for j in range(p_offset, p_offset + p_filesz, 16):
                tag, val = struct.unpack_from("<qQ", b, j)
                if tag == DT_NULL:
                    break
                entries.append((j, tag, val))
    return entries, loads


def file_offset(loads, vaddr):
    for v, o, n in loads:
        if v <= vaddr < v + n:
            return vaddr - v + o
    sys.exit("address 0x%x is in no PT_LOAD segment" % vaddr)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    src, dst, what = sys.argv[1], sys.argv[2], sys.argv[3]
    b = bytearray(open(src, "rb").read())
    entries, loads = dynamic(b)
    tags = {tag: (off, val) for off, tag, val in entries}
    if what == "--symbolic":
        if DT_FLAGS not in tags:
            sys.exit("no DT_FLAGS entry to patch")
        off, val = tags[DT_FLAGS]
        struct.pack_into("<Q", b, off + 8, val | DF_SYMBOLIC)
    elif what == "--soname" and len(sys.argv) == 5:
        new = sys.argv[4].encode()
        if DT_SONAME not in tags or DT_STRTAB not in tags:
            sys.exit("no DT_SONAME to rename")
        at = file_offset(loads, tags[DT_STRTAB][1]) + tags[DT_SONAME][1]
        end = b.index(b"\0", at)
        if len(new) > end - at:
            sys.exit("the new soname must not be longer than %r" % bytes(b[at:end]))
        b[at:end] = new + b"\0" * (end - at - len(new))
    else:
        sys.exit(__doc__)
    open(dst, "wb").write(b)


if __name__ == "__main__":
    main()
