"""The bytes of IPVS's tunnelling that pylvs builds itself (pure).

The outer IP header is built by the kernel (a raw socket per protocol, with
TTL, TOS and DF given per packet), so what is left here is what IPVS does to
the inner packet and the headers between: behaviour reference §6.5.
"""

from __future__ import annotations

import struct

__all__ = [
    "ECN_CE",
    "decrement_ttl",
    "frag_needed_v4",
    "gre_header",
    "gue_header",
    "inet_checksum",
    "outer_tos",
]

ECN_MASK = 0x03
ECN_ECT0 = 0x02
ECN_CE = 0x03
IP_DF = 0x4000
ICMP_DEST_UNREACH = 3
ICMP_FRAG_NEEDED = 4
GRE_CSUM = 0x8000
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD


def inet_checksum(data: bytes) -> int:
    """RFC 1071 one's complement sum."""
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def decrement_ttl(p: bytearray) -> bool:
    """The inner packet's TTL (IPv4) or hop limit (IPv6) minus one, IPv4's
    header checksum updated incrementally (RFC 1624: the TTL is the high byte
    of its 16-bit word, so the sum grows by 0x0100). False when it would
    reach 0: IPVS drops such a packet (§6.2)."""
    if p[0] >> 4 == 4:
        if p[8] <= 1:
            return False
        p[8] -= 1
        c = ((p[10] << 8) | p[11]) + 0x0100
        c = (c & 0xFFFF) + (c >> 16)
        p[10], p[11] = c >> 8, c & 0xFF
        return True
    if p[7] <= 1:
        return False
    p[7] -= 1
    return True


def inner_tos(p: bytes | bytearray) -> int:
    if p[0] >> 4 == 4:
        return p[1]
    return ((p[0] & 0x0F) << 4) | (p[1] >> 4)


def inner_ttl(p: bytes | bytearray) -> int:
    return p[8] if p[0] >> 4 == 4 else p[7]


def inner_df(p: bytes | bytearray) -> bool:
    """IPv4 DF; IPv6 is never fragmented on the way, as if DF were set."""
    if p[0] >> 4 == 4:
        return bool(((p[6] << 8) | p[7]) & IP_DF)
    return True


def outer_tos(tos: int) -> int:
    """The inner DSCP and ECN, an inner CE becoming ECT(0) (RFC 6040's
    normal mode, as IPVS encapsulates)."""
    if tos & ECN_MASK == ECN_CE:
        return (tos & ~ECN_MASK) | ECN_ECT0
    return tos


def frag_needed_v4(inner: bytes | bytearray, mtu: int) -> bytes:
    """ICMP "fragmentation needed" (RFC 792, RFC 1191 next-hop MTU) for the
    client, quoting the inner header and the first 8 bytes of its payload."""
    ihl = (inner[0] & 0x0F) * 4
    quoted = bytes(inner[: ihl + 8])
    msg = struct.pack("!BBHHH", ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 0, 0, mtu) + quoted
    c = inet_checksum(msg)
    return msg[:2] + struct.pack("!H", c) + msg[4:]


def gre_header(inner_version: int, payload: bytes, csum: bool) -> bytes:
    """RFC 2784 GRE: the protocol of the inner packet, optionally with the
    checksum over header and payload."""
    proto = ETH_P_IP if inner_version == 4 else ETH_P_IPV6
    if not csum:
        return struct.pack("!HH", 0, proto)
    head = struct.pack("!HHHH", GRE_CSUM, proto, 0, 0)
    c = inet_checksum(head + payload)
    return struct.pack("!HHHH", GRE_CSUM, proto, c, 0)


def gue_header(inner_version: int) -> bytes:
    """GUE version 0, no extensions, the inner IP protocol (draft-ietf-intarea-gue
    §3.2: 4 for IPv4, 41 for IPv6), as IPVS's gue encapsulation writes."""
    return struct.pack("!BBH", 0, 4 if inner_version == 4 else 41, 0)
