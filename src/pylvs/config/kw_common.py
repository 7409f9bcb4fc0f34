"""Handler helpers shared by the keyword tables, and the options a
``virtual_server`` and its ``real_server`` blocks both have."""

from __future__ import annotations

from pylvs.config.grammar import Keyword, Stmt
from pylvs.config.numbers import UINT_MAX, check_true_false
from pylvs.config.state import LoadState, RsDraft, VsDraft

__all__ = [
    "bool_arg",
    "cstr",
    "current_vs",
    "server_retry",
    "server_smtp_alert",
    "server_snmp_name",
    "server_target",
    "server_timer",
    "server_virtualhost",
    "set_string",
]


def bool_arg(state: LoadState, stmt: Stmt, message: str) -> bool | None:
    """A keyword with an optional on/off argument (bare keyword = true).
    ``message`` may contain ``{}`` for the bad word; None after an error."""
    if len(stmt) < 2:
        return True
    res = check_true_false(stmt.words[1])
    if res is None:
        state.error(message.format(stmt.words[1]))
    return res


def set_string(state: LoadState, old: str | None, new: str, what: str) -> str:
    """lib/parser.c ``set_string``: a second value replaces the first, with a message."""
    if old is not None:
        state.error(f"Duplicate {what} - overwriting {old} with {new}")
    return new


def cstr(value: str | None) -> str:
    """What printf("%s") shows for a possibly NULL string."""
    return "(null)" if value is None else value


def server_target(state: LoadState, target: str) -> VsDraft | RsDraft:
    obj = state.rs if target == "rs" else state.vs
    assert obj is not None
    return obj


def current_vs(state: LoadState) -> VsDraft:
    assert state.vs is not None
    return state.vs


def server_timer(attr: str, lo: int, hi: int, message: str) -> Keyword[LoadState]:
    """A timer keyword of virtual_server or real_server (``attr`` on the draft)."""

    def handler(state: LoadState, stmt: Stmt) -> None:
        target = server_target(state, attr.split(".")[0])
        value = state.nums.read_timer(stmt.arg(1), lo, hi, True)
        if value is None:
            state.error(message.format(stmt.words[1]))
            return
        setattr(target, attr.split(".")[1], value)

    return Keyword(attr.split(".")[1], handler)


def server_retry(target: str) -> Keyword[LoadState]:
    def handler(state: LoadState, stmt: Stmt) -> None:
        value = state.nums.read_unsigned(stmt.arg(1), 1, UINT_MAX, False)
        if value is None:
            state.error(f"retry value invalid - {stmt.words[1]}")
            return
        server_target(state, target).retry = value

    return Keyword("retry", handler)


def server_smtp_alert(target: str) -> Keyword[LoadState]:
    what = "virtual_server" if target == "vs" else "real_server"

    def handler(state: LoadState, stmt: Stmt) -> None:
        value = bool_arg(state, stmt, f"Invalid {what} smtp_alert parameter {{}}")
        if value is not None:
            server_target(state, target).smtp_alert = value

    return Keyword("smtp_alert", handler)


def server_virtualhost(target: str) -> Keyword[LoadState]:
    full = "virtual server" if target == "vs" else "real server"

    def handler(state: LoadState, stmt: Stmt) -> None:
        obj = server_target(state, target)
        if len(stmt) < 2:
            state.error(f"{full} virtualhost missing")
            return
        old = obj.virtualhost
        obj.virtualhost = set_string(state, old, stmt.words[1], f"{target} virtualhost")

    return Keyword("virtualhost", handler)


def server_snmp_name(target: str) -> Keyword[LoadState]:
    full = "virtual server" if target == "vs" else "real server"

    def handler(state: LoadState, stmt: Stmt) -> None:
        obj = server_target(state, target)
        if len(stmt) != 2:
            state.error(f"{full} snmp_name missing or extra parameters")
            return
        old = obj.snmp_name
        obj.snmp_name = set_string(state, old, stmt.words[1], f"{target} snmp_name")

    return Keyword("snmp_name", handler)
