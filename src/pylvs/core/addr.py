"""Addresses as (family, integer) pairs: fast to hash, mask, compare and sort.

The kernel keeps IPv4 and IPv6 addresses in a union; here an address is a
Python ``int`` together with its family (``AF_INET`` or ``AF_INET6``).
"""

from __future__ import annotations

import ipaddress

__all__ = [
    "AF_INET",
    "AF_INET6",
    "IPPROTO_IP",
    "IPPROTO_SCTP",
    "IPPROTO_TCP",
    "IPPROTO_UDP",
    "PROTO_NAMES",
    "addr_bits",
    "fold32",
    "format_addr",
    "format_addr_port",
    "is_unicast",
    "mask_addr",
    "parse_addr",
]

# Linux values; they also fix ipvsadm's sort order (IPv4 = 2 before IPv6 = 10).
AF_INET = 2
AF_INET6 = 10

IPPROTO_IP = 0
IPPROTO_TCP = 6
IPPROTO_UDP = 17
IPPROTO_SCTP = 132

PROTO_NAMES = {IPPROTO_TCP: "TCP", IPPROTO_UDP: "UDP", IPPROTO_SCTP: "SCTP"}

_V4_ALL = 0xFFFFFFFF
_V6_ALL = (1 << 128) - 1


def addr_bits(af: int) -> int:
    return 32 if af == AF_INET else 128


def parse_addr(text: str) -> tuple[int, int]:
    """Parse a numeric IPv4 or IPv6 literal into ``(af, int)``.

    Strict parsing (the ipvsadm command line has its own, libc-compatible
    parser); raises ``ValueError``.
    """
    ip = ipaddress.ip_address(text)
    return (AF_INET if ip.version == 4 else AF_INET6), int(ip)


def format_addr(af: int, addr: int) -> str:
    """Numeric text of an address as ``inet_ntop`` writes it."""
    if af == AF_INET:
        return str(ipaddress.IPv4Address(addr))
    ip6 = ipaddress.IPv6Address(addr)
    mapped = ip6.ipv4_mapped
    if mapped is not None:
        # inet_ntop writes IPv4-mapped addresses with a dotted tail; Python
        # before 3.13 does not.
        return f"::ffff:{mapped}"
    return str(ip6)


def format_addr_port(af: int, addr: int, port: int) -> str:
    """``a.b.c.d:port`` or ``[v6]:port``, as ipvsadm -n prints them."""
    if af == AF_INET:
        return f"{format_addr(af, addr)}:{port}"
    return f"[{format_addr(af, addr)}]:{port}"


def fold32(af: int, addr: int) -> int:
    """The 32-bit value schedulers hash: IPv4 itself, IPv6 words XOR-ed (§2.5)."""
    if af == AF_INET:
        return addr
    return (addr ^ (addr >> 32) ^ (addr >> 64) ^ (addr >> 96)) & _V4_ALL


def mask_addr(af: int, addr: int, netmask: int) -> int:
    """Apply a persistence netmask: a 32-bit mask (IPv4) or a prefix length (IPv6)."""
    if af == AF_INET:
        return addr & netmask
    if netmask >= 128:
        return addr
    keep = _V6_ALL ^ ((1 << (128 - netmask)) - 1)
    return addr & keep


def is_unicast(af: int, addr: int) -> bool:
    """Whether the kernel accepts ``addr`` as a real-server address.

    IPv4: ``inet_addr_type`` must say unicast or local, so 0.0.0.0/8 and
    255.255.255.255 (broadcast types) and 224.0.0.0/4 (multicast) are refused.
    IPv6: not multicast, not unspecified, not link-local.
    (Subnet broadcast addresses depend on the host's interfaces and are not
    known to the pure core.)
    """
    if af == AF_INET:
        if (addr >> 24) == 0 or addr == _V4_ALL:
            return False
        return (addr >> 28) != 0xE
    if addr == 0:
        return False
    if (addr >> 120) == 0xFF:
        return False
    return (addr >> 118) != (0xFE80 >> 6)
