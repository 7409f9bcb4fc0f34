"""The one interface every data plane implements.

A plane receives every op the core applied (``on_op``) and the entries the
core expired (``on_expired``); it never decides policy — scheduling,
persistence and counting are the core's. ``status`` feeds ``pylvs status``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from pylvs.core.conn import Conn
from pylvs.core.info import ConnInfo
from pylvs.core.ipvs import Ipvs
from pylvs.core.ops import Op

__all__ = ["Capabilities", "DataPlane"]


class Capabilities:
    """What a plane can forward: method names as ipvsadm prints them."""

    def __init__(self, methods: Sequence[str], protocols: Sequence[str]) -> None:
        self.methods = tuple(methods)
        self.protocols = tuple(protocols)

    def as_dict(self) -> dict[str, list[str]]:
        return {"methods": list(self.methods), "protocols": list(self.protocols)}


class DataPlane(ABC):
    name: str = "?"
    #: Why this plane was chosen (shown at start and by ``pylvs status``).
    reason: str = ""

    @abstractmethod
    def capabilities(self) -> Capabilities: ...

    async def start(self, ipvs: Ipvs, clock: Callable[[], float]) -> None:
        """Bring the plane up for the table as it is now."""
        self.ipvs = ipvs
        self.clock = clock

    def on_op(self, op: Op) -> None:
        """An op the core has just applied."""

    def on_expired(self, conns: Sequence[Conn]) -> None:
        """Entries the core has just expired."""

    async def stop(self) -> None:
        """Stop forwarding; release what the plane holds."""

    def before_tick(self, now: float) -> None:
        """Called before each run of the core's timers (counters refresh)."""

    def conn_infos(self, now: float) -> list[ConnInfo] | None:
        """The connection listing, when the plane knows better than the core
        (entries kept by the kernel); None: the core's."""
        return None

    def saved_rules(self) -> str | None:
        """Rules to restore at start (a plane taking over after a restart)."""
        return None

    def saved_ops(self) -> list[Op]:
        """Changes to apply after saved_rules (a journal since that snapshot)."""
        return []

    def refresh(self, now: float) -> None:
        """Called before a listing: counts the plane reads from elsewhere
        (the kernel) brought up to date."""

    def status(self) -> dict[str, Any]:
        return {"dataplane": self.name, "reason": self.reason, **self.capabilities().as_dict()}
