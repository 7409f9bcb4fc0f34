"""keepalived's number readers, in daemon and config-test modes."""

from __future__ import annotations

from pylvs.config.cnum import strtol, strtoul
from pylvs.config.diagnostics import Reporter
from pylvs.config.numbers import Numbers, check_true_false


def _nums(config_test: bool) -> tuple[Numbers, Reporter]:
    r = Reporter()
    return Numbers(r, config_test), r


def test_strto() -> None:
    assert strtol("  -12abc") == (-12, 5, False)
    assert strtol("abc") == (0, 0, False)
    assert strtoul("-1").value == (1 << 64) - 1
    assert strtoul("0x1f", 0) == (31, 4, False)
    assert strtoul("010", 0).value == 8
    assert strtoul("99999999999999999999999").erange


def test_read_unsigned_messages() -> None:
    nums, r = _nums(True)
    assert nums.read_unsigned("80", 1, 65535, True) == 80
    assert nums.read_unsigned("-3", 0, 10, True) is None
    assert nums.read_unsigned("12x", 0, 100, True) is None
    assert nums.read_unsigned("0", 1, 65535, True) is None
    assert nums.read_unsigned("99999999999", 0, 10, True) is None
    assert [d.message for d in r.diagnostics] == [
        "negative number '-3'",
        "invalid number '12x'",
        "number '0' outside range [1, 65535]",
        "number '99999999999' outside unsigned integer range",
    ]


def test_daemon_mode_accepts_a_valid_prefix() -> None:
    nums, r = _nums(False)
    assert nums.read_unsigned("12x", 0, 100, True) == 12
    assert r.diagnostics[0].message == "WARNING - invalid number '12x'"
    assert nums.read_unsigned("12x", 0, 100, False) is None  # not lenient
    assert nums.read_int("-7q", -10, 10, True) == -7


def test_read_timer() -> None:
    nums, r = _nums(True)
    assert nums.read_timer("1.5", 1, 0, True) == 1.5
    assert nums.read_timer(".25", 1, 0, True) == 0.25
    assert nums.read_timer("3", 1, 0, True) == 3.0
    # Too many decimals: reported, rounded, still used.
    assert nums.read_timer("1.0000005", 1, 0, True) == 1.000001
    assert r.diagnostics[-1].message == "number '1.0000005' has too many decimal places"
    # Garbage keeps the digits read so far (as µs!) when in range, even with -t.
    assert nums.read_timer("3s", 1, 0, True) == 0.000003
    assert nums.read_timer("0", 1, 0, True) is None
    assert r.diagnostics[-1].message == (
        "number '0' outside range [0.000001, 18446744073709.551614]"
    )
    assert nums.read_timer("-1", 0, 0, True) is None


def test_check_true_false() -> None:
    assert check_true_false("on") is True
    assert check_true_false("no") is False
    assert check_true_false("On") is None
