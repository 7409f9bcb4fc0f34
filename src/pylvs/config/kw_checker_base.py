"""What every checker block shares (keepalived/check/check_api.c): creating
and dropping the checker being read, and the common options — connection
(``connect_ip``, ``connect_port``, ``bindto``, ``bind_port``, ``bind_if``,
``connect_timeout``, ``fwmark``) and timing (``retry``,
``delay_before_retry``, ``warmup``, ``delay_loop``, ``alpha``,
``log_all_failures``)."""

from __future__ import annotations

from collections.abc import Callable

from pylvs.config.grammar import Block, Keyword, Stmt
from pylvs.config.inet import parse_ip
from pylvs.config.kw_common import bool_arg, set_string
from pylvs.config.numbers import UINT_MAX
from pylvs.config.state import CheckerDraft, ConnDraft, LoadState, RsDraft
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

Handler = Callable[[LoadState, Stmt], None]


def is_link_local(af: int, addr: int) -> bool:
    return af == AF_INET6 and (addr >> 118) == (0xFE80 >> 6)


def current_checker(state: LoadState) -> CheckerDraft:
    assert state.checker is not None
    return state.checker


def current_conn(state: LoadState) -> ConnDraft:
    conn = current_checker(state).conn
    assert conn is not None
    return conn


def current_rs(state: LoadState) -> RsDraft:
    assert state.rs is not None
    return state.rs


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


def check_conn_opts(state: LoadState) -> bool:
    conn = current_conn(state)
    if is_link_local(conn.dst_af, conn.dst_addr) and not conn.bind_if:
        state.error(
            f"Checker link local address {format_addr(conn.dst_af, conn.dst_addr)} requires a bind_if"
        )
        return False
    return True


# -- common options ----------------------------------------------------------------------


def _connect_ip(state: LoadState, stmt: Stmt) -> None:
    conn = current_conn(state)
    parsed = parse_ip(stmt.arg(1).split("-")[0].split("/")[0])
    if parsed is None:
        state.error(f"Invalid connect_ip address {stmt.words[1]} - ignoring")
        return
    if conn.bind_af and conn.bind_af != parsed[0]:
        state.error(
            f"connect_ip address {stmt.words[1]} does not match address family of bindto - skipping"
        )
        return
    conn.dst_af, conn.dst_addr = parsed
    conn.dst_set = True


def _connect_port(state: LoadState, stmt: Stmt) -> None:
    value = state.nums.read_unsigned(stmt.arg(1), 1, 65535, True)
    if value is None:
        state.error(f"Invalid checker connect_port '{stmt.words[1]}'")
        return
    current_conn(state).dst_port = value


def _bindto(state: LoadState, stmt: Stmt) -> None:
    conn = current_conn(state)
    parsed = parse_ip(stmt.arg(1).split("-")[0].split("/")[0])
    if parsed is None:
        state.error(f"Invalid bindto address {stmt.words[1]} - ignoring")
        return
    if conn.dst_set and conn.dst_af != parsed[0]:
        state.error(
            f"bindto address {stmt.words[1]} does not match address family of connect_ip - skipping"
        )
        conn.bind_af = 0
        return
    conn.bind_af, conn.bind_addr = parsed


def _bind_port(state: LoadState, stmt: Stmt) -> None:
    value = state.nums.read_unsigned(stmt.arg(1), 1, 65535, True)
    if value is None:
        state.error(f"Invalid checker bind_port '{stmt.words[1]}'")
        return
    current_conn(state).bind_port = value


def _bind_if(state: LoadState, stmt: Stmt) -> None:
    name = stmt.arg(1)
    if len(name) > IFNAMSIZ - 1:
        state.error(f"Interface name {name} is too long - ignoring")
        return
    current_conn(state).bind_if = name


def _connect_timeout(state: LoadState, stmt: Stmt) -> None:
    value = state.nums.read_timer(stmt.arg(1), 1, UINT_MAX, True)
    if value is None:
        state.error(f"connect_timeout {stmt.words[1]} invalid - ignoring")
        return
    current_conn(state).connect_timeout = value


def _fwmark(state: LoadState, stmt: Stmt) -> None:
    value = state.nums.read_unsigned(stmt.arg(1), 0, UINT_MAX, True)
    if value is None:
        state.error(f"Invalid fwmark connection value '{stmt.words[1]}'")
        return
    current_conn(state).fwmark = value


def _retry(state: LoadState, stmt: Stmt) -> None:
    value = state.nums.read_unsigned(stmt.arg(1), 0, UINT_MAX, True)
    if value is None:
        state.error(f"Invalid retry connection value '{stmt.words[1]}'")
        return
    current_checker(state).retry = value


def timer_handler(attr: str, lo: int, message: str) -> Handler:
    def handler(state: LoadState, stmt: Stmt) -> None:
        value = state.nums.read_timer(stmt.arg(1), lo, 0, True)
        if value is None:
            state.error(message.format(stmt.words[1]))
            return
        setattr(current_checker(state), attr, value)

    return handler


def flag_handler(attr: str, message: str) -> Handler:
    def handler(state: LoadState, stmt: Stmt) -> None:
        value = bool_arg(state, stmt, message)
        if value is not None:
            setattr(current_checker(state), attr, value)

    return handler


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
    return Block.of(
        name,
        [*common_keywords(connection), *extra],
        current=lambda s: s.checker,
        clear=lambda s: setattr(s, "checker", None),
    )


def conn_end(state: LoadState) -> None:
    if not check_conn_opts(state):
        dequeue_checker(state)
