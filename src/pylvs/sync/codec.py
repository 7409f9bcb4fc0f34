"""IPVS sync messages: encode and decode, byte-exact (behaviour reference §7.2;
details of the receiver's checks in docs/kernel-notes-connections.md §10).

Version 1 (the default): an 8-byte header, then entries of 36 (IPv4) or 72
(IPv6) bytes plus options, each padded to 4 bytes before the next. Version 0
(IPv4 only, no timeout or fwmark): a 4-byte header and 24-byte entries.
Multi-byte fields are in network order, except version 0's sequence data,
which the kernel copies in host order (little endian here).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pylvs.core.addr import AF_INET, AF_INET6
from pylvs.core.model import (
    CONN_F_FWD_MASK,
    CONN_F_HASHED,
    CONN_F_INACTIVE,
    CONN_F_NO_CPORT,
    CONN_F_NOOUTPUT,
    CONN_F_SEQ_MASK,
    CONN_F_SYNC,
    CONN_F_TEMPLATE,
)

__all__ = [
    "BACKUP_FLAG_MASK",
    "SeqInfo",
    "SyncConn",
    "SyncDecodeError",
    "SyncMessage",
    "decode",
    "encode_v0",
    "encode_v1",
    "pack_v1",
]

V1_HEADER = struct.Struct("!BBHBbH")  # reserved, syncid, size, nr_conns, version, spare
V1_ENTRY4 = struct.Struct("!BBHIHHHHII4s4s4s")
V1_ENTRY6 = struct.Struct("!BBHIHHHHII16s16s16s")
V0_HEADER = struct.Struct("!BBH")  # nr_conns, syncid, size
V0_ENTRY = struct.Struct("!BBHHH4s4s4sHH")
SEQ_NET = struct.Struct("!6I")
SEQ_HOST = struct.Struct("<6I")

OPT_SEQ = 1
OPT_PE_DATA = 2
OPT_PE_NAME = 3
OPT_OPTIONAL = 0x40
PE_DATA_MAX = 255
PE_NAME_MAX = 16
MAX_ENTRY_SIZE = 0x0FFF
# Flags a backup keeps from a version 1 message; it adds CONN_F_SYNC.
BACKUP_FLAG_MASK = (
    CONN_F_FWD_MASK
    | CONN_F_NOOUTPUT
    | CONN_F_INACTIVE
    | CONN_F_SEQ_MASK
    | CONN_F_NO_CPORT
    | CONN_F_TEMPLATE
)


class SyncDecodeError(ValueError):
    """The datagram is dropped as a whole."""


@dataclass(frozen=True, slots=True)
class SeqInfo:
    """TCP sequence adjustment of an application helper (FTP): in then out."""

    in_init: int = 0
    in_delta: int = 0
    in_prev_delta: int = 0
    out_init: int = 0
    out_delta: int = 0
    out_prev_delta: int = 0

    def values(self) -> tuple[int, int, int, int, int, int]:
        return (
            self.in_init,
            self.in_delta,
            self.in_prev_delta,
            self.out_init,
            self.out_delta,
            self.out_prev_delta,
        )


@dataclass(frozen=True, slots=True)
class SyncConn:
    """One connection entry as carried by a sync message."""

    af: int
    protocol: int
    flags: int
    state: int
    cport: int
    vport: int
    dport: int
    caddr: int
    vaddr: int
    daddr: int
    fwmark: int = 0
    timeout: int = 0
    seq: SeqInfo | None = None
    pe_data: bytes = b""
    pe_name: str = ""


@dataclass(frozen=True, slots=True)
class SyncMessage:
    version: int
    syncid: int
    conns: tuple[SyncConn, ...]
    skipped: int = 0  # entries the kernel would ignore (unknown mandatory option)


def _addr_bytes(af: int, addr: int) -> bytes:
    return addr.to_bytes(4 if af == AF_INET else 16, "big")


def _entry_v1(c: SyncConn) -> bytes:
    opts = b""
    if c.flags & CONN_F_SEQ_MASK:
        seq = c.seq or SeqInfo()
        opts += bytes((OPT_SEQ, SEQ_NET.size)) + SEQ_NET.pack(*seq.values())
    if c.pe_data:
        data = c.pe_data[:PE_DATA_MAX]
        opts += bytes((OPT_PE_DATA, len(data))) + data
        if c.pe_name:
            name = c.pe_name.encode()[:PE_NAME_MAX]
            opts += bytes((OPT_PE_NAME, len(name))) + name
    shape = V1_ENTRY4 if c.af == AF_INET else V1_ENTRY6
    size = shape.size + len(opts)
    head = shape.pack(
        1 if c.af == AF_INET6 else 0,
        c.protocol,
        size & MAX_ENTRY_SIZE,
        c.flags & ~CONN_F_HASHED & 0xFFFFFFFF,
        c.state,
        c.cport,
        c.vport,
        c.dport,
        c.fwmark,
        c.timeout,
        _addr_bytes(c.af, c.caddr),
        _addr_bytes(c.af, c.vaddr),
        _addr_bytes(c.af, c.daddr),
    )
    return head + opts


def _pad(n: int) -> int:
    return (4 - n % 4) % 4


def encode_v1(syncid: int, conns: list[SyncConn]) -> bytes:
    """One version 1 datagram holding ``conns`` (at most 255)."""
    body = b""
    offset = V1_HEADER.size
    for i, c in enumerate(conns):
        entry = _entry_v1(c)
        if i:
            pad = _pad(offset)
            body += b"\0" * pad
            offset += pad
        body += entry
        offset += len(entry)
    return V1_HEADER.pack(0, syncid, offset, len(conns), 1, 0) + body


def pack_v1(syncid: int, conns: list[SyncConn], maxlen: int) -> list[bytes]:
    """Split entries into datagrams of at most ``maxlen`` bytes, starting a new
    one when the next entry would not fit, as the master's buffers do."""
    out: list[bytes] = []
    batch: list[SyncConn] = []
    size = V1_HEADER.size
    for c in conns:
        n = len(_entry_v1(c))
        need = _pad(size) + n if batch else n
        if batch and (size + need > maxlen or len(batch) == 255):
            out.append(encode_v1(syncid, batch))
            batch, size, need = [], V1_HEADER.size, n
        batch.append(c)
        size += need
    if batch:
        out.append(encode_v1(syncid, batch))
    return out


