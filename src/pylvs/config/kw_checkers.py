"""The checker blocks of a ``real_server`` (keepalived/check/check_api.c
``install_checkers_keyword``): TCP_CHECK, PING_CHECK, UDP_CHECK, DNS_CHECK,
MISC_CHECK, FILE_CHECK and BFD_CHECK here, HTTP_GET/SSL_GET and SMTP_CHECK in
their own modules."""

from __future__ import annotations

from pylvs.config.addrfmt import format_rs
from pylvs.config.grammar import Keyword, Stmt
from pylvs.config.kw_checker_base import (
    Handler,
    check_conn_opts,
    checker_block,
    conn_end,
    current_checker,
    current_rs,
    dequeue_checker,
    queue_checker,
)
from pylvs.config.kw_common import bool_arg, draft_block, set_true, set_unsigned
from pylvs.config.kw_http import HTTP_GET, SSL_GET
from pylvs.config.kw_smtp import SMTP_CHECK
from pylvs.config.numbers import INT_MAX, TIMER_HZ, UINT_MAX
from pylvs.config.scripts import cmd_str, default_script_user, parse_script, set_uid_gid
from pylvs.config.state import BfdCheckDraft, FileCheckDraft, LoadState
from pylvs.health.dns_types import DNS_TYPES
from pylvs.health.hex_string import read_hex_str

__all__ = ["CHECKER_KEYWORDS", "DNS_TYPES"]


# -- TCP_CHECK, PING_CHECK -----------------------------------------------------------------


def _simple(kind: str) -> Keyword[LoadState]:
    def handler(state: LoadState, stmt: Stmt) -> None:
        queue_checker(state, stmt, kind)

    return Keyword(kind, handler, sub=checker_block(kind, []), end=conn_end)


# -- DNS_CHECK ---------------------------------------------------------------------------------


def _dns(state: LoadState, stmt: Stmt) -> None:
    draft = queue_checker(state, stmt, "DNS_CHECK")
    draft.default_retry = 3
    draft.default_delay_before_retry = 0.0  # = delay_loop


def _dns_type(state: LoadState, stmt: Stmt) -> None:
    word = stmt.arg(1)
    for name in DNS_TYPES:
        if name.lower() == word.lower():
            current_checker(state).dns_type = name
            return
    state.error(f"Unknown DNS check type {word} - ignoring")


def _dns_name(state: LoadState, stmt: Stmt) -> None:
    c = current_checker(state)
    if c.dns_name is not None:
        state.error("DNS_CHECK name already specified - ignoring")
        return
    name = stmt.arg(1)
    invalid = False
    if name.startswith(".") and len(name) > 1:
        invalid = True
    else:
        # keepalived tests the character after the start and after each dot,
        # so a one-letter first label ("a.example") is refused too.
        p = 0
        while p >= 0:
            if name[p + 1 : p + 2] == ".":
                invalid = True
                break
            p = name.find(".", p + 1)
    if invalid:
        state.error(f"DNS_CHECK name '{name}' has empty label - ignoring")
        return
    c.dns_name = name


def _dns_end(state: LoadState) -> None:
    if not check_conn_opts(state):
        dequeue_checker(state)
        return
    c = current_checker(state)
    if c.dns_name is None:
        c.dns_name = ""


# -- UDP_CHECK ------------------------------------------------------------------------------


def _udp(state: LoadState, stmt: Stmt) -> None:
    queue_checker(state, stmt, "UDP_CHECK")


def _payload(state: LoadState, stmt: Stmt) -> None:
    if len(stmt) == 1:
        state.error("UDP_CHECK payload requires a payload")
        return
    parsed = read_hex_str(" ".join(stmt.words[1:]), False)
    if parsed is None:
        state.error("Invalid hex string for UDP_CHECK payload")
        return
    current_checker(state).payload = parsed[0]


def _require_reply(state: LoadState, stmt: Stmt) -> None:
    c = current_checker(state)
    c.require_reply = True
    if len(stmt) == 1:
        return
    parsed = read_hex_str(" ".join(stmt.words[1:]), True)
    if parsed is None:
        state.error("Invalid hex string for UDP_CHECK reply")
        return
    c.reply_data, c.reply_mask = parsed


