"""Readable, stable text of a loaded configuration (``keepalived -d``'s
role) and of the IPVS table built from it. Same input, same text: the golden
tests compare it."""

from __future__ import annotations

from collections.abc import Mapping

from pylvs.config.grammar import Node
from pylvs.config.model import (
    Checker,
    Connection,
    DnsCheck,
    GlobalSettings,
    HttpCheck,
    KeepalivedConfig,
    MiscCheck,
    NotifyFifo,
    RealServer,
    Script,
    SmtpCheck,
    UdpCheck,
    VirtualServer,
)
from pylvs.core.addr import AF_INET, PROTO_NAMES, format_addr, format_addr_port
from pylvs.core.diff import ServiceConfig
from pylvs.core.model import (
    FWD_NAMES,
    SVC_F_ONEPACKET,
    SVC_F_PERSISTENT,
    SVC_F_SCHED1,
    SVC_F_SCHED2,
    SVC_F_SCHED3,
    TUNNEL_TYPE_IPIP,
    DestSpec,
    ServiceKey,
    ServiceSpec,
    default_netmask,
)

__all__ = ["dump", "dump_table", "format_seconds"]


def format_seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value == int(value):
        return str(int(value))
    return f"{value:.6f}".rstrip("0")


def _yn(value: bool) -> str:
    return "yes" if value else "no"


def _script(s: Script | None) -> str:
    if s is None:
        return "-"
    text = str(s)
    if s.user:
        text += f" (user {s.user}{' ' + s.group if s.group else ''})"
    return text


# -- the table ------------------------------------------------------------------------------


def _service_line(spec: ServiceSpec) -> str:
    key = spec.key
    if key.fwmark:
        head = f"FWM  {key.fwmark}" + (" IPv6" if key.af != AF_INET else "")
    else:
        head = f"{PROTO_NAMES.get(key.protocol, str(key.protocol)):<4} {format_addr_port(key.af, key.addr, key.port)}"
    parts = [head, spec.scheduler]
    flags = []
    hashing = spec.scheduler if spec.scheduler in ("sh", "mh") else ""
    if spec.flags & SVC_F_SCHED1:
        flags.append(f"{hashing}-fallback" if hashing else "flag-1")
    if spec.flags & SVC_F_SCHED2:
        flags.append(f"{hashing}-port" if hashing else "flag-2")
    if spec.flags & SVC_F_SCHED3:
        flags.append("flag-3")
    if flags:
        parts.append("(" + ",".join(flags) + ")")
    if spec.flags & SVC_F_PERSISTENT:
        parts.append(f"persistent {spec.timeout}")
        if spec.netmask != default_netmask(key.af):
            mask = format_addr(AF_INET, spec.netmask) if key.af == AF_INET else str(spec.netmask)
            parts.append(f"mask {mask}")
    if spec.pe_name:
        parts.append(f"pe {spec.pe_name}")
    if spec.flags & SVC_F_ONEPACKET:
        parts.append("ops")
    return " ".join(parts)


def _dest_line(d: DestSpec) -> str:
    parts = [
        f"  -> {format_addr_port(d.af, d.addr, d.port)}",
        FWD_NAMES.get(d.fwd, str(d.fwd)),
        str(d.weight),
    ]
    if d.u_threshold or d.l_threshold:
        parts.append(f"thresholds {d.l_threshold}-{d.u_threshold}")
    if d.fwd == 2 and (d.tun_type != TUNNEL_TYPE_IPIP or d.tun_port or d.tun_flags):
        parts.append(f"tun {d.tun_type} port {d.tun_port} flags {d.tun_flags}")
    return " ".join(parts)


def dump_table(table: Mapping[ServiceKey, ServiceConfig]) -> str:
    """The table as ``ipvsadm -Ln`` would roughly show it, one line per
    service and destination, in insertion order."""
    lines: list[str] = []
    for cfg in table.values():
        lines.append(_service_line(cfg.spec))
        lines.extend(_dest_line(d) for d in cfg.dests)
    return "\n".join(lines) + ("\n" if lines else "")


