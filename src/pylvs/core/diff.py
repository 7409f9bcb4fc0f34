"""The table as a value, and the ops that turn one such value into another.

Reload (keepalived config), ``ipvsadm-restore`` and data-plane takeover all
compute ``diff(current, wanted)`` and apply the result as one batch, so that
what still exists is never flushed and rebuilt: its connections, counters
and scheduler state survive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from pylvs.core.model import DestKey, DestSpec, ServiceKey, ServiceSpec
from pylvs.core.ops import (
    AddDest,
    AddService,
    DelDest,
    DelService,
    EditDest,
    EditService,
    Op,
)
from pylvs.core.table import ServiceTable

__all__ = ["ServiceConfig", "TableSpec", "diff", "snapshot"]


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """A service and its dests, in the order they were (or are to be) added."""

    spec: ServiceSpec
    dests: tuple[DestSpec, ...] = ()

    def dest_map(self) -> dict[DestKey, DestSpec]:
        return {d.key: d for d in self.dests}

    def same_as(self, other: ServiceConfig) -> bool:
        """Equal specs and the same dests, whatever their order."""
        return self.spec == other.spec and self.dest_map() == other.dest_map()


TableSpec = Mapping[ServiceKey, ServiceConfig]


def snapshot(table: ServiceTable) -> dict[ServiceKey, ServiceConfig]:
    """The table as a value (dests oldest first, i.e. in add order)."""
    return {
        svc.key: ServiceConfig(svc.spec(), tuple(d.spec() for d in reversed(svc.dests)))
        for svc in table
    }


def diff(old: TableSpec, new: TableSpec) -> list[Op]:
    """Ops that turn ``old`` into ``new``.

    Existing services and dests are edited in place, never deleted and
    re-added; new dests are added in ``new``'s order. The order of dests
    that already exist is not changed (that would need a delete).
    """
    ops: list[Op] = []
    for key in old:
        if key not in new:
            ops.append(DelService(key))
    for key, want in new.items():
        have = old.get(key)
        if have is None:
            ops.append(AddService(want.spec))
            ops.extend(AddDest(key, d) for d in want.dests)
            continue
        if have.spec != want.spec:
            ops.append(EditService(want.spec))
        ops.extend(_dest_ops(key, have.dests, want.dests))
    return ops


def _dest_ops(key: ServiceKey, have: Iterable[DestSpec], want: Iterable[DestSpec]) -> list[Op]:
    have_by_key = {d.key: d for d in have}
    want_by_key = {d.key: d for d in want}
    ops: list[Op] = [DelDest(key, dk) for dk in have_by_key if dk not in want_by_key]
    for dk, d in want_by_key.items():
        current = have_by_key.get(dk)
        if current is None:
            ops.append(AddDest(key, d))
        elif current != d:
            ops.append(EditDest(key, d))
    return ops
