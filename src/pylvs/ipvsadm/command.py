"""What one ipvsadm invocation asks for, once parsed and checked, and the
core op a table-changing command becomes (reference §1.3, §1.8, §2.1)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from pylvs.core.model import DestSpec, ServiceKey, ServiceSpec
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

__all__ = [
    "TABLE_COMMANDS",
    "Command",
    "ListFormat",
    "ListTarget",
    "View",
    "command_to_op",
]


class View(Enum):
    """The columns of a table listing (§2.3)."""

    PLAIN = "plain"
    STATS = "stats"
    RATE = "rate"
    THRESHOLDS = "thresholds"
    PERSISTENT_CONN = "persistent-conn"
    TUN_INFO = "tun-info"


@dataclass(frozen=True, slots=True)
class ListFormat:
    """ipvsadm's listing format flags, as given on the command line."""

    numeric: bool = False
    stats: bool = False
    rate: bool = False
    thresholds: bool = False
    persistent_conn: bool = False
    tun_info: bool = False
    nosort: bool = False
    exact: bool = False

    @property
    def view(self) -> View:
        """The view shown; extra view options are ignored in this priority (§2.1)."""
        if self.stats:
            return View.STATS
        if self.rate:
            return View.RATE
        if self.thresholds:
            return View.THRESHOLDS
        if self.persistent_conn:
            return View.PERSISTENT_CONN
        if self.tun_info:
            return View.TUN_INFO
        return View.PLAIN


class ListTarget(Enum):
    """What ``-L`` lists, in ipvsadm's priority (§2.1)."""

    CONNECTIONS = "connections"
    SERVICE = "service"
    TIMEOUTS = "timeouts"
    DAEMONS = "daemons"
    TABLE = "table"


TABLE_COMMANDS = frozenset(
    {
        "add-service",
        "edit-service",
        "delete-service",
        "flush",
        "add-server",
        "edit-server",
        "delete-server",
        "zero",
        "set",
        "start-daemon",
        "stop-daemon",
    }
)


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed, checked invocation.

    ``name`` is the command's name in messages (``add-service``, ``flush``,
    ``list``, ...) or ``help``/``version``. ``options`` holds the option
    names given (§1.4 names). Fields a command does not use are None.
    """

    name: str
    options: frozenset[str] = frozenset()
    # The service option, for every command that has one.
    service_key: ServiceKey | None = None
    # add/edit-service: the complete service sent (defaults applied, §1.8).
    service: ServiceSpec | None = None
    # add/edit-server: complete; delete-server: address and port only matter.
    dest: DestSpec | None = None
    fmt: ListFormat = ListFormat()
    # set: tcp, tcpfin, udp.
    timeouts: tuple[int, int, int] | None = None
    # start-daemon / stop-daemon.
    daemon: SyncDaemonConfig | None = None

    @property
    def changes_table(self) -> bool:
        return self.name in TABLE_COMMANDS

    @property
    def list_target(self) -> ListTarget:
        if "connection" in self.options:
            return ListTarget.CONNECTIONS
        if "service-address" in self.options:
            return ListTarget.SERVICE
        if "timeout" in self.options:
            return ListTarget.TIMEOUTS
        if "daemon" in self.options:
            return ListTarget.DAEMONS
        return ListTarget.TABLE


def command_to_op(cmd: Command) -> Op:
    """The core op of a table-changing command; ValueError for the others."""
    name = cmd.name
    if name in ("add-service", "edit-service"):
        assert cmd.service is not None
        return AddService(cmd.service) if name == "add-service" else EditService(cmd.service)
    if name == "delete-service":
        assert cmd.service_key is not None
        return DelService(cmd.service_key)
    if name == "flush":
        return Flush()
    if name in ("add-server", "edit-server", "delete-server"):
        assert cmd.service_key is not None and cmd.dest is not None
        if name == "add-server":
            return AddDest(cmd.service_key, cmd.dest)
        if name == "edit-server":
            return EditDest(cmd.service_key, cmd.dest)
        return DelDest(cmd.service_key, cmd.dest.key)
    if name == "zero":
        return Zero(cmd.service_key)
    if name == "set":
        assert cmd.timeouts is not None
        return SetTimeouts(*cmd.timeouts)
    if name == "start-daemon":
        assert cmd.daemon is not None
        return StartDaemon(cmd.daemon)
    if name == "stop-daemon":
        assert cmd.daemon is not None
        return StopDaemon(cmd.daemon.state)
    raise ValueError(f"'{name}' does not change the table")
