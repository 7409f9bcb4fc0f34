"""``read_hex_str`` (lib/parser.c): hex bytes for UDP_CHECK payloads and
replies, spaces allowed between bytes, ``x``/``X`` nibbles as wildcards in
replies.  Pure, imports nothing: the configuration reader checks payloads
with it, the UDP checker decodes them."""

from __future__ import annotations

__all__ = ["read_hex_str"]


def _nibble(c: str, wildcard: bool) -> int:
    """0..15, 16 for a wildcard, -1 for an error."""
    if "0" <= c <= "9":
        return ord(c) - 48
    if "a" <= c.lower() <= "f":
        return ord(c.lower()) - 87
    if wildcard and c in "xX":
        return 16
    return -1


def read_hex_str(text: str, wildcard: bool) -> tuple[bytes, bytes | None] | None:
    """(data, mask or None) or None when invalid or empty. A lone hex digit
    between spaces is one byte; the mask has 0x0f/0xf0 where a nibble is wild."""
    data = bytearray()
    mask = bytearray()
    used_mask = False
    i = 0
    while True:
        while i < len(text) and text[i] in " \t":
            i += 1
        if i >= len(text):
            break
        val = _nibble(text[i], wildcard)
        i += 1
        if val < 0:
            return None
        m = 0
        if val == 16:
            val, m, used_mask = 0, 0x0F, True
        if i < len(text) and text[i] != " ":
            second = _nibble(text[i], wildcard)
            i += 1
            if second < 0:
                return None
            val, m = val << 4, m << 4
            if second == 16:
                second, m, used_mask = 0, m | 0x0F, True
            val |= second
        data.append(val)
        mask.append(m)
    if not data:
        return None
    return bytes(data), (bytes(mask) if used_mask else None)
