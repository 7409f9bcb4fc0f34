"""Where the health engine's servers sit in the IPVS table.

The engine speaks of a virtual server and a real server by their keys; in
the table a virtual server is one IPVS service (or one per address and
fwmark of its group) and a real server one destination in each of them,
with the port keepalived gives it there (pylvs.config.builder.dest_spec).

:meth:`ServerMap.table` turns the engine's view of what it has put in the
table (:meth:`pylvs.health.policy.HealthPolicy.table`) into the core's
table value, which ``pylvs.core.diff`` compares with the live table.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

from pylvs.config.builder import dest_spec
from pylvs.config.model import Forwarding
from pylvs.core.diff import ServiceConfig
from pylvs.core.model import DestKey, DestSpec, ServiceKey, ServiceSpec

__all__ = ["Server", "ServerMap"]


@dataclass(frozen=True, slots=True)
class Server:
    """A real or sorry server as configured (its weight comes from the engine)."""

    af: int
    addr: int
    port: int
    forwarding: Forwarding
    u_threshold: int = 0
    l_threshold: int = 0

    def dest(self, key: ServiceKey, weight: int) -> DestSpec:
        return dest_spec(
            key,
            self.af,
            self.addr,
            self.port,
            self.forwarding,
            weight,
            self.u_threshold,
            self.l_threshold,
        )


class ServerMap:
    def __init__(self) -> None:
        self._services: dict[Hashable, tuple[ServiceSpec, ...]] = {}
        self._servers: dict[tuple[Hashable, Hashable], Server] = {}

    def add_virtual_server(self, vs: Hashable, services: Iterable[ServiceSpec]) -> None:
        self._services[vs] = tuple(services)

    def add_server(self, vs: Hashable, rs: Hashable, server: Server) -> None:
        self._servers[(vs, rs)] = server

    def services(self, vs: Hashable) -> tuple[ServiceSpec, ...]:
        return self._services.get(vs, ())

    def dests(self, vs: Hashable, rs: Hashable, weight: int) -> list[tuple[ServiceKey, DestSpec]]:
        """The destination ``rs`` is in each service of ``vs``, at ``weight``."""
        server = self._servers.get((vs, rs))
        if server is None:
            return []
        return [(spec.key, server.dest(spec.key, weight)) for spec in self.services(vs)]

    def keys(self) -> set[ServiceKey]:
        """Every service this configuration owns."""
        return {spec.key for specs in self._services.values() for spec in specs}

    def table(
        self, engine: Mapping[Hashable, Iterable[tuple[Hashable, int]]]
    ) -> dict[ServiceKey, ServiceConfig]:
        """The table value for the engine's view ``engine`` (virtual server →
        its destinations and their weights).  A service two virtual servers
        share (keepalived would fail the second add) takes the first one's
        settings; a destination two servers share, the first one's."""
        specs: dict[ServiceKey, ServiceSpec] = {}
        dests: dict[ServiceKey, dict[DestKey, DestSpec]] = {}
        for vs, members in engine.items():
            for spec in self.services(vs):
                specs.setdefault(spec.key, spec)
                dests.setdefault(spec.key, {})
            for rs, weight in members:
                for key, dest in self.dests(vs, rs, weight):
                    dests[key].setdefault(dest.key, dest)
        return {key: ServiceConfig(spec, tuple(dests[key].values())) for key, spec in specs.items()}
