"""Ops as JSON values and back (pure): for journals of the changes a
daemon applied (a data plane that must survive ``kill -9`` between two
snapshots of the table)."""

from __future__ import annotations

from typing import Any

from pylvs.core.model import DestKey, DestSpec, ServiceKey, ServiceSpec
from pylvs.core.ops import (
    AddDest,
    AddService,
    DelDest,
    DelService,
    EditDest,
    EditService,
    Flush,
    Op,
    SetTimeouts,
    StartDaemon,
    StopDaemon,
    SyncDaemonConfig,
    Zero,
)

__all__ = ["op_from_json", "op_to_json"]


def _spec(spec: ServiceSpec) -> list[Any]:
    return [list(spec.key), *spec[1:]]


def op_to_json(op: Op) -> list[Any]:
    """``[command, fields...]`` with specs and keys as lists."""
    if isinstance(op, AddService | EditService):
        return [op.command, _spec(op.spec)]
    if isinstance(op, DelService):
        return [op.command, list(op.key)]
    if isinstance(op, AddDest | EditDest | DelDest):
        return [op.command, list(op.service), list(op.dest)]
    if isinstance(op, Zero):
        return [op.command, list(op.service) if op.service is not None else None]
    if isinstance(op, SetTimeouts):
        return [op.command, op.tcp, op.tcpfin, op.udp]
    if isinstance(op, StartDaemon):
        c = op.config
        return [op.command, [c.state, c.mcast_ifn, c.syncid, c.sync_maxlen, c.mcast_group,
                             c.mcast_port, c.mcast_ttl]]  # fmt: skip
    if isinstance(op, StopDaemon):
        return [op.command, op.state]
    return [op.command]


def op_from_json(row: list[Any]) -> Op:
    """The op of :func:`op_to_json`; ValueError for anything else."""
    try:
        command, *args = row
        if command in ("add-service", "edit-service"):
            key, *rest = args[0]
            spec = ServiceSpec(ServiceKey(*key), *rest)
            return AddService(spec) if command == "add-service" else EditService(spec)
        if command == "delete-service":
            return DelService(ServiceKey(*args[0]))
        if command in ("add-server", "edit-server"):
            service, dest = ServiceKey(*args[0]), DestSpec(*args[1])
            return AddDest(service, dest) if command == "add-server" else EditDest(service, dest)
        if command == "delete-server":
            return DelDest(ServiceKey(*args[0]), DestKey(*args[1]))
        if command == "zero":
            return Zero(ServiceKey(*args[0]) if args[0] is not None else None)
        if command == "set":
            return SetTimeouts(*args)
        if command == "start-daemon":
            return StartDaemon(SyncDaemonConfig(*args[0]))
        if command == "stop-daemon":
            return StopDaemon(args[0])
        if command == "flush":
            return Flush()
    except (TypeError, ValueError) as e:
        raise ValueError(f"not an op: {row!r}") from e
    raise ValueError(f"not an op: {row!r}")
