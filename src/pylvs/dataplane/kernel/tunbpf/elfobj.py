"""What the loader needs from a BPF object file that clang wrote (pure).

A 64-bit little- or big-endian ELF relocatable with: one program section,
a ``maps`` section of legacy map definitions (five 32-bit words each: type,
key size, value size, max entries, flags), a ``license`` section, and the
program's relocations (``R_BPF_64_64`` against map symbols, on 16-byte
``ld_imm64`` instructions). Anything else the program would need (calls
to non-inlined functions, global data) is refused with a clear error,
since this loader would not know what to do with it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

__all__ = ["ElfError", "MapDef", "Object", "parse"]

SHT_SYMTAB, SHT_REL = 2, 9
R_BPF_64_64 = 1
LD_IMM64 = 0x18
BPF_PSEUDO_MAP_FD = 1
MAP_DEF = struct.Struct("IIIII")


class ElfError(ValueError):
    pass


@dataclass(frozen=True)
class MapDef:
    name: str
    type: int
    key_size: int
    value_size: int
    max_entries: int
    flags: int


@dataclass
class Object:
    program: str  # its section's name
    insns: bytes
    license: str
    maps: list[MapDef]
    # (byte offset of an ld_imm64 in insns, map name)
    relocations: list[tuple[int, str]] = field(default_factory=list)
    little: bool = True

    def relocated(self, fds: dict[str, int]) -> bytes:
        """The instructions with each map reference made a map fd."""
        code = bytearray(self.insns)
        order = "<" if self.little else ">"
        for off, name in self.relocations:
            if code[off] != LD_IMM64:
                raise ElfError(f"relocation at {off} is not on an ld_imm64")
            regs = code[off + 1]
            if self.little:
                regs = (regs & 0x0F) | (BPF_PSEUDO_MAP_FD << 4)
            else:
                regs = (regs & 0xF0) | BPF_PSEUDO_MAP_FD
            code[off + 1] = regs
            struct.pack_into(order + "i", code, off + 4, fds[name])
        return bytes(code)


@dataclass(frozen=True)
class _Section:
    name: str
    type: int
    offset: int
    size: int
    link: int
    info: int
    entsize: int


def _cstr(blob: bytes, off: int) -> str:
    end = blob.index(b"\0", off)
    return blob[off:end].decode()


def parse(data: bytes, program: str) -> Object:
    """The program in section ``program`` with its maps and relocations."""
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ElfError("not a 64-bit ELF file")
    little = data[5] == 1
    o = "<" if little else ">"
    shoff = struct.unpack_from(o + "Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from(o + "HHH", data, 0x3A)
    raw = [struct.unpack_from(o + "IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab_off, strtab_size = raw[shstrndx][4], raw[shstrndx][5]
    names = data[strtab_off : strtab_off + strtab_size]
    secs = [_Section(_cstr(names, r[0]), r[1], r[4], r[5], r[6], r[7], r[8]) for r in raw]
    by_name = {s.name: i for i, s in enumerate(secs)}

    def body(i: int) -> bytes:
        return data[secs[i].offset : secs[i].offset + secs[i].size]

    if program not in by_name:
        raise ElfError(f"no section {program!r}")
    prog_idx = by_name[program]
    text = by_name.get(".text")
    if text is not None and secs[text].size:
        raise ElfError(".text is not empty: a function was not inlined")
    for s in secs:
        if s.size and (s.name.startswith((".data", ".bss", ".rodata"))):
            raise ElfError(f"section {s.name}: global data is not supported")
    license = body(by_name["license"]).split(b"\0", 1)[0].decode() if "license" in by_name else ""
    maps_idx = by_name.get("maps")

    symtab = next((i for i, s in enumerate(secs) if s.type == SHT_SYMTAB), None)
    if symtab is None:
        raise ElfError("no symbol table")
    symstr = body(secs[symtab].link)
    symbols: list[tuple[str, int, int]] = []  # name, section, value
    sym_blob = body(symtab)
    for i in range(len(sym_blob) // 24):
        st_name, _info, _other, shndx, value, _size = struct.unpack_from(
            o + "IBBHQQ", sym_blob, i * 24
        )
        symbols.append((_cstr(symstr, st_name), shndx, value))

    maps: list[MapDef] = []
    by_offset: dict[int, str] = {}
    if maps_idx is not None:
        blob = body(maps_idx)
        for name, shndx, value in symbols:
            if shndx == maps_idx and name:
                t, k, v, m, f = struct.unpack_from(o + "IIIII", blob, value)
                maps.append(MapDef(name, t, k, v, m, f))
                by_offset[value] = name
        maps.sort(key=lambda m: m.name)

    relocations: list[tuple[int, str]] = []
    for s in secs:
        if s.type != SHT_REL or s.info != prog_idx:
            continue
        blob = data[s.offset : s.offset + s.size]
        for i in range(len(blob) // 16):
            r_offset, r_info = struct.unpack_from(o + "QQ", blob, i * 16)
            sym, kind = r_info >> 32, r_info & 0xFFFFFFFF
            name, shndx, value = symbols[sym]
            if kind != R_BPF_64_64 or shndx != maps_idx:
                raise ElfError(f"unsupported relocation against {name or shndx} (type {kind})")
            if not name:  # against the section: the offset is in the instruction
                value = struct.unpack_from(o + "i", body(prog_idx), r_offset + 4)[0]
            if value not in by_offset:
                raise ElfError(f"relocation at {r_offset} points inside a map definition")
            relocations.append((r_offset, by_offset[value]))
    return Object(program, body(prog_idx), license, maps, relocations, little)
