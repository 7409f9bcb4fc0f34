"""glibc's address text conversions, written out so they stay pure.

ipvsadm parses with ``inet_aton`` (lenient: octal, hex, short forms, text
after a space) and ``inet_pton`` (strict), and prints with ``inet_ntop``;
Python's ``ipaddress`` differs from all three in corner cases (reference
§1.5, §2.6). Addresses are host-order integers: 32 bits for IPv4, 128 for
IPv6.
"""

from __future__ import annotations

__all__ = ["dotted_quad", "inet_aton", "inet_ntop4", "inet_ntop6", "inet_pton4", "inet_pton6"]

_C_SPACE = " \t\n\v\f\r"
_DIGITS = "0123456789"
_HEX = "0123456789abcdefABCDEF"
# Largest value of the last part, by the number of dotted parts before it.
_LAST_PART_MAX = (0xFFFFFFFF, 0xFFFFFF, 0xFFFF, 0xFF)
# The canonical text of each octet value: "0".."255", no leading zeros.
_OCTETS = {str(n): n for n in range(256)}


def dotted_quad(text: str) -> int | None:
    """The address of a canonical ``a.b.c.d`` (four decimal parts 0..255
    without leading zeros), None for any other text.

    Such text means the same to ``inet_aton`` and ``inet_pton``, so this is
    the fast path of both; None only says "not canonical".
    """
    parts = text.split(".")
    if len(parts) != 4:
        return None
    octets = _OCTETS
    a = octets.get(parts[0])
    b = octets.get(parts[1])
    c = octets.get(parts[2])
    d = octets.get(parts[3])
    if a is None or b is None or c is None or d is None:
        return None
    return a << 24 | b << 16 | c << 8 | d


def _strtoul_auto(s: str, i: int) -> tuple[int, int]:
    """``strtoul(s + i, &end, 0)`` for text that starts with a digit."""
    if s[i] == "0" and i + 1 < len(s) and s[i + 1] in "xX":
        j = i + 2
        while j < len(s) and s[j] in _HEX:
            j += 1
        if j == i + 2:  # "0x" without hex digits: only the "0" is a number
            return 0, i + 1
        return int(s[i + 2 : j], 16), j
    if s[i] == "0":
        j = i + 1
        while j < len(s) and s[j] in "01234567":
            j += 1
        return (int(s[i:j], 8) if j > i + 1 else 0), j
    j = i
    while j < len(s) and s[j] in _DIGITS:
        j += 1
    if j - i > 10:  # past 32 bits whatever it is (and int() keeps its limit)
        return 1 << 32, j
    return int(s[i:j]), j


def inet_aton(text: str) -> int | None:
    """glibc ``inet_aton``: ``a.b.c.d``, ``a.b.c``, ``a.b`` or ``a``, each part
    decimal, ``0``-octal or ``0x``-hex; anything after a whitespace character
    is ignored (reference §1.5: ``010.0.0.1`` = 8.0.0.1, ``10.258`` =
    10.0.1.2, ``24`` = 0.0.0.24)."""
    quad = dotted_quad(text)
    if quad is not None:
        return quad
    parts: list[int] = []
    i = 0
    while True:
        if i >= len(text) or text[i] not in _DIGITS:
            return None
        value, i = _strtoul_auto(text, i)
        if value > 0xFFFFFFFF:
            return None
        if i < len(text) and text[i] == ".":
            if len(parts) > 2 or value > 0xFF:
                return None
            parts.append(value)
            i += 1
            continue
        break
    if i < len(text) and text[i] not in _C_SPACE:
        return None
    if value > _LAST_PART_MAX[len(parts)]:
        return None
    result = 0
    for n, part in enumerate(parts):
        result |= part << (24 - 8 * n)
    return result | value


