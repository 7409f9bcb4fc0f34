"""The options a ``virtual_server`` and its ``real_server`` blocks both have
(keepalived/check/check_parser.c): ``weight``, ``retry``, the timers,
``smtp_alert``, ``virtualhost`` and ``snmp_name``; ``target`` is "vs" or "rs"."""

from __future__ import annotations

from collections.abc import Callable

from pylvs.config.grammar import Keyword, Stmt
from pylvs.config.kw_common import (
    Handler,
    current_rs,
    current_vs,
    set_flag,
    set_string,
    set_timer,
    set_unsigned,
    set_word,
)
from pylvs.config.numbers import INT_MAX, UINT_MAX
from pylvs.config.state import LoadState, RsDraft, VsDraft

__all__ = ["server_options", "server_timer"]

IPVS_WEIGHT_LIMIT = INT_MAX

_Server = Callable[[LoadState], VsDraft | RsDraft]


def _server(target: str) -> _Server:
    return current_rs if target == "rs" else current_vs


def server_options(target: str) -> list[Keyword[LoadState]]:
    """``weight``, ``retry``, ``smtp_alert``, ``virtualhost`` and ``snmp_name``
    (the timers, whose messages differ more, are ``server_timer``)."""
    server = _server(target)
    full = "real server" if target == "rs" else "virtual server"
    min_weight = 0 if target == "rs" else 1  # a real server's weight may be 0
    weight_error = (
        f"{full.capitalize()} weight {{}} is outside range {min_weight}-{IPVS_WEIGHT_LIMIT}"
    )
    smtp_alert_error = f"Invalid {full.replace(' ', '_')} smtp_alert parameter {{}}"
    return [
        Keyword(
            "weight", set_unsigned(server, "weight", min_weight, IPVS_WEIGHT_LIMIT, weight_error)
        ),
        Keyword(
            "retry",
            set_unsigned(
                server, "retry", 1, UINT_MAX, "retry value invalid - {}", ignore_error=False
            ),
        ),
        Keyword("smtp_alert", set_flag(server, "smtp_alert", smtp_alert_error)),
        Keyword(
            "virtualhost",
            set_word(server, "virtualhost", f"{full} virtualhost missing", f"{target} virtualhost"),
        ),
        Keyword("snmp_name", _snmp_name(server, full, target)),
    ]


def server_timer(attr: str, lo: int, hi: int, message: str) -> Keyword[LoadState]:
    """A timer keyword; ``attr`` is "vs.NAME" or "rs.NAME" (NAME on the draft)."""
    target, name = attr.split(".")
    return Keyword(name, set_timer(_server(target), name, lo, hi, message))


def _snmp_name(server: _Server, full: str, target: str) -> Handler:
    def handler(state: LoadState, stmt: Stmt) -> None:
        obj = server(state)
        if len(stmt) != 2:
            state.error(f"{full} snmp_name missing or extra parameters")
            return
        obj.snmp_name = set_string(state, obj.snmp_name, stmt.words[1], f"{target} snmp_name")

    return handler
