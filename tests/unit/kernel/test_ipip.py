"""What pylvs does to a tunnelled packet (behaviour reference §6.5)."""

from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from pylvs.dataplane.kernel import ipip


def _ipv4(ttl: int = 64, tos: int = 0, df: bool = True, payload: bytes = b"x" * 8) -> bytearray:
    head = bytearray(
        struct.pack(
            "!BBHHHBBH4s4s",
            0x45, tos, 20 + len(payload), 1, 0x4000 if df else 0, ttl, 6, 0,
            bytes([10, 0, 2, 50]), bytes([10, 0, 1, 100]),
        )
    )  # fmt: skip
    c = ipip.inet_checksum(bytes(head))
    head[10:12] = struct.pack("!H", c)
    return head + payload


@given(ttl=st.integers(2, 255), tos=st.integers(0, 255))
def test_decrement_keeps_the_header_checksum_valid(ttl: int, tos: int) -> None:
    p = _ipv4(ttl, tos)
    assert ipip.decrement_ttl(p)
    assert p[8] == ttl - 1
    assert ipip.inet_checksum(bytes(p[:20])) == 0


def test_ttl_one_is_dropped() -> None:
    p = _ipv4(ttl=1)
    assert not ipip.decrement_ttl(p)
    assert p[8] == 1


def test_ipv6_hop_limit() -> None:
    p = bytearray(40)
    p[0] = 0x60
    p[7] = 9
    assert ipip.decrement_ttl(p) and p[7] == 8


def test_outer_tos_copies_dscp_and_ecn_but_ce() -> None:
    assert ipip.outer_tos(0xB8) == 0xB8  # EF, not ECT
    assert ipip.outer_tos(0xB9) == 0xB9  # ECT(1)
    assert ipip.outer_tos(0xBA) == 0xBA  # ECT(0)
    assert ipip.outer_tos(0xBB) == 0xBA  # CE -> ECT(0)


def test_df_and_fields_of_the_inner_packet() -> None:
    assert ipip.inner_df(_ipv4(df=True))
    assert not ipip.inner_df(_ipv4(df=False))
    assert ipip.inner_ttl(_ipv4(ttl=77)) == 77
    assert ipip.inner_tos(_ipv4(tos=0x28)) == 0x28


def test_frag_needed_quotes_header_and_8_bytes() -> None:
    inner = _ipv4(payload=bytes(range(40)))
    msg = ipip.frag_needed_v4(inner, 1480)
    kind, code, _csum, _unused, mtu = struct.unpack("!BBHHH", msg[:8])
    assert (kind, code, mtu) == (3, 4, 1480)
    assert msg[8:] == bytes(inner[:28])
    assert ipip.inet_checksum(msg) == 0


def test_gre_and_gue_headers() -> None:
    assert ipip.gre_header(4, b"", csum=False) == b"\x00\x00\x08\x00"
    assert ipip.gre_header(6, b"", csum=False) == b"\x00\x00\x86\xdd"
    payload = bytes(_ipv4())
    head = ipip.gre_header(4, payload, csum=True)
    assert head[:2] == b"\x80\x00" and ipip.inet_checksum(head + payload) == 0
    assert ipip.gue_header(4) == b"\x00\x04\x00\x00"
    assert ipip.gue_header(6) == b"\x00\x29\x00\x00"