def inet_pton4(text: str) -> int | None:
    """glibc ``inet_pton(AF_INET)``: exactly four decimal parts 0..255, no
    leading zeros, nothing else."""
    quad = dotted_quad(text)
    if quad is not None:
        return quad
    octets: list[int] = []
    cur = -1  # -1: no digit yet in this part
    for ch in text:
        if ch in _DIGITS:
            if cur == 0:
                return None  # leading zero
            cur = (0 if cur < 0 else cur * 10) + ord(ch) - 48
            if cur > 255:
                return None
        elif ch == "." and cur >= 0:
            if len(octets) == 3:
                return None
            octets.append(cur)
            cur = -1
        else:
            return None
    if cur < 0 or len(octets) != 3:
        return None
    octets.append(cur)
    return (octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]


def inet_pton6(text: str) -> int | None:
    """glibc ``inet_pton(AF_INET6)``: up to 8 groups of 1-4 hex digits, one
    ``::``, an optional dotted IPv4 tail; no zone index, no brackets."""
    if not text:
        return None
    i = 0
    if text[0] == ":":
        if len(text) < 2 or text[1] != ":":
            return None
        i = 1
    groups: list[int] = []
    gap: int | None = None  # index in groups where "::" stands
    token_start = i
    digits = 0
    value = 0
    while i < len(text):
        ch = text[i]
        i += 1
        if ch in _HEX:
            if digits == 4:
                return None
            value = (value << 4) | int(ch, 16)
            digits += 1
            continue
        if ch == ":":
            token_start = i
            if digits == 0:
                if gap is not None:
                    return None
                gap = len(groups)
                continue
            if i == len(text):
                return None
            if len(groups) == 8:
                return None
            groups.append(value)
            digits = value = 0
            continue
        if ch == "." and len(groups) <= 6:
            v4 = inet_pton4(text[token_start:])
            if v4 is None:
                return None
            groups.extend((v4 >> 16, v4 & 0xFFFF))
            digits = 0
            break
        return None
    if digits:
        if len(groups) == 8:
            return None
        groups.append(value)
    if gap is not None:
        if len(groups) == 8:
            return None
        groups[gap:gap] = [0] * (8 - len(groups))
    if len(groups) != 8:
        return None
    result = 0
    for g in groups:
        result = (result << 16) | g
    return result


_OCTET_TEXT = tuple(_OCTETS)  # "0".."255"


def inet_ntop4(addr: int) -> str:
    t = _OCTET_TEXT
    return f"{t[addr >> 24 & 255]}.{t[addr >> 16 & 255]}.{t[addr >> 8 & 255]}.{t[addr & 255]}"


def inet_ntop6(addr: int) -> str:
    """glibc ``inet_ntop(AF_INET6)``: the first longest run of two or more zero
    groups becomes ``::``; IPv4-mapped and IPv4-compatible addresses end in
    dotted form (``::ffff:10.0.0.13``, ``::1.2.3.4``)."""
    words = [(addr >> (112 - 16 * n)) & 0xFFFF for n in range(8)]
    best_base, best_len = -1, 0
    cur_base, cur_len = -1, 0
    for n, w in enumerate([*words, 1]):  # the sentinel closes a trailing run
        if w == 0 and n < 8:
            if cur_base < 0:
                cur_base, cur_len = n, 0
            cur_len += 1
        elif cur_base >= 0:
            if best_base < 0 or cur_len > best_len:
                best_base, best_len = cur_base, cur_len
            cur_base = -1
    if best_len < 2:
        best_base = -1
    out: list[str] = []
    for n in range(8):
        if best_base >= 0 and best_base <= n < best_base + best_len:
            if n == best_base:
                out.append(":")
            continue
        if n:
            out.append(":")
        if n == 6 and best_base == 0 and (best_len == 6 or (best_len == 5 and words[5] == 0xFFFF)):
            out.append(inet_ntop4(addr & 0xFFFFFFFF))
            break
        out.append(f"{words[n]:x}")
    if best_base >= 0 and best_base + best_len == 8:
        out.append(":")
    return "".join(out)
