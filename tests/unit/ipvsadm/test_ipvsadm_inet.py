"""The pure glibc address conversions, against the reference's quirks and
against this machine's libc (reference §1.5, §2.6)."""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pylvs.ipvsadm.inet import inet_aton, inet_ntop4, inet_ntop6, inet_pton4, inet_pton6


def v4(text: str) -> int:
    a, b, c, d = (int(x) for x in text.split("."))
    return a << 24 | b << 16 | c << 8 | d


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("010.0.0.1", "8.0.0.1"),  # octal part
        ("10.258", "10.0.1.2"),  # a.b: b is 24 bits
        ("0x0a.1", "10.0.0.1"),  # hex part
        ("0X0A.0.0.1", "10.0.0.1"),
        ("24", "0.0.0.24"),  # a single number is the whole address
        ("10.1.258", "10.1.1.2"),  # a.b.c: c is 16 bits
        ("10.0.0.1 junk", "10.0.0.1"),  # glibc ignores text after a space
        ("10.0.0.1\tjunk", "10.0.0.1"),
        ("10.0.0.1\n", "10.0.0.1"),
        ("4294967295", "255.255.255.255"),
        ("0xffffffff", "255.255.255.255"),
        ("1.0xffffff", "1.255.255.255"),
        ("0", "0.0.0.0"),
        ("00", "0.0.0.0"),
        ("0.0.0.0", "0.0.0.0"),
    ],
)
def test_inet_aton_accepts(text: str, expected: str) -> None:
    assert inet_aton(text) == v4(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " 10.0.0.1",  # no leading space
        "+1",
        "-1",
        "1.2.3.4.5",
        "256.0.0.1",
        "1.2.3.256",
        "1.2.65536",
        "1.16777216",
        "4294967296",
        "0x",  # "0" then a stray "x"
        "08",  # octal has no 8
        "1..2",
        "1.2.3.",
        ".1.2.3",
        "10.0.0.1x",
        "10.0.0.1:80",
        "localhost",
        "0x100000000",
    ],
)
def test_inet_aton_refuses(text: str) -> None:
    assert inet_aton(text) is None


def test_inet_pton4_is_strict() -> None:
    assert inet_pton4("224.0.0.81") == v4("224.0.0.81")
    assert inet_pton4("0.0.0.0") == 0
    for bad in (
        "224.1",
        "010.0.0.1",
        "1.2.3.4 ",
        "1.2.3.256",
        "1.2.3.4.5",
        "",
        "1.2.3.",
        "0x1.0.0.1",
    ):
        assert inet_pton4(bad) is None, bad


@pytest.mark.parametrize(
    "text",
    [
        "::",
        "::1",
        "1::",
        "2001:db8::1",
        "fd00::1",
        "::ffff:10.0.0.13",
        "::1.2.3.4",
        "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7::",
        "::2:3:4:5:6:7:8",
        "FF02:0:0:0:0:0:0:1",
        "1:2:3:4:5:6:1.2.3.4",
    ],
)
def test_inet_pton6_matches_libc_valid(text: str) -> None:
    assert inet_pton6(text) == int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")


@pytest.mark.parametrize(
    "text",
    [
        "",
        ":",
        ":::",
        "1:",
        ":1",
        "1::2::3",
        "12345::",
        "1:2:3:4:5:6:7:8::",
        "1:2:3:4:5:6:7:8:9",
        "::ffff:010.0.0.1",
        "1:2:3:4:5:6:7:1.2.3.4",
        "fe80::1%eth0",
        "[::1]",
        "g::",
        "10.0.0.1",
    ],
)
def test_inet_pton6_refuses(text: str) -> None:
    assert inet_pton6(text) is None


def _libc_pton(af: int, text: str) -> int | None:
    try:
        return int.from_bytes(socket.inet_pton(af, text), "big")
    except (OSError, ValueError, UnicodeError):
        return None


def _libc_aton(text: str) -> int | None:
    try:
        return int.from_bytes(socket.inet_aton(text), "big")
    except (OSError, ValueError, UnicodeError):
        return None


@given(st.text(alphabet="0123456789abcdefABCDEF:.", max_size=45))
def test_inet_pton6_agrees_with_libc(text: str) -> None:
    assert inet_pton6(text) == _libc_pton(socket.AF_INET6, text)


@given(st.text(alphabet="0123456789.", max_size=20))
def test_inet_pton4_agrees_with_libc(text: str) -> None:
    assert inet_pton4(text) == _libc_pton(socket.AF_INET, text)


@given(st.text(alphabet="0123456789abcdefxX. \t", max_size=24))
def test_inet_aton_agrees_with_libc(text: str) -> None:
    assert inet_aton(text) == _libc_aton(text)


_words = st.sampled_from([0, 0, 0, 1, 0xFFFF, 0xDB8, 0x2001])


@given(st.lists(_words, min_size=8, max_size=8))
def test_inet_ntop6_agrees_with_libc(words: list[int]) -> None:
    addr = 0
    for w in words:
        addr = addr << 16 | w
    expected = socket.inet_ntop(socket.AF_INET6, addr.to_bytes(16, "big"))
    assert inet_ntop6(addr) == expected


def test_inet_ntop_forms() -> None:
    assert inet_ntop6(0xFFFF_0A00_000D) == "::ffff:10.0.0.13"
    assert inet_ntop6(0x0102_0304) == "::1.2.3.4"  # IPv4-compatible
    assert inet_ntop6(1) == "::1"
    assert inet_ntop6(0) == "::"
    assert inet_ntop4(v4("10.0.1.100")) == "10.0.1.100"
