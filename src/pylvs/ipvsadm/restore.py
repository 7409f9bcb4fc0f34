"""``ipvsadm -R``: restore input split into per-line argv lists, and which
line results end a restore (reference §3.2).

ipvsadm reads a line at a time: tokens are separated by spaces, tabs and
carriage returns, a newline ends the line, there is no quoting and ``#``
is no comment; every token ``ipvsadm`` is dropped and lines left empty
are skipped. Each line then runs as its own invocation, so a line whose
failure makes ipvsadm *exit* (its own checks, ``-h``, listing errors) ends
the restore there, while one whose failure is *returned* (kernel errors,
popt errors) lets it carry on; the exit status is that of the last line
run.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator

from pylvs.core.errors import IpvsError, PylvsError
from pylvs.ipvsadm.argv import PoptError
from pylvs.ipvsadm.frozen import FrozenValue, init_field

__all__ = [
    "HELP_OR_VERSION",
    "MAX_TOKEN",
    "SUCCESS",
    "LineOutcome",
    "iter_restore_lines",
    "outcome_of_error",
    "restore_exit_status",
    "restore_script_input",
    "split_restore_input",
]

# fscanf reads tokens of at most this many characters (config_stream.h).
MAX_TOKEN = 4096
_SEPARATORS = " \t\r"
# What str.split() would split at and ipvsadm not: the ASCII whitespace but
# space, tab, CR and newline (non-ASCII text is never split so: see
# _plain); and what needs more than splitting: NUL, and "ipvsadm" words.
_NOT_PLAIN_TEXT = ("\v", "\f", "\x1c", "\x1d", "\x1e", "\x1f", "\0", "ipvsadm")
# Within one line, a newline is no separator either.
_NOT_PLAIN_LINE = ("\n", *_NOT_PLAIN_TEXT)


def _tokens_exact(body: str) -> list[str]:
    """The tokens of one line, character by character (any text)."""
    words: list[str] = []
    start: int | None = None
    for i, ch in enumerate(body):
        if ch in _SEPARATORS:
            if start is not None:
                words.append(body[start:i])
                start = None
        elif start is None:
            start = i
    if start is not None:
        words.append(body[start:])
    out: list[str] = []
    for word in words:
        # A longer token comes out of fscanf in pieces (not modelled
        # further: ipvsadm then reads stale stack data).
        for piece in (word[i : i + MAX_TOKEN] for i in range(0, len(word), MAX_TOKEN)):
            piece = piece.split("\0", 1)[0]  # a C string ends at NUL
            if piece != "ipvsadm":
                out.append(piece)
    return out


def _plain(text: str, odd: tuple[str, ...]) -> bool:
    """Whether ``str.split()`` splits ``text`` (its lines, if ``odd`` lets
    newlines through) as ipvsadm tokenizes, tokens of up to MAX_TOKEN
    characters aside: ASCII, and none of ``odd`` in it."""
    return text.isascii() and all(word not in text for word in odd)


def _tokens(body: str) -> list[str]:
    """The tokens of one line (no newline at its end)."""
    if len(body) <= MAX_TOKEN and body.isascii():
        # No control character at all (the usual line), or none but tab
        # and CR.
        if body.isprintable() and "ipvsadm" not in body:
            return body.split()
        if _plain(body, _NOT_PLAIN_LINE):
            return body.split()
    return _tokens_exact(body)


def _drops_unterminated(body: str) -> bool:
    """An unterminated last line is lost when two or more separators follow
    its last token: the scanner takes one with the token, then meets end of
    input while skipping the rest and discards the line."""
    stripped = body.rstrip(_SEPARATORS)
    return bool(stripped) and len(body) - len(stripped) >= 2


def iter_restore_lines(lines: Iterable[str]) -> Iterator[list[str]]:
    """The argv tail (no argv[0]) of each line ipvsadm runs, lazily.

    ``lines`` are physical lines, each ending in ``"\\n"`` except perhaps the
    last (a text file object iterates so).
    """
    for line in lines:
        if line.endswith("\n"):
            body = line[:-1]
        elif _drops_unterminated(line):
            return
        else:
            body = line
        # _tokens, its usual case first.
        if body.isprintable() and body.isascii() and len(body) <= MAX_TOKEN:
            argv = body.split() if "ipvsadm" not in body else _tokens_exact(body)
        else:
            argv = _tokens(body)
        if argv:
            yield argv


def split_restore_input(text: str) -> list[list[str]]:
    """All argv tails of a complete restore input."""
    lines = text.split("\n")
    last = lines.pop()  # after the last newline: an unterminated line, or ""
    # A hundred thousand new lists, none in a cycle: the cyclic garbage
    # collector would only walk them again and again meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if _plain(text, _NOT_PLAIN_TEXT) and max(map(len, lines), default=0) <= MAX_TOKEN:
            out = [argv for argv in map(str.split, lines) if argv]
        else:
            out = [argv for argv in map(_tokens, lines) if argv]
    finally:
        if collecting:
            gc.enable()
    if last and not _drops_unterminated(last):
        argv = _tokens(last)
        if argv:
            out.append(argv)
    return out


class LineOutcome(FrozenValue):
    """How one restore line ended (a frozen dataclass, written out).

    ``status`` is the exit status its own run would give; ``ends_restore``
    is true when ipvsadm exits on it (so the restore stops there).
    """

    __slots__ = ("ends_restore", "status")
    __match_args__ = ("status", "ends_restore")

    status: int
    ends_restore: bool

    def __init__(self, status: int, ends_restore: bool) -> None:
        init_field(self, "status", status)
        init_field(self, "ends_restore", ends_restore)

    def _fields(self) -> tuple[int, bool]:
        return (self.status, self.ends_restore)


SUCCESS = LineOutcome(0, False)
# -h and -v print and exit 0 even inside a restore.
HELP_OR_VERSION = LineOutcome(0, True)


def outcome_of_error(err: PylvsError) -> LineOutcome:
    """The outcome of a line that raised ``err``.

    Popt errors and kernel errors of table commands (exit 255) are returned
    by ipvsadm; every other failure (its checks, exit 2; the ``Try`` hint,
    255; a listing that cannot read the table, exit 1) exits it.
    """
    if isinstance(err, PoptError):
        return LineOutcome(err.exit_status, False)
    if isinstance(err, IpvsError) and err.exit_status == 255:
        return LineOutcome(255, False)
    return LineOutcome(err.exit_status, True)


def restore_exit_status(outcomes: Iterable[LineOutcome]) -> int:
    """The exit status of a restore: consumes ``outcomes`` up to the first
    that ends it (pass a generator to stop running lines there)."""
    status = 0
    for outcome in outcomes:
        status = outcome.status
        if outcome.ends_restore:
            break
    return status


def restore_script_input(text: str) -> str:
    """What the ``ipvsadm-restore`` script pipes into ``ipvsadm -R``.

    ``INPUT="$(grep -v '^#')"`` drops lines starting with ``#`` and the
    command substitution drops trailing newlines; ``echo "$INPUT"`` adds one.
    Bash also drops NUL bytes from a command substitution. (The script
    flushes the table with ``ipvsadm -C`` first. Input that GNU grep takes
    for binary is not modelled.)
    """
    lines = text.replace("\0", "").split("\n")
    if lines[-1] == "":
        lines.pop()  # the text after the final newline is no line
    kept = [line for line in lines if not line.startswith("#")]
    return "\n".join(kept).rstrip("\n") + "\n"
