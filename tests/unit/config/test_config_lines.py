"""Logical lines: comments, braces, conditionals, parameters, ~SEQ/~LST,
includes and line numbers (lib/parser.c read_line)."""

from __future__ import annotations

from random import Random

from pylvs.config.diagnostics import Reporter
from pylvs.config.lines import Line, LineSource
from pylvs.config.params import Builtins
from pylvs.config.source import MemoryReader

MAIN = "/etc/keepalived/keepalived.conf"


def read(
    text: str,
    files: dict[str, str] | None = None,
    *,
    config_id: str | None = None,
    env: dict[str, str] | None = None,
) -> tuple[list[Line], Reporter]:
    reporter = Reporter()
    reader = MemoryReader({MAIN: text, **(files or {})})
    src = LineSource(
        reader, reporter, Builtins(config_id=config_id, env=env or {}, rng=Random(1)), cwd="/"
    )
    assert src.open_main(MAIN)
    out = []
    while (line := src.next()) is not None:
        out.append(line)
    src.finish()
    return out, reporter


def texts(text: str, **kw: object) -> list[str]:
    return [line.text for line in read(text, **kw)[0]]  # type: ignore[arg-type]


def test_braces_become_lines_of_their_own() -> None:
    assert texts("a { b c } d\n") == ["a", "{", "b c", "}", "d"]
    assert texts("x {\n}\n") == ["x", "{", "}"]


def test_line_numbers_and_blank_lines() -> None:
    lines, _ = read("\n# comment\n  a 1\n\nb {\n}\n")
    assert [(ln.line, ln.text) for ln in lines] == [(3, "a 1"), (5, "b"), (5, "{"), (6, "}")]


def test_last_line_without_newline_keeps_previous_number() -> None:
    # keepalived counts "\n"s: an unterminated last line is not counted.
    lines, _ = read("a\nb")
    assert [(ln.line, ln.text) for ln in lines] == [(1, "a"), (1, "b")]


def test_extra_and_missing_braces() -> None:
    _, r = read("}\na {\n")
    msgs = [(d.line, d.message) for d in r.diagnostics]
    assert (1, "Extra '}' found") in msgs
    assert (2, "There are 1 missing '}'s or extra '{'s") in msgs


def test_long_line_is_ignored_in_pieces() -> None:
    lines, r = read("x" * 1100 + "\nok\n")
    assert r.diagnostics[0].message == "line too long - ignoring"
    # fgets() hands over the rest of the long line as a line of its own.
    assert [ln.text for ln in lines] == ["x" * 77, "ok"]


def test_conditionals() -> None:
    text = "@a one\n@^a two\n@b three\n@a\nfour\n"
    assert texts(text, config_id="a") == ["one", "four"]
    assert texts(text, config_id="b") == ["two", "three", "four"]
    assert texts(text) == ["two", "four"]


def test_definitions_and_expansion() -> None:
    text = "$A=1\n$B=${A}2\nx $A $B ${B}3 $C\n$A=9\ny $A,$A)\n"
    assert texts(text) == ["x 1 12 123 $C", "y 9,9)"]


def test_multiline_definition() -> None:
    text = "$M=first \\\n  second \\\n  third\nbefore $M after\nx $M\n"
    # Multi-line values expand only where the reference ends the line.
    assert texts(text) == ["before $M after", "x first", "second", "third"]


def test_blank_line_ends_a_multiline_definition() -> None:
    text = "$M=a \\\n\nb\n$M\n"
    assert texts(text) == ["b", "a"]


def test_builtins() -> None:
    text = "${_INSTANCE} ${_ENV HOME} ${_HASH}x ${_BANG} ${_PWD} ${_RANDOM 3 3}\n"
    assert texts(text, config_id="lb1", env={"HOME": "/root"}) == ["lb1 /root"]
    # "#" from ${_HASH} starts a comment when the line is decommented again...
    assert texts('a "${_HASH}" ${_BANG}\n') == ['a "#"']
    assert texts("p ${_PWD}\n") == ["p /etc/keepalived"]
    assert texts("r ${_RANDOM 4 4}\n") == ["r 4"]


