"""Netlink attributes (RFC 3549 §2.3.2), the part every hand-built
nfnetlink message here shares: TLV encoding with 4-byte alignment, and a
flat index of one level of attributes."""

from __future__ import annotations

import struct

__all__ = ["NLA_F_NESTED", "attrs", "nla"]

NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3FFF


def nla(kind: int, payload: bytes) -> bytes:
    size = 4 + len(payload)
    return struct.pack("=HH", size, kind) + payload + b"\0" * (-size % 4)


def attrs(data: bytes, start: int, end: int) -> dict[int, tuple[int, int]]:
    """Attribute type -> (payload start, payload end) in data[start:end]."""
    out: dict[int, tuple[int, int]] = {}
    pos = start
    while pos + 4 <= end:
        size, kind = struct.unpack_from("=HH", data, pos)
        if size < 4:
            break
        out[kind & NLA_TYPE_MASK] = (pos + 4, pos + size)
        pos += (size + 3) & ~3
    return out
