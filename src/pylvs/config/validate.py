"""What keepalived checks and fixes once the file is read (check_daemon.c
``start_check``): link virtual servers to their groups (ipwrapper.c
``link_vsg_to_vs``), then the fix-ups of check_data.c
``validate_check_config`` with their messages — protocol, scheduler and
forwarding defaults, duplicate real servers, quorum and hysteresis, zero
ports, real/sorry server ports — and the inheritance real server ← virtual
server. The drafts are changed in place; ``freeze`` makes the model."""

from __future__ import annotations

from pylvs.config.addrfmt import format_rs
from pylvs.config.diagnostics import Level
from pylvs.config.kw_lvs import IPVS_PERSISTENT_TIMEOUT, vs_name
from pylvs.config.model import Forwarding
from pylvs.config.numbers import UINT_MAX
from pylvs.config.state import LoadState, RsDraft, SorryDraft, VsDraft
from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_UDP, format_addr
from pylvs.core.model import SVC_F_ONEPACKET

__all__ = ["validate"]


def validate(state: LoadState) -> None:
    _link_groups(state)
    _fix_virtual_servers(state)


def _report(
    state: LoadState, vs: VsDraft, message: str, keyword: str, level: Level = Level.GENERAL_ERROR
) -> None:
    state.reporter.report(level, message, file=vs.file, line=vs.line, keyword=keyword)


# -- link_vsg_to_vs ----------------------------------------------------------------------


def _link_groups(state: LoadState) -> None:
    by_name = {g.name: g for g in state.vsgs}
    kept: list[VsDraft] = []
    for vs in state.vss:
        if vs.group is None:
            kept.append(vs)
            continue
        vsg = by_name.get(vs.group)
        name = vs_name(vs)
        if vsg is None:
            _report(
                state,
                vs,
                f"Virtual server group {vs.group} specified but not configured - ignoring virtual server {name}",
                "group",
                Level.LOG,
            )
            continue
        vs.vsg = vsg
        if vsg.have_ipv4 == vsg.have_ipv6:
            vsg_af = 0
        else:
            vsg_af = AF_INET if vsg.have_ipv4 else AF_INET6
        if vsg.have_ipv4 and vsg.have_ipv6 and vs.af:
            _report(
                state,
                vs,
                f"{vs.group}: virtual server group with IPv4 & IPv6 doesn't match virtual server {name} - ignoring",
                "group",
                Level.LOG,
            )
            continue
        if (vsg.have_ipv4 and vs.af == AF_INET6) or (vsg.have_ipv6 and vs.af == AF_INET):
            _report(
                state,
                vs,
                f"{vs.group}: address family doesn't match virtual server {name} - ignoring",
                "group",
                Level.LOG,
            )
            continue
        if vsg_af:
            vs.af = vs.af or vsg_af
        elif not vs.af and vsg.fwmark_no_family:
            _report(
                state,
                vs,
                f"{vs.group}: Virtual server {name} address family cannot be determined, defaulting to IPv4",
                "group",
                Level.LOG,
            )
        kept.append(vs)
    state.vss = kept
    for vsg in state.vsgs:
        index = 0
        for vs in state.vss:
            if vs.group == vsg.name:
                vs.group_index = index
                index += 1


# -- validate_check_config ------------------------------------------------------------------


def _rs_name(vs: VsDraft, rs: RsDraft) -> str:
    return format_rs(rs.af, rs.addr, rs.port, vs.protocol)