def _reply_length(which: str) -> Handler:
    message = f"UDP_CHECK {which} length {{}} not valid - must be between 0 & 65535"
    attr = f"{which}_reply_length"
    return set_unsigned(current_checker, attr, 0, 65535, message, ignore_error=False)


def _udp_end(state: LoadState) -> None:
    if not check_conn_opts(state):
        dequeue_checker(state)
        return
    c = current_checker(state)
    if c.min_reply_length > c.max_reply_length:
        state.error(
            f"UDP_CHECK min_reply length {c.min_reply_length} > max_reply_length "
            f"{c.max_reply_length} - will always fail"
        )


# -- MISC_CHECK -------------------------------------------------------------------------------


def _misc(state: LoadState, stmt: Stmt) -> None:
    draft = queue_checker(state, stmt, "MISC_CHECK", conn=False)
    draft.default_retry = 0


def _misc_path(state: LoadState, stmt: Stmt) -> None:
    script = parse_script(stmt.raw, state, "misc", with_user=False)
    if script is not None:
        current_checker(state).script = script.args


_misc_timeout = set_unsigned(
    current_checker, "misc_timeout", 0, UINT_MAX // TIMER_HZ, "Invalid misc_timeout value '{}'"
)


def _misc_user(state: LoadState, stmt: Stmt) -> None:
    c = current_checker(state)
    if len(stmt) < 2:
        state.error(f"No user specified for misc checker script {cmd_str(c.script)}")
        return
    user, group = stmt.words[1], (stmt.words[2] if len(stmt) > 2 else None)
    if set_uid_gid(state, user, group):
        state.error(f"Failed to set uid/gid for misc checker script {cmd_str(c.script)} - removing")
        dequeue_checker(state)
        return
    c.user, c.group = user, group


def _misc_end(state: LoadState) -> None:
    c = current_checker(state)
    if c.script is None:
        state.error("No script path has been specified for MISC_CHECKER - skipping")
        dequeue_checker(state)
        return
    if c.user is None and default_script_user(state):
        state.error(f"Unable to set default user for misc script {cmd_str(c.script)} - removing")
        dequeue_checker(state)


MISC_CHECK: Keyword[LoadState] = Keyword(
    "MISC_CHECK",
    _misc,
    sub=checker_block(
        "MISC_CHECK",
        [
            Keyword("misc_path", _misc_path, quoted=True),
            Keyword("misc_timeout", _misc_timeout),
            Keyword("misc_dynamic", set_true(current_checker, "misc_dynamic")),
            Keyword("user", _misc_user),
        ],
        connection=False,
    ),
    end=_misc_end,
)


# -- FILE_CHECK -----------------------------------------------------------------------------------


def _file_check(state: LoadState, stmt: Stmt) -> None:
    state.file_check = FileCheckDraft(stmt.file, stmt.line)


def _file_check_track(state: LoadState, stmt: Stmt) -> None:
    name = stmt.arg(1)
    assert state.file_check is not None
    for tf in state.track_files:
        if tf.name == name:
            state.file_check.track_file = name
            state.file_check.path = tf.path or ""
            return
    state.error(f"track_file {name} not found")


def _file_check_weight(state: LoadState, stmt: Stmt) -> None:
    fc = state.file_check
    assert fc is not None
    if len(stmt) < 2:
        state.error("track file weight missing")
        return
    value = state.nums.read_int(stmt.words[1], -INT_MAX, INT_MAX, True)
    if value is None:
        state.error(
            f"weight for track file must be in [{-INT_MAX}..{INT_MAX}] inclusive. Ignoring..."
        )
        return
    reverse = False
    if len(stmt) >= 3:
        if stmt.words[2] == "reverse":
            reverse = True
        elif stmt.words[2] != "noreverse":
            state.error(f"unknown track file weight option {stmt.words[2]} - ignoring")
            return
    fc.weight, fc.reverse = value, reverse


