"""Handler helpers shared by the keyword tables: reading a keyword's
argument the way keepalived does, the objects being read, and handlers
that set one attribute of such an object from the keyword's argument."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pylvs.config.grammar import Block, Keyword, Stmt
from pylvs.config.numbers import Numbers, check_true_false
from pylvs.config.state import LoadState, RsDraft, VsDraft

__all__ = [
    "Handler",
    "Target",
    "bool_arg",
    "cstr",
    "current_rs",
    "current_vs",
    "draft_block",
    "set_flag",
    "set_string",
    "set_timer",
    "set_true",
    "set_unsigned",
    "set_word",
]

Handler = Callable[[LoadState, Stmt], None]
#: the object a handler sets an attribute of (the draft being read)
Target = Callable[[LoadState], object]


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


def current_vs(state: LoadState) -> VsDraft:
    assert state.vs is not None
    return state.vs


def current_rs(state: LoadState) -> RsDraft:
    assert state.rs is not None
    return state.rs


def draft_block(name: str, keywords: Iterable[Keyword[LoadState]], draft: str) -> Block[LoadState]:
    """A block whose handlers run while ``state.<draft>`` is being read; it
    is dropped (set to None) once the block's end handler has run."""
    return Block.of(
        name,
        keywords,
        current=lambda s: getattr(s, draft),
        clear=lambda s: setattr(s, draft, None),
    )


# Each ``message`` below may contain ``{}`` for the keyword's argument.


def set_unsigned(
    target: Target, attr: str, lo: int, hi: int, message: str, *, ignore_error: bool = True
) -> Handler:
    """``attr`` of ``target`` from an unsigned argument in [lo, hi]
    (keepalived's ``read_unsigned_strvec``); an invalid one changes nothing."""
    return _set_number(
        target, attr, message, lambda nums, word: nums.read_unsigned(word, lo, hi, ignore_error)
    )


def set_timer(target: Target, attr: str, lo: int, hi: int, message: str) -> Handler:
    """``attr`` of ``target`` from a timer argument, in seconds (keepalived's
    ``read_timer``: bounds in µs, 0 = no upper bound); an invalid one changes nothing."""
    return _set_number(
        target, attr, message, lambda nums, word: nums.read_timer(word, lo, hi, True)
    )


def _set_number(
    target: Target, attr: str, message: str, read: Callable[[Numbers, str], float | None]
) -> Handler:
    def handler(state: LoadState, stmt: Stmt) -> None:
        value = read(state.nums, stmt.arg(1))
        if value is None:
            state.error(message.format(stmt.words[1]))
            return
        setattr(target(state), attr, value)

    return handler


def set_flag(target: Target, attr: str, message: str) -> Handler:
    """``attr`` of ``target`` from an optional on/off argument (see ``bool_arg``)."""

    def handler(state: LoadState, stmt: Stmt) -> None:
        value = bool_arg(state, stmt, message)
        if value is not None:
            setattr(target(state), attr, value)

    return handler


def set_true(target: Target, attr: str) -> Handler:
    """A keyword that sets ``attr`` of ``target``, whatever follows it."""

    def handler(state: LoadState, stmt: Stmt) -> None:
        setattr(target(state), attr, True)

    return handler


def set_word(target: Target, attr: str, missing: str, what: str) -> Handler:
    """``attr`` of ``target`` from the keyword's argument; without one,
    ``missing`` is the error; a second value replaces the first (``set_string``)."""

    def handler(state: LoadState, stmt: Stmt) -> None:
        if len(stmt) < 2:
            state.error(missing)
            return
        obj = target(state)
        setattr(obj, attr, set_string(state, getattr(obj, attr), stmt.words[1], what))

    return handler
