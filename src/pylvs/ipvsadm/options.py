"""ipvsadm's option table and its command × option rules (reference §1.3,
§1.4, §1.10, §1.11).

The popt table is in ipvsadm's declaration order, which decides lookups
(``--list`` finds ``-L`` first). Each popt entry's tag is its long name, so
``-L`` and ``-l`` are the same ``list``.
"""

from __future__ import annotations

from pylvs.ipvsadm.popt import ArgKind, PoptOption

__all__ = [
    "COMMAND_OPTIONS",
    "COMMAND_TAGS",
    "OPTION_NAMES",
    "POPT_TABLE",
    "TUNNEL_OPTIONS",
    "TUNNEL_TYPE_NAMES",
]


def _opt(long: str, short: str | None = None, kind: ArgKind = ArgKind.NONE) -> PoptOption:
    return PoptOption(long, short, kind, long)


_V = ArgKind.VALUE

POPT_TABLE: tuple[PoptOption, ...] = (
    _opt("add-service", "A"),
    _opt("edit-service", "E"),
    _opt("delete-service", "D"),
    _opt("clear", "C"),
    _opt("list", "L"),
    _opt("list", "l"),
    _opt("zero", "Z"),
    _opt("add-server", "a"),
    _opt("edit-server", "e"),
    _opt("delete-server", "d"),
    _opt("set"),
    _opt("help", "h"),
    _opt("version", "v"),
    _opt("restore", "R"),
    _opt("save", "S"),
    _opt("start-daemon", None, _V),
    _opt("stop-daemon", None, _V),
    _opt("tcp-service", "t", _V),
    _opt("udp-service", "u", _V),
    _opt("sctp-service", None, _V),
    _opt("fwmark-service", "f", _V),
    _opt("scheduler", "s", _V),
    _opt("persistent", "p", ArgKind.OPTIONAL),
    _opt("netmask", "M", _V),
    _opt("real-server", "r", _V),
    _opt("masquerading", "m"),
    _opt("ipip", "i"),
    _opt("gatewaying", "g"),
    _opt("weight", "w", _V),
    _opt("u-threshold", "x", _V),
    _opt("l-threshold", "y", _V),
    _opt("numeric", "n"),
    _opt("connection", "c"),
    _opt("mcast-interface", None, _V),
    _opt("syncid", None, _V),
    _opt("timeout"),
    _opt("daemon"),
    _opt("stats"),
    _opt("rate"),
    _opt("thresholds"),
    _opt("persistent-conn"),
    _opt("nosort"),
    _opt("sort"),
    _opt("exact", "X"),
    _opt("ipv6", "6"),
    _opt("ops", "o"),
    _opt("pe", None, _V),
    _opt("sched-flags", "b", _V),
    _opt("mcast-group", None, _V),
    _opt("mcast-port", None, _V),
    _opt("mcast-ttl", None, _V),
    _opt("sync-maxlen", None, _V),
    _opt("tun-info"),
    _opt("tun-type", None, _V),
    _opt("tun-port", None, _V),
    _opt("tun-nocsum"),
    _opt("tun-csum"),
    _opt("tun-remcsum"),
)

# popt tag of a command option -> the command's name in messages (§1.3).
# help and version are commands too but never reach the checks.
COMMAND_TAGS: dict[str, str] = {
    "add-service": "add-service",
    "edit-service": "edit-service",
    "delete-service": "delete-service",
    "clear": "flush",
    "list": "list",
    "zero": "zero",
    "add-server": "add-server",
    "edit-server": "edit-server",
    "delete-server": "delete-server",
    "set": "set",
    "restore": "restore",
    "save": "save",
    "start-daemon": "start-daemon",
    "stop-daemon": "stop-daemon",
    "help": "help",
    "version": "version",
}

# The option names of messages, in the scan order of the checks (§1.10).
OPTION_NAMES: tuple[str, ...] = (
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
)

# Per command: "+" mandatory, " " optional, "1" optional and exclusive with
# the row's other "1"s; an option not listed is illegal (§1.10).
COMMAND_OPTIONS: dict[str, dict[str, str]] = {
    "add-service": {
        "service-address": "+",
        "scheduler": " ",
        "persistent": " ",
        "netmask": " ",
        "ops": " ",
        "pe": " ",
        "sched-flags": " ",
    },
    "delete-service": {"service-address": "+"},
    "flush": {},
    "list": {
        "numeric": " ",
        "connection": "1",
        "service-address": "1",
        "timeout": "1",
        "daemon": "1",
        "stats": " ",
        "rate": " ",
        "thresholds": " ",
        "persistent-conn": " ",
        "nosort": " ",
        "syncid": " ",
        "exact": " ",
        "tun-info": " ",
    },
    "add-server": {
        "service-address": "+",
        "real-server": "+",
        "forwarding-method": " ",
        "weight": " ",
        "u-threshold": " ",
        "l-threshold": " ",
        "tun-type": " ",
        "tun-port": " ",
        "tun-nocsum": " ",
        "tun-csum": " ",
        "tun-remcsum": " ",
    },
    "delete-server": {"service-address": "+", "real-server": "+"},
    "set": {},
    "start-daemon": {
        "mcast-interface": " ",
        "syncid": " ",
        "mcast-group": " ",
        "mcast-port": " ",
        "mcast-ttl": " ",
        "sync-maxlen": " ",
    },
    "stop-daemon": {"syncid": " "},
    "restore": {},
    "save": {"numeric": " "},
    "zero": {"service-address": " "},
}
COMMAND_OPTIONS["edit-service"] = COMMAND_OPTIONS["add-service"]
COMMAND_OPTIONS["edit-server"] = COMMAND_OPTIONS["add-server"]

TUNNEL_TYPE_NAMES: tuple[str, ...] = ("ipip", "gue", "gre")

# Per tunnel type, the same rule letters for the tunnel options (§1.11).
TUNNEL_OPTIONS: dict[str, dict[str, str]] = {
    "ipip": {},
    "gue": {"tun-port": "+", "tun-nocsum": "1", "tun-csum": "1", "tun-remcsum": "1"},
    "gre": {"tun-nocsum": "1", "tun-csum": "1"},
}
TUNNEL_OPTION_ORDER: tuple[str, ...] = ("tun-port", "tun-nocsum", "tun-csum", "tun-remcsum")
