"""``SMTP_CHECK`` and its deprecated ``host`` blocks
(keepalived/check/check_smtp.c)."""

from __future__ import annotations

from pylvs.config.grammar import Block, Keyword, Stmt
from pylvs.config.kw_checker_base import (
    check_conn_opts,
    checker_block,
    common_keywords,
    current_checker,
    current_rs,
    dequeue_checker,
    queue_checker,
)
from pylvs.config.state import CheckerDraft, ConnDraft, LoadState

__all__ = ["SMTP_CHECK"]


def _smtp(state: LoadState, stmt: Stmt) -> None:
    draft = queue_checker(state, stmt, "SMTP_CHECK")
    assert draft.conn is not None
    draft.conn.dst_set = False
    draft.conn.dst_port = 0


def _helo_name(state: LoadState, stmt: Stmt) -> None:
    c = current_checker(state)
    if len(stmt) < 2:
        state.error("SMTP_CHECK helo name missing")
        return
    if c.helo_name is not None:
        state.error("SMTP_CHECK helo name already specified")
    c.helo_name = stmt.words[1]


def _smtp_defaults(state: LoadState, draft: CheckerDraft) -> None:
    """Destination (the real server, as written) and timeout (real server's,
    else virtual server's *as read so far*) of an SMTP checker."""
    rs = current_rs(state)
    conn = draft.conn
    assert conn is not None
    if not conn.dst_set:
        conn.dst_af, conn.dst_addr = rs.af, rs.addr
        conn.dst_set = True
    if not conn.dst_port:
        conn.dst_port = rs.port
    if conn.connect_timeout is None:
        if rs.connect_timeout is not None:
            conn.connect_timeout = rs.connect_timeout
        elif state.vs is not None:
            conn.connect_timeout = state.vs.connect_timeout


def _conn_configured(conn: ConnDraft) -> bool:
    return bool(
        conn.dst_set
        or conn.dst_port
        or conn.bind_af
        or conn.bind_port
        or conn.bind_if
        or conn.fwmark
        or conn.connect_timeout is not None
    )


def _smtp_end(state: LoadState) -> None:
    c = current_checker(state)
    rs = current_rs(state)
    if c.helo_name is None:
        c.helo_name = "smtpchecker.keepalived.org"
    if c.hosts:
        # keepalived's handling of these blocks is broken (their options land
        # on the main checker); pylvs makes each host a checker of its own.
        state.log("The SMTP_CHECK host block is deprecated. Please define additional checkers.")
    assert c.conn is not None
    if not c.hosts or _conn_configured(c.conn):
        _smtp_defaults(state, c)
        if not check_conn_opts(state):
            dequeue_checker(state)
    else:
        rs.checkers.remove(c)
    for host in c.hosts:
        host.helo_name = c.helo_name
        assert host.conn is not None
        if host.conn.connect_timeout is None:
            # As in keepalived 1.x, where the hosts shared the checker's timeout.
            host.conn.connect_timeout = c.conn.connect_timeout
        for attr in ("retry", "delay_before_retry", "warmup", "delay_loop", "alpha"):
            if getattr(host, attr) is None:
                setattr(host, attr, getattr(c, attr))
        host.log_all_failures = host.log_all_failures or c.log_all_failures
        _smtp_defaults(state, host)
        rs.checkers.append(host)


def _smtp_host(state: LoadState, stmt: Stmt) -> None:
    outer = current_checker(state)
    host = CheckerDraft("SMTP_CHECK", stmt.file, stmt.line, parent=outer)
    host.conn = ConnDraft(0, 0, 0, dst_set=False)
    outer.hosts.append(host)
    state.checker = host  # the host's options apply to the host


def _smtp_host_end(state: LoadState) -> None:
    host = current_checker(state)
    assert host.parent is not None and host.conn is not None
    state.checker = host.parent
    if not check_conn_opts(state, host.conn):
        host.parent.hosts.remove(host)


_SMTP_HOST_BLOCK = Block.of("host", common_keywords(True), current=lambda s: s.checker)

SMTP_CHECK: Keyword[LoadState] = Keyword(
    "SMTP_CHECK",
    _smtp,
    sub=checker_block(
        "SMTP_CHECK",
        [
            Keyword("helo_name", _helo_name),
            Keyword("host", _smtp_host, sub=_SMTP_HOST_BLOCK, end=_smtp_host_end),
        ],
    ),
    end=_smtp_end,
)
