"""Script command lines (keepalived/core/notify.c ``notify_script_init``,
``set_script_params_array``): the keyword's line is re-read with quotes
(``"..."`` and ``'...'``) grouping words; its second word is the command,
split again with quotes and C escapes, so ``"/bin/x a 'b c'"`` runs
``/bin/x`` with ``a`` and ``b c``. Optional third and fourth words are the
user and group to run it as; without them the default script user applies
(``script_user``, else ``keepalived_script`` if it exists, else root — and
with ``enable_script_security`` a missing ``keepalived_script`` is an error).
"""

from __future__ import annotations

from pylvs.config.diagnostics import Level, Reporter
from pylvs.config.lexer import split_script_words
from pylvs.config.model import Script
from pylvs.config.state import LoadState
from pylvs.health.command_line import cmd_str as shown_command

__all__ = ["cmd_str", "default_script_user", "parse_script", "set_uid_gid"]


def cmd_str(args: tuple[str, ...] | list[str] | None) -> str:
    """keepalived's ``cmd_str``, "(null)" for no command."""
    return shown_command(args) if args else "(null)"


def _split(text: str, escapes: bool, reporter: Reporter) -> list[str] | None:
    res = split_script_words(text, escapes)
    if res.error is not None:
        reporter.report(Level.UNMATCHED_QUOTE if res.unmatched else Level.LOG, res.error)
    return res.words


def set_uid_gid(state: LoadState, user: str, group: str | None) -> bool:
    """True when the user or group does not exist (only checked with accounts)."""
    accounts = state.accounts
    if accounts is None:
        return False
    if accounts.user(user) is None:
        state.log(f"Script user '{user}' does not exist")
        return True
    if group is not None and group.startswith(":"):
        group = group[1:] or None
    if group is not None and accounts.group(group) is None:
        state.log(f"Script group '{group}' does not exist")
        return True
    return False


def set_default_script_user(state: LoadState, user: str, group: str | None) -> None:
    """The ``script_user`` keyword."""
    state.default_user_set = True
    state.default_user_fail = set_uid_gid(state, user, group)
    if state.default_user_fail:
        state.error("Error setting global script uid/gid")


def default_script_user(state: LoadState) -> bool:
    """``get_default_script_user``: True when no default user can be used."""
    if state.default_user_fail:
        return True
    if not state.default_user_set:
        state.default_user_set = True
        missing = set_uid_gid(state, "keepalived_script", None)
        if missing and state.globals.enable_script_security:
            state.error("Unable to set default user keepalived_script for script")
            state.default_user_fail = True
            return True
    return False


def parse_script(raw: str, state: LoadState, kind: str, *, with_user: bool = True) -> Script | None:
    """A notify/quorum/fifo script; None (and a log line) when it cannot be used."""
    reporter = state.reporter
    words = _split(raw, False, reporter)
    if words is None:
        reporter.log("Unable to parse notify script")
        return None
    args = _split(words[1], True, reporter) if len(words) >= 2 else None
    if not args:
        reporter.log(f"Unable to parse script '{words[1] if len(words) > 1 else ''}' - ignoring")
        return None
    if not with_user:
        return Script(tuple(args))
    user = group = None
    if len(words) > 2:
        user = words[2]
        group = words[3] if len(words) > 3 else None
        if set_uid_gid(state, user, group):
            reporter.log(f"Invalid user/group for {kind} script {args[0]} - ignoring")
            return None
    elif default_script_user(state):
        reporter.log(f"Failed to set default user for {kind} script {args[0]} - ignoring")
        return None
    return Script(tuple(args), user, group)
