"""Hash functions the kernel's hashing schedulers use (behaviour reference §2.5).

* ``hash_32``: the top ``bits`` of a multiply by the golden ratio constant
  (include/linux/hash.h).
* ``hsiphash_u32``: the kernel's hsiphash of one 32-bit value on a 64-bit
  kernel, i.e. SipHash-1-3 over the 4 little-endian bytes of the value with
  a 128-bit key given as two 64-bit words, truncated to 32 bits (lib/siphash.c).
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["GOLDEN_RATIO_32", "hash_32", "hsiphash_u32", "hsiphash_u32_keyed"]

GOLDEN_RATIO_32 = 0x61C88647
_M64 = (1 << 64) - 1


def hash_32(value: int, bits: int) -> int:
    return ((value * GOLDEN_RATIO_32) & 0xFFFFFFFF) >> (32 - bits)


def _rotl(x: int, b: int) -> int:
    return ((x << b) | (x >> (64 - b))) & _M64


def hsiphash_u32(value: int, k0: int, k1: int) -> int:
    """SipHash-1-3 of a single u32 (4 bytes, little endian), low 32 bits of the result."""
    v0 = 0x736F6D6570736575 ^ k0
    v1 = 0x646F72616E646F6D ^ k1
    v2 = 0x6C7967656E657261 ^ k0
    v3 = 0x7465646279746573 ^ k1
    # The only (final) block: length 4 in the top byte, the value in the low bytes.
    b = (4 << 56) | (value & 0xFFFFFFFF)
    v3 ^= b
    # one compression round
    v0 = (v0 + v1) & _M64
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = (v2 + v3) & _M64
    v3 = _rotl(v3, 16) ^ v2
    v0 = (v0 + v3) & _M64
    v3 = _rotl(v3, 21) ^ v0
    v2 = (v2 + v1) & _M64
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    v0 ^= b
    v2 ^= 0xFF
    # three finalisation rounds
    for _ in range(3):
        v0 = (v0 + v1) & _M64
        v1 = _rotl(v1, 13) ^ v0
        v0 = _rotl(v0, 32)
        v2 = (v2 + v3) & _M64
        v3 = _rotl(v3, 16) ^ v2
        v0 = (v0 + v3) & _M64
        v3 = _rotl(v3, 21) ^ v0
        v2 = (v2 + v1) & _M64
        v1 = _rotl(v1, 17) ^ v2
        v2 = _rotl(v2, 32)
    return (v0 ^ v1 ^ v2 ^ v3) & 0xFFFFFFFF


def hsiphash_u32_keyed(k0: int, k1: int) -> Callable[[int], int]:
    """``hsiphash_u32`` with the key fixed, for the hot path.

    The key-only part of the first round is computed once; the rest is the
    same arithmetic as :func:`hsiphash_u32` (the tests compare the two).
    """
    m = _M64
    iv2 = 0x6C7967656E657261 ^ k0
    iv3 = 0x7465646279746573 ^ k1
    iv0 = 0x736F6D6570736575 ^ k0
    iv1 = 0x646F72616E646F6D ^ k1
    a0 = (iv0 + iv1) & m
    a1 = (((iv1 << 13) | (iv1 >> 51)) & m) ^ a0
    a0 = ((a0 << 32) | (a0 >> 32)) & m

    def keyed(value: int) -> int:
        b = 0x0400000000000000 | (value & 0xFFFFFFFF)
        v3 = iv3 ^ b
        v2 = (iv2 + v3) & m
        v3 = (((v3 << 16) | (v3 >> 48)) & m) ^ v2
        v0 = (a0 + v3) & m
        v3 = (((v3 << 21) | (v3 >> 43)) & m) ^ v0
        v2 = (v2 + a1) & m
        v1 = (((a1 << 17) | (a1 >> 47)) & m) ^ v2
        v2 = ((v2 << 32) | (v2 >> 32)) & m
        v0 ^= b
        v2 ^= 0xFF
        for _ in (0, 1, 2):
            v0 = (v0 + v1) & m
            v1 = (((v1 << 13) | (v1 >> 51)) & m) ^ v0
            v0 = ((v0 << 32) | (v0 >> 32)) & m
            v2 = (v2 + v3) & m
            v3 = (((v3 << 16) | (v3 >> 48)) & m) ^ v2
            v0 = (v0 + v3) & m
            v3 = (((v3 << 21) | (v3 >> 43)) & m) ^ v0
            v2 = (v2 + v1) & m
            v1 = (((v1 << 17) | (v1 >> 47)) & m) ^ v2
            v2 = ((v2 << 32) | (v2 >> 32)) & m
        return (v0 ^ v1 ^ v2 ^ v3) & 0xFFFFFFFF

    return keyed
