"""Netlink messages and attributes (RFC 3549 §2.3.2), the part every
hand-built nfnetlink message here shares: an nfnetlink message's header,
a walk over the messages of a buffer, TLV attribute encoding with 4-byte
alignment, and a flat index of one level of attributes."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

__all__ = [
    "NLA_F_NESTED",
    "NLMSG_DONE",
    "NLMSG_ERROR",
    "attrs",
    "error_code",
    "messages",
    "nfnl_message",
    "nla",
]

NLA_F_NESTED = 0x8000
NLA_TYPE_MASK = 0x3FFF
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLMSG = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, seq, pid


def nfnl_message(
    kind: int, flags: int, seq: int, family: int, payload: bytes, res_id: int = 0
) -> bytes:
    """One nfnetlink message: nlmsghdr, nfgenmsg (family, version 0,
    res_id), then ``payload`` (its attributes)."""
    body = struct.pack("=BBH", family, 0, socket.htons(res_id)) + payload
    return NLMSG.pack(NLMSG.size + len(body), kind, flags, seq, 0) + body


def messages(data: bytes) -> Iterator[tuple[int, int, int, int, int]]:
    """(type, flags, seq, payload start, message end) of each netlink
    message in ``data``; a malformed length ends the walk."""
    pos = 0
    while pos + NLMSG.size <= len(data):
        size, kind, flags, seq, _pid = NLMSG.unpack_from(data, pos)
        if size < NLMSG.size:
            return
        yield kind, flags, seq, pos + NLMSG.size, pos + size
        pos += (size + 3) & ~3


def error_code(data: bytes, start: int) -> int:
    """The errno an NLMSG_ERROR payload at ``start`` reports (0: an ack)."""
    return -int(struct.unpack_from("=i", data, start)[0])


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
