"""Address parsing as keepalived does it (lib/utils.c ``inet_stosockaddr``):
the family is IPv6 when the text has a colon, anything after a ``-`` or ``/``
is ignored here (ranges and masks are read by the caller), the port must be
in 1..65535 (callers pass no port for "0")."""

from __future__ import annotations

import ipaddress

from pylvs.config.cnum import strtoul
from pylvs.config.numbers import Numbers
from pylvs.core.addr import AF_INET, AF_INET6

__all__ = ["family_of", "inet_aton", "nonzero_port", "parse_ip", "stosockaddr"]


def family_of(text: str) -> int:
    return AF_INET6 if ":" in text else AF_INET


def parse_ip(text: str, af: int | None = None) -> tuple[int, int] | None:
    """``inet_pton`` of the given (or guessed) family."""
    af = family_of(text) if af is None else af
    if "%" in text:
        return None
    try:
        if af == AF_INET:
            return AF_INET, int(ipaddress.IPv4Address(text))
        return AF_INET6, int(ipaddress.IPv6Address(text))
    except ValueError:
        return None


def stosockaddr(ip: str, port: str | None, nums: Numbers) -> tuple[int, int, int] | None:
    """(af, addr, port) or None when the address or port is invalid."""
    af = family_of(ip)
    port_num = 0
    if port is not None:
        val = nums.read_unsigned(port, 1, 65535, True)
        if val is None:
            return None
        port_num = val
    cut = ip.find("-")
    if cut < 0:
        cut = ip.find("/")
    text = ip[:cut] if cut >= 0 else ip
    parsed = parse_ip(text, af)
    if parsed is None:
        return None
    return parsed[0], parsed[1], port_num


def nonzero_port(port: str | None) -> str | None:
    """keepalived passes no port for an all-zero port string (v2.0.7 legacy)."""
    if port is None or not port.strip("0"):
        return None
    return port


def inet_aton(text: str) -> int | None:
    """glibc's numeric IPv4 forms (``getaddrinfo(AI_NUMERICHOST)``): one to
    four parts, each decimal, octal (0...) or hex (0x...), the last part
    filling the remaining bytes — so ``24`` is 0.0.0.24."""
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        if not part or not part[0].isdigit():
            return None
        conv = strtoul(part, 0)
        if conv.end != len(part) or conv.erange:
            return None
        values.append(conv.value)
    last_bits = 8 * (5 - len(values))
    if any(v > 0xFF for v in values[:-1]) or values[-1] >= 1 << last_bits:
        return None
    addr = 0
    for v in values[:-1]:
        addr = (addr << 8) | v
    return (addr << last_bits) | values[-1]
