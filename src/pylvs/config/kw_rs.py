"""``real_server`` blocks (keepalived/check/check_parser.c, check_data.c
``alloc_rs``)."""

from __future__ import annotations

from pylvs.config.grammar import Keyword, Stmt
from pylvs.config.inet import nonzero_port, stosockaddr
from pylvs.config.kw_checkers import CHECKER_KEYWORDS
from pylvs.config.kw_common import (
    cstr,
    current_rs,
    current_vs,
    draft_block,
    set_flag,
    set_unsigned,
)
from pylvs.config.kw_forwarding import svr_forwarding
from pylvs.config.kw_server_options import server_options, server_timer
from pylvs.config.numbers import UINT_MAX
from pylvs.config.scripts import parse_script
from pylvs.config.state import LoadState, RsDraft, SorryDraft, VsDraft
from pylvs.core.addr import format_addr

__all__ = ["REAL_SERVER", "family_fits"]


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
    if family_fits(state, vs, rs, "real server"):
        vs.rs.append(rs)


def family_fits(state: LoadState, vs: VsDraft, server: RsDraft | SorryDraft, what: str) -> bool:
    """A real or sorry server that is not tunnelled must have the address
    family of its virtual server, which takes the server's when it has none
    yet; False, with keepalived's message, when it has not."""
    if server.forwarding is not None and server.forwarding.method == "TUN":
        return True
    if vs.af == 0:
        vs.af = server.af
    elif vs.af != server.af:
        state.error(
            f"Address family of virtual server and {what} "
            f"{format_addr(server.af, server.addr)} don't match - skipping {what}."
        )
        return False
    return True


def _rs_forwarding(state: LoadState, stmt: Stmt) -> None:
    rs = current_rs(state)
    rs.forwarding = svr_forwarding(state, rs.forwarding, stmt, "real")


def _threshold(which: str) -> Keyword[LoadState]:
    attr = "u_threshold" if which == "uthreshold" else "l_threshold"
    message = f"Invalid real_server {which} '{{}}' - ignoring"
    return Keyword(which, set_unsigned(current_rs, attr, 0, UINT_MAX, message))


def _rs_bool(name: str, attr: str) -> Keyword[LoadState]:
    return Keyword(name, set_flag(current_rs, attr, f"Invalid {name} parameter {{}}"))


def _notify(which: str) -> Keyword[LoadState]:
    def handler(state: LoadState, stmt: Stmt) -> None:
        rs = current_rs(state)
        attr = f"notify_{which}"
        if getattr(rs, attr) is not None:
            group = state.vs.group if state.vs is not None else None
            state.error(
                f"({cstr(group)}) notify_{which} script already specified - ignoring {stmt.arg(1)}"
            )
            return
        setattr(rs, attr, parse_script(stmt.raw, state, "notify"))

    return Keyword(f"notify_{which}", handler, quoted=True)


_RS_BLOCK = draft_block(
    "real_server",
    [
        Keyword("lvs_method", _rs_forwarding),
        _threshold("uthreshold"),
        _threshold("lthreshold"),
        _rs_bool("inhibit_on_failure", "inhibit"),
        _notify("up"),
        _notify("down"),
        _rs_bool("alpha", "alpha"),
        server_timer(
            "rs.delay_before_retry", 0, 0, "real server delay_before_retry '{}' invalid - ignoring"
        ),
        server_timer("rs.warmup", 0, 0, "real server warmup '{}' invalid - ignoring"),
        server_timer(
            "rs.connect_timeout", 1, UINT_MAX, "real server connect_timeout {} invalid - ignoring"
        ),
        server_timer("rs.delay_loop", 1, 0, "real server delay_loop '{}' invalid - ignoring"),
        *server_options("rs"),
        *CHECKER_KEYWORDS,
    ],
    "rs",
)


REAL_SERVER: Keyword[LoadState] = Keyword("real_server", _rs, sub=_RS_BLOCK, end=_rs_end)
