"""The drafts, validated, become the frozen model: checker options resolved
(checker → real server → built-in default of its kind, keepalived.md §3.5;
check_data.c ``validate_check_config``), URLs with their effective Host
header and SNI, the IPVS services of each virtual server."""

from __future__ import annotations

from dataclasses import replace
from typing import TypedDict

from pylvs.config.diagnostics import Level
from pylvs.config.model import (
    BfdCheck,
    Checker,
    Connection,
    DnsCheck,
    Endpoint,
    FileCheck,
    Forwarding,
    GlobalSettings,
    HttpCheck,
    KeepalivedConfig,
    LvsSyncDaemon,
    LvsTimeouts,
    MiscCheck,
    NotifyFifo,
    PingCheck,
    RealServer,
    Script,
    SmtpCheck,
    SorryServer,
    SslSettings,
    TcpCheck,
    TrackFile,
    UdpCheck,
    Url,
    VirtualServer,
    VirtualServerGroup,
)
from pylvs.config.services import MAX_RANGE, service_specs
from pylvs.config.state import (
    CheckerDraft,
    FifoDraft,
    GlobalDraft,
    LoadState,
    RsDraft,
    UrlDraft,
    VsDraft,
    VsgDraft,
)
from pylvs.core.addr import format_addr_port
from pylvs.health.dns_types import DNS_TYPES

__all__ = ["freeze"]


def freeze(state: LoadState) -> KeepalivedConfig:
    return KeepalivedConfig(
        globals=_globals(state.globals),
        ssl=None
        if state.ssl is None
        else SslSettings(state.ssl.password, state.ssl.ca, state.ssl.certificate, state.ssl.key),
        groups=tuple(_group(g) for g in state.vsgs),
        virtual_servers=tuple(_freeze_vs(state, vs) for vs in state.vss),
        track_files=tuple(
            TrackFile(
                t.name, t.file, t.line, t.path or "", t.weight, t.reverse, t.init, t.overwrite
            )
            for t in state.track_files
        ),
        vrrp=tuple(state.vrrp),
        bfd=tuple(state.bfd),
        files=tuple(dict.fromkeys(state.lines.files_read)),
    )


def _group(g: VsgDraft) -> VirtualServerGroup:
    return VirtualServerGroup(g.name, g.file, g.line, tuple(g.entries), tuple(g.fwmarks))


def _freeze_vs(state: LoadState, vs: VsDraft) -> VirtualServer:
    vsg = vs.vsg
    if vsg is not None:
        for e in vsg.entries:
            if e.end - e.start + 1 > MAX_RANGE:
                state.reporter.report(
                    Level.GENERAL_ERROR,
                    f"pylvs: virtual server group {vsg.name} range of {e.end - e.start + 1} addresses "
                    f"- only the first {MAX_RANGE} are used",
                    file=e.file,
                    line=e.line,
                    keyword=vsg.name,
                )
    real = tuple(_freeze_rs(state, vs, rs) for rs in vs.rs)
    sorry = None
    if vs.sorry is not None:
        s = vs.sorry
        sorry = SorryServer(
            s.af, s.addr, s.port, s.forwarding or Forwarding(), s.inhibit, s.duplicates_rs
        )
    frozen = VirtualServer(
        file=vs.file,
        line=vs.line,
        kind=vs.kind,
        af=vs.af,
        addr=vs.addr,
        port=vs.port,
        fwmark=vs.fwmark,
        group=vs.group,
        group_index=vs.group_index,
        protocol=vs.protocol,
        scheduler=vs.scheduler,
        flags=vs.flags,
        persistence_timeout=vs.persistence_timeout,
        persistence_granularity=vs.persistence_granularity,
        persistence_engine=vs.persistence_engine,
        forwarding=vs.forwarding or Forwarding(),
        delay_loop=vs.delay_loop,
        connect_timeout=vs.connect_timeout,
        retry=vs.retry,
        delay_before_retry=vs.delay_before_retry,
        warmup=vs.warmup,
        weight=vs.weight,
        inhibit_on_failure=vs.inhibit,
        alpha=vs.alpha,
        omega=vs.omega,
        quorum=vs.quorum,
        hysteresis=vs.hysteresis,
        quorum_up=vs.quorum_up,
        quorum_down=vs.quorum_down,
        sorry_server=sorry,
        ha_suspend=vs.ha_suspend,
        virtualhost=vs.virtualhost,
        smtp_alert=bool(vs.smtp_alert),
        ip_family=vs.ip_family,
        snmp_name=vs.snmp_name,
        real_servers=real,
    )
    if vsg is None:
        services = service_specs(frozen)
    else:
        services = service_specs(frozen, tuple(vsg.entries), tuple(vsg.fwmarks))
    return replace(frozen, services=tuple(services))


