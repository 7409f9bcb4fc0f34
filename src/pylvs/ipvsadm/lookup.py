"""Name lookups ipvsadm makes through libc, behind an injectable interface.

Parsing asks ``gethostbyname`` (IPv4 only, first address) and
``getservbyname``; listing without ``-n`` asks ``gethostbyaddr`` and
``getservbyport`` (reference §1.5, §2.6). Protocols are the names libc
takes: ``"tcp"``, ``"udp"``, ``"sctp"``. Addresses are host-order integers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pylvs.core.addr import IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP
from pylvs.ipvsadm.frozen import FrozenValue, init_field

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


# The default of StaticResolver's fields: a new empty dict each (as a
# dataclass field(default_factory=dict) gives).
_NEW_DICT: Any = object()

_LOOKUP_PROTOS = {IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp", IPPROTO_SCTP: "sctp"}


def proto_for_lookup(protocol: int) -> str | None:
    """The libc protocol name ipvsadm uses for a protocol number; other
    protocols (fwmark services have 0) are never looked up."""
    return _LOOKUP_PROTOS.get(protocol)


class StaticResolver(FrozenValue):
    """An in-memory :class:`Resolver` (tests, and machines without names).

    ``hosts`` maps a name to its IPv4 address; ``addrs`` maps ``(af, addr)``
    to a name; ``services`` maps ``(name, proto)`` to a port and
    ``ports`` maps ``(port, proto)`` to a name.

    A frozen value, as a ``@dataclass(frozen=True)`` would be (see
    :mod:`pylvs.ipvsadm.frozen`).
    """

    __slots__ = ("addrs", "hosts", "ports", "services")
    __match_args__ = ("hosts", "addrs", "services", "ports")

    hosts: Mapping[str, int]
    addrs: Mapping[tuple[int, int], str]
    services: Mapping[tuple[str, str], int]
    ports: Mapping[tuple[int, str], str]

    def __init__(
        self,
        hosts: Mapping[str, int] = _NEW_DICT,
        addrs: Mapping[tuple[int, int], str] = _NEW_DICT,
        services: Mapping[tuple[str, str], int] = _NEW_DICT,
        ports: Mapping[tuple[int, str], str] = _NEW_DICT,
    ) -> None:
        init = init_field
        init(self, "hosts", {} if hosts is _NEW_DICT else hosts)
        init(self, "addrs", {} if addrs is _NEW_DICT else addrs)
        init(self, "services", {} if services is _NEW_DICT else services)
        init(self, "ports", {} if ports is _NEW_DICT else ports)

    def _fields(self) -> tuple[Any, ...]:
        return (self.hosts, self.addrs, self.services, self.ports)

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
