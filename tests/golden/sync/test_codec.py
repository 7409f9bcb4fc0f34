"""Sync message bytes (behaviour reference §7.2), written out by hand."""

from __future__ import annotations

import pytest

from builders import ip
from pylvs.core.addr import AF_INET, AF_INET6
from pylvs.sync.codec import (
    SeqInfo,
    SyncConn,
    SyncDecodeError,
    backup_flags,
    decode,
    encode_v0,
    encode_v1,
    pack_v1,
)

DR_ESTABLISHED = SyncConn(
    af=AF_INET,
    protocol=6,
    flags=0x83,  # Route | NOOUTPUT
    state=1,
    cport=40000,
    vport=80,
    dport=80,
    caddr=ip("192.168.10.5"),
    vaddr=ip("10.0.1.100"),
    daddr=ip("10.0.1.11"),
    timeout=900,
)

V1_ONE = bytes.fromhex(
    "0005002c01010000"  # reserved, syncid 5, size 44, 1 entry, version 1, spare
    "00060024"  # IPv4, TCP, version 0 + size 36
    "00000083"  # flags
    "0001" "9c40" "0050" "0050"  # state ES, cport, vport, dport
    "00000000" "00000384"  # fwmark, timeout 900
    "c0a80a05" "0a000164" "0a00010b"
)  # fmt: skip


def test_v1_single_entry() -> None:
    assert encode_v1(5, [DR_ESTABLISHED]) == V1_ONE
    msg = decode(V1_ONE)
    assert (msg.version, msg.syncid, msg.conns) == (1, 5, (DR_ESTABLISHED,))


def test_v1_options_and_padding() -> None:
    with_seq = SyncConn(
        **{**_fields(DR_ESTABLISHED), "flags": 0x83 | 0x400, "seq": SeqInfo(1, 2, 3, 4, 5, 6)}
    )
    data = encode_v1(7, [with_seq, DR_ESTABLISHED])
    assert len(data) == 8 + 62 + 2 + 36
    assert data[2:4] == (108).to_bytes(2, "big")
    assert data[8 + 2 : 8 + 4] == (62).to_bytes(2, "big")
    assert data[8 + 36 : 8 + 38] == b"\x01\x18"  # option: sequence data, 24 bytes
    assert data[8 + 62 : 8 + 64] == b"\0\0"  # padding before the next entry
    assert decode(data).conns == (with_seq, DR_ESTABLISHED)


def test_v1_ipv6_and_pe() -> None:
    c = SyncConn(
        af=AF_INET6, protocol=17, flags=0x1000, state=0, cport=0, vport=5060, dport=5060,
        caddr=ip("2001:db8::5"), vaddr=ip("2001:db8::1"), daddr=ip("2001:db8::a0"),
        timeout=60, pe_data=b"call-id-1", pe_name="sip",
    )  # fmt: skip
    data = encode_v1(0, [c])
    assert data[8] == 1 and len(data) == 8 + 72 + 2 + 9 + 2 + 3
    assert decode(data).conns == (c,)


def test_v0_round_trip_and_bytes() -> None:
    data = encode_v0(5, [DR_ESTABLISHED])
    assert data == bytes.fromhex(
        "0105001c" "00069c4000500050" "c0a80a05" "0a000164" "0a00010b" "0083" "0001"
    )  # fmt: skip
    msg = decode(data)
    assert msg.version == 0 and msg.conns[0].caddr == DR_ESTABLISHED.caddr
    assert msg.conns[0].timeout == 0


def test_receiver_drops_bad_datagrams() -> None:
    with pytest.raises(SyncDecodeError):
        decode(V1_ONE[:-1])  # size field mismatch
    bad = bytearray(V1_ONE)
    bad[10] |= 0x10  # entry version nibble
    with pytest.raises(SyncDecodeError):
        decode(bytes(bad))
    bad = bytearray(V1_ONE)
    bad[8] = 2  # unknown entry type
    with pytest.raises(SyncDecodeError):
        decode(bytes(bad))


def test_unknown_options() -> None:
    entry = bytearray(V1_ONE[8:])
    entry[2:4] = (36 + 4).to_bytes(2, "big")
    for opt, skipped in ((0x45, 0), (0x05, 1)):
        body = bytes(entry) + bytes((opt, 2, 0xAA, 0xBB))
        data = bytes.fromhex("0005003001010000") + body
        msg = decode(data)
        assert (len(msg.conns), msg.skipped) == (1 - skipped, skipped)


def test_pack_splits_by_maxlen_and_backup_flags() -> None:
    datagrams = pack_v1(1, [DR_ESTABLISHED] * 5, 8 + 36 * 2)
    assert [decode(d).conns.__len__() for d in datagrams] == [2, 2, 1]
    assert backup_flags(1, 0x83 | 0x40 | 0x10000) == 0x83 | 0x20
    assert backup_flags(0, 0x83 | 0x40 | 0x10000) == 0x83 | 0x20


def _fields(c: SyncConn) -> dict[str, object]:
    return {name: getattr(c, name) for name in c.__dataclass_fields__}
