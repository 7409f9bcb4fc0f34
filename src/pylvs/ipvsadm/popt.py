"""An emulation of libpopt 1.19's ``poptGetNextOpt`` for a flat option table.

Only what ipvsadm uses is modelled: no aliases, no exec entries, no
callbacks (reference §1.2). The behaviour reproduced:

* a word not starting with ``-``, the word ``-``, and every word after
  ``--`` is a *leftover*, collected in order; options may follow it
  (unless POSIXLY_CORRECT is set, then the first leftover ends options);
* ``--name`` and ``--name=value`` must name an option exactly;
* ``-abc`` is a cluster of short options; an option that takes a value
  takes the rest of the cluster (a leading ``=`` skipped), else the next
  word, whatever it looks like; an *optional* value is taken from the next
  word only when it does not start with ``-``;
* a value containing ``!#:+`` has it replaced by the next word that does
  not start with ``-``, which is then skipped (popt's ``expandNextArg``);
* errors name the last word consumed (``poptBadOption``).
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import NamedTuple

__all__ = ["ArgKind", "Popt", "PoptFailure", "PoptHang", "PoptOption"]


class ArgKind(Enum):
    NONE = "none"
    VALUE = "value"
    OPTIONAL = "optional"


class PoptOption(NamedTuple):
    long: str | None
    short: str | None
    kind: ArgKind
    tag: str


class PoptFailure(Exception):
    """``poptGetNextOpt`` returned an error; ``reason`` is ``poptStrerror``'s text."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PoptHang(Exception):
    """popt 1.19 loops forever here: ``!#:+`` in a value with words left
    but none of them a candidate (``findNextArg`` never terminates)."""


BADOPT = "unknown option"
NOARG = "missing argument"
UNWANTEDARG = "option does not take an argument"

_EXPANSION = "!#:+"

# Per option table: its long and short names -> the first entry of that name.
_Index = tuple[dict[str, PoptOption], dict[str, PoptOption]]
_INDEXES: dict[int, tuple[Sequence[PoptOption], _Index]] = {}


def _index(table: Sequence[PoptOption]) -> _Index:
    cached = _INDEXES.get(id(table))
    if cached is not None and cached[0] is table:
        return cached[1]
    longs: dict[str, PoptOption] = {}
    shorts: dict[str, PoptOption] = {}
    for opt in table:  # the first of a name wins, as popt's scan finds it
        if opt.long is not None:
            longs.setdefault(opt.long, opt)
        if opt.short is not None:
            shorts.setdefault(opt.short, opt)
    if isinstance(table, tuple):  # immutable: safe to remember (kept alive here)
        _INDEXES[id(table)] = (table, (longs, shorts))
    return longs, shorts


class Popt:
    """One parse of ``argv`` (``argv[0]`` is the program and is skipped)."""

    def __init__(
        self, argv: Sequence[str], table: Sequence[PoptOption], *, posixly_correct: bool = False
    ) -> None:
        self._argv = list(argv)
        self._table = table
        self._longs, self._shorts = _index(table)
        self._posix = posixly_correct
        self._next = 1
        self._cluster: str | None = None  # the unread rest of a short-option cluster
        self._rest_leftover = False
        self._deleted: set[int] = set()
        self._leftovers: list[str] = []
        self._leftover_pos = 0

    def next_option(self) -> tuple[PoptOption, str | None] | None:
        """The next option and its value, or None at the end; raises
        :class:`PoptFailure` or :class:`PoptHang`."""
        argv = self._argv
        while True:
            if self._cluster is None and self._next == len(argv):
                return None
            long_value: str | None = None
            opt: PoptOption | None = None
            if self._cluster is None:
                if self._next in self._deleted:
                    self._next += 1
                    continue
                word = argv[self._next]
                self._next += 1
                if self._rest_leftover or not word.startswith("-") or word == "-":
                    if self._posix:
                        self._rest_leftover = True
                    self._leftovers.append(word)
                    continue
                if word == "--":
                    self._rest_leftover = True
                    continue
                if word.startswith("--"):
                    name, eq, value = word[2:].partition("=")
                    opt = self._find_long(name)
                    if opt is None:
                        raise PoptFailure(BADOPT)
                    if eq:
                        long_value = value
                else:
                    self._cluster = word[1:]
            if self._cluster is not None:
                cluster = self._cluster
                self._cluster = None
                opt = self._find_short(cluster[0])
                if opt is None:
                    raise PoptFailure(BADOPT)
                if len(cluster) > 1:
                    self._cluster = cluster[1:]
            assert opt is not None
            return opt, self._value_for(opt, long_value)

    def _value_for(self, opt: PoptOption, long_value: str | None) -> str | None:
        if opt.kind is ArgKind.NONE:
            if long_value is not None or (self._cluster is not None and self._cluster[0] == "="):
                raise PoptFailure(UNWANTEDARG)
            return None
        if long_value is not None:
            return self._expand(long_value)
        if self._cluster is not None:
            rest = self._cluster[1:] if self._cluster[0] == "=" else self._cluster
            self._cluster = None
            return self._expand(rest)
        if self._next == len(self._argv):
            if opt.kind is ArgKind.OPTIONAL:
                return None
            raise PoptFailure(NOARG)
        word = self._argv[self._next]
        if opt.kind is ArgKind.OPTIONAL and word.startswith("-"):
            return None
        self._next += 1
        return self._expand(word)

    def _expand(self, value: str) -> str:
        if _EXPANSION not in value:
            return value
        out: list[str] = []
        found: str | None = None
        i = 0
        while i < len(value):
            if value.startswith(_EXPANSION, i):
                if found is None:
                    found = self._take_next_arg()
                if found is not None:
                    out.append(found)
                    i += len(_EXPANSION)
                    continue
            out.append(value[i])
            i += 1
        return "".join(out)

    def _take_next_arg(self) -> str | None:
        if self._next == len(self._argv):
            return None
        for i in range(self._next, len(self._argv)):
            if i in self._deleted or self._argv[i].startswith("-"):
                continue
            self._deleted.add(i)
            return self._argv[i]
        raise PoptHang()

    def _find_long(self, name: str) -> PoptOption | None:
        return self._longs.get(name)

    def _find_short(self, ch: str) -> PoptOption | None:
        return self._shorts.get(ch)

    def bad_option(self) -> str:
        """The word popt blames for an error: the last one it consumed."""
        return self._argv[self._next - 1]

    def next_leftover(self) -> str | None:
        """``poptGetArg``: the leftovers, one by one, in order."""
        if self._leftover_pos == len(self._leftovers):
            return None
        self._leftover_pos += 1
        return self._leftovers[self._leftover_pos - 1]
