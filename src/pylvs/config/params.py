"""Parameters: ``$NAME=value`` definitions (multi-line with ``\\``), their
expansion as ``$NAME`` / ``${NAME}`` / ``${NAME params}``, the built-in
definitions and the ``~SEQ`` / ``~LST`` line generators (lib/parser.c
``check_definition``, ``find_definition``, ``replace_param``, ``add_seq``,
``add_lst``).

Environment, randomness and the config id are injected (``Builtins``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from random import Random

from pylvs.config.cnum import strtol, strtoul
from pylvs.config.diagnostics import Level

__all__ = ["MAXBUF", "Builtins", "Definition", "Definitions", "Seq", "parse_lst", "parse_seq"]

MAXBUF = 1024  # keepalived's maximum line length, also after substitution
DEF_LINE_END = "\n"


@dataclass
class Builtins:
    config_id: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    rng: Random = field(default_factory=Random)
    cwd: Callable[[], str] = lambda: "/"


@dataclass
class Definition:
    name: str
    value: str | None
    multiline: bool = False
    fn: Callable[[Definition], str | None] | None = None
    min_params: int = 0
    max_params: int = 0
    numbers_only: bool = False
    params: str | None = None  # the parameter text of the current use


def _is_name_start(c: str) -> bool:
    return c.isascii() and (c.isalpha() or c == "_")


def _is_name_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


class Definitions:
    """All definitions, in keepalived's search order (built-ins first)."""

    def __init__(self, builtins: Builtins, report: Callable[[Level, str], None]) -> None:
        self.defs: list[Definition] = []
        self.report = report
        self.builtins = builtins
        self.defs.append(Definition("_PWD", None, fn=lambda d: builtins.cwd()))
        self.defs.append(Definition("_INSTANCE", None, fn=lambda d: builtins.config_id or ""))
        self.defs.append(
            Definition("_RANDOM", None, fn=self._random, max_params=2, numbers_only=True)
        )
        self.defs.append(Definition("_ENV", None, fn=self._env, min_params=1, max_params=1))
        self.defs.append(Definition("_HASH", "#"))
        self.defs.append(Definition("_BANG", "!"))

    def _random(self, d: Definition) -> str:
        lo, hi = 0, 32767
        if d.params:
            conv = strtoul(d.params)
            lo = conv.value
            rest = d.params[conv.end :]
            if rest.strip():
                hi = strtoul(rest).value
        if lo > hi:
            self.report(Level.GENERAL_ERROR, f"${{_RANDOM}}: min {lo} exceeds max {hi}, using {lo}")
            hi = lo
        return str(self.builtins.rng.randint(lo, hi))

    def _env(self, d: Definition) -> str | None:
        # keepalived dereferences a NULL parameter here (``${_ENV}``); we expand to nothing.
        return self.builtins.env.get(d.params) if d.params else None

    # -- lookup -----------------------------------------------------------------

    def find(
        self, text: str, length: int = 0, definition: bool = False
    ) -> tuple[Definition, int] | None:
        """Find the definition named at the start of ``text`` (just after a
        ``$``). Returns it and the length of the reference after the ``$``."""
        braces = not definition and text.startswith("{")
        name = text[1:] if braces else text
        if not name or not _is_name_start(name[0]):
            return None
        param_start = param_end = -1
        numbers_only = True
        num_params = 0
        if not length:
            length = 1
            while length < len(name) and _is_name_char(name[length]):
                length += 1
            p = length
            if braces:
                in_param = False
                while p < len(name) and (name[p] in " \t" or _is_name_char(name[p])):
                    if name[p] not in " \t":
                        if param_start < 0:
                            param_start = p
                        param_end = p
                        if not name[p].isdigit():
                            numbers_only = False
                        if not in_param:
                            in_param = True
                            num_params += 1
                    else:
                        in_param = False
                    p += 1
                if param_start >= 0 and param_end + 1 != p:
                    return None
                if p >= len(name) or name[p] != "}":
                    return None
            elif not definition and p < len(name) and name[p] not in " \t,)":
                return None
        at_end = (not braces and len(name) == length) or (braces and len(name) == length + 1)
        allow_multiline = definition or at_end
        key = name[:length]
        for d in self.defs:
            if d.name != key or (d.multiline and not allow_multiline):
                continue
            if param_start >= 0:
                if not d.max_params:
                    return None
                if d.numbers_only and not numbers_only:
                    self.report(
                        Level.GENERAL_ERROR,
                        f"Definition {d.name} requires numeric parameters only.",
                    )
                    return None
                if not d.min_params <= num_params <= d.max_params:
                    self.report(
                        Level.GENERAL_ERROR,
                        f"Definition {d.name} requires between {d.min_params} and "
                        f"{d.max_params} parameters, {num_params} specified.",
                    )
                    return None
                d.params = name[param_start : param_end + 1]
                used = param_end + 1 + 1  # through the closing brace
                return d, used + 1
            d.params = None
            return d, length + (2 if braces else 0)
        return None

    def set(self, name: str, value: str) -> None:
        """``set_definition`` (used by ~SEQ / ~LST)."""
        found = self.find(name, len(name), definition=True)
        if found:
            d = found[0]
            d.fn = None
            d.value = value
        else:
            self.defs.append(Definition(name, value))

    def check_definition(self, buf: str) -> Definition | None:
        """A ``$NAME=value`` line: store it and return the definition."""
        if len(buf) < 2 or buf[0] != "$" or not _is_name_start(buf[1]):
            return None
        p = 2
        while p < len(buf) and buf[p] != "=":
            if not _is_name_char(buf[p]):
                return None
            p += 1
        if p >= len(buf):
            return None
        name = buf[1:p]
        found = self.find(name, len(name), definition=True)
        if found:
            d = found[0]
            d.fn = None
        else:
            d = Definition(name, None)
            self.defs.append(d)
        p += 1
        while p < len(buf) and buf[p] in " \t":
            p += 1
        value = buf[p:]
        if value.endswith("\\"):
            vlen = len(value)
            while vlen >= 2 and value[vlen - 2] in " \t":
                vlen -= 1
            if vlen < 2:
                value = ""
            else:
                value = value[: vlen - 1] + DEF_LINE_END
            d.multiline = True
        else:
            d.multiline = False
        d.value = value
        return d


