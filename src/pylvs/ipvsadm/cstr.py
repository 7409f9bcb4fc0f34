"""C library number parsing and fixed-size buffers, as ipvsadm relies on them.

ipvsadm validates integers with ``strtol`` and friends and copies names into
fixed-size ``char`` arrays; these helpers give the same answers on Python
strings. Buffers are counted in bytes (UTF-8, with surrogate escapes for
undecodable argv bytes), as C counts them.
"""

from __future__ import annotations

__all__ = [
    "INT_MAX",
    "atoi",
    "cut_bytes",
    "strtol_whole",
    "to_int32",
    "to_uint32",
]

INT_MAX = 2**31 - 1
_LONG_MIN = -(2**63)
_LONG_MAX = 2**63 - 1
# isspace() in the C locale.
_C_SPACE = " \t\n\v\f\r"
_DIGITS = "0123456789"
# Any value past LONG_MIN..LONG_MAX (see _strtol_prefix).
_OUT_OF_RANGE = 10**19


def _strtol_prefix(s: str) -> tuple[int | None, int]:
    """``strtol(s, &end, 10)``: the value (None if no digits) and the end index.

    Out-of-range values saturate to LONG_MIN/LONG_MAX, as with ERANGE; the
    caller decides whether that matters. (Past 19 significant digits the
    value is only known to be out of range: it comes back as +-10**19, so
    Python's limit on long decimal strings is never met.)
    """
    i = 0
    n = len(s)
    while i < n and s[i] in _C_SPACE:
        i += 1
    sign = 1
    if i < n and s[i] in "+-":
        if s[i] == "-":
            sign = -1
        i += 1
    start = i
    while i < n and s[i] in _DIGITS:
        i += 1
    if i == start:
        return None, 0
    digits = s[start:i].lstrip("0")
    if len(digits) > 19:
        return sign * _OUT_OF_RANGE, i
    return sign * int(digits or "0"), i


def strtol_whole(s: str) -> int | None:
    """A base-10 ``strtol`` that must consume all of ``s`` without ERANGE.

    Leading C whitespace and a sign are accepted; trailing text is not.
    This is the test behind ipvsadm's ``string_to_number`` and
    ``parse_fwmark`` (reference §1.4).
    """
    # Plain ASCII digits (the usual case): short enough never to overflow.
    if s.isascii() and s.isdigit() and len(s) <= 18:
        return int(s)
    value, end = _strtol_prefix(s)
    if value is None or end != len(s):
        return None
    if not _LONG_MIN <= value <= _LONG_MAX:
        return None
    return value


def atoi(s: str) -> int:
    """glibc ``atoi``: ``(int) strtol(s, NULL, 10)`` with saturation, then truncation."""
    value, _ = _strtol_prefix(s)
    if value is None:
        return 0
    value = max(_LONG_MIN, min(_LONG_MAX, value))
    return to_int32(value)


def to_int32(v: int) -> int:
    """The C ``int`` a value wraps to."""
    v &= 0xFFFFFFFF
    return v - 2**32 if v >= 2**31 else v


def to_uint32(v: int) -> int:
    return v & 0xFFFFFFFF


def cut_bytes(s: str, limit: int) -> str:
    """``s`` cut to at most ``limit`` bytes, as a NUL written into a C buffer cuts it."""
    if s.isascii():  # one byte a character
        return s if len(s) <= limit else s[:limit]
    try:
        raw = s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        raw = s.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        return s
    return raw[:limit].decode("utf-8", "surrogateescape")
