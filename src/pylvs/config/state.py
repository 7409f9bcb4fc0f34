"""Mutable drafts filled in by the keyword handlers while a configuration is
read, and the load state that holds them (keepalived's ``current_vs``,
``current_rs``, ``current_checker``... globals). ``validate`` turns the
drafts into the frozen model.

``None`` stands for keepalived's "not set" sentinels (UINT_MAX, ULONG_MAX,
-1, IP_VS_CONN_F_FWD_MASK) so that inheritance can tell them apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pylvs.config.accounts import Accounts
from pylvs.config.diagnostics import Reporter
from pylvs.config.grammar import Node
from pylvs.config.lines import LineSource
from pylvs.config.model import Forwarding, GroupEntry, Script
from pylvs.config.numbers import Numbers

__all__ = [
    "CheckerDraft",
    "ConnDraft",
    "GlobalDraft",
    "LoadState",
    "RsDraft",
    "SorryDraft",
    "TrackFileDraft",
    "UrlDraft",
    "VsDraft",
    "VsgDraft",
]


@dataclass
class ConnDraft:
    dst_af: int
    dst_addr: int
    dst_port: int
    bind_af: int = 0
    bind_addr: int = 0
    bind_port: int = 0
    bind_if: str | None = None
    fwmark: int = 0
    connect_timeout: float | None = None
    dst_set: bool = True  # SMTP_CHECK starts with no destination


@dataclass
class UrlDraft:
    path: str | None = None
    digest: str | None = None
    status_codes: set[int] = field(default_factory=set)
    virtualhost: str | None = None
    regex: str | None = None
    regex_no_match: bool = False
    regex_options: list[str] = field(default_factory=list)
    regex_min_offset: int = 0
    regex_max_offset: int = 0
    regex_use_stack: bool = False
    tls_compliant: bool = False


@dataclass
class CheckerDraft:
    kind: str
    file: str
    line: int
    conn: ConnDraft | None = None
    alpha: bool | None = None
    retry: int | None = None
    delay_before_retry: float | None = None
    warmup: float | None = None
    delay_loop: float | None = None
    log_all_failures: bool = False
    default_retry: int = 1
    default_delay_before_retry: float = 1.0  # 0: the checker's delay_loop
    # HTTP_GET / SSL_GET
    urls: list[UrlDraft] = field(default_factory=list)
    virtualhost: str | None = None
    http_protocol: str = "1.0"
    fast_recovery: bool = False
    enable_sni: bool = False
    sni_name: str | None = None
    tls_compliant: bool = False
    # SMTP_CHECK
    helo_name: str | None = None
    hosts: list[CheckerDraft] = field(default_factory=list)  # deprecated host {} blocks
    parent: CheckerDraft | None = None  # of a host block
    # DNS_CHECK
    dns_type: str = "SOA"
    dns_name: str | None = None
    # UDP_CHECK
    payload: bytes | None = None
    require_reply: bool = False
    reply_data: bytes | None = None
    reply_mask: bytes | None = None
    min_reply_length: int = 0
    max_reply_length: int = 255
    # MISC_CHECK
    script: tuple[str, ...] | None = None
    misc_timeout: int = 0
    misc_dynamic: bool = False
    user: str | None = None
    group: str | None = None


@dataclass
class FileCheckDraft:
    file: str
    line: int
    track_file: str | None = None
    path: str = ""
    weight: int | None = None
    reverse: bool = False


@dataclass
class BfdCheckDraft:
    file: str
    line: int
    name: str | None = None
    alpha: bool | None = None


@dataclass
class RsDraft:
    file: str
    line: int
    af: int
    addr: int
    port: int
    forwarding: Forwarding | None
    weight: int | None = None
    alpha: bool | None = None
    inhibit: bool | None = None
    connect_timeout: float | None = None
    delay_loop: float | None = None
    warmup: float | None = None
    retry: int | None = None
    delay_before_retry: float | None = None
    virtualhost: str | None = None
    snmp_name: str | None = None
    smtp_alert: bool | None = None
    u_threshold: int = 0
    l_threshold: int = 0
    notify_up: Script | None = None
    notify_down: Script | None = None
    checkers: list[CheckerDraft] = field(default_factory=list)
    file_checks: list[FileCheckDraft] = field(default_factory=list)
    bfd_checks: list[BfdCheckDraft] = field(default_factory=list)


@dataclass
class SorryDraft:
    af: int
    addr: int
    port: int
    forwarding: Forwarding | None
    inhibit: bool = False
    duplicates_rs: bool = False


@dataclass
class VsDraft:
    file: str
    line: int
    kind: str  # addr | fwmark | group
    af: int = 0
    addr: int = 0
    port: int = 0
    fwmark: int = 0
    group: str | None = None
    group_index: int = 0
    protocol: int = 0
    scheduler: str = ""
    flags: int = 0
    persistence_timeout: int = 0
    persistence_granularity: int | None = None
    persistence_engine: str | None = None
    forwarding: Forwarding | None = None
    delay_loop: float = 60.0
    connect_timeout: float = 5.0
    retry: int | None = None
    delay_before_retry: float | None = None
    warmup: float | None = None
    weight: int = 1
    inhibit: bool = False
    alpha: bool = False
    omega: bool = False
    quorum: int = 1
    hysteresis: int = 0
    quorum_up: Script | None = None
    quorum_down: Script | None = None
    sorry: SorryDraft | None = None
    ha_suspend: bool = False
    virtualhost: str | None = None
    smtp_alert: bool | None = None
    ip_family: int | None = None
    snmp_name: str | None = None
    rs: list[RsDraft] = field(default_factory=list)
    vsg: VsgDraft | None = None


@dataclass
class VsgDraft:
    name: str
    file: str
    line: int
    entries: list[GroupEntry] = field(default_factory=list)  # final once read: the model type
    fwmarks: list[GroupEntry] = field(default_factory=list)
    have_ipv4: bool = False
    have_ipv6: bool = False
    fwmark_no_family: bool = False


@dataclass
class TrackFileDraft:
    name: str
    file: str
    line: int
    path: str | None = None
    weight: int = 1
    reverse: bool = False
    init: int | None = None
    overwrite: bool = False


@dataclass
class FifoDraft:
    path: str | None = None
    user: str | None = None
    group: str | None = None
    script: Script | None = None


@dataclass
class GlobalDraft:
    router_id: str | None = None
    notification_email: list[str] = field(default_factory=list)
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
    notify_fifo: FifoDraft = field(default_factory=FifoDraft)
    vrrp_notify_fifo: FifoDraft = field(default_factory=FifoDraft)
    lvs_notify_fifo: FifoDraft = field(default_factory=FifoDraft)
    lvs_timeouts: dict[str, int] = field(default_factory=dict)
    lvs_flush: bool = False
    lvs_flush_on_stop: str | None = None
    lvs_syncd: dict[str, str | int | None] | None = None
    startup_script: Script | None = None
    startup_script_timeout: int = 0
    shutdown_script: Script | None = None
    shutdown_script_timeout: int = 0
    statements: list[Node] = field(default_factory=list)
    top_level: list[Node] = field(default_factory=list)


@dataclass
class SslDraft:
    password: str | None = None
    ca: str | None = None
    certificate: str | None = None
    key: str | None = None


@dataclass
class LoadState:
    reporter: Reporter
    nums: Numbers
    lines: LineSource
    globals: GlobalDraft = field(default_factory=GlobalDraft)
    ssl: SslDraft | None = None
    vsgs: list[VsgDraft] = field(default_factory=list)
    vss: list[VsDraft] = field(default_factory=list)
    track_files: list[TrackFileDraft] = field(default_factory=list)
    vrrp: list[Node] = field(default_factory=list)
    bfd: list[Node] = field(default_factory=list)
    # keepalived's current_* pointers
    vs: VsDraft | None = None
    rs: RsDraft | None = None
    checker: CheckerDraft | None = None
    url: UrlDraft | None = None
    file_check: FileCheckDraft | None = None
    bfd_check: BfdCheckDraft | None = None
    track_file: TrackFileDraft | None = None
    # regex text waiting for the end of its url (static in check_http.c)
    pending_regex: str | None = None
    pending_regex_options: list[str] = field(default_factory=list)
    # script users (notify.c): None = names are not checked
    accounts: Accounts | None = None
    default_user_set: bool = False
    default_user_fail: bool = False

    def error(self, message: str) -> None:
        self.reporter.error(message)

    def log(self, message: str) -> None:
        self.reporter.log(message)