@dataclass
class Replaced:
    text: str
    changed: bool
    multiline_next: str | None  # rest of a multi-line value still to be read


def replace_params(
    defs: Definitions,
    buf: str,
    multiline_next: str | None,
    push_multiline: Callable[[str], None],
    on_multiline: Callable[[], None],
) -> Replaced:
    """``replace_param``: expand every ``$`` reference, rescanning the result
    (so values can refer to other definitions); stops after a value that
    starts with ``~``. A multi-line value expands to its first line; the rest
    is returned for the reader to feed as further lines."""
    cur = 0
    found = False
    next_ptr = multiline_next
    while True:
        cur = buf.find("$", cur)
        if cur < 0 or cur + 1 >= len(buf):
            break
        hit = defs.find(buf[cur + 1 :])
        if hit is None:
            cur += 1
            continue
        d, ref_len = hit
        found = True
        next_ptr = multiline_next
        if d.multiline and multiline_next is not None:
            push_multiline(multiline_next)
        if d.multiline:
            on_multiline()
        if d.fn is not None:
            d.value = d.fn(d)
        value = d.value or ""
        if d.multiline:
            nl = value.find(DEF_LINE_END)
            first = value if nl < 0 else value[:nl]
            next_ptr = None if nl < 0 else value[nl + 1 :]
            multiline_next = next_ptr
        else:
            first = value
        if len(buf) + len(first) - (ref_len + 1) >= MAXBUF:
            defs.report(
                Level.LOG,
                f"Parameter substitution on line '{buf}' would exceed maximum line length",
            )
            return Replaced(buf, False, multiline_next)
        buf = buf[:cur] + first + buf[cur + 1 + ref_len :]
        if first and value.lstrip(" \t").startswith("~"):
            break
    return Replaced(buf, found, next_ptr if found else multiline_next)


@dataclass
class Seq:
    """A pending ``~SEQ`` or ``~LST``: the text line to repeat and the values."""

    text: str
    var: str = ""
    next: int = 0
    step: int = 1
    last: int = 0
    hex: bool = False
    lst_params: list[str] = field(default_factory=list)
    lst_values: list[list[str]] = field(default_factory=list)
    lst_next: int = 0
    emitted: int = 0

    def emit(self, defs: Definitions) -> tuple[str, bool]:
        """Set the variable(s) for the next repetition; returns (text, done)."""
        if not self.lst_params:
            val = f"{self.next:x}" if self.hex else str(self.next)
            defs.set(self.var, val)
            self.next += self.step
            done = (self.step > 0 and self.next > self.last) or (
                self.step < 0 and self.next < self.last
            )
            return self.text, done
        values = self.lst_values[self.lst_next]
        for name, val in zip(self.lst_params, values, strict=False):
            defs.set(name, val)
        self.lst_next += 1
        return self.text, self.lst_next >= len(self.lst_values)


def _skip_blanks(s: str, i: int) -> int:
    while i < len(s) and s[i] in " \t":
        i += 1
    return i


