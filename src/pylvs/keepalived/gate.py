"""Which configuration errors stop a start, and which stop a reload.

keepalived logs configuration errors and runs with what it understood: an
unknown keyword is skipped, a bad value ignored or replaced by its default,
a duplicate real server dropped.  pylvs does the same, at start and at a
reload, so that a file that starts also reloads.

keepalived refuses to *start* only when it has no configuration to read
(main.c: the file is missing or unreadable, or an ``include`` that must
match did not: exit 6) or when a keyword lacks its parameter (parser.c
``null_strvec``: exit 2).  pylvs refuses the same.

A *reload* of keepalived with such a file tears the running table down
(it reloads an empty or truncated configuration).  pylvs refuses the
reload instead, keeps the running configuration and says why, for those
errors and for the errors after which the rest of the file is not read as
written:

- the main file or a required include missing or unreadable;
- a keyword without its parameter;
- a brace out of place (``Missing '{'``, ``Unexpected '{'``, ``Extra '}'``,
  ``missing '}'s``) or an unmatched quote: every block after it would mean
  something else, typically servers vanish;
- a fatal error.

Everything else (unknown keywords, invalid values, fix-ups, warnings,
script security) is logged and the reload goes ahead, as keepalived does.
When the running configuration sets ``reload_check_config`` (keepalived
2.2.8+), a reload is refused on any configuration error, as keepalived
then does ("New config failed validation").
"""

from __future__ import annotations

from pylvs.config.diagnostics import EXIT_NO_CONFIG, Diagnostic, Level
from pylvs.config.loader import LoadResult
from pylvs.config.model import KeepalivedConfig

__all__ = [
    "KEEPALIVED_EXIT_CONFIG",
    "KEEPALIVED_EXIT_FATAL",
    "KEEPALIVED_EXIT_NO_CONFIG",
    "reload_blockers",
    "start_refusal",
    "wants_checked_reload",
]

# keepalived's exit codes (lib/scheduler.h enum exit_code).
KEEPALIVED_EXIT_FATAL = 1
KEEPALIVED_EXIT_CONFIG = 2
KEEPALIVED_EXIT_NO_CONFIG = 6

_STRUCTURAL = frozenset(
    {
        Level.UNEXPECTED_BOB,
        Level.MISSING_BOB,
        Level.UNEXPECTED_EOB,
        Level.MISSING_EOB,
        Level.UNMATCHED_QUOTE,
    }
)


def _no_config(d: Diagnostic) -> bool:
    return d.level == Level.FILE_NOT_FOUND and d.keyword in ("-f", "include")


def start_refusal(result: LoadResult) -> tuple[int, tuple[Diagnostic, ...]] | None:
    """(keepalived's exit status, the diagnostics why) when this load must
    not start; None when it may."""
    missing = tuple(d for d in result.diagnostics if _no_config(d))
    if missing or result.status == EXIT_NO_CONFIG:
        return KEEPALIVED_EXIT_NO_CONFIG, missing
    params = tuple(d for d in result.diagnostics if d.level == Level.MISSING_PARAMETER)
    if params:
        return KEEPALIVED_EXIT_CONFIG, params
    return None


def wants_checked_reload(config: KeepalivedConfig) -> bool:
    """``global_defs { reload_check_config [FILE] }``."""
    return any(n.keyword == "reload_check_config" for n in config.globals.statements)


def reload_blockers(result: LoadResult, *, checked: bool = False) -> tuple[Diagnostic, ...]:
    """The diagnostics that stop this reload (empty: go ahead).  ``checked``:
    the running configuration asks for ``reload_check_config``."""
    if checked:
        return tuple(d for d in result.diagnostics if d.level > Level.OK)
    return tuple(
        d
        for d in result.diagnostics
        if _no_config(d)
        or d.level in _STRUCTURAL
        or d.level in (Level.MISSING_PARAMETER, Level.FATAL)
    )
