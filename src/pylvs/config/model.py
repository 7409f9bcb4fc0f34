"""The typed result of loading a keepalived configuration.

Everything is resolved the way keepalived resolves it at load time: fix-ups
applied, options inherited checker → real server → virtual server →
built-in default (keepalived.md §3.5), addresses as ``(af, int)`` with the
core's AF_INET/AF_INET6. Times are seconds (floats). VRRP and BFD blocks are
kept as a tree of ``Node`` with their positions, to be interpreted later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from pylvs.config.addrfmt import format_endpoint, format_rs, format_vs
from pylvs.config.grammar import Node
from pylvs.core.addr import IPPROTO_TCP
from pylvs.core.model import (
    CONN_F_DROUTE,
    CONN_F_MASQ,
    CONN_F_TUNNEL,
    TUNNEL_ENCAP_FLAG_CSUM,
    TUNNEL_ENCAP_FLAG_NOCSUM,
    TUNNEL_ENCAP_FLAG_REMCSUM,
    TUNNEL_TYPE_GRE,
    TUNNEL_TYPE_GUE,
    TUNNEL_TYPE_IPIP,
    ServiceSpec,
)

__all__ = [
    "BfdCheck",
    "Checker",
    "Connection",
    "DnsCheck",
    "Endpoint",
    "FileCheck",
    "Forwarding",
    "GlobalSettings",
    "GroupEntry",
    "HttpCheck",
    "KeepalivedConfig",
    "LvsSyncDaemon",
    "LvsTimeouts",
    "MiscCheck",
    "NotifyFifo",
    "PingCheck",
    "RealServer",
    "Script",
    "SmtpCheck",
    "SorryServer",
    "SslSettings",
    "TcpCheck",
    "TrackFile",
    "UdpCheck",
    "Url",
    "VirtualServer",
    "VirtualServerGroup",
]


@dataclass(frozen=True, slots=True)
class Endpoint:
    af: int
    addr: int
    port: int

    def __str__(self) -> str:
        return format_endpoint(self.af, self.addr, self.port)


@dataclass(frozen=True, slots=True)
class Script:
    """A script command: one unquoted path or a quoted "path arg arg"."""

    args: tuple[str, ...]
    user: str | None = None
    group: str | None = None

    @property
    def path(self) -> str:
        return self.args[0]

    def __str__(self) -> str:
        return " ".join(_quote_arg(a) for a in self.args)


def _quote_arg(arg: str) -> str:
    if arg and not any(c in arg for c in " \t'\"\\"):
        return arg
    return "'" + arg.replace("'", "'\\''") + "'"


_FWD = {"NAT": CONN_F_MASQ, "DR": CONN_F_DROUTE, "TUN": CONN_F_TUNNEL}
_TUN_TYPE = {"ipip": TUNNEL_TYPE_IPIP, "gue": TUNNEL_TYPE_GUE, "gre": TUNNEL_TYPE_GRE}
_TUN_CSUM = {
    "nocsum": TUNNEL_ENCAP_FLAG_NOCSUM,
    "csum": TUNNEL_ENCAP_FLAG_CSUM,
    "remcsum": TUNNEL_ENCAP_FLAG_REMCSUM,
}


@dataclass(frozen=True, slots=True)
class Forwarding:
    """``lvs_method NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]``."""

    method: str = "NAT"
    tun_type: str = "ipip"
    tun_port: int = 0
    tun_csum: str = "nocsum"

    @property
    def conn_flags(self) -> int:
        return _FWD[self.method]

    @property
    def tun_type_code(self) -> int:
        return _TUN_TYPE[self.tun_type]

    @property
    def tun_flags(self) -> int:
        return _TUN_CSUM[self.tun_csum]

    def __str__(self) -> str:
        if self.method != "TUN":
            return self.method
        text = f"TUN type {self.tun_type}"
        if self.tun_type == "gue":
            text += f" port {self.tun_port}"
        if self.tun_type != "ipip":
            text += f" {self.tun_csum}"
        return text


# -- checkers ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Connection:
    """Where and how a checker connects (``connect_ip``, ``bindto``, ...)."""

    dst: Endpoint
    bindto: tuple[int, int] | None = None  # (af, addr)
    bind_port: int = 0
    bind_if: str | None = None
    fwmark: int = 0
    connect_timeout: float = 5.0


@dataclass(frozen=True, kw_only=True)
class Checker:
    """Options every checker has, resolved (checker → RS → VS → default)."""

    kind: ClassVar[str] = ""
    file: str
    line: int
    alpha: bool
    retry: int
    delay_before_retry: float
    delay_loop: float
    warmup: float
    log_all_failures: bool
    conn: Connection | None = None


@dataclass(frozen=True, kw_only=True)
class TcpCheck(Checker):
    kind: ClassVar[str] = "TCP_CHECK"


@dataclass(frozen=True, slots=True)
class Url:
    path: str
    status_codes: tuple[tuple[int, int], ...] = ((200, 299),)
    digest: str | None = None  # 32 lower-case hex digits
    virtualhost: str | None = None  # as configured on the url
    host: str = ""  # the Host header sent (url → checker → RS → VS, else ip:port)
    sni: str | None = None  # SNI sent by SSL_GET with enable_sni
    regex: str | None = None
    regex_no_match: bool = False
    regex_options: tuple[str, ...] = ()
    regex_min_offset: int = 0
    regex_max_offset: int = 0  # 0 = none; else the last acceptable offset + 1
    tls_compliant: bool = False

    def accepts(self, code: int) -> bool:
        return any(lo <= code <= hi for lo, hi in self.status_codes)


@dataclass(frozen=True, kw_only=True)
class HttpCheck(Checker):
    kind: ClassVar[str] = "HTTP_GET"
    ssl: bool = False
    urls: tuple[Url, ...] = ()
    virtualhost: str | None = None
    http_protocol: str = "1.0"  # 1.0 | 1.0C | 1.1
    fast_recovery: bool = False
    enable_sni: bool = False
    sni_name: str | None = None
    tls_compliant: bool = False

    @property
    def name(self) -> str:
        return "SSL_GET" if self.ssl else "HTTP_GET"


@dataclass(frozen=True, kw_only=True)
class SmtpCheck(Checker):
    kind: ClassVar[str] = "SMTP_CHECK"
    helo_name: str = "smtpchecker.keepalived.org"


@dataclass(frozen=True, kw_only=True)
class DnsCheck(Checker):
    kind: ClassVar[str] = "DNS_CHECK"
    type: str = "SOA"
    type_code: int = 6
    name: str = ""  # "" = the root zone


@dataclass(frozen=True, kw_only=True)
class UdpCheck(Checker):
    kind: ClassVar[str] = "UDP_CHECK"
    payload: bytes | None = None
    require_reply: bool = False
    reply_data: bytes | None = None
    reply_mask: bytes | None = None  # 0x0f/0xf0 nibbles that are wildcards
    min_reply_length: int = 0
    max_reply_length: int = 255


@dataclass(frozen=True, kw_only=True)
class PingCheck(Checker):
    kind: ClassVar[str] = "PING_CHECK"


@dataclass(frozen=True, kw_only=True)
class MiscCheck(Checker):
    kind: ClassVar[str] = "MISC_CHECK"
    script: Script
    timeout: float  # misc_timeout, default the virtual server's delay_loop
    dynamic: bool = False


@dataclass(frozen=True, slots=True)
class FileCheck:
    """``FILE_CHECK``: the real server follows a top-level ``track_file``."""

    file: str
    line: int
    track_file: str
    path: str
    weight: int
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class BfdCheck:
    """``BFD_CHECK``: parsed, not supported by pylvs."""

    file: str
    line: int
    name: str
    alpha: bool = False


# -- servers ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RealServer:
    file: str
    line: int
    af: int
    addr: int
    port: int  # after keepalived's port fix-ups
    weight: int
    forwarding: Forwarding
    inhibit_on_failure: bool
    alpha: bool
    u_threshold: int = 0
    l_threshold: int = 0
    delay_loop: float = 60.0
    connect_timeout: float = 5.0
    retry: int | None = None  # None: each checker's own default
    delay_before_retry: float | None = None
    warmup: float | None = None
    notify_up: Script | None = None
    notify_down: Script | None = None
    smtp_alert: bool = True
    virtualhost: str | None = None
    snmp_name: str | None = None
    checkers: tuple[Checker, ...] = ()
    file_checks: tuple[FileCheck, ...] = ()
    bfd_checks: tuple[BfdCheck, ...] = ()
    protocol: int = IPPROTO_TCP  # of its virtual server, for its name

    @property
    def name(self) -> str:
        return format_rs(self.af, self.addr, self.port, self.protocol)


@dataclass(frozen=True, slots=True)
class SorryServer:
    af: int
    addr: int
    port: int
    forwarding: Forwarding
    inhibit: bool = False
    duplicates_rs: bool = False


@dataclass(frozen=True, slots=True)
class GroupEntry:
    """One line of a virtual_server_group: an address range or a fwmark."""

    file: str
    line: int
    kind: str  # "addr" | "fwmark"
    af: int  # for a fwmark: 0 when no family was given
    start: int = 0
    end: int = 0  # == start when not a range
    port: int = 0
    fwmark: int = 0


@dataclass(frozen=True, slots=True)
class VirtualServerGroup:
    name: str
    file: str
    line: int
    entries: tuple[GroupEntry, ...]
    fwmarks: tuple[GroupEntry, ...]


@dataclass(frozen=True, kw_only=True)
class VirtualServer:
    file: str
    line: int
    kind: str  # "addr" | "fwmark" | "group"
    af: int
    addr: int = 0
    port: int = 0
    fwmark: int = 0
    group: str | None = None
    group_index: int = 0  # n-th virtual server of its group: "[GROUP]:n"
    protocol: int = 0
    scheduler: str = "wlc"
    flags: int = 0  # ops and scheduler flags (IP_VS_SVC_F_*)
    persistence_timeout: int = 0
    persistence_granularity: int | None = None  # IPv4 mask or IPv6 prefix length
    persistence_engine: str | None = None
    forwarding: Forwarding = field(default_factory=Forwarding)
    delay_loop: float = 60.0
    connect_timeout: float = 5.0
    retry: int | None = None
    delay_before_retry: float | None = None
    warmup: float | None = None
    weight: int = 1
    inhibit_on_failure: bool = False
    alpha: bool = False
    omega: bool = False
    quorum: int = 1
    hysteresis: int = 0
    quorum_up: Script | None = None
    quorum_down: Script | None = None
    sorry_server: SorryServer | None = None
    ha_suspend: bool = False
    virtualhost: str | None = None
    smtp_alert: bool = False
    ip_family: int | None = None
    snmp_name: str | None = None
    real_servers: tuple[RealServer, ...] = ()
    services: tuple[ServiceSpec, ...] = ()  # one IPVS service per address / group entry

    @property
    def name(self) -> str:
        return format_vs(
            kind=self.kind,
            af=self.af,
            addr=self.addr,
            port=self.port,
            protocol=self.protocol,
            fwmark=self.fwmark,
            group=self.group,
            group_index=self.group_index,
        )


@dataclass(frozen=True, slots=True)
class TrackFile:
    name: str
    file: str
    line: int
    path: str
    weight: int = 1
    reverse: bool = False
    init: int | None = None  # init_file value, None = not initialised
    overwrite: bool = False


@dataclass(frozen=True, slots=True)
class SslSettings:
    password: str | None = None
    ca: str | None = None
    certificate: str | None = None
    key: str | None = None


@dataclass(frozen=True, slots=True)
class NotifyFifo:
    """``*notify_fifo PATH [USER [GROUP]]`` and ``*notify_fifo_script CMD``
    (the FIFO name is appended to the script's arguments when it runs)."""

    path: str | None = None
    user: str | None = None
    group: str | None = None
    script: Script | None = None


@dataclass(frozen=True, slots=True)
class LvsTimeouts:
    tcp: int | None = None
    tcpfin: int | None = None
    udp: int | None = None


@dataclass(frozen=True, slots=True)
class LvsSyncDaemon:
    interface: str
    vrrp_instance: str | None = None
    syncid: int | None = None  # None: the VRRP instance's VRID
    maxlen: int | None = None
    port: int | None = None
    ttl: int | None = None
    group: str | None = None


@dataclass(frozen=True, kw_only=True)
class GlobalSettings:
    router_id: str | None = None  # None: the host name
    notification_email: tuple[str, ...] = ()
    notification_email_from: str | None = None
    smtp_server: str | None = None
    smtp_server_port: int = 25
    smtp_helo_name: str | None = None
    smtp_connect_timeout: int = 30
    smtp_alert: bool | None = None
    smtp_alert_vrrp: bool | None = None
    smtp_alert_checker: bool | None = None
    no_email_faults: bool = False
    no_checker_emails: bool = False
    checker_log_all_failures: bool = False
    rs_init_notifies: bool = False
    script_user: str | None = None
    script_group: str | None = None
    enable_script_security: bool = False
    notify_fifo: NotifyFifo = field(default_factory=NotifyFifo)
    vrrp_notify_fifo: NotifyFifo = field(default_factory=NotifyFifo)
    lvs_notify_fifo: NotifyFifo = field(default_factory=NotifyFifo)
    lvs_timeouts: LvsTimeouts = field(default_factory=LvsTimeouts)
    lvs_flush: bool = False
    lvs_flush_on_stop: str | None = None  # None | "FULL" | "VS"
    lvs_sync_daemon: LvsSyncDaemon | None = None
    startup_script: Script | None = None
    startup_script_timeout: int = 10
    shutdown_script: Script | None = None
    shutdown_script_timeout: int = 10
    statements: tuple[Node, ...] = ()  # every global_defs line, kept as written
    top_level: tuple[Node, ...] = ()  # net_namespace, instance, use_pid_dir, ...


@dataclass(frozen=True, kw_only=True)
class KeepalivedConfig:
    globals: GlobalSettings = field(default_factory=GlobalSettings)
    ssl: SslSettings | None = None
    groups: tuple[VirtualServerGroup, ...] = ()
    virtual_servers: tuple[VirtualServer, ...] = ()
    track_files: tuple[TrackFile, ...] = ()
    vrrp: tuple[Node, ...] = ()  # vrrp_instance, vrrp_sync_group, vrrp_script, static_* ...
    bfd: tuple[Node, ...] = ()
    files: tuple[str, ...] = ()  # every file read, in order
