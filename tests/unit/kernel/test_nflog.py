"""Close notes from the kernel (nflog.py): NFLOG messages decoded to the
rule's prefix and the packet's mark."""

from __future__ import annotations

import struct

from pylvs.dataplane.kernel.nflog import decode_notes
from pylvs.dataplane.kernel.nlattr import nla

NFULA_PACKET_HDR, NFULA_MARK, NFULA_TIMESTAMP, NFULA_PREFIX = 1, 2, 3, 10
ULOG_PACKET, ULOG_CONFIG = 4 << 8, (4 << 8) | 1


def message(kind: int, attrs: bytes) -> bytes:
    body = struct.pack("!BBH", 2, 0, 0x4C56) + attrs  # nfgenmsg: AF_INET, v0, group
    return struct.pack("=IHHII", 16 + len(body), kind, 0, 0, 0) + body


def note(prefix: bytes, mark: int) -> bytes:
    return message(
        ULOG_PACKET,
        nla(NFULA_PACKET_HDR, struct.pack("!HBB", 0x0800, 4, 0))
        + nla(NFULA_MARK, struct.pack("!I", mark))
        + nla(NFULA_TIMESTAMP, b"\0" * 16)
        + nla(NFULA_PREFIX, prefix + b"\0"),
    )


def test_notes_in_one_buffer() -> None:
    data = note(b"r", 0x4C000007) + message(ULOG_CONFIG, b"") + note(b"f", 0x4C800002)
    assert decode_notes(data) == [("r", 0x4C000007), ("f", 0x4C800002)]


def test_only_the_bytes_received_count() -> None:
    buf = bytearray(1 << 12)
    one = note(b"f", 0x4C000001)
    buf[: len(one)] = one
    assert decode_notes(buf, len(one)) == [("f", 0x4C000001)]
    assert decode_notes(buf, len(one) - 8) == [("", 0x4C000001)], "a cut attribute is not read"


def test_a_packet_without_mark_or_prefix() -> None:
    assert decode_notes(message(ULOG_PACKET, b"")) == [("", 0)]
