"""The few header fields the scheduler needs from a queued packet (pure)."""

from __future__ import annotations

from typing import NamedTuple

from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP
from pylvs.core.sctpstate import sctp_event

__all__ = ["FlowHead", "parse_head"]

_PORTS = (IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP)
# IPv6 extension headers we walk over to find the transport header.
_V6_EXT = {0, 43, 60}


class FlowHead(NamedTuple):
    af: int
    proto: int
    saddr: int
    daddr: int
    sport: int
    dport: int
    event: int  # TCP flags, the SCTP event, 0 for UDP
    length: int  # IP packet length (IPVS counts these bytes)


def parse_head(p: bytes) -> FlowHead | None:
    """IPv4/IPv6 + TCP/UDP/SCTP header fields, or None for anything else."""
    if len(p) < 20:
        return None
    version = p[0] >> 4
    if version == 4:
        ihl = (p[0] & 0x0F) * 4
        proto = p[9]
        af = AF_INET
        saddr = int.from_bytes(p[12:16], "big")
        daddr = int.from_bytes(p[16:20], "big")
        off = ihl
        if int.from_bytes(p[6:8], "big") & 0x1FFF:
            return None  # not the first fragment
    elif version == 6 and len(p) >= 40:
        af = AF_INET6
        proto = p[6]
        saddr = int.from_bytes(p[8:24], "big")
        daddr = int.from_bytes(p[24:40], "big")
        off = 40
        while proto in _V6_EXT and off + 8 <= len(p):
            proto, off = p[off], off + (p[off + 1] + 1) * 8
    else:
        return None
    if proto not in _PORTS or off + 4 > len(p):
        return None
    sport = int.from_bytes(p[off : off + 2], "big")
    dport = int.from_bytes(p[off + 2 : off + 4], "big")
    event = 0
    if proto == IPPROTO_TCP and off + 14 <= len(p):
        event = p[off + 13]
    elif proto == IPPROTO_SCTP and off + 13 <= len(p):
        first = p[off + 12]
        second = None
        clen = int.from_bytes(p[off + 14 : off + 16], "big") if off + 16 <= len(p) else 0
        nxt = off + 12 + ((clen + 3) & ~3)
        if clen >= 4 and nxt < len(p):
            second = p[nxt]
        event = sctp_event(first, second)
    return FlowHead(af, proto, saddr, daddr, sport, dport, event, len(p))
