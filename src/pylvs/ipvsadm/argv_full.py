"""The complete ipvsadm 1.31 command-line parser: popt, every option, every
check (the steps of :mod:`pylvs.ipvsadm.argv`).

:func:`pylvs.ipvsadm.argv.parse_argv` comes here for whatever its fast path
does not take, so this module (and popt, the option tables and the usage
texts) is imported only then.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP
from pylvs.core.errors import UsageError
from pylvs.core.model import (
    CONN_F_DROUTE,
    CONN_F_TUNNEL,
    DEFAULT_PERSISTENT_TIMEOUT,
    DEFAULT_SCHEDULER,
    IPV4_FULL_MASK,
    IPV6_FULL_PREFIX,
    SVC_F_ONEPACKET,
    SVC_F_PERSISTENT,
    TUNNEL_TYPE_IPIP,
    DestSpec,
    ServiceKey,
    ServiceSpec,
)
from pylvs.ipvsadm.addrspec import parse_host_port, parse_ipv4_netmask
from pylvs.ipvsadm.argv import (
    FORMAT_OPTIONS,
    MAX_TIMEOUT,
    METHODS,
    SCHED_FLAGS,
    SCHED_MASK,
    SCHED_NAME_MAX,
    SERVICE_PROTOCOLS,
    TUN_FLAGS,
    PoptError,
    ProcessCrash,
)
from pylvs.ipvsadm.checks import check_command_options, check_tunnel_options
from pylvs.ipvsadm.command import DEFAULT_FORMAT, Command, ListFormat
from pylvs.ipvsadm.cstr import INT_MAX, atoi, cut_bytes, strtol_whole, to_uint32
from pylvs.ipvsadm.inet import inet_ntop4, inet_ntop6, inet_pton4, inet_pton6
from pylvs.ipvsadm.options import COMMAND_TAGS, POPT_TABLE, TUNNEL_TYPE_NAMES
from pylvs.ipvsadm.popt import Popt, PoptFailure, PoptHang
from pylvs.ipvsadm.usage import try_help_message

if TYPE_CHECKING:
    from pylvs.ipvsadm.lookup import Resolver

__all__ = ["parse_full"]

# Buffer sizes, less the NUL where strncpy leaves room for it (ip_vs.h).
_IFNAME_MAX = 15
_PE_NAME_MAX = 16
_SCHED_FLAGS_MAX = 127

# Flag-like options that only need recording (their tag is their name).
_PLAIN_OPTIONS = frozenset({"connection", "timeout", "daemon"})


def parse_full(
    prog: str,
    args: Sequence[str],
    resolver: Resolver,
    *,
    reading_stdin: bool,
    posixly_correct: bool,
    weight_max: int,
) -> Command:
    """:func:`pylvs.ipvsadm.argv.parse_argv` without its fast path."""
    if not args:
        return Command("list")  # a bare "ipvsadm" lists the table (§1.1)
    # C strings end at the first NUL.
    argv = [prog, *(a.split("\0", 1)[0] for a in args)]
    parser = _Parser(argv, resolver, posixly_correct, weight_max)
    try:
        return parser.run(reading_stdin)
    except PoptHang:
        raise ProcessCrash("hang") from None


class _Entry:
    """ipvsadm's working command entry, filled option by option (the class
    attributes are the starting values)."""

    # Service. af 0 until a service option sets it.
    af: int = 0
    protocol: int = 0
    addr: int = 0
    port: int = 0
    fwmark: int = 0
    scheduler: str = ""
    flags: int = 0
    timeout: int = 0
    netmask: int = IPV4_FULL_MASK
    pe_name: str = ""
    sched_flags_arg: str = ""
    # Real server.
    dest_af: int = 0
    dest_addr: int = 0
    dest_port: int = 0
    fwd: int = CONN_F_DROUTE
    weight: int = 1
    u_threshold: int = 0
    l_threshold: int = 0
    tun_type: int = TUNNEL_TYPE_IPIP
    tun_port: int = 0
    tun_flags: int = 0
    # Sync daemon.
    state: str = ""
    mcast_ifn: str = ""
    syncid: int = 0
    mcast_group: str = ""
    mcast_port: int = 0
    mcast_ttl: int = 0
    sync_maxlen: int = 0

    def __init__(self, command: str) -> None:
        self.command = command


class _Parser:
    def __init__(
        self, argv: list[str], resolver: Resolver, posixly_correct: bool, weight_max: int
    ) -> None:
        self._prog = argv[0]
        self._popt = Popt(argv, POPT_TABLE, posixly_correct=posixly_correct)
        self._resolver = resolver
        self._weight_max = weight_max
        self._given: list[str] = []
        self._fmt: dict[str, bool] = {}

    def _try_help(self) -> UsageError:
        return UsageError(try_help_message(self._prog), 255)

    def run(self, reading_stdin: bool) -> Command:
        try:
            first = self._popt.next_option()
        except PoptFailure:
            raise self._try_help() from None
        if first is None:
            raise self._try_help()
        opt, value = first
        command = COMMAND_TAGS.get(opt.tag)
        if command is None:
            raise self._try_help()
        if command in ("help", "version"):
            return Command(command)
        e = _Entry(command)
        if command in ("start-daemon", "stop-daemon"):
            if value not in ("master", "backup"):
                raise UsageError(
                    "illegal start-daemon parameter specified"
                    if command == "start-daemon"
                    else "illegal start_daemon specified"
                )
            e.state = value
        self._options(e)
        timeouts = self._leftovers(e)
        if e.sched_flags_arg:
            e.flags = (e.flags & ~SCHED_MASK) | _sched_flags(e.scheduler, e.sched_flags_arg)
        self._checks(e)
        if command == "restore" and reading_stdin:
            raise self._try_help()
        return self._command(e, timeouts)

    # -- step 2: options ------------------------------------------------

    def _options(self, e: _Entry) -> None:
        while True:
            try:
                item = self._popt.next_option()
            except PoptFailure as failure:
                raise PoptError(f"{self._popt.bad_option()}: {failure.reason}") from None
            if item is None:
                return
            opt, value = item
            self._apply(e, opt.tag, value)

    def _set_option(self, name: str) -> None:
        if name in self._given:
            raise UsageError(f"multiple '{name}' options specified")
        self._given.append(name)

    def _number(self, name: str, value: str | None, low: int, high: int, message: str) -> int:
        self._set_option(name)
        n = strtol_whole(value or "")
        if n is None or not low <= n <= high:
            raise UsageError(message)
        return n

    def _apply(self, e: _Entry, tag: str, value: str | None) -> None:
        text = value or ""
        if tag in SERVICE_PROTOCOLS:
            self._set_option("service-address")
            e.protocol = SERVICE_PROTOCOLS[tag]
            hp = parse_host_port(text, e.protocol, self._resolver)
            if hp is None:
                raise UsageError("illegal virtual server address[:port] specified")
            e.af, e.addr = hp.af, hp.addr
            if hp.af == AF_INET6:
                e.netmask = IPV6_FULL_PREFIX
            if hp.port is not None:
                e.port = hp.port
        elif tag == "fwmark-service":
            self._set_option("service-address")
            # ipvsadm gives fwmark services TCP; it decides -r port names.
            e.af, e.protocol = AF_INET, IPPROTO_TCP
            mark = strtol_whole(text)
            if mark is None or not 1 <= mark <= 0xFFFFFFFF:
                raise UsageError(f"invalid fwmark value `{text}' specified")
            e.fwmark = mark
        elif tag == "scheduler":
            self._set_option("scheduler")
            e.scheduler = cut_bytes(text, SCHED_NAME_MAX)
        elif tag == "persistent":
            self._set_option("persistent")
            e.flags |= SVC_F_PERSISTENT
            e.timeout = (
                DEFAULT_PERSISTENT_TIMEOUT if value is None else _timeout(value, 1, MAX_TIMEOUT)
            )
        elif tag == "netmask":
            self._set_option("netmask")
            if e.af != AF_INET6:
                mask = parse_ipv4_netmask(text, self._resolver)
                if mask is None:
                    raise UsageError("illegal virtual server persistent mask specified")
                e.netmask = mask
            else:
                e.netmask = to_uint32(atoi(text))
                if not 1 <= e.netmask <= 128:
                    raise UsageError("illegal ipv6 netmask specified")
        elif tag == "real-server":
            self._set_option("real-server")
            hp = parse_host_port(text, e.protocol, self._resolver)
            if hp is None:
                raise UsageError("illegal real server address[:port] specified")
            e.dest_af, e.dest_addr = hp.af, hp.addr
            e.dest_port = e.port if hp.port is None else hp.port
        elif tag in METHODS:
            self._set_option("forwarding-method")
            e.fwd = METHODS[tag]
        elif tag == "weight":
            e.weight = self._number(
                "weight", value, 0, self._weight_max, "illegal weight specified"
            )
        elif tag == "u-threshold":
            e.u_threshold = self._number(
                "u-threshold", value, 0, INT_MAX, "illegal u_threshold specified"
            )
        elif tag == "l-threshold":
            e.l_threshold = self._number(
                "l-threshold", value, 0, INT_MAX, "illegal l_threshold specified"
            )
        elif tag == "mcast-interface":
            self._set_option("mcast-interface")
            e.mcast_ifn = cut_bytes(text, _IFNAME_MAX)
        elif tag == "syncid":
            e.syncid = self._number("syncid", value, 0, 255, "illegal syncid specified")
        elif tag in FORMAT_OPTIONS:
            self._set_option(tag)
            self._fmt[FORMAT_OPTIONS[tag]] = True
        elif tag in _PLAIN_OPTIONS:
            self._set_option(tag)
        elif tag == "sort":
            pass  # accepted with every command, does nothing (§1.2)
        elif tag == "ipv6":
            # Not an option by name: never illegal, may repeat (§1.6).
            if not e.fwmark:
                raise UsageError("-6 used before -f\n")
            e.af, e.netmask = AF_INET6, IPV6_FULL_PREFIX
        elif tag == "ops":
            self._set_option("ops")
            e.flags |= SVC_F_ONEPACKET
        elif tag == "pe":
            self._set_option("pe")
            e.pe_name = cut_bytes(text, _PE_NAME_MAX)
        elif tag == "sched-flags":
            self._set_option("sched-flags")
            e.sched_flags_arg = cut_bytes(text, _SCHED_FLAGS_MAX)
        elif tag == "mcast-group":
            self._set_option("mcast-group")
            e.mcast_group = _mcast_group(text)
        elif tag == "mcast-port":
            e.mcast_port = self._number(
                "mcast-port", value, 1, 65535, "illegal mcast-port specified"
            )
        elif tag == "mcast-ttl":
            e.mcast_ttl = self._number("mcast-ttl", value, 1, 255, "illegal mcast-ttl specified")
        elif tag == "sync-maxlen":
            # 65535 less the IPv4 and UDP headers.
            e.sync_maxlen = self._number(
                "sync-maxlen", value, 1, 65535 - 20 - 8, "illegal sync-maxlen specified"
            )
        elif tag == "tun-type":
            self._set_option("tun-type")
            if text not in TUNNEL_TYPE_NAMES:
                raise UsageError("illegal tunnel type specified")
            e.tun_type = TUNNEL_TYPE_NAMES.index(text)
        elif tag == "tun-port":
            e.tun_port = self._number("tun-port", value, 1, 65535, "illegal tunnel port specified")
        elif tag in TUN_FLAGS:
            self._set_option(tag)
            e.tun_flags |= TUN_FLAGS[tag]
        else:
            # A command (or -h/-v) after the command (§1.2).
            raise UsageError(f"invalid option `{self._popt.bad_option()}'")

    # -- step 3: leftovers ----------------------------------------------

    def _leftovers(self, e: _Entry) -> tuple[int, int, int] | None:
        timeouts = None
        if e.command == "set":
            words: list[str] = []
            while len(words) < 3:
                word = self._popt.next_leftover()
                if word is None:
                    raise UsageError("--set option requires 3 timeout values")
                words.append(word)
            tcp, tcpfin, udp = (_timeout(w, 0, MAX_TIMEOUT) for w in words)
            timeouts = (tcp, tcpfin, udp)
        extra = self._popt.next_leftover()
        if extra is not None:
            raise UsageError(f"unexpected argument {extra}")
        return timeouts

    # -- step 5: checks -------------------------------------------------

    def _checks(self, e: _Entry) -> None:
        given = set(self._given)
        check_command_options(e.command, given)
        if e.command in ("add-service", "edit-service"):
            if not e.fwmark and not e.port and not e.flags & SVC_F_PERSISTENT:
                raise UsageError("Zero port specified for non-persistent service")
            if e.flags & SVC_F_ONEPACKET and not e.fwmark and e.protocol != IPPROTO_UDP:
                raise UsageError("One-Packet Scheduling is only for UDP virtual services")
            if not e.scheduler:
                e.scheduler = DEFAULT_SCHEDULER
        if e.command == "start-daemon" and not e.mcast_ifn:
            e.mcast_ifn = "eth0"
        if e.command in ("add-server", "edit-server"):
            # Direct routing and tunnelling cannot change the port (§1.8 step 4).
            if not e.fwmark and e.fwd in (CONN_F_TUNNEL, CONN_F_DROUTE):
                e.dest_port = e.port
            if e.dest_af != e.af and e.fwd != CONN_F_TUNNEL:
                raise UsageError("Different address family is allowed only for tunneling servers")
            if given & {"tun-type", "tun-port", *TUN_FLAGS} and e.fwd != CONN_F_TUNNEL:
                raise UsageError("Tunnel options conflict with forward method")
            check_tunnel_options(TUNNEL_TYPE_NAMES[e.tun_type], given)
        if e.command == "list" and (
            (
                given & {"connection", "timeout", "daemon"}
                and given & {"stats", "rate", "thresholds"}
            )
            or (given & {"timeout", "daemon"} and "persistent-conn" in given)
        ):
            raise UsageError("options conflicts in the list command")

    # -- result -----------------------------------------------------------

    def _command(self, e: _Entry, timeouts: tuple[int, int, int] | None) -> Command:
        given = frozenset(self._given)
        key: ServiceKey | None = None
        if "service-address" in given:
            if e.fwmark:
                key = ServiceKey.fwm(e.fwmark, e.af)
            else:
                key = ServiceKey(e.af, e.protocol, e.addr, e.port)
        service = None
        if key is not None and e.command in ("add-service", "edit-service"):
            service = ServiceSpec(
                key=key,
                scheduler=e.scheduler,
                flags=e.flags,
                timeout=e.timeout,
                netmask=e.netmask,
                pe_name=e.pe_name,
            )
        dest = None
        if "real-server" in given:
            dest = DestSpec(
                af=e.dest_af,
                addr=e.dest_addr,
                port=e.dest_port,
                fwd=e.fwd,
                weight=e.weight,
                u_threshold=e.u_threshold,
                l_threshold=e.l_threshold,
                tun_type=e.tun_type,
                tun_port=e.tun_port,
                tun_flags=e.tun_flags,
            )
        daemon = None
        if e.command in ("start-daemon", "stop-daemon"):
            from pylvs.core.ops import SyncDaemonConfig

            daemon = SyncDaemonConfig(
                state=e.state,
                mcast_ifn=e.mcast_ifn,
                syncid=e.syncid,
                sync_maxlen=e.sync_maxlen,
                mcast_group=e.mcast_group,
                mcast_port=e.mcast_port,
                mcast_ttl=e.mcast_ttl,
            )
        return Command(
            name=e.command,
            options=given,
            service_key=key,
            service=service,
            dest=dest,
            fmt=ListFormat(**self._fmt) if self._fmt else DEFAULT_FORMAT,
            timeouts=timeouts,
            daemon=daemon,
        )


def _timeout(text: str, low: int, high: int) -> int:
    n = strtol_whole(text)
    if n is None or not low <= n <= high:
        raise UsageError(f"invalid timeout value `{text}' specified")
    return n


def _mcast_group(text: str) -> str:
    """A multicast group as the kernel will report it (inet_ntop form)."""
    if ":" in text:
        addr6 = inet_pton6(text)
        if addr6 is None or addr6 >> 120 != 0xFF:
            raise UsageError(f"invalid IPv6 mcast-group `{text}'")
        return inet_ntop6(addr6)
    addr4 = inet_pton4(text)
    if addr4 is None or addr4 >> 28 != 0xE:
        raise UsageError(f"invalid IPv4 mcast-group `{text}'")
    return inet_ntop4(addr4)


def _sched_flags(scheduler: str, arg: str) -> int:
    """The flag bits of a ``-b`` list (§1.7); strtok skips empty items."""
    scheduler = scheduler or DEFAULT_SCHEDULER
    words = [w for w in arg.split(",") if w]
    if not words:
        # ipvsadm hands strtok's NULL to strcmp (``-b ,``).
        raise ProcessCrash("segfault")
    flags = 0
    for word in words:
        if word not in SCHED_FLAGS:
            raise UsageError(f"invalid scheduler flag `{word}'")
        bit, needs = SCHED_FLAGS[word]
        flags |= bit
        if needs is not None and scheduler != needs:
            raise UsageError(f"incompatible scheduler flag `{word}'")
    return flags
