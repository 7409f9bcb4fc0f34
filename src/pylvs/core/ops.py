"""Every change to the table is an op value (design: "Every change is an op").

Data planes and the control protocol consume these; ``diff`` produces them.
Each op knows the ipvsadm command name used in its error messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from pylvs.core.model import DestKey, DestSpec, ServiceKey, ServiceSpec

__all__ = [
    "AddDest",
    "AddService",
    "DelDest",
    "DelService",
    "EditDest",
    "EditService",
    "Flush",
    "Op",
    "SetTimeouts",
    "StartDaemon",
    "StopDaemon",
    "SyncDaemonConfig",
    "Zero",
]


@dataclass(frozen=True, slots=True)
class AddService:
    spec: ServiceSpec
    command: ClassVar[str] = "add-service"


@dataclass(frozen=True, slots=True)
class EditService:
    spec: ServiceSpec
    command: ClassVar[str] = "edit-service"


@dataclass(frozen=True, slots=True)
class DelService:
    key: ServiceKey
    command: ClassVar[str] = "delete-service"


@dataclass(frozen=True, slots=True)
class Flush:
    command: ClassVar[str] = "flush"


@dataclass(frozen=True, slots=True)
class AddDest:
    service: ServiceKey
    dest: DestSpec
    command: ClassVar[str] = "add-server"


@dataclass(frozen=True, slots=True)
class EditDest:
    service: ServiceKey
    dest: DestSpec
    command: ClassVar[str] = "edit-server"


@dataclass(frozen=True, slots=True)
class DelDest:
    service: ServiceKey
    dest: DestKey
    command: ClassVar[str] = "delete-server"


@dataclass(frozen=True, slots=True)
class Zero:
    """Zero the counters of one service (and its dests), or of everything."""

    service: ServiceKey | None = None
    command: ClassVar[str] = "zero"


@dataclass(frozen=True, slots=True)
class SetTimeouts:
    """``ipvsadm --set tcp tcpfin udp``; 0 leaves a value unchanged (§4.2)."""

    tcp: int
    tcpfin: int
    udp: int
    command: ClassVar[str] = "set"


@dataclass(frozen=True, slots=True)
class SyncDaemonConfig:
    """A sync daemon's settings (§7.1); 0 or "" means the kernel default."""

    state: str  # "master" or "backup"
    mcast_ifn: str = "eth0"
    syncid: int = 0
    sync_maxlen: int = 0
    mcast_group: str = ""
    mcast_port: int = 0
    mcast_ttl: int = 0


@dataclass(frozen=True, slots=True)
class StartDaemon:
    config: SyncDaemonConfig
    command: ClassVar[str] = "start-daemon"


@dataclass(frozen=True, slots=True)
class StopDaemon:
    state: str
    command: ClassVar[str] = "stop-daemon"


Op = (
    AddService
    | EditService
    | DelService
    | Flush
    | AddDest
    | EditDest
    | DelDest
    | Zero
    | SetTimeouts
    | StartDaemon
    | StopDaemon
)
