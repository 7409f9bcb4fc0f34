"""What one ipvsadm invocation asks for, once parsed and checked, and the
core op a table-changing command becomes (reference §1.3, §1.8, §2.1).

:class:`ListFormat` and :class:`Command` behave as frozen, slotted
dataclasses but are written out (see :mod:`pylvs.ipvsadm.frozen`).
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any

from pylvs.ipvsadm.frozen import FrozenValue, init_field

if TYPE_CHECKING:
    from pylvs.core.model import DestSpec, ServiceKey, ServiceSpec
    from pylvs.core.ops import Op, SyncDaemonConfig

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


class ListFormat(FrozenValue):
    """ipvsadm's listing format flags, as given on the command line."""

    __slots__ = (
        "exact",
        "nosort",
        "numeric",
        "persistent_conn",
        "rate",
        "stats",
        "thresholds",
        "tun_info",
    )
    __match_args__ = (
        "numeric",
        "stats",
        "rate",
        "thresholds",
        "persistent_conn",
        "tun_info",
        "nosort",
        "exact",
    )

    numeric: bool
    stats: bool
    rate: bool
    thresholds: bool
    persistent_conn: bool
    tun_info: bool
    nosort: bool
    exact: bool

    def __init__(
        self,
        numeric: bool = False,
        stats: bool = False,
        rate: bool = False,
        thresholds: bool = False,
        persistent_conn: bool = False,
        tun_info: bool = False,
        nosort: bool = False,
        exact: bool = False,
    ) -> None:
        init = init_field
        init(self, "numeric", numeric)
        init(self, "stats", stats)
        init(self, "rate", rate)
        init(self, "thresholds", thresholds)
        init(self, "persistent_conn", persistent_conn)
        init(self, "tun_info", tun_info)
        init(self, "nosort", nosort)
        init(self, "exact", exact)

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.numeric,
            self.stats,
            self.rate,
            self.thresholds,
            self.persistent_conn,
            self.tun_info,
            self.nosort,
            self.exact,
        )

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


DEFAULT_FORMAT = ListFormat()


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


class Command(FrozenValue):
    """A parsed, checked invocation.

    ``name`` is the command's name in messages (``add-service``, ``flush``,
    ``list``, ...) or ``help``/``version``. ``options`` holds the option
    names given (§1.4 names). Fields a command does not use are None:

    * ``service_key``: the service option, for every command that has one;
    * ``service``: add/edit-service: the complete service sent (defaults
      applied, §1.8);
    * ``dest``: add/edit-server: complete; delete-server: address and port
      only matter;
    * ``timeouts``: set: tcp, tcpfin, udp;
    * ``daemon``: start-daemon / stop-daemon.
    """

    __slots__ = (
        "daemon",
        "dest",
        "fmt",
        "name",
        "options",
        "service",
        "service_key",
        "timeouts",
    )
    __match_args__ = (
        "name",
        "options",
        "service_key",
        "service",
        "dest",
        "fmt",
        "timeouts",
        "daemon",
    )

    name: str
    options: frozenset[str]
    service_key: ServiceKey | None
    service: ServiceSpec | None
    dest: DestSpec | None
    fmt: ListFormat
    timeouts: tuple[int, int, int] | None
    daemon: SyncDaemonConfig | None

    def __init__(
        self,
        name: str,
        options: frozenset[str] = frozenset(),
        service_key: ServiceKey | None = None,
        service: ServiceSpec | None = None,
        dest: DestSpec | None = None,
        fmt: ListFormat = DEFAULT_FORMAT,
        timeouts: tuple[int, int, int] | None = None,
        daemon: SyncDaemonConfig | None = None,
    ) -> None:
        init = init_field
        init(self, "name", name)
        init(self, "options", options)
        init(self, "service_key", service_key)
        init(self, "service", service)
        init(self, "dest", dest)
        init(self, "fmt", fmt)
        init(self, "timeouts", timeouts)
        init(self, "daemon", daemon)

    def _fields(self) -> tuple[Any, ...]:
        return (
            self.name,
            self.options,
            self.service_key,
            self.service,
            self.dest,
            self.fmt,
            self.timeouts,
            self.daemon,
        )

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
    # Imported here: parsing and listing need no op. (This form of the
    # statement costs the least once the module is loaded.)
    import pylvs.core.ops as ops

    name = cmd.name
    if name in ("add-service", "edit-service"):
        assert cmd.service is not None
        if name == "add-service":
            return ops.AddService(cmd.service)
        return ops.EditService(cmd.service)
    if name == "delete-service":
        assert cmd.service_key is not None
        return ops.DelService(cmd.service_key)
    if name == "flush":
        return ops.Flush()
    if name in ("add-server", "edit-server", "delete-server"):
        assert cmd.service_key is not None and cmd.dest is not None
        if name == "add-server":
            return ops.AddDest(cmd.service_key, cmd.dest)
        if name == "edit-server":
            return ops.EditDest(cmd.service_key, cmd.dest)
        return ops.DelDest(cmd.service_key, cmd.dest.key)
    if name == "zero":
        return ops.Zero(cmd.service_key)
    if name == "set":
        assert cmd.timeouts is not None
        return ops.SetTimeouts(*cmd.timeouts)
    if name == "start-daemon":
        assert cmd.daemon is not None
        return ops.StartDaemon(cmd.daemon)
    if name == "stop-daemon":
        assert cmd.daemon is not None
        return ops.StopDaemon(cmd.daemon.state)
    raise ValueError(f"'{name}' does not change the table")
