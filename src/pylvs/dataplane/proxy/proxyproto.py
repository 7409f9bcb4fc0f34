"""PROXY protocol headers (HAProxy's proxy-protocol.txt, versions 1 and 2),
sent to a real server before the client's bytes so that it learns the
client's address, as it would behind LVS-NAT."""

from __future__ import annotations

import struct

from pylvs.core.addr import AF_INET, IPPROTO_TCP, format_addr

__all__ = ["V2_SIGNATURE", "proxy_v1", "proxy_v2"]

V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V2_PROXY = 0x21  # version 2, command PROXY
# Address family and transport byte (proxy-protocol.txt §2.2).
_FAM = {(AF_INET, IPPROTO_TCP): 0x11, (AF_INET, 17): 0x12, (10, IPPROTO_TCP): 0x21, (10, 17): 0x22}


def proxy_v1(af: int, proto: int, caddr: int, cport: int, vaddr: int, vport: int) -> bytes:
    """``PROXY TCP4 client vip cport vport\\r\\n`` (v1 carries TCP only)."""
    family = "TCP4" if af == AF_INET else "TCP6"
    return (
        f"PROXY {family} {format_addr(af, caddr)} {format_addr(af, vaddr)} {cport} {vport}\r\n"
    ).encode()


def proxy_v2(af: int, proto: int, caddr: int, cport: int, vaddr: int, vport: int) -> bytes:
    size = 4 if af == AF_INET else 16
    body = (
        caddr.to_bytes(size, "big") + vaddr.to_bytes(size, "big") + struct.pack("!HH", cport, vport)
    )
    return V2_SIGNATURE + struct.pack("!BBH", V2_PROXY, _FAM[(af, proto)], len(body)) + body
