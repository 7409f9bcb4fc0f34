"""An in-memory plane that records what it is told: the fake of the DataPlane
interface for tests and ``--dry-run``."""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.core.conn import Conn
from pylvs.core.ops import Op
from pylvs.dataplane.base import Capabilities, DataPlane

__all__ = ["MemoryPlane"]


class MemoryPlane(DataPlane):
    name = "memory"
    reason = "in-memory recorder"

    def __init__(self) -> None:
        self.ops: list[Op] = []
        self.expired: list[Conn] = []
        self.running = False

    def capabilities(self) -> Capabilities:
        return Capabilities(["Masq", "Route", "Tunnel", "Local"], ["TCP", "UDP", "SCTP"])

    def on_op(self, op: Op) -> None:
        self.ops.append(op)

    def on_expired(self, conns: Sequence[Conn]) -> None:
        self.expired.extend(conns)
