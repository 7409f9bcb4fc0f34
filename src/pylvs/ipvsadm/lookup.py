"""Name lookups ipvsadm makes through libc, behind an injectable interface.

Parsing asks ``gethostbyname`` (IPv4 only, first address) and
``getservbyname``; listing without ``-n`` asks ``gethostbyaddr`` and
``getservbyport`` (reference §1.5, §2.6). Protocols are the names libc
takes: ``"tcp"``, ``"udp"``, ``"sctp"``. Addresses are host-order integers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from pylvs.core.addr import IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP

__all__ = ["NO_NAMES", "Resolver", "StaticResolver", "proto_for_lookup"]


class Resolver(Protocol):
    def host_by_name(self, name: str) -> int | None:
        """``gethostbyname``: the first IPv4 address of ``name``, or None."""
        ...

    def service_port(self, name: str, proto: str) -> int | None:
        """``getservbyname``: the port of service ``name`` for ``proto``, or None."""
        ...

    def host_name(self, af: int, addr: int) -> str | None:
        """``gethostbyaddr``: the official name of an address, or None."""
        ...

    def service_name(self, port: int, proto: str) -> str | None:
        """``getservbyport``: the official name of ``port``/``proto``, or None."""
        ...


def proto_for_lookup(protocol: int) -> str | None:
    """The libc protocol name ipvsadm uses for a protocol number; other
    protocols (fwmark services have 0) are never looked up."""
    return {IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp", IPPROTO_SCTP: "sctp"}.get(protocol)


@dataclass(frozen=True)
class StaticResolver:
    """An in-memory :class:`Resolver` (tests, and machines without names).

    ``hosts`` maps a name to its IPv4 address; ``addrs`` maps ``(af, addr)``
    to a name; ``services`` maps ``(name, proto)`` to a port and
    ``ports`` maps ``(port, proto)`` to a name.
    """

    hosts: Mapping[str, int] = field(default_factory=dict)
    addrs: Mapping[tuple[int, int], str] = field(default_factory=dict)
    services: Mapping[tuple[str, str], int] = field(default_factory=dict)
    ports: Mapping[tuple[int, str], str] = field(default_factory=dict)

    def host_by_name(self, name: str) -> int | None:
        return self.hosts.get(name)

    def service_port(self, name: str, proto: str) -> int | None:
        return self.services.get((name, proto))

    def host_name(self, af: int, addr: int) -> str | None:
        return self.addrs.get((af, addr))

    def service_name(self, port: int, proto: str) -> str | None:
        return self.ports.get((port, proto))


NO_NAMES = StaticResolver()
"""A resolver that knows no names: listings come out numeric, names fail."""