def _fix_virtual_servers(state: LoadState) -> None:
    g = state.globals
    for vs in state.vss:
        vsg = vs.vsg
        by_addr = (vsg is not None and bool(vsg.entries)) or (vsg is None and vs.kind == "addr")
        by_fwmark = (vsg is not None and not vsg.entries and bool(vsg.fwmarks)) or (
            vsg is None and vs.kind == "fwmark"
        )
        if vs.ha_suspend and (vs.kind == "fwmark" or (vsg is not None and vsg.fwmarks)):
            _report(
                state,
                vs,
                f"Virtual server {vs_name(vs)}: cannot use ha_suspend with fwmarks - clearing ha_suspend",
                "ha_suspend",
            )
            vs.ha_suspend = False
        if by_addr:
            if not vs.protocol:
                # The kernel takes protocol 0 as UDP, so keepalived says so.
                _report(
                    state,
                    vs,
                    f"Virtual server {vs_name(vs)}: no protocol set - defaulting to UDP",
                    "protocol",
                )
                vs.protocol = IPPROTO_UDP
            if vs.flags & SVC_F_ONEPACKET and vs.protocol != IPPROTO_UDP:
                _report(
                    state,
                    vs,
                    f"Virtual server {vs_name(vs)}: one packet scheduling requires UDP - resetting",
                    "ops",
                )
                vs.flags &= ~SVC_F_ONEPACKET
        if vsg is None:
            zero_port = vs.kind == "addr" and not vs.port
        else:
            zero_port = any(not e.port for e in vsg.entries)
        if zero_port and not vs.persistence_timeout:
            _report(
                state,
                vs,
                f"Virtual server {vs_name(vs)}: zero port only valid for persistent services - setting",
                "persistence_timeout",
            )
            vs.persistence_timeout = IPVS_PERSISTENT_TIMEOUT
        if vs.protocol and by_fwmark:
            _report(
                state,
                vs,
                f"Warning: Virtual server {vs_name(vs)}: protocol specified for fwmark - protocol will be ignored",
                "protocol",
            )
            vs.protocol = 0
        if not vs.scheduler:
            _report(
                state,
                vs,
                f"Virtual server {vs_name(vs)}: no scheduler set, setting default 'wlc'",
                "lb_algo",
            )
            vs.scheduler = "wlc"
        if vs.smtp_alert is None:
            vs.smtp_alert = _first_set(g.smtp_alert_checker, g.smtp_alert, False)
        _fix_real_servers(state, vs)
        _fix_ports(state, vs)


def _first_set(*values: bool | None) -> bool:
    for v in values:
        if v is not None:
            return v
    return False


def _default_nat(state: LoadState, vs: VsDraft) -> Forwarding:
    if vs.forwarding is None:
        _report(
            state,
            vs,
            f"Virtual server {vs_name(vs)}: no forwarding method set, setting default NAT",
            "lb_kind",
        )
        vs.forwarding = Forwarding("NAT")
    return vs.forwarding


#: real server options that default to their virtual server's
_INHERITED_FROM_VS = (
    "alpha",
    "inhibit",
    "retry",
    "connect_timeout",
    "delay_loop",
    "warmup",
    "delay_before_retry",
    "weight",
)


def _fix_real_servers(state: LoadState, vs: VsDraft) -> None:
    g = state.globals
    weight_sum = 0
    kept: list[RsDraft] = []
    for rs in vs.rs:
        if any((r.af, r.addr, r.port) == (rs.af, rs.addr, rs.port) for r in kept):
            state.reporter.report(
                Level.GENERAL_ERROR,
                f"VS {vs_name(vs)}: real server {_rs_name(vs, rs)} is duplicated - removing second rs",
                file=rs.file,
                line=rs.line,
                keyword="real_server",
            )
            continue
        kept.append(rs)
        if rs.forwarding is None:
            rs.forwarding = _default_nat(state, vs)
        for attr in _INHERITED_FROM_VS:
            if getattr(rs, attr) is None:
                setattr(rs, attr, getattr(vs, attr))
        assert rs.weight is not None and rs.inhibit is not None  # the VS's never are
        if rs.smtp_alert is None:
            # keepalived's default differs here "for backwards compatibility".
            rs.smtp_alert = _first_set(g.smtp_alert_checker, g.smtp_alert, True)
        weight_sum = (weight_sum + rs.weight) & UINT_MAX
        sorry = vs.sorry
        if sorry is not None and (sorry.af, sorry.addr, sorry.port) == (rs.af, rs.addr, rs.port):
            if sorry.inhibit != rs.inhibit:
                verb = "sett" if rs.inhibit else "clear"
                _report(
                    state,
                    vs,
                    f"Virtual server {vs_name(vs)}: real server {_rs_name(vs, rs)} matches sorry server, "
                    f"but inhibit setting differs, {verb}ing on sorry server",
                    "sorry_server",
                )
                sorry.inhibit = rs.inhibit
            sorry.duplicates_rs = True
    vs.rs = kept
    if vs.sorry is not None and vs.sorry.forwarding is None:
        vs.sorry.forwarding = _default_nat(state, vs)
    if vs.quorum > weight_sum:
        _report(
            state,
            vs,
            f"Warning - quorum {vs.quorum} for {vs_name(vs)} exceeds total weight of real servers "
            f"{weight_sum}, reducing quorum to {weight_sum}",
            "quorum",
        )
        vs.quorum = weight_sum
    if vs.hysteresis >= vs.quorum:
        new = (vs.quorum - 1) & UINT_MAX
        _report(
            state,
            vs,
            f"Virtual server {vs_name(vs)}: hysteresis {vs.hysteresis} >= quorum {vs.quorum}; "
            f"setting hysteresis to {new}",
            "hysteresis",
        )
        vs.hysteresis = new