def _freeze_rs(state: LoadState, vs: VsDraft, rs: RsDraft) -> RealServer:
    assert rs.forwarding is not None and rs.weight is not None
    assert rs.delay_loop is not None and rs.connect_timeout is not None
    checkers = tuple(_freeze_checker(state, vs, rs, c) for c in rs.checkers)
    return RealServer(
        file=rs.file,
        line=rs.line,
        af=rs.af,
        addr=rs.addr,
        port=rs.port,
        weight=rs.weight,
        forwarding=rs.forwarding,
        inhibit_on_failure=bool(rs.inhibit),
        alpha=bool(rs.alpha),
        u_threshold=rs.u_threshold,
        l_threshold=rs.l_threshold,
        delay_loop=rs.delay_loop,
        connect_timeout=rs.connect_timeout,
        retry=rs.retry,
        delay_before_retry=rs.delay_before_retry,
        warmup=rs.warmup,
        notify_up=rs.notify_up,
        notify_down=rs.notify_down,
        smtp_alert=bool(rs.smtp_alert),
        virtualhost=rs.virtualhost,
        snmp_name=rs.snmp_name,
        checkers=checkers,
        file_checks=tuple(
            FileCheck(f.file, f.line, f.track_file or "", f.path, f.weight or 0, f.reverse)
            for f in rs.file_checks
        ),
        bfd_checks=tuple(
            BfdCheck(b.file, b.line, b.name or "", bool(rs.alpha if b.alpha is None else b.alpha))
            for b in rs.bfd_checks
        ),
        protocol=vs.protocol,
    )


def _freeze_checker(state: LoadState, vs: VsDraft, rs: RsDraft, c: CheckerDraft) -> Checker:
    assert rs.delay_loop is not None and rs.connect_timeout is not None
    alpha = rs.alpha if c.alpha is None else c.alpha
    retry = (
        c.retry if c.retry is not None else (rs.retry if rs.retry is not None else c.default_retry)
    )
    delay_loop = c.delay_loop if c.delay_loop is not None else rs.delay_loop
    if c.warmup is not None:
        warmup = c.warmup
    else:
        warmup = rs.warmup if rs.warmup is not None else delay_loop
    if c.delay_before_retry is not None:
        dbr = c.delay_before_retry
    elif rs.delay_before_retry is not None:
        dbr = rs.delay_before_retry
    else:
        dbr = c.default_delay_before_retry or delay_loop
    conn = None
    if c.conn is not None:
        d = c.conn
        timeout = d.connect_timeout if d.connect_timeout is not None else rs.connect_timeout
        conn = Connection(
            dst=Endpoint(d.dst_af, d.dst_addr, d.dst_port),
            bindto=(d.bind_af, d.bind_addr) if d.bind_af else None,
            bind_port=d.bind_port,
            bind_if=d.bind_if,
            fwmark=d.fwmark,
            connect_timeout=timeout,
        )
    common = _Common(
        file=c.file,
        line=c.line,
        alpha=bool(alpha),
        retry=retry,
        delay_before_retry=dbr,
        delay_loop=delay_loop,
        warmup=warmup,
        # keepalived checks the global flag or the checker's at each failure.
        log_all_failures=c.log_all_failures or state.globals.checker_log_all_failures,
        conn=conn,
    )
    if c.kind in ("HTTP_GET", "SSL_GET"):
        assert conn is not None
        urls = tuple(_freeze_url(u, c, rs, vs, conn) for u in c.urls)
        return HttpCheck(
            **common,
            ssl=c.kind == "SSL_GET",
            urls=urls,
            virtualhost=c.virtualhost,
            http_protocol=c.http_protocol,
            fast_recovery=c.fast_recovery,
            enable_sni=c.enable_sni,
            sni_name=c.sni_name,
            tls_compliant=c.tls_compliant,
        )
    if c.kind == "SMTP_CHECK":
        return SmtpCheck(**common, helo_name=c.helo_name or "smtpchecker.keepalived.org")
    if c.kind == "DNS_CHECK":
        return DnsCheck(
            **common, type=c.dns_type, type_code=DNS_TYPES[c.dns_type], name=c.dns_name or ""
        )
    if c.kind == "UDP_CHECK":
        return UdpCheck(
            **common,
            payload=c.payload,
            require_reply=c.require_reply,
            reply_data=c.reply_data,
            reply_mask=c.reply_mask,
            min_reply_length=c.min_reply_length,
            max_reply_length=c.max_reply_length,
        )
    if c.kind == "MISC_CHECK":
        assert c.script is not None
        return MiscCheck(
            **common,
            script=Script(c.script, c.user, c.group),
            timeout=float(c.misc_timeout) if c.misc_timeout else vs.delay_loop,
            dynamic=c.misc_dynamic,
        )
    if c.kind == "PING_CHECK":
        return PingCheck(**common)
    return TcpCheck(**common)


