"""keepalived's block parser (lib/parser.c ``process_stream`` and
``alloc_value_block``), driven by the keyword tables of ``grammar``.

It calls each keyword's handler as the line is read (so handlers see the
configuration in file order, as keepalived's do), reports unknown keywords
and misplaced braces with keepalived's texts, skips blocks a handler
rejected, reads value blocks, and keeps VRRP/BFD blocks as a tree of nodes.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from pylvs.config.diagnostics import Level, Reporter
from pylvs.config.grammar import (
    QUOTED_SCRIPT_KEYWORDS,
    Block,
    Keyword,
    MissingParameter,
    Node,
    Stmt,
    ValueLine,
)
from pylvs.config.lexer import split_words
from pylvs.config.lines import Line, LineSource

__all__ = ["Parser"]

S = TypeVar("S")


class Parser(Generic[S]):
    def __init__(self, lines: LineSource, reporter: Reporter, state: S) -> None:
        self.lines = lines
        self.reporter = reporter
        self.state = state
        self.skip = 0  # keepalived's skip_sublevel: -1 = skip a block if one follows
        self.last: Line | None = None  # the line read last ("}" when a block ends)

    def run(self, root: Block[S]) -> None:
        self._stream(root, need_bob=False, level=0)

    # -- helpers ---------------------------------------------------------------------

    def _words(self, line: Line, block: Block[S] | None) -> list[str]:
        words, unmatched = split_words(line.text)
        if unmatched:
            allowed = False
            if len(words) > 1 and block is not None:
                kw = block.keywords.get(words[0])
                allowed = kw is not None and kw.quoted
            if not allowed:
                self._report(
                    line,
                    words[0] if words else '"',
                    Level.UNMATCHED_QUOTE,
                    f"Unmatched quote: '{line.text}'",
                )
        return words

    def _report(self, line: Line, keyword: str, level: Level, message: str) -> None:
        self.reporter.report(level, message, file=line.file, line=line.line, keyword=keyword)

    # -- process_stream --------------------------------------------------------------

    def _stream(self, block: Block[S], need_bob: bool, level: int) -> bool:
        """Read the keywords of ``block`` until its "}"; True if the block was skipped."""
        while True:
            line = self.lines.next()
            if line is None:
                return False
            self.last = line
            words = self._words(line, block)
            if not words:
                continue
            first = words[0]
            if self.skip == -1:
                if first == "{":
                    self.skip = 1
                    need_bob = False
                    continue
                self.skip = 0
            if self.skip:
                last = first
                for last in words:
                    if last == "{":
                        self.skip += 1
                    elif last == "}":
                        self.skip -= 1
                        if self.skip == 0:
                            break
                if last == "}" and self.skip == 0 and level > 0:
                    return True
                continue
            if need_bob:
                need_bob = False
                if first == "{" and level > 0:
                    continue
                self._report(
                    line,
                    first,
                    Level.MISSING_BOB,
                    "Missing '{' at beginning of configuration block",
                )
            elif first == "{":
                self._report(line, first, Level.UNEXPECTED_BOB, "Unexpected '{' - ignoring")
                continue
            if first == "}" and level > 0:
                return False
            kw = block.keywords.get(first)
            if kw is None:
                self._report(line, first, Level.UNKNOWN_KEYWORD, f"Unknown keyword '{first}'")
                continue
            self._keyword(block, kw, line, words, level)

    def _keyword(
        self, block: Block[S], kw: Keyword[S], line: Line, words: list[str], level: int
    ) -> None:
        bob_needed = False
        if kw.sub is not None:
            if words[-1] == "{" and len(words) > 1:
                words = words[:-1]
            else:
                bob_needed = True
        gated = block.active(self.state)
        values: tuple[ValueLine, ...] = ()
        children: tuple[Node, ...] = ()
        has_block = False
        end = (line.file, line.line)
        if kw.values and gated and kw.handler is not None:
            values, end = self._value_block(kw, line, words)
            has_block = True
        elif kw.generic:
            children, has_block = self._generic_block()
        stmt = Stmt(tuple(words), line.file, line.line, line.text, values, children, has_block, end)
        if gated and kw.handler is not None:
            self.reporter.where(line.file, line.line, kw.name)
            try:
                if kw.handler(self.state, stmt):
                    self.skip = -1
            except MissingParameter as e:
                self._missing(line, words, e.index)
        if kw.sub is not None:
            skipped = self._stream(kw.sub, bob_needed, level + 1)
            if not skipped:
                sub = kw.sub
                if kw.end is not None and sub.active(self.state):
                    # keepalived reports from end handlers at the closing "}".
                    closing = self.last or line
                    self.reporter.where(closing.file, closing.line, kw.name)
                    try:
                        kw.end(self.state)
                    except MissingParameter as e:
                        self._missing(line, words, e.index)
                if sub.clear is not None:
                    sub.clear(self.state)

    def _missing(self, line: Line, words: list[str], index: int) -> None:
        # keepalived exits here (null_strvec); pylvs reports it and carries on.
        if 0 < index <= len(words):
            message = (
                f"*** Configuration line starting `{words[0]}` is missing a parameter "
                f"after keyword `{words[index - 1]}` at word position {index + 1}"
            )
        else:
            message = (
                f"*** Configuration line starting `{words[0] if words else '***MISSING ***'}` "
                f"is missing a parameter at word position {index + 1}"
            )
        self._report(line, words[0] if words else '"', Level.MISSING_PARAMETER, message)

    # -- alloc_value_block ---------------------------------------------------------------

    def _value_block(
        self, kw: Keyword[S], line: Line, words: list[str]
    ) -> tuple[tuple[ValueLine, ...], tuple[str, int]]:
        label = kw.value_label if kw.value_label is not None else words[0]
        rest = words[1 + kw.value_args :]
        out: list[ValueLine] = []
        need_bob = True
        if rest:
            if rest[0] == "{":
                need_bob = False
                first = [w for w in rest[1:]]
                done = bool(first) and first[-1] == "}"
                if done:
                    first = first[:-1]
                if first:
                    out.append(ValueLine(tuple(first), line.file, line.line))
                if done:
                    return tuple(out), (line.file, line.line)
            else:
                self._report(
                    line,
                    words[0],
                    Level.GENERAL_ERROR,
                    f"Block {label} has extra parameters {rest[0]} ...",
                )
        end = (line.file, line.line)
        while True:
            vline = self.lines.next()
            if vline is None:
                break
            end = (vline.file, vline.line)
            vec = self._words(vline, None)
            if not vec:
                continue
            if need_bob:
                need_bob = False
                if vec[0] == "{":
                    if len(vec) == 1:
                        continue
                    vec = vec[1:]
                else:
                    self._report(
                        vline, words[0], Level.LOG, f"'{{' missing from beginning of block {label}"
                    )
            had_eob = False
            if vec[-1] == "}":
                if len(vec) == 1:
                    break
                had_eob = True
                vec = vec[:-1]
            if vec:
                out.append(ValueLine(tuple(vec), vline.file, vline.line))
            if had_eob:
                break
        return tuple(out), end

    # -- blocks kept as data ---------------------------------------------------------------

    def _generic_block(self) -> tuple[tuple[Node, ...], bool]:
        """If a "{" follows, read the block into nodes (a header followed by a
        "{" line opens a nested block)."""
        nxt = self.lines.peek()
        if nxt is None or nxt.text != "{":
            return (), False
        self.lines.next()
        return self._generic_children(), True

    def _generic_children(self) -> tuple[Node, ...]:
        nodes: list[Node] = []
        while True:
            line = self.lines.next()
            if line is None:
                break
            words, unmatched = split_words(line.text)
            if unmatched and not (len(words) > 1 and words[0] in QUOTED_SCRIPT_KEYWORDS):
                self._report(
                    line,
                    words[0] if words else '"',
                    Level.UNMATCHED_QUOTE,
                    f"Unmatched quote: '{line.text}'",
                )
            if not words:
                continue
            if words[0] == "}":
                break
            if words[0] == "{":
                nodes.append(Node("", (), line.file, line.line, self._generic_children(), True))
                continue
            children, has_block = self._generic_block()
            nodes.append(
                Node(words[0], tuple(words[1:]), line.file, line.line, children, has_block)
            )
        return tuple(nodes)
