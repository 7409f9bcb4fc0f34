"""A copy-on-write view of the table used to check a batch of ops in full
before any of them is applied (atomic reloads and control requests)."""

from __future__ import annotations

from pylvs.core.model import DestKey, ServiceKey, ServiceSpec
from pylvs.core.ops import (
    AddDest,
    AddService,
    DelDest,
    DelService,
    EditService,
    Flush,
    Op,
    StartDaemon,
    StopDaemon,
)
from pylvs.core.table import ServiceTable

__all__ = ["Shadow"]


class Shadow:
    def __init__(self, table: ServiceTable, daemons: set[str]) -> None:
        self._table = table
        self._services: dict[ServiceKey, ServiceSpec | None] = {}
        self._dests: dict[tuple[ServiceKey, DestKey], bool] = {}
        self._reset: set[ServiceKey] = set()
        self._flushed = False
        self.daemons = set(daemons)

    # TableView
    def service_spec(self, key: ServiceKey) -> ServiceSpec | None:
        if key in self._services:
            return self._services[key]
        if self._flushed:
            return None
        return self._table.service_spec(key)

    def has_service(self, key: ServiceKey) -> bool:
        return self.service_spec(key) is not None

    def has_dest(self, svc: ServiceKey, dest: DestKey) -> bool:
        known = self._dests.get((svc, dest))
        if known is not None:
            return known
        if self._flushed or svc in self._reset:
            return False
        return self._table.has_dest(svc, dest)

    def in_trash(self, svc: ServiceKey, dest: DestKey) -> bool:
        return self._table.in_trash(svc, dest) or self._dests.get((svc, dest)) is False

    @property
    def sync_running(self) -> bool:
        return bool(self.daemons)

    def apply(self, op: Op) -> None:
        if isinstance(op, AddService):
            self._services[op.spec.key] = op.spec
            self._reset_dests(op.spec.key)
        elif isinstance(op, EditService):
            self._services[op.spec.key] = op.spec
        elif isinstance(op, DelService):
            self._services[op.key] = None
            self._reset_dests(op.key)
        elif isinstance(op, Flush):
            self._flushed = True
            self._services.clear()
            self._dests.clear()
            self._reset.clear()
        elif isinstance(op, AddDest):
            self._dests[(op.service, op.dest.key)] = True
        elif isinstance(op, DelDest):
            self._dests[(op.service, op.dest)] = False
        elif isinstance(op, StartDaemon):
            self.daemons.add(op.config.state)
        elif isinstance(op, StopDaemon):
            self.daemons.discard(op.state)

    def _reset_dests(self, key: ServiceKey) -> None:
        self._reset.add(key)
        for k in [k for k in self._dests if k[0] == key]:
            del self._dests[k]