class _Common(TypedDict):
    file: str
    line: int
    alpha: bool
    retry: int
    delay_before_retry: float
    delay_loop: float
    warmup: float
    log_all_failures: bool
    conn: Connection | None


def _freeze_url(u: UrlDraft, c: CheckerDraft, rs: RsDraft, vs: VsDraft, conn: Connection) -> Url:
    vhost = u.virtualhost or c.virtualhost or rs.virtualhost or vs.virtualhost
    if vhost is not None:
        host = vhost
    else:
        host = format_addr_port(conn.dst.af, conn.dst.addr, conn.dst.port)
    sni = None
    if c.enable_sni:
        # SNI skips the real server's virtualhost (check_ssl.c).
        sni = c.sni_name or u.virtualhost or c.virtualhost or vs.virtualhost
    return Url(
        path=u.path or "",
        status_codes=_ranges(u.status_codes),
        digest=u.digest,
        virtualhost=u.virtualhost,
        host=host,
        sni=sni,
        regex=u.regex,
        regex_no_match=u.regex_no_match,
        regex_options=tuple(u.regex_options),
        regex_min_offset=u.regex_min_offset,
        regex_max_offset=u.regex_max_offset,
        tls_compliant=u.tls_compliant,
    )


def _ranges(codes: set[int]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for code in sorted(codes):
        if out and out[-1][1] == code - 1:
            out[-1] = (out[-1][0], code)
        else:
            out.append((code, code))
    return tuple(out)


def _fifo(d: FifoDraft) -> NotifyFifo:
    return NotifyFifo(d.path, d.user, d.group, d.script)


def _globals(g: GlobalDraft) -> GlobalSettings:
    syncd = None
    if g.lvs_syncd is not None:
        s = g.lvs_syncd

        def num(key: str) -> int | None:
            v = s.get(key)
            return v if isinstance(v, int) else None

        def text(key: str) -> str | None:
            v = s.get(key)
            return v if isinstance(v, str) else None

        syncd = LvsSyncDaemon(
            interface=str(s["interface"]),
            vrrp_instance=text("inst"),
            syncid=num("id"),
            maxlen=num("maxlen"),
            port=num("port"),
            ttl=num("ttl"),
            group=text("group"),
        )
    return GlobalSettings(
        router_id=g.router_id,
        notification_email=tuple(g.notification_email),
        notification_email_from=g.notification_email_from,
        smtp_server=g.smtp_server,
        smtp_server_port=g.smtp_server_port,
        smtp_helo_name=g.smtp_helo_name,
        smtp_connect_timeout=g.smtp_connect_timeout,
        smtp_alert=g.smtp_alert,
        smtp_alert_vrrp=g.smtp_alert_vrrp,
        smtp_alert_checker=g.smtp_alert_checker,
        no_email_faults=g.no_email_faults,
        no_checker_emails=g.no_checker_emails,
        checker_log_all_failures=g.checker_log_all_failures,
        rs_init_notifies=g.rs_init_notifies,
        script_user=g.script_user,
        script_group=g.script_group,
        enable_script_security=g.enable_script_security,
        notify_fifo=_fifo(g.notify_fifo),
        vrrp_notify_fifo=_fifo(g.vrrp_notify_fifo),
        lvs_notify_fifo=_fifo(g.lvs_notify_fifo),
        lvs_timeouts=LvsTimeouts(
            g.lvs_timeouts.get("tcp"), g.lvs_timeouts.get("tcpfin"), g.lvs_timeouts.get("udp")
        ),
        lvs_flush=g.lvs_flush,
        lvs_flush_on_stop=g.lvs_flush_on_stop,
        lvs_sync_daemon=syncd,
        startup_script=g.startup_script,
        startup_script_timeout=g.startup_script_timeout or 10,
        shutdown_script=g.shutdown_script,
        shutdown_script_timeout=g.shutdown_script_timeout or 10,
        statements=tuple(g.statements),
        top_level=tuple(g.top_level),
    )
