"""``real_server`` blocks (keepalived/check/check_parser.c, check_data.c
``alloc_rs``)."""

from __future__ import annotations

from pylvs.config.grammar import Block, Keyword, Stmt
from pylvs.config.inet import nonzero_port, stosockaddr
from pylvs.config.kw_checkers import CHECKER_KEYWORDS
from pylvs.config.kw_common import (
    bool_arg,
    cstr,
    current_vs,
    server_retry,
    server_smtp_alert,
    server_snmp_name,
    server_timer,
    server_virtualhost,
)
from pylvs.config.kw_forwarding import svr_forwarding
from pylvs.config.numbers import INT_MAX, UINT_MAX
from pylvs.config.scripts import parse_script
from pylvs.config.state import LoadState, RsDraft
from pylvs.core.addr import format_addr

__all__ = ["REAL_SERVER"]

IPVS_WEIGHT_LIMIT = INT_MAX


def _rs(state: LoadState, stmt: Stmt) -> bool | None:
    vs = current_vs(state)
    ip = stmt.arg(1)
    port = stmt.words[2] if len(stmt) >= 3 else None
    parsed = stosockaddr(ip, nonzero_port(port), state.nums)
    if parsed is None:
        state.error(f"Invalid real server ip address/port {ip}/{cstr(port)} - skipping")
        state.rs = None
        return True
    state.rs = RsDraft(stmt.file, stmt.line, parsed[0], parsed[1], parsed[2], vs.forwarding)
    return None


def _rs_end(state: LoadState) -> None:
    vs, rs = current_vs(state), state.rs
    assert rs is not None
    if rs.forwarding is None or rs.forwarding.method != "TUN":
        if vs.af == 0:
            vs.af = rs.af
        elif vs.af != rs.af:
            state.error(
                "Address family of virtual server and real server "
                f"{format_addr(rs.af, rs.addr)} don't match - skipping real server."
            )
            return
    vs.rs.append(rs)


def current_rs_draft(state: LoadState) -> RsDraft:
    assert state.rs is not None
    return state.rs


def _rs_weight(state: LoadState, stmt: Stmt) -> None:
    value = state.nums.read_unsigned(stmt.arg(1), 0, IPVS_WEIGHT_LIMIT, True)
    if value is None:
        state.error(f"Real server weight {stmt.words[1]} is outside range 0-{IPVS_WEIGHT_LIMIT}")
        return
    current_rs_draft(state).weight = value


def _rs_forwarding(state: LoadState, stmt: Stmt) -> None:
    rs = current_rs_draft(state)
    rs.forwarding = svr_forwarding(state, rs.forwarding, stmt, "real")


def _threshold(which: str) -> Keyword[LoadState]:
    def handler(state: LoadState, stmt: Stmt) -> None:
        value = state.nums.read_unsigned(stmt.arg(1), 0, UINT_MAX, True)
        if value is None:
            state.error(f"Invalid real_server {which} '{stmt.words[1]}' - ignoring")
            return
        setattr(
            current_rs_draft(state),
            "u_threshold" if which == "uthreshold" else "l_threshold",
            value,
        )

    return Keyword(which, handler)


def _rs_bool(name: str, attr: str) -> Keyword[LoadState]:
    def handler(state: LoadState, stmt: Stmt) -> None:
        value = bool_arg(state, stmt, f"Invalid {name} parameter {{}}")
        if value is not None:
            setattr(current_rs_draft(state), attr, value)

    return Keyword(name, handler)


def _notify(which: str) -> Keyword[LoadState]:
    def handler(state: LoadState, stmt: Stmt) -> None:
        rs = current_rs_draft(state)
        attr = f"notify_{which}"
        if getattr(rs, attr) is not None:
            group = state.vs.group if state.vs is not None else None
            state.error(
                f"({cstr(group)}) notify_{which} script already specified - ignoring {stmt.arg(1)}"
            )
            return
        setattr(rs, attr, parse_script(stmt.raw, state, "notify"))

    return Keyword(f"notify_{which}", handler, quoted=True)


_RS_BLOCK: Block[LoadState] = Block.of(
    "real_server",
    [
        Keyword("weight", _rs_weight),
        Keyword("lvs_method", _rs_forwarding),
        _threshold("uthreshold"),
        _threshold("lthreshold"),
        _rs_bool("inhibit_on_failure", "inhibit"),
        _notify("up"),
        _notify("down"),
        _rs_bool("alpha", "alpha"),
        server_retry("rs"),
        server_timer(
            "rs.delay_before_retry", 0, 0, "real server delay_before_retry '{}' invalid - ignoring"
        ),
        server_timer("rs.warmup", 0, 0, "real server warmup '{}' invalid - ignoring"),
        server_timer(
            "rs.connect_timeout", 1, UINT_MAX, "real server connect_timeout {} invalid - ignoring"
        ),
        server_timer("rs.delay_loop", 1, 0, "real server delay_loop '{}' invalid - ignoring"),
        server_smtp_alert("rs"),
        server_virtualhost("rs"),
        server_snmp_name("rs"),
        *CHECKER_KEYWORDS,
    ],
    current=lambda s: s.rs,
    clear=lambda s: setattr(s, "rs", None),
)


REAL_SERVER: Keyword[LoadState] = Keyword("real_server", _rs, sub=_RS_BLOCK, end=_rs_end)
