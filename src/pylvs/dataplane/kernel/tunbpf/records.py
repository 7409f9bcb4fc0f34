"""The byte layouts of the fast path's map entries (pure).

They mirror the structs of tun_encap.c: a flow's key (the client's packet's
addresses and ports, in network order, and the protocol), a flow (last-seen
time from ``bpf_ktime_get_ns``, real server id, IPVS state, flags), a real
server's tunnel parameters, a per-CPU counter, the program's options.
"""

from __future__ import annotations

import socket
import struct
from typing import NamedTuple

__all__ = [
    "CONF",
    "CONF_F_NO_PMTU",
    "CONF_F_NO_REUSE",
    "CONF_F_REUSE_FW",
    "CONF_F_SECURE_TCP",
    "COUNTER",
    "DEST",
    "DEST_F_RESCHED",
    "FLOW",
    "FLOW_F_CONTROLLED",
    "FLOW_KEY",
    "STAT_NAMES",
    "Addr",
    "FlowKey",
    "FlowValue",
    "addr_bytes",
    "conf_flags",
    "mac_bytes",
    "pack_dest",
    "pack_key",
    "unpack_key",
]

FLOW_KEY = struct.Struct("!4s4sHHB3x")  # saddr daddr sport dport proto
FLOW = struct.Struct("=QIBBxx")  # seen_ns dest state flags
DEST = struct.Struct("=4s4sIHH6s6s4x")  # rs src ifindex mtu flags dmac smac
COUNTER = struct.Struct("=QQ")  # packets bytes
CONF = struct.Struct("=I4x")  # flags

FLOW_F_CONTROLLED = 1
DEST_F_RESCHED = 1
CONF_F_NO_PMTU = 1
CONF_F_SECURE_TCP = 2
CONF_F_NO_REUSE = 4
CONF_F_REUSE_FW = 8

# The program's per-CPU event counters, in their index order.
STAT_NAMES = (
    "forwarded",
    "miss",
    "no_dest",
    "ttl",
    "too_big",
    "resched",
    "fragment",
    "error",
)

Addr = int | str | bytes


class FlowKey(NamedTuple):
    caddr: int
    vaddr: int
    cport: int
    vport: int
    proto: int


class FlowValue(NamedTuple):
    seen_ns: int
    dest_id: int
    state: int
    flags: int


def addr_bytes(a: Addr) -> bytes:
    """An IPv4 address as 4 bytes in network order (int, dotted or bytes)."""
    if isinstance(a, bytes):
        if len(a) != 4:
            raise ValueError(f"not an IPv4 address: {a!r}")
        return a
    if isinstance(a, int):
        if not 0 <= a < 1 << 32:
            raise ValueError(f"not an IPv4 address: {a}")
        return a.to_bytes(4, "big")
    if a.count(".") != 3:
        raise ValueError(f"not an IPv4 address: {a!r}")
    try:
        return socket.inet_aton(a)
    except OSError:
        raise ValueError(f"not an IPv4 address: {a!r}") from None


def mac_bytes(m: str | bytes) -> bytes:
    if isinstance(m, bytes):
        if len(m) != 6:
            raise ValueError(f"not a MAC address: {m!r}")
        return m
    parts = m.split(":")
    if len(parts) != 6:
        raise ValueError(f"not a MAC address: {m!r}")
    return bytes(int(p, 16) for p in parts)


def pack_key(caddr: Addr, vaddr: Addr, cport: int, vport: int, proto: int) -> bytes:
    return FLOW_KEY.pack(addr_bytes(caddr), addr_bytes(vaddr), cport, vport, proto)


def unpack_key(b: bytes | memoryview) -> FlowKey:
    s, d, sp, dp, proto = FLOW_KEY.unpack(b)
    return FlowKey(int.from_bytes(s, "big"), int.from_bytes(d, "big"), sp, dp, proto)


def pack_dest(
    rs_addr: Addr,
    src_addr: Addr,
    ifindex: int,
    src_mac: str | bytes,
    dst_mac: str | bytes,
    mtu: int,
    flags: int = 0,
) -> bytes:
    if not 68 <= mtu <= 0xFFFF:
        raise ValueError(f"MTU {mtu} out of range")
    return DEST.pack(
        addr_bytes(rs_addr),
        addr_bytes(src_addr),
        ifindex,
        mtu,
        flags,
        mac_bytes(dst_mac),
        mac_bytes(src_mac),
    )


def conf_flags(*, pmtu_disc: bool, secure_tcp: bool, conn_reuse_mode: int) -> int:
    """The program's option word from IPVS's sysctls (§8)."""
    flags = 0
    if not pmtu_disc:
        flags |= CONF_F_NO_PMTU
    if secure_tcp:
        flags |= CONF_F_SECURE_TCP
    if not conn_reuse_mode:
        flags |= CONF_F_NO_REUSE
    elif conn_reuse_mode & 2:
        flags |= CONF_F_REUSE_FW
    return flags
