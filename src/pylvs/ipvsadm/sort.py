"""ipvsadm's listing order: libipvs's comparators run by glibc 2.36 ``qsort``
(reference §2.7).

The comparators subtract addresses and fwmarks as unsigned 32-bit values
and read the difference as a signed ``int``, so order wraps around:
192.168.1.1 sorts before 10.0.0.1, fwmark 4294967295 before 1. That is no
total order, so the result depends on the algorithm; glibc's ``qsort`` is a
stable top-down merge sort, reproduced here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from pylvs.core.addr import AF_INET6
from pylvs.core.info import DestInfo, ServiceInfo
from pylvs.core.model import ServiceKey

__all__ = [
    "compare_dests",
    "compare_services",
    "glibc_msort",
    "sort_dests",
    "sort_services",
    "wrap_diff32",
]

T = TypeVar("T")


def wrap_diff32(a: int, b: int) -> int:
    """``(int)(a - b)`` for unsigned 32-bit ``a`` and ``b``."""
    d = (a - b) & 0xFFFFFFFF
    return d - (1 << 32) if d >= 1 << 31 else d


def _words(af: int, addr: int) -> tuple[int, int, int, int]:
    """The address's 16-byte slot as four host-order words; IPv4 fills the first."""
    if af == AF_INET6:
        return (
            addr >> 96 & 0xFFFFFFFF,
            addr >> 64 & 0xFFFFFFFF,
            addr >> 32 & 0xFFFFFFFF,
            addr & 0xFFFFFFFF,
        )
    return (addr & 0xFFFFFFFF, 0, 0, 0)


def _compare_addr(af1: int, addr1: int, af2: int, addr2: int) -> int:
    # The left entry's family decides how many words are compared.
    w1, w2 = _words(af1, addr1), _words(af2, addr2)
    if af1 != AF_INET6:
        return wrap_diff32(w1[0], w2[0])
    for a, b in zip(w1, w2, strict=True):
        r = wrap_diff32(a, b)
        if r:
            return r
    return 0


def compare_services(k1: ServiceKey, k2: ServiceKey) -> int:
    """libipvs ``ipvs_cmp_services``: fwmark, family, protocol, address, port."""
    r = wrap_diff32(k1.fwmark, k2.fwmark)
    if r:
        return r
    r = k1.af - k2.af
    if r:
        return r
    r = k1.protocol - k2.protocol
    if r:
        return r
    r = _compare_addr(k1.af, k1.addr, k2.af, k2.addr)
    if r:
        return r
    return k1.port - k2.port


def compare_dests(d1: DestInfo, d2: DestInfo) -> int:
    """libipvs ``ipvs_cmp_dests``: address, then port."""
    s1, s2 = d1.spec, d2.spec
    r = _compare_addr(s1.af, s1.addr, s2.af, s2.addr)
    if r:
        return r
    return s1.port - s2.port


def glibc_msort(items: Sequence[T], cmp: Callable[[T, T], int]) -> list[T]:
    """glibc's ``msort``: halves of n//2 and the rest, merged taking the left
    element while ``cmp <= 0``."""
    if len(items) <= 1:
        return list(items)
    n1 = len(items) // 2
    left = glibc_msort(items[:n1], cmp)
    right = glibc_msort(items[n1:], cmp)
    out: list[T] = []
    i = j = 0
    while i < len(left) and j < len(right):
        if cmp(left[i], right[j]) <= 0:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    out.extend(left[i:])
    out.extend(right[j:])
    return out


def sort_services(services: Sequence[ServiceInfo]) -> list[ServiceInfo]:
    return glibc_msort(services, lambda a, b: compare_services(a.spec.key, b.spec.key))


def sort_dests(dests: Sequence[DestInfo]) -> list[DestInfo]:
    return glibc_msort(dests, compare_dests)