def encode_v0(syncid: int, conns: list[SyncConn]) -> bytes:
    """A version 0 datagram (IPv4 entries only, no timeout, no fwmark)."""
    body = b""
    for c in conns:
        if c.af != AF_INET:
            raise ValueError("sync version 0 carries IPv4 entries only")
        body += V0_ENTRY.pack(
            0,
            c.protocol,
            c.cport,
            c.vport,
            c.dport,
            _addr_bytes(AF_INET, c.caddr),
            _addr_bytes(AF_INET, c.vaddr),
            _addr_bytes(AF_INET, c.daddr),
            c.flags & ~CONN_F_HASHED & 0xFFFF,
            c.state,
        )
        if c.flags & CONN_F_SEQ_MASK:
            body += SEQ_HOST.pack(*(c.seq or SeqInfo()).values())
    return V0_HEADER.pack(len(conns), syncid, V0_HEADER.size + len(body)) + body


def decode(data: bytes) -> SyncMessage:
    """Parse a datagram; raise :class:`SyncDecodeError` when the kernel drops it."""
    if len(data) < 4:
        raise SyncDecodeError("message too short")
    if len(data) >= V1_HEADER.size:
        reserved, syncid, size, count, version, spare = V1_HEADER.unpack_from(data)
        if reserved == 0 and version == 1 and spare == 0:
            if size != len(data):
                raise SyncDecodeError("size field does not match the datagram length")
            return _decode_v1(data, syncid, count)
    count, syncid, size = V0_HEADER.unpack_from(data)
    if size != len(data):
        raise SyncDecodeError("size field does not match the datagram length")
    return _decode_v0(data, syncid, count)


