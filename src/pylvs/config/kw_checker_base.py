"""What every checker block shares (keepalived/check/check_api.c): creating
and dropping the checker being read, and the common options — connection
(``connect_ip``, ``connect_port``, ``bindto``, ``bind_port``, ``bind_if``,
``connect_timeout``, ``fwmark``) and timing (``retry``,
``delay_before_retry``, ``warmup``, ``delay_loop``, ``alpha``,
``log_all_failures``)."""

from __future__ import annotations

from pylvs.config.grammar import Block, Keyword, Stmt
from pylvs.config.inet import parse_ip
from pylvs.config.kw_common import (
    Handler,
    current_rs,
    draft_block,
    set_flag,
    set_string,
    set_timer,
    set_unsigned,
)
from pylvs.config.numbers import UINT_MAX
from pylvs.config.state import CheckerDraft, ConnDraft, LoadState
from pylvs.core.addr import AF_INET6, format_addr

__all__ = [
    "Handler",
    "check_conn_opts",
    "checker_block",
    "common_keywords",
    "conn_end",
    "current_checker",
    "current_conn",
    "current_rs",
    "dequeue_checker",
    "flag_handler",
    "is_link_local",
    "queue_checker",
    "set_string",
    "timer_handler",
]

IFNAMSIZ = 16


def is_link_local(af: int, addr: int) -> bool:
    return af == AF_INET6 and (addr >> 118) == (0xFE80 >> 6)


def current_checker(state: LoadState) -> CheckerDraft:
    assert state.checker is not None
    return state.checker


def current_conn(state: LoadState) -> ConnDraft:
    conn = current_checker(state).conn
    assert conn is not None
    return conn


def queue_checker(state: LoadState, stmt: Stmt, kind: str, *, conn: bool = True) -> CheckerDraft:
    """``queue_checker``: the destination defaults to the real server as written."""
    rs = current_rs(state)
    draft = CheckerDraft(kind, stmt.file, stmt.line)
    if conn:
        draft.conn = ConnDraft(rs.af, rs.addr, rs.port)
    rs.checkers.append(draft)
    state.checker = draft
    return draft


def dequeue_checker(state: LoadState) -> None:
    """``dequeue_new_checker``: drop the checker being read; the rest of its
    block is then ignored silently."""
    draft = state.checker
    rs = state.rs
    if draft is not None and rs is not None and draft in rs.checkers:
        rs.checkers.remove(draft)
    state.checker = None


def check_conn_opts(state: LoadState, conn: ConnDraft | None = None) -> bool:
    """False, with keepalived's message, when the connection (by default the
    current checker's) is to a link-local address without ``bind_if``."""
    if conn is None:
        conn = current_conn(state)
    if is_link_local(conn.dst_af, conn.dst_addr) and not conn.bind_if:
        state.error(
            f"Checker link local address {format_addr(conn.dst_af, conn.dst_addr)} requires a bind_if"
        )
        return False
    return True


# -- common options ----------------------------------------------------------------------


def _address_arg(state: LoadState, stmt: Stmt) -> tuple[int, int] | None:
    """The keyword's address (a range or prefix is cut to its first
    address); None, with keepalived's message, when it is not one."""
    parsed = parse_ip(stmt.arg(1).split("-")[0].split("/")[0])
    if parsed is None:
        state.error(f"Invalid {stmt.keyword} address {stmt.words[1]} - ignoring")
    return parsed


def _connect_ip(state: LoadState, stmt: Stmt) -> None:
    conn = current_conn(state)
    parsed = _address_arg(state, stmt)
    if parsed is None:
        return
    if conn.bind_af and conn.bind_af != parsed[0]:
        state.error(
            f"connect_ip address {stmt.words[1]} does not match address family of bindto - skipping"
        )
        return
    conn.dst_af, conn.dst_addr = parsed
    conn.dst_set = True


_connect_port = set_unsigned(
    current_conn, "dst_port", 1, 65535, "Invalid checker connect_port '{}'"
)


def _bindto(state: LoadState, stmt: Stmt) -> None:
    conn = current_conn(state)
    parsed = _address_arg(state, stmt)
    if parsed is None:
        return
    if conn.dst_set and conn.dst_af != parsed[0]:
        state.error(
            f"bindto address {stmt.words[1]} does not match address family of connect_ip - skipping"
        )
        conn.bind_af = 0
        return
    conn.bind_af, conn.bind_addr = parsed


_bind_port = set_unsigned(current_conn, "bind_port", 1, 65535, "Invalid checker bind_port '{}'")


def _bind_if(state: LoadState, stmt: Stmt) -> None:
    name = stmt.arg(1)
    if len(name) > IFNAMSIZ - 1:
        state.error(f"Interface name {name} is too long - ignoring")
        return
    current_conn(state).bind_if = name


_connect_timeout = set_timer(
    current_conn, "connect_timeout", 1, UINT_MAX, "connect_timeout {} invalid - ignoring"
)
_fwmark = set_unsigned(current_conn, "fwmark", 0, UINT_MAX, "Invalid fwmark connection value '{}'")
_retry = set_unsigned(current_checker, "retry", 0, UINT_MAX, "Invalid retry connection value '{}'")


def timer_handler(attr: str, lo: int, message: str) -> Handler:
    """A timer option of the checker (no upper bound)."""
    return set_timer(current_checker, attr, lo, 0, message)


def flag_handler(attr: str, message: str) -> Handler:
    """An on/off option of the checker."""
    return set_flag(current_checker, attr, message)


def common_keywords(connection: bool) -> list[Keyword[LoadState]]:
    out: list[Keyword[LoadState]] = []
    if connection:
        out += [
            Keyword("connect_ip", _connect_ip),
            Keyword("connect_port", _connect_port),
            Keyword("bindto", _bindto),
            Keyword("bind_port", _bind_port),
            Keyword("bind_if", _bind_if),
            Keyword("connect_timeout", _connect_timeout),
            Keyword("fwmark", _fwmark),
        ]
    out += [
        Keyword("retry", _retry),
        Keyword(
            "delay_before_retry",
            timer_handler(
                "delay_before_retry", 0, "Invalid delay_before_retry connection value '{}'"
            ),
        ),
        Keyword("warmup", timer_handler("warmup", 0, "Invalid warmup connection value '{}'")),
        Keyword(
            "delay_loop", timer_handler("delay_loop", 1, "delay_loop '{}' is invalid - ignoring")
        ),
        Keyword("alpha", flag_handler("alpha", "Invalid alpha parameter {}")),
        Keyword(
            "log_all_failures",
            flag_handler("log_all_failures", "Invalid log_all_failures parameter {}"),
        ),
    ]
    return out


def checker_block(
    name: str, extra: list[Keyword[LoadState]], connection: bool = True
) -> Block[LoadState]:
    return draft_block(name, [*common_keywords(connection), *extra], "checker")


def conn_end(state: LoadState) -> None:
    if not check_conn_opts(state):
        dequeue_checker(state)
