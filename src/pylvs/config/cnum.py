"""C library number conversions as keepalived relies on them: ``strtol`` /
``strtoul`` / ``strtoull`` on 64-bit Linux (leading space skipped, optional
sign, ``endptr`` at the first unused character, wrap-around of negative
values for the unsigned variants, ``ERANGE`` on overflow)."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["LONG_MAX", "LONG_MIN", "ULONG_MAX", "Conv", "strtol", "strtoul"]

LONG_MAX = (1 << 63) - 1
LONG_MIN = -(1 << 63)
ULONG_MAX = (1 << 64) - 1
_SPACE = " \t\n\v\f\r"


class Conv(NamedTuple):
    value: int
    end: int  # index of the first character not used
    erange: bool


def _digits(text: str, pos: int, base: int) -> tuple[int, int, int]:
    """Parse digits from ``pos``; returns (magnitude, end, base actually used)."""
    if base == 0:
        if text.startswith(("0x", "0X"), pos) and _digit_value(text, pos + 2, 16) >= 0:
            base, pos = 16, pos + 2
        elif text.startswith("0", pos):
            base = 8
        else:
            base = 10
    elif base == 16 and text.startswith(("0x", "0X"), pos) and _digit_value(text, pos + 2, 16) >= 0:
        pos += 2
    value = 0
    start = pos
    while pos < len(text):
        d = _digit_value(text, pos, base)
        if d < 0:
            break
        value = value * base + d
        pos += 1
    return value, pos, (base if pos > start else -1)


def _digit_value(text: str, pos: int, base: int) -> int:
    if pos >= len(text):
        return -1
    c = text[pos]
    if "0" <= c <= "9":
        d = ord(c) - 48
    elif "a" <= c.lower() <= "z":
        d = ord(c.lower()) - 87
    else:
        return -1
    return d if d < base else -1


def _prefix(text: str, base: int) -> tuple[int, int, bool, int]:
    pos = 0
    while pos < len(text) and text[pos] in _SPACE:
        pos += 1
    neg = False
    if pos < len(text) and text[pos] in "+-":
        neg = text[pos] == "-"
        pos += 1
    mag, end, used = _digits(text, pos, base)
    return mag, end, neg, used


def strtol(text: str, base: int = 10) -> Conv:
    mag, end, neg, used = _prefix(text, base)
    if used < 0:
        return Conv(0, 0, False)
    value = -mag if neg else mag
    if value > LONG_MAX:
        return Conv(LONG_MAX, end, True)
    if value < LONG_MIN:
        return Conv(LONG_MIN, end, True)
    return Conv(value, end, False)


def strtoul(text: str, base: int = 10) -> Conv:
    """``strtoul``/``strtoull`` (both 64-bit here)."""
    mag, end, neg, used = _prefix(text, base)
    if used < 0:
        return Conv(0, 0, False)
    if mag > ULONG_MAX:
        return Conv(ULONG_MAX, end, True)
    return Conv((-mag) & ULONG_MAX if neg else mag, end, False)
