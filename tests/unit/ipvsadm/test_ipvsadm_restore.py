"""Restore input splitting and the restore's stop/continue rule (reference §3.2)."""

from __future__ import annotations

import errno
from collections.abc import Iterator

from pylvs.core.errors import IpvsError, UsageError
from pylvs.ipvsadm.argv import PoptError
from pylvs.ipvsadm.restore import (
    LineOutcome,
    iter_restore_lines,
    outcome_of_error,
    restore_exit_status,
    restore_script_input,
    split_restore_input,
)


def test_tokens_and_dropped_words() -> None:
    text = "ipvsadm -A -t 1.2.3.4:80\n\n  \t\r\n-a\t-t 1.2.3.4:80 ipvsadm -r x\r\nipvsadm\n"
    assert split_restore_input(text) == [
        ["-A", "-t", "1.2.3.4:80"],
        ["-a", "-t", "1.2.3.4:80", "-r", "x"],
    ]


def test_hash_and_other_whitespace_are_ordinary() -> None:
    assert split_restore_input("# x\n-L\v-n\f\n") == [["#", "x"], ["-L\v-n\f"]]


def test_unterminated_last_line() -> None:
    assert split_restore_input("-C\n-L") == [["-C"], ["-L"]]
    assert split_restore_input("-C\n-L ") == [["-C"], ["-L"]]
    assert split_restore_input("-C\n-L  ") == [["-C"]]
    assert split_restore_input("-C\n-L \t") == [["-C"]]
    assert split_restore_input("-C\n  -L") == [["-C"], ["-L"]]
    assert split_restore_input("") == []


def test_lazy_over_lines() -> None:
    seen = []

    def lines() -> Iterator[str]:
        for line in ["-A -t 1.2.3.4:80\n", "-S\n"]:
            seen.append(line)
            yield line

    it = iter_restore_lines(lines())
    assert next(it) == ["-A", "-t", "1.2.3.4:80"]
    assert seen == ["-A -t 1.2.3.4:80\n"]


def test_nul_ends_a_token() -> None:
    assert split_restore_input("-L\0x -n\n") == [["-L", "-n"]]
    assert split_restore_input("ipvsadm\0x -L\n") == [["-L"]]


def test_outcomes() -> None:
    assert outcome_of_error(PoptError("--foo: unknown option")) == LineOutcome(255, False)
    assert outcome_of_error(IpvsError("add-service", errno.EEXIST)) == LineOutcome(255, False)
    assert outcome_of_error(IpvsError("list", errno.ESRCH, 1)) == LineOutcome(1, True)
    assert outcome_of_error(UsageError("unexpected argument x")) == LineOutcome(2, True)
    assert outcome_of_error(UsageError("Try ...", 255)) == LineOutcome(255, True)


def test_exit_status_is_last_line_unless_stopped() -> None:
    ok, fail = LineOutcome(0, False), LineOutcome(255, False)
    assert restore_exit_status([]) == 0
    assert restore_exit_status([fail, ok]) == 0
    assert restore_exit_status([ok, fail]) == 255
    consumed = []

    def gen() -> Iterator[LineOutcome]:
        for o in (ok, LineOutcome(2, True), ok):
            consumed.append(o)
            yield o

    assert restore_exit_status(gen()) == 2
    assert len(consumed) == 2


def test_restore_script_input() -> None:
    assert restore_script_input("#a\n-C\n #b\n\n\n") == "-C\n #b\n"
    assert restore_script_input("") == "\n"
    assert restore_script_input("-S -n  ") == "-S -n  \n"
