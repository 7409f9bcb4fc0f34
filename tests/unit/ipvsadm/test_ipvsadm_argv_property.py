"""Properties of the argv parser on arbitrary input: it only ever raises
UsageError, and what it accepts always converts to an op or a listing."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.core.errors import UsageError
from pylvs.ipvsadm.argv import parse_argv
from pylvs.ipvsadm.command import command_to_op
from pylvs.ipvsadm.lookup import StaticResolver
from pylvs.ipvsadm.options import POPT_TABLE

RESOLVER = StaticResolver(
    hosts={"localhost": 0x7F000001, "web": 0x0A000001},
    services={("http", "tcp"): 80, ("domain", "udp"): 53},
)

_option_words = sorted(
    {f"--{o.long}" for o in POPT_TABLE if o.long} | {f"-{o.short}" for o in POPT_TABLE if o.short}
)
_values = [
    "10.0.0.1:80",
    "[2001:db8::1]:80",
    "2001:db8::1",
    "web:http",
    "localhost",
    "1",
    "0",
    "-1",
    "30",
    "rr",
    "sh",
    "mh",
    "flag-1,sh-port",
    ",",
    "master",
    "backup",
    "gue",
    "gre",
    "ipip",
    "224.0.0.81",
    "ff02::1",
    "255.255.255.0",
    "64",
    "",
    "-",
    "--",
    "!#:+",
    "x!#:+",
]
_word = st.one_of(
    st.sampled_from(_option_words),
    st.sampled_from(_values),
    st.builds(lambda a, b: a + b, st.sampled_from(_option_words), st.sampled_from(_values)),
    st.builds(lambda a, b: f"{a}={b}", st.sampled_from(_option_words), st.sampled_from(_values)),
    st.text(max_size=12),
)


@settings(max_examples=600)
@given(st.lists(_word, max_size=10), st.booleans(), st.booleans())
def test_parser_raises_only_usage_errors(args: list[str], stdin: bool, posix: bool) -> None:
    try:
        cmd = parse_argv("ipvsadm", args, RESOLVER, reading_stdin=stdin, posixly_correct=posix)
    except UsageError as err:
        assert isinstance(err.message, str)
        assert err.exit_status in (1, 2, 124, 139, 255)
        return
    if cmd.changes_table:
        command_to_op(cmd)
    else:
        assert cmd.name in ("list", "save", "restore", "help", "version")


@given(st.lists(st.text(), max_size=8))
def test_parser_on_any_text(args: list[str]) -> None:
    with contextlib.suppress(UsageError):
        parse_argv("ipvsadm", args, RESOLVER)


@given(st.lists(_word, max_size=8))
def test_parser_is_deterministic(args: list[str]) -> None:
    def run() -> object:
        try:
            return parse_argv("ipvsadm", args, RESOLVER)
        except UsageError as err:
            return (err.message, err.exit_status)

    assert run() == run()
