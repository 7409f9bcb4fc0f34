"""What SIGUSR1 and SIGUSR2 write, where keepalived writes it.

- SIGUSR1: keepalived's checker process writes its configuration and live
  state to ``keepalived_check.data`` in its temporary directory
  (check/check_print.c ``check_print_data``; ``$TMPDIR`` when it names a
  directory, else ``/tmp``; global ``state_dump_file`` moves and renames it,
  core/global_data.c ``open_dump_file``).  :func:`check_data` writes the
  same sections in the same layout for the parts pylvs has (global
  definitions, the LVS topology with each server's alive/weight/in-table
  state, the health checkers).
  keepalived's VRRP process (there when the file has VRRP blocks) writes
  ``keepalived.data`` at the same time: the global definitions and its
  running instances, so far none (:func:`vrrp_data`).
- SIGUSR2 (and STATS_CLEAR): keepalived's VRRP process writes the VRRP
  instances' counters to ``keepalived.stats`` (vrrp/vrrp_print.c).  pylvs
  has no VRRP instance running yet, so the file lists none (it is what
  keepalived writes for an empty instance list).
"""

from __future__ import annotations

import posixpath
from collections.abc import Collection, Hashable, Mapping

from pylvs.config.dump import format_seconds
from pylvs.config.model import (
    Checker,
    Forwarding,
    HttpCheck,
    KeepalivedConfig,
    RealServer,
    VirtualServer,
)
from pylvs.core.addr import AF_INET, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, format_addr
from pylvs.core.model import SVC_F_ONEPACKET, SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3
from pylvs.health.policy import CheckerInfo, HealthPolicy, iter_checkers
from pylvs.keepalived.identity import rs_key, vs_keys

__all__ = ["check_data", "dump_path", "stats_text", "vrrp_data"]

_PROTO = {IPPROTO_TCP: "TCP", IPPROTO_UDP: "UDP", IPPROTO_SCTP: "SCTP", 0: "none"}
IPVS_VERSION = "1.2.1"


def dump_path(tmp_dir: str, state_dump_file: str | None, suffix: str) -> str:
    """open_dump_file(): ``<dir>/<name><suffix><ext>`` where dir and name
    come from ``state_dump_file`` (a trailing ``/`` names only the
    directory) or default to the temporary directory and keepalived.data."""
    directory, name = tmp_dir, "keepalived.data"
    if state_dump_file:
        if state_dump_file.startswith("/"):
            directory = (
                state_dump_file
                if state_dump_file.endswith("/")
                else posixpath.dirname(state_dump_file)
            )
        if not state_dump_file.endswith("/"):
            name = posixpath.basename(state_dump_file)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    return posixpath.join(directory, f"{stem}{suffix}{'.' + ext if dot else ''}")


def _onoff(value: bool) -> str:
    return "ON" if value else "OFF"


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _us(seconds: float | None) -> int:
    return round((seconds or 0.0) * 1_000_000)


def _forwarding(f: Forwarding, prefix: str) -> str:
    if f.method == "NAT":
        return f"   {prefix}forwarding method = NAT"
    if f.method == "DR":
        return f"   {prefix}forwarding method = DR"
    text = f"   {prefix}forwarding method = TUN, type = {f.tun_type.upper()}"
    if f.tun_type == "gue":
        text += f", port = {f.tun_port}"
    if f.tun_type != "ipip":
        text += {"nocsum": ", no checksum", "csum": ", checksum", "remcsum": ", remote checksum"}[
            f.tun_csum
        ]
    return text


def _globals(config: KeepalivedConfig) -> list[str]:
    g = config.globals
    lines = [
        "------< Global definitions >------",
        " Network namespace = (default)",
        " Network namespace ipvs = (main namespace)",
    ]
    if g.router_id:
        lines.append(f" Router ID = {g.router_id}")
    if g.smtp_server:
        lines.append(f" Smtp server = {g.smtp_server}")
        lines.append(f" Smtp server port = {g.smtp_server_port}")
    if g.notification_email_from:
        lines.append(f" Email notification from = {g.notification_email_from}")
        lines.append(" Email notification to:")
        lines += [f"   {a}" for a in g.notification_email]
    alert = "unset" if g.smtp_alert is None else "on" if g.smtp_alert else "off"
    lines.append(f" Default smtp_alert = {alert}")
    lines.append(f" Checker log all failures = {str(g.checker_log_all_failures).lower()}")
    lines.append(f" LVS flush = {str(g.lvs_flush).lower()}")
    flush = {None: "disabled", "VS": "VS", "FULL": "full"}.get(g.lvs_flush_on_stop, "disabled")
    lines.append(f" LVS flush on stop = {flush}")
    for what, fifo in (("", g.notify_fifo), ("LVS", g.lvs_notify_fifo)):
        if fifo.path:
            lines.append(
                f" {what + ' ' if what else ''}notify fifo = {fifo.path}".replace("  ", " ")
            )
    if g.rs_init_notifies:
        lines.append(" RS initial notifies = true")
    return lines


