"""keepalived's number readers (lib/parser.c ``read_int``, ``read_unsigned``,
``read_decimal_unsigned``, ``read_timer``, ``check_true_false``), with their
messages.

A quirk kept on purpose: with ``ignore_error`` and outside config-test mode a
malformed number that still parses to an in-range prefix (``"12abc"`` → 12,
``"3s"`` as a timer → 3 µs) is *accepted* after a ``WARNING - ...`` message;
in config-test mode (``-t``) it is rejected and the message has no prefix.
"""

from __future__ import annotations

from pylvs.config.cnum import ULONG_MAX, strtol, strtoul
from pylvs.config.diagnostics import Level, Reporter

__all__ = [
    "INT_MAX",
    "TIMER_HZ",
    "TIMER_MAXIMUM",
    "UINT_MAX",
    "Numbers",
    "check_true_false",
]

INT_MAX = (1 << 31) - 1
INT_MIN = -(1 << 31)
UINT_MAX = (1 << 32) - 1
TIMER_HZ = 1_000_000
TIMER_HZ_DIGITS = 6
TIMER_MAXIMUM = ULONG_MAX - 1
_BLANKS = " \t\f\n\r\v"


def check_true_false(text: str) -> bool | None:
    if text in ("true", "on", "yes"):
        return True
    if text in ("false", "off", "no"):
        return False
    return None


class Numbers:
    """Number readers bound to a reporter and to the config-test flag."""

    __slots__ = ("config_test", "reporter")

    def __init__(self, reporter: Reporter, config_test: bool) -> None:
        self.reporter = reporter
        self.config_test = config_test

    def _warn(self, ignore_error: bool) -> str:
        return "WARNING - " if ignore_error and not self.config_test else ""

    def _lenient(self, ignore_error: bool, ok_range: bool) -> bool:
        return ignore_error and ok_range and not self.config_test

    def _bad(self, message: str) -> None:
        self.reporter.report(Level.INVALID_NUMBER, message)

    def read_int(self, text: str, lo: int, hi: int, ignore_error: bool) -> int | None:
        warn = self._warn(ignore_error)
        conv = strtol(text)
        val = conv.value
        if conv.end < len(text):
            self._bad(f"{warn}invalid number '{text}'")
        elif conv.erange or val < INT_MIN or val > INT_MAX:
            self._bad(f"{warn}number '{text}' outside integer range")
        elif val < lo or val > hi:
            self._bad(f"number '{text}' outside range [{lo}, {hi}]")
        else:
            return val
        if self._lenient(ignore_error, lo <= val <= hi):
            return _as_int32(val)
        return None

    def read_unsigned(
        self, text: str, lo: int, hi: int, ignore_error: bool, *, limit: int = UINT_MAX
    ) -> int | None:
        """``read_unsigned`` (``limit`` = UINT_MAX) or ``read_unsigned64``."""
        warn = self._warn(ignore_error)
        offset = len(text) - len(text.lstrip(_BLANKS))
        conv = strtoul(text[offset:])
        val = conv.value
        rest = text[offset + conv.end :] if conv.end else text[offset:]
        if text[offset : offset + 1] == "-":
            self._bad(f"{warn}negative number '{text}'")
        elif rest:
            self._bad(f"{warn}invalid number '{text}'")
        elif conv.erange or val > limit:
            what = "unsigned integer" if limit == UINT_MAX else "unsigned 64 bit"
            self._bad(f"{warn}number '{text}' outside {what} range")
        elif val < lo or val > hi:
            if limit == UINT_MAX:
                self._bad(f"{warn}number '{text}' outside range [{lo}, {hi}]")
            else:
                self._bad(f"number '{text}' outside range [{lo}, {hi}]")
        else:
            return val
        if self._lenient(ignore_error, lo <= val <= hi):
            return val & limit
        return None

    def read_decimal(
        self, text: str, lo: int, hi: int, shift: int, ignore_error: bool
    ) -> int | None:
        """A decimal with up to ``shift`` places, returned times 10**shift."""
        warn = self._warn(ignore_error)
        if text.startswith("-"):
            self._bad(f"{warn}negative number '{text}'")
            return None
        dp = text.find(".")
        num_dp = len(text) - dp - 1 if dp >= 0 else 0
        round_up = False
        if num_dp > shift:
            self._bad(f"{warn}number '{text}' has too many decimal places")
            round_up = text[dp + shift + 1] >= "5"
            num_dp = shift
        if dp >= 0:
            digits = text[:dp] + text[dp + 1 : dp + 1 + num_dp]
        else:
            digits = text
        digits += "0" * (shift - num_dp)
        conv = strtoul(digits)
        val = conv.value + (1 if round_up else 0)
        valid = conv.end == len(digits) if conv.end else digits == ""
        if not valid:
            self._bad(f"{warn}invalid number '{text}'")
        elif conv.erange:
            self._bad(f"{warn}number '{text}' outside unsigned decimal range")
            return None
        elif val < lo or val > hi:
            unit = 10**shift
            self._bad(
                f"{warn}number '{text}' outside range "
                f"[{lo // unit}.{lo % unit:0{shift}d}, {hi // unit}.{hi % unit:0{shift}d}]"
            )
        else:
            return val
        if ignore_error and lo <= val <= hi:
            return val
        return None

    def read_timer(self, text: str, lo_us: int, hi_us: int, ignore_error: bool) -> float | None:
        """A time in seconds (fractions to the µs); ``hi_us`` 0 = no maximum."""
        us = self.read_decimal(text, lo_us, hi_us or TIMER_MAXIMUM, TIMER_HZ_DIGITS, ignore_error)
        return None if us is None else us / TIMER_HZ


def _as_int32(val: int) -> int:
    val &= 0xFFFFFFFF
    return val - (1 << 32) if val >= 1 << 31 else val
