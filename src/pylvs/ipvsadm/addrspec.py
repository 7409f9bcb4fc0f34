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

from dataclasses import dataclass

from pylvs.core.addr import AF_INET, AF_INET6
from pylvs.ipvsadm.cstr import strtol_whole
from pylvs.ipvsadm.inet import inet_aton, inet_pton6
from pylvs.ipvsadm.lookup import Resolver, proto_for_lookup

__all__ = ["HostPort", "parse_host_port", "parse_ipv4_netmask"]

_DIGITS = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class HostPort:
    af: int
    addr: int
    port: int | None  # None when no port was given


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
