"""The health engine's table actions as the core's ops.

keepalived sends each action to the kernel as one IPVS command; here each
becomes the ops that bring the table to what the action means, given what
the table holds now (``view``):

- ``AddService`` → add each service of the virtual server not yet there;
- ``RemoveService`` → delete each that is there;
- ``AddDest`` → add the destination to each service, or edit it in place
  when it is already there (inhibited servers, a restart over a table left
  with ``-I``);
- ``SetWeight`` → edit it where it is there; ``RemoveDest`` → delete it
  where it is there (the core drains its connections, as IPVS does);
- ``FlushAll`` (``lvs_flush_on_stop``) → flush.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol

from pylvs.core.model import DestKey, ServiceKey
from pylvs.core.ops import AddDest as CoreAddDest
from pylvs.core.ops import AddService as CoreAddService
from pylvs.core.ops import DelDest, DelService, EditDest, Flush, Op
from pylvs.health.actions import (
    AddDest,
    AddService,
    FlushAll,
    RemoveDest,
    RemoveService,
    SetWeight,
    TableAction,
)
from pylvs.keepalived.servermap import ServerMap

__all__ = ["TableState", "to_ops"]


class TableState(Protocol):
    def has_service(self, key: ServiceKey) -> bool: ...

    def has_dest(self, svc: ServiceKey, dest: DestKey) -> bool: ...


def _dest_ops(
    servers: ServerMap, view: TableState, vs: Hashable, rs: Hashable, weight: int, add: bool
) -> list[Op]:
    ops: list[Op] = []
    for key, dest in servers.dests(vs, rs, weight):
        if not view.has_service(key):
            continue
        if view.has_dest(key, dest.key):
            ops.append(EditDest(key, dest))
        elif add:
            ops.append(CoreAddDest(key, dest))
    return ops


def to_ops(action: TableAction, servers: ServerMap, view: TableState) -> list[Op]:
    if isinstance(action, AddService):
        return [
            CoreAddService(spec)
            for spec in servers.services(action.vs)
            if not view.has_service(spec.key)
        ]
    if isinstance(action, RemoveService):
        return [
            DelService(spec.key)
            for spec in servers.services(action.vs)
            if view.has_service(spec.key)
        ]
    if isinstance(action, FlushAll):
        return [Flush()]
    if isinstance(action, AddDest):
        return _dest_ops(servers, view, action.vs, action.rs, action.weight, add=True)
    if isinstance(action, SetWeight):
        return _dest_ops(servers, view, action.vs, action.rs, action.weight, add=False)
    assert isinstance(action, RemoveDest)
    ops: list[Op] = []
    for key, dest in servers.dests(action.vs, action.rs, 0):
        if view.has_service(key) and view.has_dest(key, dest.key):
            ops.append(DelDest(key, dest.key))
    return ops