def _file_check_end(state: LoadState) -> None:
    fc = state.file_check
    assert fc is not None
    if fc.track_file is None:
        state.error("FILE_CHECK has no track_file specified - ignoring")
        return
    if fc.weight is None:
        tf = next(t for t in state.track_files if t.name == fc.track_file)
        fc.weight, fc.reverse = tf.weight, tf.reverse
    current_rs(state).file_checks.append(fc)


FILE_CHECK: Keyword[LoadState] = Keyword(
    "FILE_CHECK",
    _file_check,
    sub=draft_block(
        "FILE_CHECK",
        [Keyword("track_file", _file_check_track), Keyword("weight", _file_check_weight)],
        "file_check",
    ),
    end=_file_check_end,
)


# -- BFD_CHECK ----------------------------------------------------------------------------------------


def _rs_label(state: LoadState) -> str:
    rs = current_rs(state)
    proto = state.vs.protocol if state.vs is not None else 0
    return format_rs(rs.af, rs.addr, rs.port, proto)


def _bfd(state: LoadState, stmt: Stmt) -> None:
    state.bfd_check = BfdCheckDraft(stmt.file, stmt.line)
    state.reporter.unsupported("BFD_CHECK is not supported by pylvs - the checker is ignored")


def _bfd_name(state: LoadState, stmt: Stmt) -> None:
    draft = state.bfd_check
    assert draft is not None
    label = _rs_label(state)
    known = {n.args[0] for n in state.bfd if n.keyword == "bfd_instance" and n.args}
    name = stmt.words[1] if len(stmt) >= 2 else ""
    error = True
    if len(stmt) != 2:
        state.error(f"({label}) BFD_CHECK - No or too many names specified - skipping checker")
    elif name not in known:
        state.error(f"({label}) BFD_CHECK - BFD {name} not configured")
    elif draft.name is not None:
        state.error(f"({label}) BFD_CHECK - BFD {name} already specified as {draft.name}")
    elif len(name) >= 32:
        state.error(f"({label}) BFD_CHECK - BFD name {name} too long")
    elif any(b.name == name for b in current_rs(state).bfd_checks):
        state.error(f"({label}) BFD_CHECK - RS already monitoring {name}")
    else:
        error = False
    if error:
        state.bfd_check = None
        return
    draft.name = name


def _bfd_alpha(state: LoadState, stmt: Stmt) -> None:
    value = bool_arg(state, stmt, "Invalid alpha parameter {}")
    if value is not None and state.bfd_check is not None:
        state.bfd_check.alpha = value


def _bfd_end(state: LoadState) -> None:
    draft = state.bfd_check
    assert draft is not None
    if draft.name is None:
        state.error(f"({_rs_label(state)}) No name has been specified for BFD_CHECKER - skipping")
        return
    current_rs(state).bfd_checks.append(draft)


BFD_CHECK: Keyword[LoadState] = Keyword(
    "BFD_CHECK",
    _bfd,
    sub=draft_block(
        "BFD_CHECK", [Keyword("name", _bfd_name), Keyword("alpha", _bfd_alpha)], "bfd_check"
    ),
    end=_bfd_end,
)


CHECKER_KEYWORDS: list[Keyword[LoadState]] = [
    MISC_CHECK,
    SMTP_CHECK,
    _simple("TCP_CHECK"),
    _simple("PING_CHECK"),
    Keyword(
        "UDP_CHECK",
        _udp,
        sub=checker_block(
            "UDP_CHECK",
            [
                Keyword("payload", _payload),
                Keyword("require_reply", _require_reply),
                Keyword("min_reply_length", _reply_length("min")),
                Keyword("max_reply_length", _reply_length("max")),
            ],
        ),
        end=_udp_end,
    ),
    HTTP_GET,
    SSL_GET,
    Keyword(
        "DNS_CHECK",
        _dns,
        sub=checker_block("DNS_CHECK", [Keyword("type", _dns_type), Keyword("name", _dns_name)]),
        end=_dns_end,
    ),
    FILE_CHECK,
    BFD_CHECK,
]