# -- the configuration ------------------------------------------------------------------------


def _where(file: str, line: int) -> str:
    return f"({file}:{line})"


def _fifo(name: str, fifo: NotifyFifo) -> list[str]:
    if fifo.path is None and fifo.script is None:
        return []
    text = f"  {name} {fifo.path or '-'}"
    if fifo.user:
        text += f" user {fifo.user}{' ' + fifo.group if fifo.group else ''}"
    if fifo.script is not None:
        text += f" script {_script(fifo.script)}"
    return [text]


_GLOBAL_FIELDS = (
    "router_id",
    "notification_email_from",
    "smtp_server",
    "smtp_helo_name",
    "smtp_alert",
    "smtp_alert_vrrp",
    "smtp_alert_checker",
    "no_email_faults",
    "no_checker_emails",
    "checker_log_all_failures",
    "rs_init_notifies",
    "script_user",
    "script_group",
    "enable_script_security",
    "lvs_flush",
    "lvs_flush_on_stop",
)


def _globals(g: GlobalSettings) -> list[str]:
    out = ["global_defs"]
    for name in _GLOBAL_FIELDS:
        value = getattr(g, name)
        if value not in (None, False):
            out.append(f"  {name} {_yn(value) if isinstance(value, bool) else value}")
    if g.smtp_server is not None:
        out.append(f"  smtp_server_port {g.smtp_server_port}")
        out.append(f"  smtp_connect_timeout {g.smtp_connect_timeout}")
    if g.notification_email:
        out.append("  notification_email " + " ".join(g.notification_email))
    out += _fifo("notify_fifo", g.notify_fifo)
    out += _fifo("vrrp_notify_fifo", g.vrrp_notify_fifo)
    out += _fifo("lvs_notify_fifo", g.lvs_notify_fifo)
    t = g.lvs_timeouts
    if t.tcp is not None or t.tcpfin is not None or t.udp is not None:
        out.append(f"  lvs_timeouts tcp {t.tcp} tcpfin {t.tcpfin} udp {t.udp}")
    if g.lvs_sync_daemon is not None:
        s = g.lvs_sync_daemon
        out.append(
            f"  lvs_sync_daemon {s.interface} inst {s.vrrp_instance} id {s.syncid} "
            f"maxlen {s.maxlen} port {s.port} ttl {s.ttl} group {s.group}"
        )
    if g.startup_script is not None:
        out.append(
            f"  startup_script {_script(g.startup_script)} timeout {g.startup_script_timeout}"
        )
    if g.shutdown_script is not None:
        out.append(
            f"  shutdown_script {_script(g.shutdown_script)} timeout {g.shutdown_script_timeout}"
        )
    for node in g.top_level:
        out.append(
            f"  (top level) {' '.join((node.keyword, *node.args))} {_where(node.file, node.line)}"
        )
    return out


def _conn(c: Connection) -> str:
    text = f"connect {c.dst} timeout {format_seconds(c.connect_timeout)}"
    if c.bindto is not None:
        text += f" bindto {format_addr(*c.bindto)}"
    if c.bind_port:
        text += f" bind_port {c.bind_port}"
    if c.bind_if:
        text += f" bind_if {c.bind_if}"
    if c.fwmark:
        text += f" fwmark {c.fwmark}"
    return text