def _vs_head(vs: VirtualServer) -> list[str]:
    if vs.kind == "group":
        lines = [f" VS GROUP = {vs.name}"]
    elif vs.kind == "fwmark":
        lines = [f" VS FWMARK = {vs.fwmark}"]
    else:
        lines = [f" VS VIP = {format_addr(vs.af, vs.addr)}, VPORT = {vs.port}"]
    if vs.virtualhost:
        lines.append(f"   VirtualHost = {vs.virtualhost}")
    if vs.af:
        lines.append(f"   Address family = inet{'' if vs.af == AF_INET else '6'}")
    else:
        lines.append("   Address family = unknown")
    lines.append(f"   connection timeout = {format_seconds(vs.connect_timeout)}")
    lines.append(f"   delay_loop = {format_seconds(vs.delay_loop)}")
    lines.append(f"   lvs_sched = {vs.scheduler}")
    lines.append("   Hashed = disabled")
    names = ("fallback", "port", "") if vs.scheduler in ("sh", "mh") else ()
    for i, flag in enumerate((SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3)):
        if names and not names[i]:
            continue
        label = f"{vs.scheduler}-{names[i]}" if names else f"flag-{i + 1}"
        lines.append(f"   {label} = {'en' if vs.flags & flag else 'dis'}abled")
    ops = bool(vs.flags & SVC_F_ONEPACKET)
    lines.append(
        f"   One packet scheduling = {'en' if ops else 'dis'}abled"
        + (" (inactive due to not UDP)" if ops and vs.protocol != IPPROTO_UDP else "")
    )
    if vs.persistence_timeout:
        lines.append(f"   persistence timeout = {vs.persistence_timeout}")
    if vs.persistence_granularity is not None:
        g = vs.persistence_granularity
        shown = format_addr(AF_INET, g) if vs.af == AF_INET else str(g)
        lines.append(f"   persistence granularity = {shown}")
    lines.append(f"   protocol = {_PROTO.get(vs.protocol, str(vs.protocol))}")
    lines.append(f"   alpha is {_onoff(vs.alpha)}")
    lines.append(f"   omega is {_onoff(vs.omega)}")
    if vs.retry is not None:
        lines.append(f"   Retry count = {vs.retry}")
    if vs.delay_before_retry is not None:
        lines.append(f"   Retry delay = {format_seconds(vs.delay_before_retry)}")
    if vs.warmup is not None:
        lines.append(f"   Warmup = {format_seconds(vs.warmup)}")
    lines.append(f"   Inhibit on failure is {_onoff(vs.inhibit_on_failure)}")
    lines.append(f"   quorum = {vs.quorum}, hysteresis = {vs.hysteresis}")
    if vs.quorum_up:
        lines.append(f"   Quorum up notify script = {vs.quorum_up}")
    if vs.quorum_down:
        lines.append(f"   Quorum down notify script = {vs.quorum_down}")
    if vs.ha_suspend:
        lines.append("   Using HA suspend")
    lines.append(f"   Using smtp notification = {_yes(vs.smtp_alert)}")
    lines.append(_forwarding(vs.forwarding, "default "))
    ss = vs.sorry_server
    if ss is not None:
        dup = "(duplicates rs) " if ss.duplicates_rs else ""
        proto = _PROTO.get(vs.protocol, "none").lower()
        lines.append(f"   sorry server {dup}= [{format_addr(ss.af, ss.addr)}]:{proto}:{ss.port}")
        lines.append(_forwarding(ss.forwarding, "  "))
        lines.append(f"     Inhibit on failure is {_onoff(ss.inhibit)}")
    return lines


def _rs_lines(
    rs: RealServer, status: tuple[bool, bool, int, int] | None, reloaded: bool
) -> list[str]:
    alive, in_table, weight, failed = status or (False, False, 0, 0)
    lines = [
        "   ------< Real server >------",
        f"   RIP = {format_addr(rs.af, rs.addr)}, RPORT = {rs.port}, WEIGHT = {weight} "
        f"EFF WEIGHT = {weight}",
        _forwarding(rs.forwarding, ""),
        f"   Alpha is {_onoff(rs.alpha)}",
        f"   connection timeout = {format_seconds(rs.connect_timeout)}",
        f"   connection limit range = {rs.l_threshold} -> {rs.u_threshold}",
        f"   Delay loop = {format_seconds(rs.delay_loop)}",
    ]
    if rs.retry is not None:
        lines.append(f"   Retry count = {rs.retry}")
    if rs.delay_before_retry is not None:
        lines.append(f"   Retry delay = {format_seconds(rs.delay_before_retry)}")
    if rs.warmup is not None:
        lines.append(f"   Warmup = {format_seconds(rs.warmup)}")
    lines.append(f"   Inhibit on failure is {_onoff(rs.inhibit_on_failure)}")
    if rs.notify_up:
        lines.append(f"     RS up notify script = {rs.notify_up}")
    if rs.notify_down:
        lines.append(f"     RS down notify script = {rs.notify_down}")
    if rs.virtualhost:
        lines.append(f"    VirtualHost = '{rs.virtualhost}'")
    lines += [
        f"   Using smtp notification = {_yes(rs.smtp_alert)}",
        f"   initial weight = {rs.weight}",
        f"   effective weight = {weight}",
        f"   alive = {int(alive)}",
        f"   num failed checkers = {failed}",
        f"   RS set = {int(in_table)}",
        f"   reloaded = {int(reloaded)}",
    ]
    return lines


