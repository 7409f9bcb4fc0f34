"""keepalived's ways of naming services in its messages (lib/utils.c
``inet_sockaddrtotrio``/``inet_sockaddrtopair``, check_data.c ``format_vs``):
``[10.0.0.2]:tcp:80``, ``[2001:db8::2]:udp:53``, ``[GROUP]:0``, ``FWM 7``.
The health checkers log with the same helpers."""

from __future__ import annotations

from pylvs.core.addr import IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, format_addr

__all__ = ["format_endpoint", "format_rs", "format_vs", "proto_name"]


def proto_name(protocol: int) -> str:
    return {IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp", IPPROTO_SCTP: "sctp", 0: "none"}.get(
        protocol, "?"
    )


def format_rs(af: int, addr: int, port: int, protocol: int) -> str:
    """``[ip]:proto:port`` (also a virtual server given by address)."""
    return f"[{format_addr(af, addr)}]:{proto_name(protocol)}:{port}"


def format_endpoint(af: int, addr: int, port: int) -> str:
    """``[ip]:port``."""
    return f"[{format_addr(af, addr)}]:{port}"


def format_vs(
    *,
    kind: str,
    af: int,
    addr: int,
    port: int,
    protocol: int,
    fwmark: int = 0,
    group: str | None = None,
    group_index: int = 0,
) -> str:
    if kind == "group":
        return f"[{group}]:{group_index}"
    if kind == "fwmark":
        return f"FWM {fwmark}"
    return format_rs(af, addr, port, protocol)
