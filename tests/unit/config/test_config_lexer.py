"""Line lexing as lib/parser.c does it."""

from __future__ import annotations

import pytest

from pylvs.config.lexer import (
    decomment,
    include_kind,
    split_brace,
    split_script_words,
    split_words,
)
from pylvs.health.hex_string import read_hex_str


@pytest.mark.parametrize(
    ("line", "text"),
    [
        ("  weight 1   ", "weight 1"),
        ("weight 1 # comment", "weight 1"),
        ("weight 1 ! comment", "weight 1"),
        ('path "/a#b" # c', 'path "/a#b"'),
        (r"path /a\#b", "path /a#b"),
        (r"path /a\!b", "path /a!b"),
        ('x "a\\"#b"', 'x "a\\"#b"'),
        ("#only a comment", ""),
        ("\tkey\tvalue\t", "key\tvalue"),
    ],
)
def test_decomment(line: str, text: str) -> None:
    assert decomment(line).text == text


def test_decomment_continuation_and_quotes() -> None:
    d = decomment("$X=abc  \\")
    assert d.continued and d.text == "$X=abc\\"
    assert decomment('notify "abc').unterminated_quote
    assert not decomment('notify "abc"').unterminated_quote


@pytest.mark.parametrize(
    ("line", "head", "residue"),
    [
        ("virtual_server 1.2.3.4 80 {", "virtual_server 1.2.3.4 80", "{"),
        ("{ weight 1 }", "{", "weight 1 }"),
        ("{", "{", None),
        ("}}", "}", "}"),
        ("weight 1 }", "weight 1", "}"),
        ('misc_path "/bin/x {a}" {', 'misc_path "/bin/x {a}"', "{"),
        ('path "unterminated {', 'path "unterminated {', None),
        ("no braces here", "no braces here", None),
        ("{   }  ", "{", "}"),
    ],
)
def test_split_brace(line: str, head: str, residue: str | None) -> None:
    assert split_brace(line) == (head, residue)


def test_split_words() -> None:
    assert split_words("a  b\tc").words == ["a", "b", "c"]
    assert split_words('router_id "two words" x').words == ["router_id", "two words", "x"]
    # A quote only groups at the start of a word; it also ends a word.
    assert split_words('a"b c"d').words == ["a", "b c", "d"]
    assert split_words("'single' quotes").words == ["'single'", "quotes"]
    res = split_words('notify "unterminated rest')
    assert res.unmatched_quote and res.words == ["notify"]
    assert split_words('""').words == [""]


def test_split_script_words() -> None:
    assert split_script_words("/bin/x a 'b c' \"d e\"", True).words == ["/bin/x", "a", "b c", "d e"]
    assert split_script_words(r"a\tb \x41\101 \cA", True).words == ["a\tb", "AA", "\x01"]
    assert split_script_words(r"a\tb", False).words == [r"a\tb"]
    assert split_script_words("it's", True).error == "String 'it's': missing terminating '"
    assert split_script_words("end\\", True).error == "Missing escape char at end: 'end\\'"
    assert split_script_words("   ", True).words is None


def test_include_kind() -> None:
    assert include_kind("include /etc/x.conf") == ("", "/etc/x.conf")
    assert include_kind("includer  a b") == ("r", "a b")
    assert include_kind("includea x") == ("a", "x")
    assert include_kind("includex x") is None
    assert include_kind("include") is None
    assert include_kind("included x") is None


def test_read_hex_str() -> None:
    assert read_hex_str("01 02 abcd", False) == (b"\x01\x02\xab\xcd", None)
    assert read_hex_str("1 f", False) == (b"\x01\x0f", None)
    assert read_hex_str("0x ab", True) == (b"\x00\xab", b"\x0f\x00")
    assert read_hex_str("0x", False) is None
    assert read_hex_str("", False) is None
    assert read_hex_str("zz", False) is None
