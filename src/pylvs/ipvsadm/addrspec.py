"""ipvsadm's ``host[:port]`` and netmask parsing (reference §1.5, §1.4 ``-M``).

The rules, in order: an all-digit (or empty) value is refused; ``[...]``
must be followed by ``:``; a valid IPv6 literal is IPv6 (unbracketed, it
has no port); otherwise the text after the *last* ``:`` is the port and
the host is tried with ``inet_aton`` and then ``gethostbyname``. Because
the bracket text is re-split on ``:`` when it is not IPv6,
``[10.0.0.12]:80`` loses its port. A port is a decimal 0..65535 or a
service name of the protocol known so far.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pylvs.core.addr import AF_INET, AF_INET6
from pylvs.ipvsadm.cstr import strtol_whole
from pylvs.ipvsadm.inet import dotted_quad, inet_aton, inet_pton6
from pylvs.ipvsadm.lookup import proto_for_lookup

if TYPE_CHECKING:
    from pylvs.ipvsadm.lookup import Resolver

__all__ = ["HostPort", "fast_host_port", "parse_host_port", "parse_ipv4_netmask"]

_DIGITS = frozenset("0123456789")


class HostPort:
    """A parsed ``host[:port]``; ``port`` is None when no port was given."""

    __slots__ = ("addr", "af", "port")

    def __init__(self, af: int, addr: int, port: int | None) -> None:
        self.af = af
        self.addr = addr
        self.port = port

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, HostPort):
            return NotImplemented
        return (self.af, self.addr, self.port) == (other.af, other.addr, other.port)

    def __hash__(self) -> int:
        return hash((self.af, self.addr, self.port))

    def __repr__(self) -> str:
        return f"HostPort(af={self.af!r}, addr={self.addr!r}, port={self.port!r})"


def _decimal_port(text: str) -> int:
    """A port written as 1-5 ASCII digits, 0..65535; -1 for anything else."""
    if len(text) <= 5 and text.isascii() and text.isdigit():
        port = int(text)
        if port <= 65535:
            return port
    return -1


def fast_host_port(text: str) -> tuple[int, int, int | None] | None:
    """``(af, addr, port)`` for the usual numeric forms -- ``a.b.c.d``,
    ``a.b.c.d:port``, an IPv6 literal, ``[v6]:port`` with canonical
    dotted quads and decimal ports -- exactly as :func:`parse_host_port`
    reads them; None for anything else (which may still be valid).

    It never needs the resolver: no names, no ports out of range.
    """
    if text[:1] == "[":
        end = text.find("]")
        if end < 0 or text[end + 1 : end + 2] != ":":
            return None
        port = _decimal_port(text[end + 2 :])
        if port < 0:
            return None
        addr6 = inet_pton6(text[1:end])
        return None if addr6 is None else (AF_INET6, addr6, port)
    colons = text.count(":")
    if colons > 1:
        # Two colons at least: no IPv4 host; an IPv6 literal has no port.
        addr6 = inet_pton6(text)
        return None if addr6 is None else (AF_INET6, addr6, None)
    # No IPv6 literal has fewer than two colons.
    if colons:
        host, _, port_text = text.partition(":")
        port = _decimal_port(port_text)
        if port < 0:
            return None
        addr = dotted_quad(host)
        return None if addr is None else (AF_INET, addr, port)
    addr = dotted_quad(text)
    return None if addr is None else (AF_INET, addr, None)


def _host_v4(text: str, resolver: Resolver) -> int | None:
    addr = inet_aton(text)
    if addr is None:
        addr = resolver.host_by_name(text)
    return addr


def parse_host_port(text: str, protocol: int, resolver: Resolver) -> HostPort | None:
    """ipvsadm's ``parse_service``: None where ipvsadm rejects the value.

    ``protocol`` is the service protocol parsed so far (0 if none), used to
    look up a port name.
    """
    fast = fast_host_port(text)
    if fast is not None:
        return HostPort(*fast)
    if all(ch in _DIGITS for ch in text):
        return None
    host = text
    port_text: str | None = None
    if host.startswith("["):
        host, bracket, after = host[1:].partition("]")
        if not bracket or not after.startswith(":"):
            return None
        port_text = after[1:]
    addr6 = inet_pton6(host)
    if addr6 is not None:
        af, addr = AF_INET6, addr6
    else:
        host, colon, tail = host.rpartition(":")
        if colon:
            port_text = tail
        else:
            host, port_text = tail, None
        addr4 = _host_v4(host, resolver)
        if addr4 is None:
            return None
        af, addr = AF_INET, addr4
    if port_text is None:
        return HostPort(af, addr, None)
    port = strtol_whole(port_text)
    if port is None or not 0 <= port <= 65535:
        proto = proto_for_lookup(protocol)
        port = resolver.service_port(port_text, proto) if proto else None
        if port is None:
            return None
    return HostPort(af, addr, port)


def parse_ipv4_netmask(text: str, resolver: Resolver) -> int | None:
    """``-M`` for a non-IPv6 service: ``inet_aton`` form or a host name."""
    return _host_v4(text, resolver)
