"""Number parsing and printing: strtol/atoi emulation, the K/M/G/T scaling
of --stats/--rate (reference §1.4, §2.6.1)."""

from __future__ import annotations

import pytest

from pylvs.ipvsadm.cstr import atoi, cut_bytes, strtol_whole
from pylvs.ipvsadm.fields import large_number


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "        0"),
        (99_999_999, " 99999999"),
        (100_000_000, "  100000K"),
        (999_999_999, "  999999K"),
        (1_000_000_000, "    1000M"),
        (99_999_999_999, "   99999M"),
        (100_000_000_000, "     100G"),
        (99_999_999_999_999, "   99999G"),
        (100_000_000_000_000, "     100T"),
        (123_456_789_012_345_678, "  123456T"),
        (2**64 - 1, "18446744T"),
    ],
)
def test_large_number_scaling(value: int, text: str) -> None:
    assert large_number(value, exact=False) == text
    assert len(text) == 9


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "        0"),
        (12_345_678, " 12345678"),
        (123_456_789, " 123456789"),
        (123_456_789_012, " 123456789012"),
        (2**64 - 1, " 18446744073709551615"),
    ],
)
def test_large_number_exact(value: int, text: str) -> None:
    assert large_number(value, exact=True) == text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("80", 80),
        ("+80", 80),
        ("-0", 0),
        (" \t80", 80),
        ("-5", -5),
        ("007", 7),
        ("9223372036854775807", 2**63 - 1),
    ],
)
def test_strtol_whole_accepts(text: str, value: int) -> None:
    assert strtol_whole(text) == value


@pytest.mark.parametrize("text", ["", " ", "+", "80 ", "8x", "0x10", "9223372036854775808", "1e3"])
def test_strtol_whole_refuses(text: str) -> None:
    assert strtol_whole(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("64", 64),
        ("64abc", 64),
        ("abc", 0),
        ("", 0),
        ("  -5", -5),
        ("4294967360", 64),  # (int) of 2^32 + 64
        ("99999999999999999999999", -1),  # LONG_MAX, then its low 32 bits
    ],
)
def test_atoi(text: str, value: int) -> None:
    assert atoi(text) == value


def test_cut_bytes_counts_bytes() -> None:
    assert cut_bytes("abcdef", 4) == "abcd"
    assert cut_bytes("abc", 4) == "abc"
    assert cut_bytes("é" * 3, 3).encode("utf-8", "surrogateescape") == "é".encode() + b"\xc3"
