"""Keyword tables: for each block, the keywords it accepts, which of them
open a block of their own, which read a block of plain values, which are
kept as data, and the handler that interprets each one.

This mirrors keepalived's ``install_keyword*`` tables (lib/parser.c): a
block's handlers run only while the block's object exists (keepalived's
``ptr``), and the keyword that opened the block gets an end handler when
the block closes normally.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["Block", "Keyword", "MissingParameter", "Node", "Stmt", "ValueLine"]

S = TypeVar("S")

# Words kept verbatim in "quoted" keywords (script command lines).
QUOTED_SCRIPT_KEYWORDS = frozenset(
    {
        "lvs_notify_fifo_script",
        "misc_path",
        "notify",
        "notify_backup",
        "notify_deleted",
        "notify_down",
        "notify_fault",
        "notify_fifo_script",
        "notify_master",
        "notify_master_rx_lower_pri",
        "notify_stop",
        "notify_up",
        "quorum_down",
        "quorum_up",
        "script",
        "shutdown_script",
        "startup_script",
        "vrrp_notify_fifo_script",
    }
)


class MissingParameter(Exception):
    """A handler read a word the line does not have (keepalived: null_strvec)."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


@dataclass(frozen=True, slots=True)
class Node:
    """A statement kept as data (VRRP and BFD blocks, global_defs), with its
    position and, for a block, its children."""

    keyword: str
    args: tuple[str, ...]
    file: str
    line: int
    children: tuple[Node, ...] = ()
    block: bool = False

    def find(self, keyword: str) -> Node | None:
        for child in self.children:
            if child.keyword == keyword:
                return child
        return None


@dataclass(frozen=True, slots=True)
class ValueLine:
    """A line of a value block (``virtual_server_group``, ``notification_email``)."""

    words: tuple[str, ...]
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class Stmt:
    """One keyword line as a handler sees it."""

    words: tuple[str, ...]
    file: str
    line: int
    raw: str  # the whole line, for keywords that re-parse it (scripts, regex)
    values: tuple[ValueLine, ...] = ()  # lines of a value block
    children: tuple[Node, ...] = ()  # a block kept as data
    block: bool = False
    end: tuple[str, int] = ("", 0)  # where a value block ended (its "}")

    @property
    def keyword(self) -> str:
        return self.words[0]

    def __len__(self) -> int:
        return len(self.words)

    def arg(self, index: int) -> str:
        if index >= len(self.words):
            raise MissingParameter(index)
        return self.words[index]

    def node(self) -> Node:
        return Node(self.words[0], self.words[1:], self.file, self.line, self.children, self.block)


@dataclass(frozen=True)
class Keyword(Generic[S]):
    name: str
    handler: Callable[[S, Stmt], bool | None] | None = None  # True: skip the block
    sub: Block[S] | None = None  # opens a block of keywords
    end: Callable[[S], None] | None = None  # when ``sub`` closes normally
    values: bool = False  # handler reads a block of value lines
    value_args: int = 0  # words allowed between the keyword and a value block
    value_label: str | None = None  # name keepalived prints for the value block
    generic: bool = False  # block kept as data, its keywords not checked
    quoted: bool = False  # an unmatched quote after the first word is allowed


@dataclass(frozen=True)
class Block(Generic[S]):
    """The keywords of one block and the object that gates their handlers."""

    name: str
    keywords: Mapping[str, Keyword[S]] = field(default_factory=dict)
    current: Callable[[S], object] | None = None  # handlers run while this is not None
    clear: Callable[[S], None] | None = None  # after the end handler

    @classmethod
    def of(
        cls,
        name: str,
        keywords: Iterable[Keyword[S]],
        *,
        current: Callable[[S], object] | None = None,
        clear: Callable[[S], None] | None = None,
    ) -> Block[S]:
        table: dict[str, Keyword[S]] = {}
        for kw in keywords:
            table[kw.name] = kw
        return cls(name, table, current, clear)

    def active(self, state: S) -> bool:
        return self.current is None or self.current(state) is not None
