"""libipvs's comparators and glibc's merge sort (reference §2.7)."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP
from pylvs.core.info import DestInfo
from pylvs.core.model import DestSpec, ServiceKey
from pylvs.core.stats import StatsView
from pylvs.ipvsadm.inet import inet_pton4, inet_pton6
from pylvs.ipvsadm.sort import compare_dests, compare_services, glibc_msort, wrap_diff32

Z = StatsView(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)


def ip4(text: str) -> int:
    addr = inet_pton4(text)
    assert addr is not None
    return addr


def ip6(text: str) -> int:
    addr = inet_pton6(text)
    assert addr is not None
    return addr


def tcp4(text: str, port: int = 80) -> ServiceKey:
    return ServiceKey(AF_INET, IPPROTO_TCP, ip4(text), port)


def dest(af: int, addr: int, port: int = 80) -> DestInfo:
    return DestInfo(DestSpec(af, addr, port), 0, 0, 0, Z)


def test_wrap_diff32() -> None:
    assert wrap_diff32(1, 2) == -1
    assert wrap_diff32(0xFFFFFFFF, 1) < 0  # -1 - 1
    assert wrap_diff32(0x0A000001, 0xC0A80101) > 0  # wraps to +0x4957FF00
    assert wrap_diff32(0x80000000, 0) == -(2**31)


def test_192_168_before_10() -> None:
    assert compare_services(tcp4("192.168.1.1"), tcp4("10.0.0.1")) < 0
    assert compare_services(tcp4("10.0.0.1"), tcp4("10.0.0.2")) < 0
    assert compare_services(tcp4("10.0.0.2"), tcp4("127.0.0.1")) < 0


def test_fd00_before_2001() -> None:
    a = ServiceKey(AF_INET6, IPPROTO_TCP, ip6("fd00::1"), 80)
    b = ServiceKey(AF_INET6, IPPROTO_TCP, ip6("2001:db8::1"), 80)
    assert compare_services(a, b) < 0


def test_fwmark_minus_one_before_one() -> None:
    assert compare_services(ServiceKey.fwm(0xFFFFFFFF), ServiceKey.fwm(1)) < 0
    # ... and, by the same wrap-around, before the address services (mark 0).
    assert compare_services(ServiceKey.fwm(0xFFFFFFFF), tcp4("10.0.0.1")) < 0
    assert compare_services(tcp4("10.0.0.1"), ServiceKey.fwm(1)) < 0


def test_family_then_protocol_then_port() -> None:
    assert compare_services(ServiceKey.fwm(1, AF_INET), ServiceKey.fwm(1, AF_INET6)) < 0
    t = tcp4("10.0.0.1")
    u = ServiceKey(AF_INET, IPPROTO_UDP, ip4("10.0.0.1"), 53)
    s = ServiceKey(AF_INET, IPPROTO_SCTP, ip4("10.0.0.1"), 1)
    assert compare_services(t, u) < 0 < compare_services(s, u)
    assert compare_services(tcp4("10.0.0.1", 443), tcp4("10.0.0.1", 8080)) < 0


def test_mixed_family_dests_use_the_left_family() -> None:
    v4 = dest(AF_INET, ip4("10.0.0.5"))
    v6 = dest(AF_INET6, ip6("2001:db8::5"))
    assert compare_dests(v4, v6) < 0
    assert compare_dests(v6, v4) > 0
    # An IPv6 entry on the left compares all four words, IPv4's zeros included.
    low6 = dest(AF_INET6, 0x0A000005 << 96 | 1)
    assert compare_dests(low6, dest(AF_INET, 0x0A000005)) > 0
    # An IPv4 entry on the left compares only the first word: equal here.
    assert compare_dests(dest(AF_INET, 0x0A000005), low6) == 0


def test_msort_is_stable_and_splits_floor_half() -> None:
    items = [(1, "a"), (0, "b"), (1, "c"), (0, "d"), (1, "e")]
    out = glibc_msort(items, lambda x, y: x[0] - y[0])
    assert out == [(0, "b"), (0, "d"), (1, "a"), (1, "c"), (1, "e")]


def test_msort_non_total_order_depends_on_input() -> None:
    a, b, c = tcp4("10.0.0.1"), tcp4("127.0.0.1"), tcp4("192.168.1.1")
    assert glibc_msort([a, b, c], compare_services) == [a, b, c]
    assert glibc_msort([c, b, a], compare_services) == [c, a, b]


@given(st.lists(st.integers(0, 2**31 - 1), max_size=40))
def test_msort_equals_sorted_for_a_total_order(addrs: list[int]) -> None:
    # Within one /1 the wrap-around comparison is a total order.
    keys = [ServiceKey(AF_INET, IPPROTO_TCP, a, 80) for a in addrs]
    expected = sorted(keys, key=functools.cmp_to_key(compare_services))
    assert glibc_msort(keys, compare_services) == expected


_libc_name = ctypes.util.find_library("c")


@pytest.mark.skipif(_libc_name is None, reason="no C library to compare with")
@given(st.lists(st.integers(0, 2**32 - 1), max_size=24))
def test_msort_equals_this_glibc_qsort(addrs: list[int]) -> None:
    """glibc 2.36's qsort on the same comparator gives the same order, even
    when it is no total order."""
    libc = ctypes.CDLL(_libc_name)
    cmp_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)

    def cmp(pa: int, pb: int) -> int:
        ia = ctypes.c_uint32.from_address(pa).value
        ib = ctypes.c_uint32.from_address(pb).value
        return wrap_diff32(addrs[ia], addrs[ib])

    arr = (ctypes.c_uint32 * len(addrs))(*range(len(addrs)))
    libc.qsort(arr, len(addrs), ctypes.sizeof(ctypes.c_uint32), cmp_type(cmp))
    expected = [addrs[i] for i in arr]
    got = glibc_msort(addrs, wrap_diff32)
    assert got == expected