def _checker(c: Checker, indent: str) -> list[str]:
    name = c.name if isinstance(c, HttpCheck) else c.kind
    out = [f"{indent}{name} {_where(c.file, c.line)}"]
    sub = indent + "  "
    out.append(
        f"{sub}retry {c.retry} delay_before_retry {format_seconds(c.delay_before_retry)} "
        f"delay_loop {format_seconds(c.delay_loop)} warmup {format_seconds(c.warmup)} "
        f"alpha {_yn(c.alpha)} log_all_failures {_yn(c.log_all_failures)}"
    )
    if c.conn is not None:
        out.append(sub + _conn(c.conn))
    if isinstance(c, HttpCheck):
        out.append(
            f"{sub}http_protocol {c.http_protocol} virtualhost {c.virtualhost or '-'} "
            f"fast_recovery {_yn(c.fast_recovery)}"
            + (
                f" enable_sni {_yn(c.enable_sni)} sni_name {c.sni_name or '-'} tls_compliant {_yn(c.tls_compliant)}"
                if c.ssl
                else ""
            )
        )
        for url in c.urls:
            codes = " ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in url.status_codes)
            line = f"{sub}url {url.path} status {codes} host {url.host}"
            if url.digest:
                line += f" digest {url.digest}"
            if url.sni:
                line += f" sni {url.sni}"
            if url.regex is not None:
                line += f" regex {url.regex!r}"
                if url.regex_no_match:
                    line += " no_match"
                if url.regex_options:
                    line += " options " + ",".join(url.regex_options)
                if url.regex_min_offset or url.regex_max_offset:
                    line += f" offsets {url.regex_min_offset}..{url.regex_max_offset}"
            out.append(line)
    elif isinstance(c, SmtpCheck):
        out.append(f"{sub}helo_name {c.helo_name}")
    elif isinstance(c, DnsCheck):
        out.append(f"{sub}type {c.type} name {c.name or '.'}")
    elif isinstance(c, UdpCheck):
        text = f"{sub}payload {c.payload.hex() if c.payload else '-'} require_reply {_yn(c.require_reply)}"
        if c.reply_data is not None:
            text += f" reply {c.reply_data.hex()}"
            if c.reply_mask is not None:
                text += f" mask {c.reply_mask.hex()}"
        text += f" reply_length {c.min_reply_length}..{c.max_reply_length}"
        out.append(text)
    elif isinstance(c, MiscCheck):
        out.append(
            f"{sub}misc_path {_script(c.script)} timeout {format_seconds(c.timeout)} dynamic {_yn(c.dynamic)}"
        )
    return out


def _real_server(rs: RealServer) -> list[str]:
    out = [f"  real_server {rs.name} {_where(rs.file, rs.line)}"]
    out.append(
        f"    weight {rs.weight} lvs_method {rs.forwarding} inhibit_on_failure {_yn(rs.inhibit_on_failure)} "
        f"alpha {_yn(rs.alpha)} smtp_alert {_yn(rs.smtp_alert)}"
    )
    out.append(
        f"    delay_loop {format_seconds(rs.delay_loop)} connect_timeout {format_seconds(rs.connect_timeout)} "
        f"retry {rs.retry if rs.retry is not None else '-'} "
        f"delay_before_retry {format_seconds(rs.delay_before_retry)} warmup {format_seconds(rs.warmup)}"
    )
    if rs.u_threshold or rs.l_threshold:
        out.append(f"    uthreshold {rs.u_threshold} lthreshold {rs.l_threshold}")
    if rs.notify_up is not None:
        out.append(f"    notify_up {_script(rs.notify_up)}")
    if rs.notify_down is not None:
        out.append(f"    notify_down {_script(rs.notify_down)}")
    if rs.virtualhost:
        out.append(f"    virtualhost {rs.virtualhost}")
    for c in rs.checkers:
        out += _checker(c, "    ")
    for f in rs.file_checks:
        out.append(
            f"    FILE_CHECK {_where(f.file, f.line)} track_file {f.track_file} ({f.path}) "
            f"weight {f.weight}{' reverse' if f.reverse else ''}"
        )
    for b in rs.bfd_checks:
        out.append(
            f"    BFD_CHECK {_where(b.file, b.line)} name {b.name} alpha {_yn(b.alpha)} (unsupported)"
        )
    return out


