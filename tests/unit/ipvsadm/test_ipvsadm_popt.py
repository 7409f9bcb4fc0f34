"""The popt 1.19 emulation on its own (reference §1.2)."""

from __future__ import annotations

import pytest

from pylvs.ipvsadm.options import POPT_TABLE
from pylvs.ipvsadm.popt import Popt, PoptFailure, PoptHang


def events(*args: str) -> tuple[list[tuple[str, str | None]], list[str]]:
    p = Popt(["prog", *args], POPT_TABLE)
    out = []
    while (item := p.next_option()) is not None:
        out.append((item[0].tag, item[1]))
    leftovers = []
    while (word := p.next_leftover()) is not None:
        leftovers.append(word)
    return out, leftovers


def test_clusters_and_values() -> None:
    assert events("-Ln") == ([("list", None), ("numeric", None)], [])
    assert events("-At", "1.2.3.4:80") == (
        [("add-service", None), ("tcp-service", "1.2.3.4:80")],
        [],
    )
    assert events("-p30", "-srr") == ([("persistent", "30"), ("scheduler", "rr")], [])
    assert events("-p=30", "-t=x") == ([("persistent", "30"), ("tcp-service", "x")], [])
    assert events("--persistent=", "--scheduler=a=b") == (
        [("persistent", ""), ("scheduler", "a=b")],
        [],
    )


def test_optional_value() -> None:
    assert events("-p", "5", "6") == ([("persistent", "5")], ["6"])
    assert events("-p", "-n") == ([("persistent", None), ("numeric", None)], [])
    assert events("-p") == ([("persistent", None)], [])
    assert events("-p", "") == ([("persistent", "")], [])
    assert events("--persistent", "-") == ([("persistent", None)], ["-"])


def test_required_value_takes_any_word() -> None:
    assert events("-w", "-1") == ([("weight", "-1")], [])
    assert events("--weight", "--") == ([("weight", "--")], [])


def test_leftovers_and_double_dash() -> None:
    assert events("a", "-L", "b", "--", "-n", "c") == ([("list", None)], ["a", "b", "-n", "c"])
    assert events("-", "") == ([], ["-", ""])


def test_posixly_correct_stops_at_first_word() -> None:
    p = Popt(["prog", "-L", "x", "-n"], POPT_TABLE, posixly_correct=True)
    first = p.next_option()
    assert first is not None and first[0].tag == "list"
    assert p.next_option() is None
    assert p.next_leftover() == "x"
    assert p.next_leftover() == "-n"


@pytest.mark.parametrize(
    ("args", "bad", "reason"),
    [
        (["--foo"], "--foo", "unknown option"),
        (["--num"], "--num", "unknown option"),
        (["-n5"], "-n5", "unknown option"),
        (["-t"], "-t", "missing argument"),
        (["-Lnx"], "-Lnx", "missing argument"),
        (["--numeric=1"], "--numeric=1", "option does not take an argument"),
        (["-n=1"], "-n=1", "option does not take an argument"),
        (["---n"], "---n", "unknown option"),
        (["--=x"], "--=x", "unknown option"),
    ],
)
def test_failures_name_the_last_word(args: list[str], bad: str, reason: str) -> None:
    p = Popt(["prog", *args], POPT_TABLE)
    with pytest.raises(PoptFailure) as info:
        while p.next_option() is not None:
            pass
    assert info.value.reason == reason
    assert p.bad_option() == bad


def test_expansion_takes_next_plain_word() -> None:
    assert events("-s", "w!#:+", "-n", "rr") == ([("scheduler", "wrr"), ("numeric", None)], [])
    # One word serves every !#:+ of the same value.
    assert events("-s", "!#:+-!#:+", "x") == ([("scheduler", "x-x")], [])
    # At the end of the line there is nothing to take: kept literally.
    assert events("-s", "a!#:+") == ([("scheduler", "a!#:+")], [])


def test_expansion_hangs_when_no_word_fits() -> None:
    p = Popt(["prog", "-s", "a!#:+", "-n"], POPT_TABLE)
    with pytest.raises(PoptHang):
        p.next_option()
