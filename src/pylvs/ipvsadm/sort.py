"""ipvsadm's listing order: libipvs's comparators run by glibc 2.36 ``qsort``
(reference §2.7).

The comparators subtract addresses and fwmarks as unsigned 32-bit values
and read the difference as a signed ``int``, so order wraps around:
192.168.1.1 sorts before 10.0.0.1, fwmark 4294967295 before 1. That is no
total order, so the result depends on the algorithm; glibc's ``qsort`` is a
stable top-down merge sort, reproduced here.

Running that merge sort with the comparators is slow in Python, so
:func:`sort_services` and :func:`sort_dests` first look at the values being
compared: when each wrapped field's values lie within one half-circle
(an arc shorter than 2**31 on the 32-bit circle, as they do unless a table
spans addresses 2**31 apart, e.g. 10/8 with 192.168/16), the comparator
*is* a total order, the lexicographic order of the fields rebased to that
arc, and every stable sort gives the same result as glibc's: Python's
``sorted`` with that key. Otherwise the merge sort runs, on precomputed
fields.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from pylvs.core.addr import AF_INET6

if TYPE_CHECKING:
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

_M32 = 0xFFFFFFFF
_HALF = 1 << 31


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
    return _msort(list(items), cmp)


def _msort(items: list[T], cmp: Callable[[T, T], int]) -> list[T]:
    n = len(items)
    if n <= 1:
        return items
    n1 = n // 2
    left = _msort(items[:n1], cmp)
    right = _msort(items[n1:], cmp)
    out: list[T] = []
    append = out.append
    i = j = 0
    n2 = n - n1
    a = left[0]
    b = right[0]
    while True:
        if cmp(a, b) <= 0:
            append(a)
            i += 1
            if i == n1:
                break
            a = left[i]
        else:
            append(b)
            j += 1
            if j == n2:
                break
            b = right[j]
    out.extend(left[i:])
    out.extend(right[j:])
    return out


def _arc_start(values: Sequence[int]) -> int | None:
    """The start of an arc shorter than 2**31 holding every 32-bit value in
    ``values`` (non-empty), or None when there is none. On such an arc,
    ``wrap_diff32(a, b)`` is exactly ``rebased(a) - rebased(b)`` with
    ``rebased(v) = (v - start) & 0xFFFFFFFF``."""
    low, high = min(values), max(values)
    if high - low < _HALF:
        return low
    # The arc may cross zero: it is the complement of the widest gap
    # between neighbouring values on the circle.
    ordered = sorted(set(values))
    gap, start = ordered[0] + (1 << 32) - ordered[-1], ordered[0]
    for k in range(1, len(ordered)):
        if ordered[k] - ordered[k - 1] > gap:
            gap, start = ordered[k] - ordered[k - 1], ordered[k]
    return start if gap > _HALF else None


def sort_services(services: Sequence[ServiceInfo]) -> list[ServiceInfo]:
    if len(services) <= 1:
        return list(services)
    keys = [s.spec.key for s in services]
    marks = [k.fwmark & _M32 for k in keys]
    mark_start = _arc_start(marks)
    # Addresses are compared only between services of one family; the
    # words of IPv4 addresses after the first are never compared.
    firsts = [(k.addr >> 96 if k.af == AF_INET6 else k.addr) & _M32 for k in keys]
    first_start = _arc_start(firsts)
    rest_starts: list[int | None] = [0, 0, 0]
    v6 = [k.addr for k in keys if k.af == AF_INET6]
    if v6:
        rest_starts = [_arc_start([a >> shift & _M32 for a in v6]) for shift in (64, 32, 0)]
    if mark_start is not None and first_start is not None and None not in rest_starts:
        s1, s2, s3 = (s or 0 for s in rest_starts)
        order = []
        for k, mark, first in zip(keys, marks, firsts, strict=True):
            if k.af == AF_INET6:
                a = k.addr
                rest = (
                    ((a >> 64 & _M32) - s1) & _M32,
                    ((a >> 32 & _M32) - s2) & _M32,
                    ((a & _M32) - s3) & _M32,
                )
            else:
                rest = (0, 0, 0)
            order.append(
                (
                    (mark - mark_start) & _M32,
                    k.af,
                    k.protocol,
                    (first - first_start) & _M32,
                    rest,
                    k.port,
                )
            )
        ranks = sorted(range(len(services)), key=order.__getitem__)
        return [services[r] for r in ranks]
    return glibc_msort(services, lambda a, b: compare_services(a.spec.key, b.spec.key))


def sort_dests(dests: Sequence[DestInfo]) -> list[DestInfo]:
    if len(dests) <= 1:
        return list(dests)
    specs = [d.spec for d in dests]
    af = specs[0].af
    # One family only: with both, the comparison depends on the left side's.
    if all(s.af == af for s in specs):
        if af != AF_INET6:
            words = [s.addr & _M32 for s in specs]
            start = _arc_start(words)
            if start is not None:
                keys4 = [((w - start) & _M32, s.port) for w, s in zip(words, specs, strict=True)]
                ranks = sorted(range(len(dests)), key=keys4.__getitem__)
                return [dests[r] for r in ranks]
        else:
            addrs = [s.addr for s in specs]
            starts = [_arc_start([a >> shift & _M32 for a in addrs]) for shift in (96, 64, 32, 0)]
            if None not in starts:
                t0, t1, t2, t3 = (s or 0 for s in starts)
                keys6 = [
                    (
                        ((a >> 96 & _M32) - t0) & _M32,
                        ((a >> 64 & _M32) - t1) & _M32,
                        ((a >> 32 & _M32) - t2) & _M32,
                        ((a & _M32) - t3) & _M32,
                        s.port,
                    )
                    for a, s in zip(addrs, specs, strict=True)
                ]
                ranks = sorted(range(len(dests)), key=keys6.__getitem__)
                return [dests[r] for r in ranks]
    return glibc_msort(dests, compare_dests)