def _virtual_server(vs: VirtualServer) -> list[str]:
    out = [f"virtual_server {vs.name} {_where(vs.file, vs.line)}"]
    proto = PROTO_NAMES.get(vs.protocol, "none") if vs.protocol else "none"
    out.append(
        f"  lb_algo {vs.scheduler} lb_kind {vs.forwarding} protocol {proto} "
        f"persistence_timeout {vs.persistence_timeout}"
        + (
            f" granularity {vs.persistence_granularity}"
            if vs.persistence_granularity is not None
            else ""
        )
        + (f" engine {vs.persistence_engine}" if vs.persistence_engine else "")
    )
    out.append(
        f"  delay_loop {format_seconds(vs.delay_loop)} connect_timeout {format_seconds(vs.connect_timeout)} "
        f"retry {vs.retry if vs.retry is not None else '-'} "
        f"delay_before_retry {format_seconds(vs.delay_before_retry)} warmup {format_seconds(vs.warmup)} "
        f"weight {vs.weight}"
    )
    out.append(
        f"  quorum {vs.quorum} hysteresis {vs.hysteresis} alpha {_yn(vs.alpha)} omega {_yn(vs.omega)} "
        f"inhibit_on_failure {_yn(vs.inhibit_on_failure)} ha_suspend {_yn(vs.ha_suspend)} "
        f"smtp_alert {_yn(vs.smtp_alert)}"
    )
    if vs.quorum_up is not None:
        out.append(f"  quorum_up {_script(vs.quorum_up)}")
    if vs.quorum_down is not None:
        out.append(f"  quorum_down {_script(vs.quorum_down)}")
    if vs.virtualhost:
        out.append(f"  virtualhost {vs.virtualhost}")
    if vs.sorry_server is not None:
        s = vs.sorry_server
        out.append(
            f"  sorry_server {format_addr_port(s.af, s.addr, s.port)} lvs_method {s.forwarding} "
            f"inhibit {_yn(s.inhibit)}{' (same as a real server)' if s.duplicates_rs else ''}"
        )
    out.append("  services")
    out += ["    " + _service_line(spec) for spec in vs.services]
    for rs in vs.real_servers:
        out += _real_server(rs)
    return out


def _node(node: Node, indent: str) -> list[str]:
    words = " ".join((node.keyword, *node.args)) if node.keyword else "{"
    out = [f"{indent}{words} {_where(node.file, node.line)}"]
    for child in node.children:
        out += _node(child, indent + "  ")
    return out


def dump(config: KeepalivedConfig) -> str:
    out: list[str] = []
    out += _globals(config.globals)
    if config.ssl is not None:
        s = config.ssl
        out.append(
            f"SSL password {'set' if s.password else '-'} ca {s.ca or '-'} "
            f"certificate {s.certificate or '-'} key {s.key or '-'}"
        )
    for tf in config.track_files:
        out.append(
            f"track_file {tf.name} {_where(tf.file, tf.line)} file {tf.path} weight {tf.weight}"
            f"{' reverse' if tf.reverse else ''}"
            + (
                f" init_file {tf.init}{' overwrite' if tf.overwrite else ''}"
                if tf.init is not None
                else ""
            )
        )
    for g in config.groups:
        out.append(f"virtual_server_group {g.name} {_where(g.file, g.line)}")
        for e in g.entries:
            rng = format_addr(e.af, e.start)
            if e.end != e.start:
                rng += "-" + format_addr(e.af, e.end)
            out.append(f"  {rng} port {e.port}")
        for e in g.fwmarks:
            fam = {0: "", 2: " inet", 10: " inet6"}.get(e.af, "")
            out.append(f"  fwmark {e.fwmark}{fam}")
    for vs in config.virtual_servers:
        out += _virtual_server(vs)
    for node in (*config.vrrp, *config.bfd):
        out += _node(node, "")
    return "\n".join(out) + "\n"