def test_definition_parameter_errors() -> None:
    _, r = read("x ${_RANDOM a}\ny ${_RANDOM 1 2 3}\n")
    assert [d.message for d in r.diagnostics] == [
        "Definition _RANDOM requires numeric parameters only.",
        "Definition _RANDOM requires between 0 and 2 parameters, 3 specified.",
    ]


def test_seq_and_lst() -> None:
    assert texts("~SEQ(i, 3) n $i\n") == ["n 1", "n 2", "n 3"]
    assert texts("~SEQ(i, 5, -2, 1) n $i\n") == ["n 5", "n 3", "n 1"]
    assert texts("~SEQx(i, 9, 11) n $i\n") == ["n 9", "n a", "n b"]
    assert texts("~LST(i, a, b) n $i\n") == ["n a", "n b"]
    assert texts("~LST({a, b}, {1, 2}, {3}) n ${a}-$b\n") == ["n 1-2", "n 3-"]
    # A bare $NAME must be followed by a blank, ",", ")" or the end of the line.
    assert texts("$a=1\nn $a-x\n") == ["n $a-x"]
    assert texts("$N=2\n~SEQ(i, $N) n $i\n") == ["n 1", "n 2"]


def test_seq_errors() -> None:
    _, r = read("~SEQ(i, 1, 0, 3) x\n~SEQx(i, -1, 2) x\n~LST(i, a b c) x\n")
    assert [d.message for d in r.diagnostics] == [
        "Invalid ~SEQ values '~SEQ(i, 1, 0, 3) x'",
        "Invalid ~SEQ specification '~SEQ(i, 1, 0, 3) x'",
        "~SEQx is only valid for positive numbers '~SEQx(i, -1, 2) x'",
        "Invalid ~SEQ specification '~SEQx(i, -1, 2) x'",
        "Invalid ~LST specification '~LST(i, a b c) x'",
    ]


def test_includes_relative_to_the_including_file() -> None:
    files = {
        "/etc/keepalived/conf.d/a.conf": "in-a\ninclude sub/*.conf\n",
        "/etc/keepalived/conf.d/sub/b.conf": "in-b\n",
        "/etc/keepalived/conf.d/sub/c.conf": "in-c ${_PWD}\n",
    }
    lines, r = read("first\ninclude conf.d/*.conf\nlast\n", files)
    assert [(ln.file.rsplit("/", 1)[1], ln.line, ln.text) for ln in lines] == [
        ("keepalived.conf", 1, "first"),
        ("a.conf", 1, "in-a"),
        ("b.conf", 1, "in-b"),
        ("c.conf", 1, "in-c /etc/keepalived/conf.d/sub"),
        ("keepalived.conf", 3, "last"),
    ]
    assert r.diagnostics == []


def test_include_after_conditional_and_parameter() -> None:
    files = {"/etc/keepalived/x.conf": "from-x\n"}
    assert texts("$D=/etc/keepalived\ninclude ${D}/x.conf\n", files=files) == ["from-x"]
    assert texts("@lb include x.conf\n", files=files, config_id="lb") == ["from-x"]


def test_include_variants() -> None:
    files = {"/etc/keepalived/d/a.conf": "a\n", "/etc/keepalived/d/.keep": ""}

    def levels(line: str) -> list[tuple[str, str]]:
        return [(d.level.name, d.message) for d in read(line + "\n", files)[1].diagnostics]

    assert levels("include nothing.conf") == [("OK", "Config files missing 'nothing.conf'.")]
    assert levels("includem nothing.conf") == [
        ("FILE_NOT_FOUND", "Config files missing 'nothing.conf'.")
    ]
    assert levels("includem d/*.none") == []
    assert levels("includew d/*.none") == [
        ("FILE_NOT_FOUND", "No config files matched 'd/*.none'.")
    ]
    assert levels("includeb d/{a,b}.conf") == [
        ("FILE_NOT_FOUND", 'Some config files missing: "d/{a,b}.conf".')
    ]
    assert levels("include d/{a,b}.conf") == [("OK", 'Some config files missing: "d/{a,b}.conf".')]
    assert levels("includer d") == [
        ("FILE_NOT_FOUND", "Configuration file 'd/' is a directory - skipping")
    ]


def test_unterminated_quote_is_reported() -> None:
    _, r = read('notify_up "/bin/x\n')
    assert r.diagnostics[0].message == "Unterminated quote 'notify_up \"/bin/x'"
