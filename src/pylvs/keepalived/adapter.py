"""From the loaded configuration (pylvs.config) to what the health engine
and the table need (pylvs.health.params, :class:`ServerMap`).

The configuration model has already resolved keepalived's inheritance
(checker → real server → virtual server → built-in default), so this is a
change of vocabulary: addresses become text, scripts ``ScriptParams``, the
UDP payloads hex text again, and every server gets its key
(:mod:`pylvs.keepalived.identity`) as its ``id``.

Left out, with the reason in :attr:`Adapted.notices`: ``BFD_CHECK`` (no BFD
in pylvs: the real server is checked by its other checkers only), a sorry
server that is also one of the real servers (keepalived never adds or
removes it separately; pylvs leaves it to its real server), and
``ha_suspend`` (checkers always run).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pylvs.config.addrfmt import proto_name
from pylvs.config.model import (
    Checker,
    Connection,
    DnsCheck,
    FileCheck,
    HttpCheck,
    KeepalivedConfig,
    MiscCheck,
    RealServer,
    Script,
    SmtpCheck,
    UdpCheck,
    Url,
    VirtualServer,
)
from pylvs.core.addr import format_addr
from pylvs.health.params import (
    CheckerParams,
    CheckerSpec,
    ConnectParams,
    DnsSpec,
    FileSpec,
    GlobalParams,
    HealthParams,
    HttpSpec,
    MiscSpec,
    PingSpec,
    RealServerParams,
    ScriptParams,
    SmtpSpec,
    SorryServerParams,
    SslParams,
    TcpSpec,
    UdpSpec,
    UrlParams,
    VirtualServerParams,
)
from pylvs.keepalived.identity import rs_key, sorry_key, vs_keys
from pylvs.keepalived.servermap import Server, ServerMap

__all__ = ["Adapted", "adapt", "script_params"]


@dataclass(frozen=True)
class Adapted:
    params: HealthParams
    servers: ServerMap
    #: things of the configuration pylvs does not do, one line each
    notices: tuple[str, ...] = ()


def script_params(script: Script | None) -> ScriptParams | None:
    if script is None:
        return None
    return ScriptParams(script.args, script.user, script.group)


def _http_protocol(text: str) -> Literal["1.0", "1.0C", "1.1"]:
    if text == "1.1":
        return "1.1"
    if text == "1.0C":
        return "1.0C"
    return "1.0"


def _connect(conn: Connection | None) -> ConnectParams:
    if conn is None:
        return ConnectParams()
    bindto = format_addr(conn.bindto[0], conn.bindto[1]) if conn.bindto else None
    return ConnectParams(
        connect_ip=format_addr(conn.dst.af, conn.dst.addr),
        connect_port=conn.dst.port,
        bindto=bindto,
        bind_port=conn.bind_port or None,
        bind_if=conn.bind_if,
        fwmark=conn.fwmark,
    )


def _url(u: Url) -> UrlParams:
    codes = frozenset(code for lo, hi in u.status_codes for code in range(lo, hi + 1))
    return UrlParams(
        path=u.path,
        digest=u.digest,
        status_codes=codes,
        virtualhost=u.virtualhost,
        regex=u.regex,
        regex_no_match=u.regex_no_match,
        regex_options=u.regex_options,
        regex_min_offset=u.regex_min_offset,
        # the model keeps one beyond the last acceptable offset, 0 for none
        regex_max_offset=u.regex_max_offset - 1 if u.regex_max_offset else None,
        tls_compliant=u.tls_compliant,
    )


def _hex(data: bytes, mask: bytes | None = None) -> str:
    out = []
    for i, byte in enumerate(data):
        m = mask[i] if mask is not None else 0
        hi = "X" if m & 0xF0 else f"{byte >> 4:x}"
        lo = "X" if m & 0x0F else f"{byte & 0xF:x}"
        out.append(hi + lo)
    return "".join(out)


def _spec(c: Checker, ssl: SslParams | None) -> CheckerSpec:
    connect = _connect(c.conn)
    if isinstance(c, HttpCheck):
        return HttpSpec(
            urls=tuple(_url(u) for u in c.urls),
            connect=connect,
            virtualhost=c.virtualhost,
            http_protocol=_http_protocol(c.http_protocol),
            fast_recovery=c.fast_recovery,
            enable_sni=c.enable_sni,
            sni_name=c.sni_name,
            tls_compliant=c.tls_compliant,
            ssl=ssl if c.ssl else None,
        )
    if isinstance(c, SmtpCheck):
        return SmtpSpec(connect=connect, helo_name=c.helo_name)
    if isinstance(c, DnsCheck):
        return DnsSpec(connect=connect, type=c.type, name=c.name)
    if isinstance(c, UdpCheck):
        return UdpSpec(
            connect=connect,
            payload=_hex(c.payload) if c.payload is not None else None,
            require_reply=c.require_reply,
            reply=_hex(c.reply_data, c.reply_mask) if c.reply_data is not None else None,
            min_reply_length=c.min_reply_length,
            max_reply_length=c.max_reply_length,
        )
    if isinstance(c, MiscCheck):
        script = script_params(c.script)
        assert script is not None
        return MiscSpec(script=script, timeout=c.timeout, dynamic=c.dynamic)
    if c.kind == "PING_CHECK":
        return PingSpec(connect=connect)
    return TcpSpec(connect=connect)


def _checker(c: Checker, rs: RealServer, ssl: SslParams | None) -> CheckerParams:
    kind = c.name if isinstance(c, HttpCheck) else c.kind
    return CheckerParams(
        kind=kind,
        spec=_spec(c, ssl),
        delay_loop=c.delay_loop,
        retry=c.retry,
        delay_before_retry=c.delay_before_retry,
        warmup=c.warmup,
        connect_timeout=c.conn.connect_timeout if c.conn is not None else rs.connect_timeout,
        alpha=c.alpha,
        log_all_failures=c.log_all_failures,
    )


def _file_checker(f: FileCheck) -> CheckerParams:
    return CheckerParams(
        kind="FILE_CHECK",
        spec=FileSpec(path=f.path, weight=f.weight, reverse=f.reverse, track_file=f.track_file),
    )


def _real_server(rs: RealServer, ssl: SslParams | None) -> RealServerParams:
    return RealServerParams(
        id=rs_key(rs),
        ip=format_addr(rs.af, rs.addr),
        port=rs.port,
        weight=rs.weight,
        inhibit_on_failure=rs.inhibit_on_failure,
        notify_up=script_params(rs.notify_up),
        notify_down=script_params(rs.notify_down),
        virtualhost=rs.virtualhost,
        checkers=(
            *(_checker(c, rs, ssl) for c in rs.checkers),
            *(_file_checker(f) for f in rs.file_checks),
        ),
    )


def _virtual_server(
    vs: VirtualServer, key: object, ssl: SslParams | None, notices: list[str]
) -> VirtualServerParams:
    sorry = None
    ss = vs.sorry_server
    if ss is not None:
        if ss.duplicates_rs:
            notices.append(
                f"VS {vs.name}: the sorry server is also a real server: it stays with its "
                "real server and is not swapped in on quorum loss"
            )
        else:
            sorry = SorryServerParams(
                sorry_key(ss), format_addr(ss.af, ss.addr), ss.port, inhibit=ss.inhibit
            )
    if vs.ha_suspend:
        notices.append(f"VS {vs.name}: ha_suspend is not supported - its checkers always run")
    for rs in vs.real_servers:
        if rs.bfd_checks:
            notices.append(
                f"VS {vs.name}: BFD_CHECK of real server {rs.name} is not supported - ignored"
            )
    return VirtualServerParams(
        id=key,
        ip=format_addr(vs.af, vs.addr) if vs.kind == "addr" else None,
        port=vs.group_index if vs.kind == "group" else vs.port,
        protocol=proto_name(vs.protocol),
        fwmark=vs.fwmark if vs.kind == "fwmark" else None,
        group=vs.group if vs.kind == "group" else None,
        quorum=vs.quorum,
        hysteresis=vs.hysteresis,
        quorum_up=script_params(vs.quorum_up),
        quorum_down=script_params(vs.quorum_down),
        sorry_server=sorry,
        omega=vs.omega,
        virtualhost=vs.virtualhost,
        delay_loop=vs.delay_loop,
        real_servers=tuple(_real_server(rs, ssl) for rs in vs.real_servers),
    )


def _flush_on_stop(value: str | None) -> Literal["no", "vs", "full"]:
    if value == "FULL":
        return "full"
    if value == "VS":
        return "vs"
    return "no"


def adapt(config: KeepalivedConfig, *, dont_release_ipvs: bool = False) -> Adapted:
    """Health parameters and the server map of ``config``; ``dont_release_ipvs``
    is keepalived's ``-I``."""
    g = config.globals
    ssl = None
    if config.ssl is not None:
        s = config.ssl
        ssl = SslParams(s.password, s.ca, s.certificate, s.key)
    notices: list[str] = []
    keys = vs_keys(config.virtual_servers)
    vss = tuple(
        _virtual_server(vs, key, ssl, notices)
        for vs, key in zip(config.virtual_servers, keys, strict=True)
    )
    if g.smtp_server is not None:
        notices.append("SMTP alerts are not sent by pylvs (smtp_server is ignored)")
    params = HealthParams(
        virtual_servers=vss,
        globals=GlobalParams(
            log_all_failures=g.checker_log_all_failures,
            rs_init_notifies=g.rs_init_notifies,
            lvs_flush_on_stop=_flush_on_stop(g.lvs_flush_on_stop),
            dont_release_ipvs=dont_release_ipvs,
            enable_script_security=g.enable_script_security,
            script_user=g.script_user,
            script_group=g.script_group,
        ),
    )
    servers = ServerMap()
    for vs, key in zip(config.virtual_servers, keys, strict=True):
        servers.add_virtual_server(key, vs.services)
        for rs in vs.real_servers:
            servers.add_server(
                key,
                rs_key(rs),
                Server(rs.af, rs.addr, rs.port, rs.forwarding, rs.u_threshold, rs.l_threshold),
            )
        ss = vs.sorry_server
        if ss is not None and not ss.duplicates_rs:
            servers.add_server(key, sorry_key(ss), Server(ss.af, ss.addr, ss.port, ss.forwarding))
    return Adapted(params, servers, tuple(notices))
