"""The logical lines of a configuration, as keepalived's ``read_line`` makes
them (lib/parser.c): raw lines read ``fgets``-style (1023 characters at most),
comments stripped, ``@ID`` conditional lines, ``$NAME=`` definitions and
their expansion, ``~SEQ``/``~LST`` repetition, ``include`` files, and each
line split at its first brace so that ``{`` and ``}`` are always lines of
their own. Also counts braces for "Extra '}' found".

Order quirk kept from the source: conditionals and parameters are handled
*before* a line is recognised as an ``include``, so ``@ID include x`` and
``include ${_PWD}/x`` work.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from pylvs.config.diagnostics import Level, Reporter
from pylvs.config.globbing import glob_include, has_brace
from pylvs.config.lexer import decomment, include_kind, split_brace
from pylvs.config.params import (
    MAXBUF,
    Builtins,
    Definition,
    Definitions,
    Seq,
    parse_lst,
    parse_seq,
    replace_params,
)
from pylvs.config.source import ConfigReader

__all__ = [
    "INCLUDE_B",
    "INCLUDE_M",
    "INCLUDE_R",
    "INCLUDE_W",
    "Line",
    "LineSource",
]

# Include checks (lib/parser.c include_t).
INCLUDE_R = 0x01  # error if not readable, a directory, executable...
INCLUDE_M = 0x02  # error if no file matches (no wildcard used)
INCLUDE_W = 0x04  # error if no file matches even with a wildcard
INCLUDE_B = 0x08  # every brace alternative must match

# Guards keepalived does not have (it loops or recurses until it dies).
MAX_INCLUDE_DEPTH = 32
MAX_SEQ_LINES = 100_000  # lines one ~SEQ / ~LST may produce
MAX_GENERATED_LINES = 200_000  # lines ~SEQ and multi-line values may produce in all
MAX_MULTILINE_DEPTH = 32
_VARIANTS = {
    "": 0,
    "r": INCLUDE_R,
    "m": INCLUDE_R | INCLUDE_M,
    "w": INCLUDE_R | INCLUDE_M | INCLUDE_W,
    "b": INCLUDE_R | INCLUDE_B,
    "a": INCLUDE_R | INCLUDE_M | INCLUDE_B | INCLUDE_W,
}


@dataclass(frozen=True, slots=True)
class Line:
    file: str
    line: int
    text: str


@dataclass
class _Open:
    path: str
    text: str
    pos: int = 0
    line_no: int = 0


@dataclass
class _Frame:
    """One include (or the main file): its matches and the one being read."""

    pattern: str
    include_type: int
    saved_include_check: int
    base: str  # directory relative names were resolved against
    matches: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)  # the names keepalived prints
    next: int = 0
    num_matches: int = 0
    current: _Open | None = None


class LineSource:
    def __init__(
        self,
        reader: ConfigReader,
        reporter: Reporter,
        builtins: Builtins,
        *,
        cwd: str = "/",
    ) -> None:
        self.reader = reader
        self.reporter = reporter
        self.cwd = cwd
        self.config_id = builtins.config_id
        builtins.cwd = self._pwd
        self.defs = Definitions(builtins, lambda level, msg: self._report(level, msg, "$"))
        self.stack: list[_Frame] = []
        self.include_check = 0
        self.block_depth = 0
        self.files_read: list[str] = []
        self._residue: str | None = None
        self._seqs: list[Seq] = []
        self._multiline_stack: list[tuple[str, int]] = []
        self._multiline_seq_depth = 0
        self._next: str | None = None
        self._def: Definition | None = None
        self._def_continues = False
        self._peeked: list[Line | None] = []
        self._generated = 0
        self._last = ("", 0)

    # -- position -----------------------------------------------------------------

    def _pwd(self) -> str:
        for frame in reversed(self.stack):
            if frame.current is not None:
                return posixpath.dirname(frame.current.path)
        return self.cwd

    def position(self) -> tuple[str, int]:
        """File and line of the raw line read last (for reports)."""
        for frame in reversed(self.stack):
            if frame.current is not None:
                return frame.current.path, frame.current.line_no
        return self._last

    def _report(self, level: Level, message: str, keyword: str = "") -> None:
        file, line = self.position()
        self.reporter.report(level, message, file=file, line=line, keyword=keyword)

    # -- files ----------------------------------------------------------------------

    def open_main(self, path: str) -> bool:
        """Open the main configuration (``include`` checks r, m and w)."""
        return self._open_glob(path, INCLUDE_R | INCLUDE_M | INCLUDE_W, self.cwd)

    def _file_error(self, error_type: int, message: str, frame: _Frame) -> None:
        """``file_config_error``: an error only if the check applies."""
        applies = (self.include_check | frame.include_type) & error_type
        level = Level.FILE_NOT_FOUND if applies else Level.OK
        file, line = self._including_position()
        self.reporter.report(level, message, file=file, line=line, keyword="include")

    def _including_position(self) -> tuple[str, int]:
        for frame in reversed(self.stack):
            if frame.current is not None:
                return frame.current.path, frame.current.line_no
        return self._last

    def _open_glob(self, pattern: str, include_type: int, base: str) -> bool:
        frame = _Frame(pattern, include_type, self.include_check, base)
        found = glob_include(self.reader, pattern, base)
        checks = self.include_check | include_type
        if not found.matches:
            if found.missing:
                kind = INCLUDE_B if has_brace(pattern) else INCLUDE_M
                self._file_error(kind, f"Config files missing '{pattern}'.", frame)
            elif found.have_wildcards and checks & INCLUDE_W:
                self._file_error(INCLUDE_W, f"No config files matched '{pattern}'.", frame)
            return False
        if found.missing:
            self._file_error(INCLUDE_B, f'Some config files missing: "{pattern}".', frame)
            if checks & INCLUDE_B:
                return False
        frame.matches = found.matches
        frame.shown = found.shown
        if not self._open_next(frame):
            return False
        self.stack.append(frame)
        return True

    def _open_next(self, frame: _Frame) -> bool:
        while frame.next < len(frame.matches):
            path = frame.matches[frame.next]
            shown = frame.shown[frame.next]
            frame.next += 1
            if path.endswith("/"):
                self._file_error(
                    INCLUDE_R, f"Configuration file '{shown}' is a directory - skipping", frame
                )
                continue
            info = self.reader.stat(path)
            if info is None or not info.is_regular or info.executable:
                self._file_error(
                    INCLUDE_R,
                    f"Configuration file '{shown}' is not a regular non-executable file - skipping",
                    frame,
                )
                continue
            try:
                text = self.reader.read_text(path)
            except OSError as e:
                self._file_error(
                    INCLUDE_R,
                    f"Configuration file '{shown}' open problem ({e.strerror or e}) - skipping",
                    frame,
                )
                continue
            frame.current = _Open(path, text)
            frame.num_matches += 1
            self.files_read.append(path)
            return True
        frame.current = None
        return False

    def _end_file(self) -> None:
        frame = self.stack[-1]
        if frame.current is not None:
            self._last = (frame.current.path, frame.current.line_no)
        self.include_check = frame.saved_include_check
        if self._open_next(frame):
            return
        if not frame.num_matches:
            self._report(Level.LOG, f"No config files matched '{frame.pattern}'.", "include")
        self.stack.pop()

    def _fgets(self) -> str | None:
        """The next raw line of the current file, ``None`` at the end of all files."""
        while self.stack:
            cur = self.stack[-1].current
            if cur is None or cur.pos >= len(cur.text):
                self._end_file()
                continue
            end = cur.text.find("\n", cur.pos, cur.pos + MAXBUF - 1)
            if end >= 0:
                chunk = cur.text[cur.pos : end + 1]
            else:
                chunk = cur.text[cur.pos : cur.pos + MAXBUF - 1]
            cur.pos += len(chunk)
            at_eof = cur.pos >= len(cur.text)
            nul = chunk.find("\0")
            text = chunk if nul < 0 else chunk[:nul]
            if text.endswith("\n"):
                cur.line_no += 1
            elif len(text) == MAXBUF - 1:
                cur.line_no += 1
                self._report(Level.GENERAL_ERROR, "line too long - ignoring", "-")
                text = ""
            elif not at_eof:
                cur.line_no += 1
                self._report(
                    Level.GENERAL_ERROR,
                    "configuration appears to have embedded NULs - ignoring line",
                    "-",
                )
                text = ""
            # A last line without a newline keeps the previous line number
            # (keepalived counts lines by their "\n").
            return text.rstrip("\r\n")
        return None

    # -- logical lines ---------------------------------------------------------------

    def peek(self) -> Line | None:
        if not self._peeked:
            self._peeked.append(self._read())
        return self._peeked[0]

    def next(self) -> Line | None:
        if self._peeked:
            return self._peeked.pop(0)
        return self._read()

    def _read(self) -> Line | None:
        while True:
            buf = self._source_line()
            if buf is None:
                return None
            buf = self._process(buf)
            if not buf:
                continue
            inc = include_kind(buf)
            if inc is not None:
                variant, pattern = inc
                self._include(variant, pattern)
                continue
            break
        head, residue = split_brace(buf)
        self._residue = residue
        if head == "{":
            self.block_depth += 1
        elif head == "}":
            self.block_depth -= 1
            if self.block_depth < 0:
                self._report(Level.UNEXPECTED_EOB, "Extra '}' found", "}")
                self.block_depth = 0
        file, line = self.position()
        return Line(file, line, head)

    def _source_line(self) -> str | None:
        """Next text: residue, ~SEQ repetition, multi-line value, or file line."""
        while True:
            if (self._seqs or self._next is not None) and self._residue is None:
                self._generated += 1
                if self._generated > MAX_GENERATED_LINES:
                    self._report(
                        Level.GENERAL_ERROR,
                        f"pylvs: ~SEQ and definitions made more than {MAX_GENERATED_LINES} "
                        "lines - stopping them",
                        "~SEQ",
                    )
                    self._seqs.clear()
                    self._next = None
                    self._multiline_stack.clear()
                    self._multiline_seq_depth = 0
            if self._residue is not None:
                buf, self._residue = self._residue, None
            elif self._seqs and len(self._seqs) > self._multiline_seq_depth:
                seq = self._seqs[-1]
                buf, done = seq.emit(self.defs)
                seq.emitted += 1
                if seq.emitted >= MAX_SEQ_LINES and not done:
                    self._report(
                        Level.GENERAL_ERROR,
                        f"pylvs: ~SEQ/~LST repeated {MAX_SEQ_LINES} times - stopping",
                        "~SEQ",
                    )
                    done = True
                if done:
                    self._seqs.pop()
            elif self._next is not None:
                nl = self._next.find("\n")
                if nl < 0:
                    buf = self._next
                    if self._multiline_stack:
                        self._next, self._multiline_seq_depth = self._multiline_stack.pop()
                    else:
                        self._next = None
                        self._multiline_seq_depth = 0
                else:
                    buf, self._next = self._next[:nl], self._next[nl + 1 :]
            else:
                raw = self._file_line()
                if raw is None:
                    return None
                buf = raw
            if self._def_continues:
                self._continue_definition(buf)
                continue
            if buf:
                return buf

    def _file_line(self) -> str | None:
        while True:
            raw = self._fgets()
            if raw is None:
                return None
            if not raw:
                if self._def_continues and self._def is not None:
                    # A blank line ends a multi-line definition.
                    self._def_continues = False
                    if not self._def.value:
                        self._def.multiline = False
                continue
            dec = decomment(raw)
            if dec.unterminated_quote:
                self._report(
                    Level.GENERAL_ERROR, f"Unterminated quote '{dec.text}'", _first_word(dec.text)
                )
            if dec.text:
                return dec.text

    def _continue_definition(self, buf: str) -> None:
        d = self._def
        assert d is not None
        if buf.endswith("\\"):
            buf = buf[:-1].rstrip(" \t") + "\n"
        else:
            self._def_continues = False
            if not d.value:
                d.multiline = False
        if len(buf) >= 2 or (buf and not self._def_continues):
            d.value = (d.value or "") + buf

    def _process(self, buf: str) -> str:
        """Conditionals, definitions, ~SEQ/~LST and parameter expansion, once."""
        if buf.startswith("@"):
            rev = buf.startswith("@^")
            ofs = 2 if rev else 1
            sp = _find_blank(buf, ofs)
            if sp < 0:
                return ""
            if (buf[ofs:sp] == self.config_id) == rev:
                return ""
            buf = buf[sp:].lstrip(" \t")
        if buf.startswith("$"):
            d = self.defs.check_definition(buf)
            if d is not None:
                self._def = d
                self._def_continues = d.multiline
                return ""
        if buf.startswith(("~SEQ", "~LST")):
            err = self._report_error
            if buf[1] == "S":
                seq = parse_seq(buf, self.defs, err, self._expand_numbers)
                if seq is None:
                    err(f"Invalid ~SEQ specification '{buf}'")
            else:
                seq = parse_lst(buf, err)
                if seq is None:
                    err(f"Invalid ~LST specification '{buf}'")
            if seq is not None:
                self._seqs.append(seq)
            return ""
        if buf.startswith("~"):
            return buf
        if "$" in buf:
            rep = replace_params(
                self.defs, buf, self._next, self._push_multiline, self._enter_multiline
            )
            self._next = rep.multiline_next
            if not rep.changed:
                return rep.text
            dec = decomment(rep.text)
            if dec.unterminated_quote:
                self._report(
                    Level.GENERAL_ERROR, f"Unterminated quote '{dec.text}'", _first_word(dec.text)
                )
            buf = dec.text
        return buf

    def _report_error(self, message: str) -> None:
        self._report(Level.GENERAL_ERROR, message, "~SEQ")

    def _push_multiline(self, rest: str) -> None:
        if len(self._multiline_stack) >= MAX_MULTILINE_DEPTH:
            # A definition that expands to itself: drop the rest of the outer one.
            self._report(
                Level.GENERAL_ERROR,
                f"pylvs: multi-line definitions nested more than {MAX_MULTILINE_DEPTH} deep",
                "$",
            )
            self._multiline_stack.clear()
            return
        self._multiline_stack.append((rest, self._multiline_seq_depth))

    def _enter_multiline(self) -> None:
        self._multiline_seq_depth = len(self._seqs)

    def _expand_numbers(self, text: str) -> tuple[str, bool]:
        pushed: list[str] = []
        rep = replace_params(self.defs, text, None, pushed.append, lambda: None)
        return rep.text, rep.multiline_next is not None

    def _include(self, variant: str, pattern: str) -> None:
        if len(self.stack) >= MAX_INCLUDE_DEPTH:
            self._report(
                Level.GENERAL_ERROR,
                f"pylvs: includes nested more than {MAX_INCLUDE_DEPTH} deep - skipping '{pattern}'",
                "include",
            )
            return
        base = self._pwd()
        self._open_glob(pattern, _VARIANTS[variant], base)

    def include_check_set(self, words: list[str]) -> None:
        """The ``include_check`` keyword of global_defs (``include_check_set``)."""
        names = {"read": INCLUDE_R, "match": INCLUDE_M, "wildcard_match": INCLUDE_W}
        names["brace_match"] = INCLUDE_B
        if len(words) <= 1:
            self.include_check = INCLUDE_R | INCLUDE_M | INCLUDE_W | INCLUDE_B
            return
        for i, word in enumerate(words[1:], start=1):
            mode = 0
            name = word
            if word.startswith("-"):
                mode, name = -1, word[1:]
            elif word.startswith("+"):
                mode, name = 1, word[1:]
            elif i == 1:
                self.include_check = 0
            else:
                self.reporter.error(f"Duplicate include_check '{word}' specified - ignoring")
                continue
            flag = names.get(name, 0)
            if not flag:
                self.reporter.error(f"Unknown include_check type '{name}' - ignoring")
                continue
            if mode == 0:
                self.include_check = INCLUDE_R | flag
            elif mode == 1:
                self.include_check |= flag
            else:
                self.include_check &= ~flag

    def finish(self) -> None:
        """End of input: report unclosed blocks (at the last line read)."""
        if self.block_depth > 0:
            file, line = self._last
            self.reporter.report(
                Level.MISSING_EOB,
                f"There are {self.block_depth} missing '}}'s or extra '{{'s",
                file=file,
                line=line,
                keyword="}",
            )


def _first_word(text: str) -> str:
    return text.split(None, 1)[0] if text.split() else "-"


def _find_blank(s: str, start: int) -> int:
    for i in range(start, len(s)):
        if s[i] in " \t":
            return i
    return -1
