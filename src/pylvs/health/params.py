"""What the health-check engine needs to know, as plain values.

The keepalived.conf parser's model is mapped onto these by the daemon. Every
value here is *resolved*: inheritance (checker → real server → virtual server
→ built-in default, reference §3.3/§3.5) is done by :func:`make_checker` and
:func:`resolve_timing`, so the engine never looks further up the tree.

Identifiers (``id`` fields) are opaque hashable values chosen by the daemon
(for example its core's service and destination keys); table actions name
them back.  Times are seconds (floats), weights are ints.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Literal, TypeVar

__all__ = [
    "CHECKER_KINDS",
    "DEFAULT_STATUS_CODES",
    "CheckerParams",
    "CheckerSpec",
    "ConnectParams",
    "DnsSpec",
    "FileSpec",
    "GlobalParams",
    "HealthParams",
    "HttpSpec",
    "MiscSpec",
    "PingSpec",
    "RealServerParams",
    "ScriptParams",
    "SmtpSpec",
    "SorryServerParams",
    "SslParams",
    "TcpSpec",
    "TimingOverrides",
    "UdpSpec",
    "UrlParams",
    "VirtualServerParams",
    "kind_defaults",
    "make_checker",
    "resolve_timing",
]

#: keepalived's checker block names (FILE_CHECK has no probe timing).
CHECKER_KINDS = (
    "HTTP_GET",
    "SSL_GET",
    "TCP_CHECK",
    "SMTP_CHECK",
    "DNS_CHECK",
    "UDP_CHECK",
    "PING_CHECK",
    "MISC_CHECK",
    "FILE_CHECK",
)

#: ``status_code`` when a url gives none (check_http.c: 200-299).
DEFAULT_STATUS_CODES: frozenset[int] = frozenset(range(200, 300))

KEEPALIVED_DEFAULT_DELAY = 60.0
DEFAULT_CONNECT_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class ScriptParams:
    """A command keepalived runs: notify_up/down, quorum_up/down, misc_path.

    ``argv[0]`` is the program (keepalived splits ``"path arg arg"`` itself;
    the parser hands the words over).  ``user``/``group`` None means the
    global ``script_user`` (then ``keepalived_script`` if that user exists,
    else the daemon's own user).
    """

    argv: tuple[str, ...]
    user: str | None = None
    group: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectParams:
    """Connection options shared by the network checkers (§3.4).

    ``connect_ip``/``connect_port`` None mean the real server's address/port.
    ``fwmark`` 0 means no SO_MARK.
    """

    connect_ip: str | None = None
    connect_port: int | None = None
    bindto: str | None = None
    bind_port: int | None = None
    bind_if: str | None = None
    fwmark: int = 0


@dataclass(frozen=True, slots=True)
class SslParams:
    """The global ``SSL { }`` block.  keepalived loads these files but never
    turns peer verification on (check_ssl.c sets no verify mode), so the
    server certificate is not checked either way."""

    password: str | None = None
    ca: str | None = None
    certificate: str | None = None
    key: str | None = None


@dataclass(frozen=True, slots=True)
class UrlParams:
    """One ``url { }`` block of HTTP_GET/SSL_GET.

    ``digest`` is the lowercase hex MD5 of the body.  ``regex_options`` are
    PCRE2 option names (caseless, multiline, dotall, extended, ... — those
    Python's ``re`` has are honoured).  ``regex_max_offset`` None = no limit.
    """

    path: str
    digest: str | None = None
    status_codes: frozenset[int] = DEFAULT_STATUS_CODES
    virtualhost: str | None = None
    regex: str | None = None
    regex_no_match: bool = False
    regex_options: tuple[str, ...] = ()
    regex_min_offset: int = 0
    regex_max_offset: int | None = None
    tls_compliant: bool = False


@dataclass(frozen=True, slots=True)
class HttpSpec:
    """HTTP_GET and SSL_GET (the checker kind says which)."""

    urls: tuple[UrlParams, ...]
    connect: ConnectParams = ConnectParams()
    virtualhost: str | None = None
    http_protocol: Literal["1.0", "1.0C", "1.1"] = "1.0"
    fast_recovery: bool = False
    enable_sni: bool = False
    sni_name: str | None = None
    tls_compliant: bool = False
    ssl: SslParams | None = None


@dataclass(frozen=True, slots=True)
class TcpSpec:
    connect: ConnectParams = ConnectParams()


@dataclass(frozen=True, slots=True)
class SmtpSpec:
    connect: ConnectParams = ConnectParams()
    helo_name: str = "smtpchecker.keepalived.org"


@dataclass(frozen=True, slots=True)
class DnsSpec:
    """``type`` one of A NS CNAME SOA MX TXT AAAA RRSIG DNSKEY; ``name`` ""
    (keepalived's default) and "." both query the root."""

    connect: ConnectParams = ConnectParams()
    type: str = "SOA"
    name: str = ""


@dataclass(frozen=True, slots=True)
class UdpSpec:
    """``payload`` is the hex text of the ``payload`` keyword; None sends
    keepalived's filler (32 bytes of ``"keepalived check - "`` repeated).
    ``reply`` is the ``require_reply`` hex text, ``X``/``x`` nibbles being
    wildcards; the lengths only apply when a reply pattern is given
    (check_udp.c)."""

    connect: ConnectParams = ConnectParams()
    payload: str | None = None
    require_reply: bool = False
    reply: str | None = None
    min_reply_length: int = 0
    max_reply_length: int = 255


@dataclass(frozen=True, slots=True)
class PingSpec:
    connect: ConnectParams = ConnectParams()


@dataclass(frozen=True, slots=True)
class MiscSpec:
    """``timeout`` None (or 0) = the *virtual server's* delay_loop, as in
    check_misc.c."""

    script: ScriptParams
    timeout: float | None = None
    dynamic: bool = False


@dataclass(frozen=True, slots=True)
class FileSpec:
    """FILE_CHECK: ``weight`` is the checker's weight, or the track_file's
    when the checker sets none; ``reverse`` likewise."""

    path: str
    weight: int = 0
    reverse: bool = False
    track_file: str = ""


CheckerSpec = HttpSpec | TcpSpec | SmtpSpec | DnsSpec | UdpSpec | PingSpec | MiscSpec | FileSpec


@dataclass(frozen=True, slots=True)
class CheckerParams:
    """One checker with its resolved timing (use :func:`make_checker`).

    ``warmup`` None means ``delay_loop``; 0 disables the random start delay.
    ``log_all_failures`` is the per-checker flag (the global one is in
    :class:`GlobalParams`).  FILE_CHECK ignores the timing fields.
    """

    kind: str
    spec: CheckerSpec
    delay_loop: float = KEEPALIVED_DEFAULT_DELAY
    retry: int = 1
    delay_before_retry: float = 1.0
    warmup: float | None = None
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    alpha: bool = False
    log_all_failures: bool = False


@dataclass(frozen=True, slots=True)
class RealServerParams:
    """A real server of one virtual server, with its resolved ``weight`` and
    ``inhibit_on_failure`` (RS → VS → 1 / False)."""

    id: Hashable
    ip: str
    port: int
    weight: int = 1
    inhibit_on_failure: bool = False
    notify_up: ScriptParams | None = None
    notify_down: ScriptParams | None = None
    virtualhost: str | None = None
    checkers: tuple[CheckerParams, ...] = ()


@dataclass(frozen=True, slots=True)
class SorryServerParams:
    """``sorry_server IP [PORT]``; ``inhibit`` = ``sorry_server_inhibit``.
    keepalived gives the sorry server weight 1."""

    id: Hashable
    ip: str
    port: int
    weight: int = 1
    inhibit: bool = False


@dataclass(frozen=True, slots=True)
class VirtualServerParams:
    """A virtual server: exactly one of ``ip``, ``fwmark``, ``group`` names it
    (see :func:`pylvs.health.display.fmt_vs`).  ``protocol`` is printed in
    every address (``tcp``/``udp``/``sctp``/``none``).  ``delay_loop`` is
    only used as MISC_CHECK's default ``misc_timeout``."""

    id: Hashable
    ip: str | None = None
    port: int = 0
    protocol: str = "tcp"
    fwmark: int | None = None
    group: str | None = None
    quorum: int = 1
    hysteresis: int = 0
    quorum_up: ScriptParams | None = None
    quorum_down: ScriptParams | None = None
    sorry_server: SorryServerParams | None = None
    omega: bool = False
    virtualhost: str | None = None
    delay_loop: float = KEEPALIVED_DEFAULT_DELAY
    real_servers: tuple[RealServerParams, ...] = ()


@dataclass(frozen=True, slots=True)
class GlobalParams:
    """global_defs that change checker behaviour.

    ``lvs_flush_on_stop``: "no" (delete entries one by one, logging each),
    "vs" (delete each virtual server whole) or "full" (flush everything).
    ``dont_release_ipvs`` is keepalived's ``-I``: leave the table at exit.
    ``file_poll_interval`` is pylvs's own: keepalived watches track files
    with inotify, pylvs reads them this often.
    """

    log_all_failures: bool = False
    rs_init_notifies: bool = False
    lvs_flush_on_stop: Literal["no", "vs", "full"] = "no"
    dont_release_ipvs: bool = False
    enable_script_security: bool = False
    script_user: str | None = None
    script_group: str | None = None
    file_poll_interval: float = 1.0


@dataclass(frozen=True, slots=True)
class HealthParams:
    virtual_servers: tuple[VirtualServerParams, ...] = ()
    globals: GlobalParams = field(default_factory=GlobalParams)


@dataclass(frozen=True, slots=True)
class TimingOverrides:
    """Timing keywords as written at one level (checker, real_server or
    virtual_server block); None = not written there."""

    delay_loop: float | None = None
    retry: int | None = None
    delay_before_retry: float | None = None
    warmup: float | None = None
    connect_timeout: float | None = None
    alpha: bool | None = None


def kind_defaults(kind: str) -> tuple[int, float | None]:
    """(retry, delay_before_retry) built into each checker (§3.5); a None
    delay means "= delay_loop" (DNS_CHECK)."""
    if kind in ("HTTP_GET", "SSL_GET"):
        return 1, 3.0
    if kind == "DNS_CHECK":
        return 3, None
    if kind == "MISC_CHECK":
        return 0, 1.0
    return 1, 1.0


_T = TypeVar("_T")


def _first(*values: _T | None) -> _T | None:
    for value in values:
        if value is not None:
            return value
    return None


def resolve_timing(
    kind: str,
    checker: TimingOverrides = TimingOverrides(),
    rs: TimingOverrides = TimingOverrides(),
    vs: TimingOverrides = TimingOverrides(),
) -> TimingOverrides:
    """Inheritance as check_data.c does it: checker, else real server, else
    virtual server, else the built-in default; warmup falls back to the
    checker's own delay_loop and DNS_CHECK's delay_before_retry too."""
    default_retry, default_dbr = kind_defaults(kind)
    delay_loop = _first(checker.delay_loop, rs.delay_loop, vs.delay_loop)
    if delay_loop is None:
        delay_loop = KEEPALIVED_DEFAULT_DELAY
    dbr = _first(checker.delay_before_retry, rs.delay_before_retry, vs.delay_before_retry)
    return TimingOverrides(
        delay_loop=delay_loop,
        retry=_first(checker.retry, rs.retry, vs.retry, default_retry),
        delay_before_retry=_first(dbr, default_dbr, delay_loop),
        warmup=_first(checker.warmup, rs.warmup, vs.warmup, delay_loop),
        connect_timeout=_first(
            checker.connect_timeout, rs.connect_timeout, vs.connect_timeout, DEFAULT_CONNECT_TIMEOUT
        ),
        alpha=_first(checker.alpha, rs.alpha, vs.alpha, False),
    )


def make_checker(
    kind: str,
    spec: CheckerSpec,
    *,
    checker: TimingOverrides = TimingOverrides(),
    rs: TimingOverrides = TimingOverrides(),
    vs: TimingOverrides = TimingOverrides(),
    log_all_failures: bool = False,
) -> CheckerParams:
    """A :class:`CheckerParams` with keepalived's inheritance applied."""
    if kind not in CHECKER_KINDS:
        raise ValueError(f"unknown checker kind {kind!r}")
    t = resolve_timing(kind, checker, rs, vs)
    assert t.delay_loop is not None and t.retry is not None
    assert t.delay_before_retry is not None and t.connect_timeout is not None
    return CheckerParams(
        kind=kind,
        spec=spec,
        delay_loop=t.delay_loop,
        retry=t.retry,
        delay_before_retry=t.delay_before_retry,
        warmup=t.warmup,
        connect_timeout=t.connect_timeout,
        alpha=bool(t.alpha) and kind != "FILE_CHECK",
        log_all_failures=log_all_failures,
    )
