"""Line-level lexing exactly as lib/parser.c does it: comment stripping
(``decomment``), splitting a line at its first brace, splitting a line into
words (``alloc_strvec``) and the script re-parse with quotes and C escapes
(``alloc_strvec_quoted[_escaped]``)."""

from __future__ import annotations

from typing import NamedTuple

__all__ = [
    "WHITE_SPACE",
    "Decommented",
    "Words",
    "decomment",
    "include_kind",
    "split_brace",
    "split_script_words",
    "split_words",
]

WHITE_SPACE = " \t\f\n\r\v"
_BLANK = " \t"


class Decommented(NamedTuple):
    text: str
    continued: bool  # ended with an unquoted "\" (kept as the last character)
    unterminated_quote: bool


def decomment(line: str) -> Decommented:
    """Strip leading blanks, an unquoted ``#``/``!`` comment and trailing
    blanks; ``\\#`` and ``\\!`` outside quotes stand for the plain character."""
    s = line.lstrip(_BLANK)
    out: list[str] = []
    quote = False
    cont = False
    i = 0
    while i < len(s):
        c = s[i]
        if c == '"':
            quote = not quote
        elif c == "\\":
            if i + 1 < len(s):
                nxt = s[i + 1]
                if not quote and nxt in "#!":
                    out.append(nxt)
                else:
                    out.append(c + nxt)
                i += 2
                continue
            cont = True
            break
        elif not quote and c in "!#":
            break
        out.append(c)
        i += 1
    text = "".join(out).rstrip(_BLANK)
    if cont:
        text += "\\"
    return Decommented(text, cont, quote)


def split_brace(text: str) -> tuple[str, str | None]:
    """Split a line at its first ``{`` or ``}`` outside double quotes.

    A brace at the start becomes a line of its own (the rest, blanks skipped,
    is the residue); a brace later on ends the line before it and starts the
    residue. Returns (line, residue or None)."""
    if not text:
        return text, None
    pos = 0
    if text[0] not in "{}":
        pos = -1
        i = 0
        while True:
            j = _find_any(text, i, '{}"')
            if j < 0:
                break
            if text[j] != '"':
                pos = j
                break
            close = text.find('"', j + 1)
            if close < 0:
                break
            i = close + 1
    if pos < 0:
        return text.rstrip(_BLANK), None
    skip = 0
    if pos == 0:
        skip = 1
        while skip < len(text) and text[skip] in _BLANK:
            skip += 1
    residue: str | None = None
    if pos + skip < len(text):
        residue = text[pos + skip :].rstrip(_BLANK)
    head = text[: pos + skip].rstrip(_BLANK)
    return head, residue


def _find_any(text: str, start: int, chars: str) -> int:
    for i in range(start, len(text)):
        if text[i] in chars:
            return i
    return -1


class Words(NamedTuple):
    words: list[str]
    unmatched_quote: bool  # an opening '"' had no closing one (the rest is lost)


def split_words(text: str) -> Words:
    """``alloc_strvec``: whitespace separated words; a word *starting* with a
    double quote runs to the next double quote (no escapes) and loses them."""
    words: list[str] = []
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in WHITE_SPACE:
            i += 1
        if i >= n:
            break
        if text[i] == '"':
            close = text.find('"', i + 1)
            if close < 0:
                return Words(words, True)
            words.append(text[i + 1 : close])
            i = close + 1
            continue
        j = i
        while j < n and text[j] not in WHITE_SPACE and text[j] != '"':
            j += 1
        words.append(text[i:j])
        i = j
    return Words(words, False)


class ScriptWords(NamedTuple):
    words: list[str] | None  # None on error
    error: str | None  # keepalived's message
    unmatched: bool  # the error is an unmatched quote (a config error, not a log line)


def split_script_words(text: str, escapes: bool) -> ScriptWords:
    """``alloc_strvec_quoted[_escaped]``: words grouped by ``"..."`` or
    ``'...'`` anywhere in a word; backslash escapes (C-like when ``escapes``,
    otherwise kept verbatim with the next character)."""
    words: list[str] = []
    i, n = 0, len(text)
    while i < n:
        while i < n and text[i] in WHITE_SPACE:
            i += 1
        if i >= n:
            break
        out: list[str] = []
        quote = ""
        while i < n:
            c = text[i]
            if c == "\\":
                i += 1
                if i >= n:
                    return ScriptWords(None, f"Missing escape char at end: '{text}'", False)
                if escapes:
                    ch, i = _escape(text, i)
                    out.append(ch)
                else:
                    out.append("\\" + text[i])
                    i += 1
                continue
            if quote:
                if c == quote:
                    quote = ""
                else:
                    out.append(c)
                i += 1
                continue
            if c in "\"'":
                quote = c
                i += 1
                continue
            if c in WHITE_SPACE:
                break
            out.append(c)
            i += 1
        if quote:
            return ScriptWords(None, f"String '{text}': missing terminating {quote}", True)
        words.append("".join(out))
    return ScriptWords(words or None, None, False)


_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r"}
_SIMPLE_ESCAPES |= {"t": "\t", "v": "\v"}


def _escape(text: str, i: int) -> tuple[str, int]:
    """Decode the escape whose character is at ``text[i]``; returns (char, next i)."""
    c = text[i]
    hexd = "0123456789abcdefABCDEF"
    if c == "x" and i + 1 < len(text) and text[i + 1] in hexd:
        i += 1
        val = 0
        for _ in range(2):
            if i < len(text) and text[i] in hexd:
                val = (val << 4) | int(text[i], 16)
                i += 1
        return chr(val), i
    if c == "c" and i + 1 < len(text):
        return chr(ord(text[i + 1]) & 0x1F), i + 2
    if "0" <= c <= "7":
        val = ord(c) - 48
        i += 1
        for _ in range(2):
            if i < len(text) and "0" <= text[i] <= "7":
                val = (val << 3) + ord(text[i]) - 48
                i += 1
        return chr(val & 0xFF), i
    return _SIMPLE_ESCAPES.get(c, c), i + 1


def include_kind(text: str) -> tuple[str, str] | None:
    """``include[rmwba] PATTERN`` → (variant letter or "", pattern)."""
    if not text.startswith("include") or len(text) <= 7:
        return None
    if text[7].isspace():
        return "", text[8:].lstrip(_BLANK)
    if len(text) > 8 and text[8].isspace() and text[7] in "rmwba":
        return text[7], text[9:].lstrip(_BLANK)
    return None
