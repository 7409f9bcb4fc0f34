"""keepalived's ``cmd_str`` (core/notify.c): a script's command line as log
lines show it.  Pure, imports nothing: the script runner and the
configuration reader both print commands this way."""

from __future__ import annotations

__all__ = ["cmd_str"]


def cmd_str(argv: tuple[str, ...] | list[str]) -> str:
    """Each word in single quotes (``'`` as ``'\\''``), except a leading
    ``<``/``>`` redirection word."""
    words = []
    for i, arg in enumerate(argv):
        if i == 0 and arg[:1] in ("<", ">"):
            words.append(arg)
        else:
            words.append("'" + arg.replace("'", "'\\''") + "'")
    return " ".join(words)