def parse_seq(
    buf: str,
    defs: Definitions,
    report: Callable[[str], None],
    expand: Callable[[str], tuple[str, bool]],
) -> Seq | None:
    """``add_seq``: ``~SEQ(var, [start,] [step,] end) text`` (``~SEQx``: hex).
    ``expand`` substitutes parameters in the numbers; returns (text, multiline)."""
    p = 4
    hexa = buf[p : p + 1] == "x"
    if hexa:
        p += 1
    p = _skip_blanks(buf, p)
    if buf[p : p + 1] != "(":
        return None
    p = _skip_blanks(buf, p + 1)
    var_start = p
    while p < len(buf) and buf[p] not in " \t,)":
        p += 1
    var = buf[var_start:p]
    p = _skip_blanks(buf, p)
    if p >= len(buf) or buf[p] == ")" or not var or var[0] == "{":
        report(f"Invalid ~SEQ definition '{buf}'")
        return None
    p = _skip_blanks(buf, p + 1)
    end_seq = buf.find(")", p)
    if end_seq < 0:
        report(f"~SEQ missing terminating ')' '{buf}'")
        return None
    numbers = buf[p : end_seq + 1]
    if len(numbers) + 1 > 3 * 20 + 3 + 1:
        report(f"~SEQ parameter strings too long '{buf}'")
        return None
    numbers, multiline = expand(numbers)
    if multiline:
        report(f"~SEQ parameter is multiline definition '{buf}'")
        return None
    vals: list[int] = []
    q = 0
    while True:
        conv = strtol(numbers[q:], 0)
        vals.append(conv.value)
        q = _skip_blanks(numbers, q + conv.end)
        if numbers[q : q + 1] == ")":
            break
        if numbers[q : q + 1] != "," or len(vals) == 3:
            report(f"Invalid ~SEQ definition '{buf}'")
            return None
        q += 1
    if len(vals) == 1:
        end = vals[0]
        step = -1 if end < 1 else 1
        start = -1 if end < 0 else 1
    elif len(vals) == 2:
        start, end = vals
        step = 1 if start <= end else -1
    else:
        start, step, end = vals
        if not step or (start < end and step < 0) or (start > end and step > 0):
            report(f"Invalid ~SEQ values '{buf}'")
            return None
    if hexa and (start < 0 or end < 0):
        report(f"~SEQx is only valid for positive numbers '{buf}'")
        return None
    text = buf[_skip_blanks(buf, end_seq + 1) :]
    return Seq(text=text, var=var, next=start, step=step, last=end, hex=hexa)


def parse_lst(buf: str, report: Callable[[str], None]) -> Seq | None:
    """``add_lst``: ``~LST(var, v1, v2 ...) text`` or
    ``~LST({a, b}, {1, 2}, {3, 4}) text``."""
    p = _skip_blanks(buf, 4)
    if buf[p : p + 1] != "(":
        return None
    end_char, p = _open_group(buf, _skip_blanks(buf, p + 1))
    params: list[str] = []
    while True:
        word, p = _word(buf, p, " \t,}")
        params.append(word)
        if buf[p : p + 1] == end_char:
            break
        if buf[p : p + 1] != ",":
            return None
        p = _skip_blanks(buf, p + 1)
    if buf[p : p + 1] == "}":
        p = _skip_blanks(buf, p + 1)
    if buf[p : p + 1] != ",":
        return None
    p = _skip_blanks(buf, p + 1)
    sets: list[list[str]] = []
    while True:
        end_char, p = _open_group(buf, p)
        values: list[str] = []
        while True:
            word, p = _word(buf, p, " \t,})")
            values.append(word)
            c = buf[p : p + 1]
            if c == end_char or (c == ")" and end_char == ","):
                break
            if c != ",":
                return None
            p = _skip_blanks(buf, p + 1)
            if len(values) > len(params) - 1:
                report(f"~LST specification has too many values '{buf}'")
                return None
        values += [""] * (len(params) - len(values))
        sets.append(values)
        if buf[p : p + 1] == "}" and end_char == "}":
            p = _skip_blanks(buf, p + 1)
        if buf[p : p + 1] == ")":
            break
        if buf[p : p + 1] != ",":
            return None
        p = _skip_blanks(buf, p + 1)
    text = buf[_skip_blanks(buf, p + 1) :]
    return Seq(text=text, lst_params=params, lst_values=sets)


def _open_group(buf: str, p: int) -> tuple[str, int]:
    """A ``{`` at ``p`` opens a group of words that ``}`` closes; without
    one the group is a single word that ``,`` ends.  Returns the closing
    character and where the first word starts."""
    if buf[p : p + 1] == "{":
        return "}", _skip_blanks(buf, p + 1)
    return ",", p


def _word(buf: str, p: int, stops: str) -> tuple[str, int]:
    """The word at ``p``, up to one of ``stops``, and where the next
    non-blank character after it is."""
    start = p
    while p < len(buf) and buf[p] not in stops:
        p += 1
    return buf[start:p], _skip_blanks(buf, p)