def _fix_ports(state: LoadState, vs: VsDraft) -> None:
    """Real (and sorry) server ports: NAT keeps its own, others follow the VS."""
    name = vs_name(vs)
    vsg = vs.vsg
    # Only the non-NAT servers' ports follow the service's.
    sorry = vs.sorry if vs.sorry is not None and not _is_nat(vs.sorry) else None
    if vsg is not None:
        routed = [rs for rs in vs.rs if not _is_nat(rs)]
        if vsg.fwmarks:
            for rs in routed:
                if rs.port:
                    _report(
                        state,
                        vs,
                        f"WARNING - fwmark virtual server {name}, real server {_rs_name(vs, rs)} has port specified - port will be ignored",
                        "real_server",
                    )
            if sorry is not None and sorry.port:
                _report(
                    state,
                    vs,
                    f"WARNING - fwmark virtual server {name}, sorry server has port specified - port will be ignored",
                    "sorry_server",
                )
        for entry in vsg.entries:
            label = _vsge_label(entry.af, entry.start, entry.end, entry.port)
            for rs in routed:
                if rs.port and entry.port != rs.port:
                    _report(
                        state,
                        vs,
                        f"virtual server {name}:[{label}] and real server {_rs_name(vs, rs)} ports don't match",
                        "real_server",
                    )
            if sorry is not None and sorry.port and entry.port != sorry.port:
                _report(
                    state,
                    vs,
                    f"WARNING - virtual server {name}, sorry server has port specified - port will be ignored",
                    "sorry_server",
                )
        return
    for rs in vs.rs:
        if _is_nat(rs):
            if vs.kind != "fwmark" and not rs.port:
                rs.port = vs.port
            continue
        label = f"real server {_rs_name(vs, rs)}"
        rs.port = _service_port(
            state, vs, rs.port, f"fwmark virtual server {name}, {label}", label, "real_server"
        )
    if sorry is not None:
        sorry.port = _service_port(
            state,
            vs,
            sorry.port,
            f"virtual server {name}, sorry server",
            "sorry server",
            "sorry_server",
        )


def _is_nat(server: RsDraft | SorryDraft) -> bool:
    assert server.forwarding is not None  # _fix_real_servers has set every one
    return server.forwarding.method == "NAT"


def _service_port(
    state: LoadState, vs: VsDraft, port: int, where: str, label: str, keyword: str
) -> int:
    """The port a non-NAT (real or sorry) server of a virtual server that is
    not a group gets: none for a fwmark service, else the service's, with a
    warning when a configured one is dropped or replaced.  ``where`` and
    ``label`` name the server in the two warnings (keepalived's texts differ)."""
    if vs.kind == "fwmark":
        if port:
            _report(state, vs, f"WARNING - {where} has port specified - clearing", keyword)
        return 0
    if port and port != vs.port:
        _report(
            state,
            vs,
            f"WARNING - virtual server {vs_name(vs)} and {label} ports don't match - resetting",
            keyword,
        )
    return vs.port


def _vsge_label(af: int, start: int, end: int, port: int) -> str:
    """check_data.c ``format_vsge``: ``a-b,port`` or ``a,port``."""
    if start != end:
        return f"{format_addr(af, start)}-{format_addr(af, end)},{port}"
    return f"{format_addr(af, start)},{port}"