def _decode_v1(data: bytes, syncid: int, count: int) -> SyncMessage:
    conns: list[SyncConn] = []
    skipped = 0
    pos = V1_HEADER.size
    end = len(data)
    for _ in range(count):
        if end - pos < V1_ENTRY4.size:
            raise SyncDecodeError("entry truncated")
        etype, proto, ver_size = struct.unpack_from("!BBH", data, pos)
        size = ver_size & MAX_ENTRY_SIZE
        if ver_size >> 12:
            raise SyncDecodeError("unknown entry version")
        if pos + size > end:
            raise SyncDecodeError("entry runs past the datagram")
        if etype & 1:
            af, shape = AF_INET6, V1_ENTRY6
        elif etype == 0:
            af, shape = AF_INET, V1_ENTRY4
        else:
            raise SyncDecodeError("unknown entry type")
        if size < shape.size:
            raise SyncDecodeError("entry shorter than its fixed part")
        (_, _, _, flags, state, cport, vport, dport, fwmark, timeout, ca, va, da) = (
            shape.unpack_from(data, pos)
        )
        entry_ok, seq, pe_data, pe_name = _decode_options(data, pos + shape.size, pos + size)
        if entry_ok:
            conns.append(
                SyncConn(
                    af=af,
                    protocol=proto,
                    flags=flags,
                    state=state,
                    cport=cport,
                    vport=vport,
                    dport=dport,
                    caddr=int.from_bytes(ca, "big"),
                    vaddr=int.from_bytes(va, "big"),
                    daddr=int.from_bytes(da, "big"),
                    fwmark=fwmark,
                    timeout=timeout,
                    seq=seq,
                    pe_data=pe_data,
                    pe_name=pe_name,
                )
            )
        else:
            skipped += 1
        pos += (size + 3) & ~3
    return SyncMessage(1, syncid, tuple(conns), skipped)


def _decode_options(data: bytes, pos: int, end: int) -> tuple[bool, SeqInfo | None, bytes, str]:
    seq: SeqInfo | None = None
    pe_data: bytes | None = None
    pe_name: bytes | None = None
    ok = True
    while pos < end:
        if end - pos < 2:
            raise SyncDecodeError("option header truncated")
        otype, olen = data[pos], data[pos + 1]
        pos += 2
        if olen == 0 or pos + olen > end:
            raise SyncDecodeError("bad option length")
        value = data[pos : pos + olen]
        base = otype & ~OPT_OPTIONAL
        if base == OPT_SEQ:
            if olen != SEQ_NET.size or seq is not None:
                raise SyncDecodeError("bad sequence option")
            seq = SeqInfo(*SEQ_NET.unpack(value))
        elif base == OPT_PE_DATA:
            if pe_data is not None:
                raise SyncDecodeError("repeated persistence-engine data")
            pe_data = value
        elif base == OPT_PE_NAME:
            if olen > PE_NAME_MAX or pe_name is not None:
                raise SyncDecodeError("bad persistence-engine name")
            pe_name = value
        elif not otype & OPT_OPTIONAL:
            ok = False  # unknown mandatory option: the entry is ignored
        pos += olen
    return ok, seq, pe_data or b"", (pe_name or b"").decode("latin-1")


def _decode_v0(data: bytes, syncid: int, count: int) -> SyncMessage:
    conns: list[SyncConn] = []
    pos = V0_HEADER.size
    end = len(data)
    for _ in range(count):
        if end - pos < V0_ENTRY.size:
            break
        (_, proto, cport, vport, dport, ca, va, da, flags, state) = V0_ENTRY.unpack_from(data, pos)
        seq = None
        if flags & CONN_F_SEQ_MASK:
            if end - pos < V0_ENTRY.size + SEQ_HOST.size:
                break
            seq = SeqInfo(*SEQ_HOST.unpack_from(data, pos + V0_ENTRY.size))
            pos += SEQ_HOST.size
        pos += V0_ENTRY.size
        conns.append(
            SyncConn(
                af=AF_INET,
                protocol=proto,
                flags=flags,
                state=state,
                cport=cport,
                vport=vport,
                dport=dport,
                caddr=int.from_bytes(ca, "big"),
                vaddr=int.from_bytes(va, "big"),
                daddr=int.from_bytes(da, "big"),
                seq=seq,
            )
        )
    return SyncMessage(0, syncid, tuple(conns))


def backup_flags(version: int, flags: int) -> int:
    """The flags a backup gives an entry it creates from a message."""
    if version == 1:
        return (flags & BACKUP_FLAG_MASK) | CONN_F_SYNC
    return (flags & ~CONN_F_HASHED & 0xFFFF) | CONN_F_SYNC