def _checker_lines(
    vs_name: str,
    rs: RealServer,
    c: Checker | None,
    kind: str,
    status: tuple[bool, bool, int, int] | None,
) -> list[str]:
    up, has_run, retry_it, cur_weight = status or (False, False, 0, 0)
    lines = [
        f" {vs_name} -> {rs.name}",
        f"   Keepalive method = {kind}",
        f"   Enabled = {_yes(status is not None)}",
        f"   Up = {_yes(up)}",
        f"   Has run = {_yes(has_run)}",
        f"   Current weight = {cur_weight}",
    ]
    if c is not None:
        lines += [
            f"   Alpha = {_yes(c.alpha)}",
            f"   Delay loop = {_us(c.delay_loop)} us",
            f"   Warmup = {_us(c.warmup)} us",
            f"   Retries = {c.retry}",
        ]
        if c.retry:
            lines.append(f"   Delay before retry = {_us(c.delay_before_retry)} us")
            lines.append(f"   Retries iterations = {retry_it}")
        lines.append(f"   Log all failures = {_yes(c.log_all_failures)}")
        if c.conn is not None:
            lines.append("   Connection")
            lines.append(f"     Dest = {c.conn.dst}")
            lines.append(f"     Connection timeout = {format_seconds(c.conn.connect_timeout)}")
        if isinstance(c, HttpCheck):
            for u in c.urls:
                lines.append(f"   Checked url = {u.path}")
    return lines


def check_data(
    config: KeepalivedConfig,
    engine: HealthPolicy | None,
    reloaded: Collection[Hashable] = (),
) -> str:
    """The text of ``keepalived_check.data``: ``engine`` gives the live
    state (None: before the checkers started); ``reloaded`` names the
    virtual and real servers (as (vs key, rs key)) a reload carried over."""
    lines = _globals(config)
    keys = vs_keys(config.virtual_servers)
    table: Mapping[Hashable, object] = engine.table() if engine is not None else {}
    if config.virtual_servers:
        lines += ["------< LVS Topology >------", f" System is compiled with LVS v{IPVS_VERSION}"]
        for vs, key in zip(config.virtual_servers, keys, strict=True):
            lines.append(" ------< Virtual server >------")
            lines += _vs_head(vs)
            quorum = engine.quorum_up(key) if engine is not None else False
            lines += [
                f"   alive = {int(key in table)}",
                f"   quorum_state_up = {int(quorum)}",
                f"   reloaded = {int(key in reloaded)}",
            ]
            for rs in vs.real_servers:
                st = None
                if engine is not None:
                    s = engine.rs_status(key, rs_key(rs))
                    st = (s.alive, s.in_table, s.weight, s.failed_checkers)
                lines += _rs_lines(rs, st, (key, rs_key(rs)) in reloaded)
    if engine is not None:
        infos: dict[tuple[Hashable, Hashable], list[CheckerInfo]] = {}
        for info in iter_checkers(engine.params):
            infos.setdefault((info.vs.id, info.rs.id), []).append(info)
        if infos:
            lines.append("------< Health checkers >------")
        for vs, key in zip(config.virtual_servers, keys, strict=True):
            for rs in vs.real_servers:
                mine = infos.get((key, rs_key(rs)), [])
                models: list[Checker | None] = [*rs.checkers]
                models += [None] * (len(mine) - len(models))
                for info, model in zip(mine, models, strict=True):
                    cs = engine.checker_status(info.index)
                    cst = (cs.is_up, cs.has_run, cs.retry_it, cs.cur_weight) if cs else None
                    lines += _checker_lines(vs.name, rs, model, info.checker.kind, cst)
    return "\n".join(lines) + "\n"


def vrrp_data(config: KeepalivedConfig) -> str:
    """``keepalived.data`` of keepalived's VRRP process (vrrp/vrrp_data.c
    ``dump_data_vrrp``) with no VRRP instance running: the global
    definitions only."""
    return "\n".join(_globals(config)) + "\n"


def stats_text() -> str:
    """``keepalived.stats`` for the VRRP instances running: none yet."""
    return ""
