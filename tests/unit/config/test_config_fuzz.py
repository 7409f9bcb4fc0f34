"""Whatever the text, loading returns a configuration and diagnostics — it
never raises — and every diagnostic says which file, line and keyword."""

from __future__ import annotations

from pathlib import Path
from random import Random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pylvs.config import (
    LoadOptions,
    MemoryReader,
    build_table,
    dump,
    dump_table,
    initial_table,
    load,
)
from pylvs.config.grammar import Block
from pylvs.config.kw_root import ROOT
from pylvs.config.state import LoadState

MAIN = "/etc/keepalived/keepalived.conf"
CASES = Path(__file__).parents[2] / "golden" / "config" / "cases"
CORPUS = {
    f"/etc/keepalived/{p.relative_to(CASES)}": p.read_text()
    for p in sorted(CASES.rglob("*"))
    if p.is_file()
}
SEEDS = [text for path, text in CORPUS.items() if path.endswith(".conf") and "/" not in path[16:]]


def _keywords(block: Block[LoadState], out: set[str]) -> set[str]:
    for name, kw in block.keywords.items():
        if name not in out:
            out.add(name)
            if kw.sub is not None:
                _keywords(kw.sub, out)
    return out


KEYWORDS = sorted(_keywords(ROOT, set()))
WORDS = [
    "{", "}", "{ }", '"', "'", '"a b"', "#", "!", "\\", "$X", "${X}", "$X=1", "${_RANDOM 1 3}",
    "${_ENV HOME}", "${_PWD}", "@a", "@^a", "~SEQ(i, 1, 3)", "~SEQx(i, 9, 11)", "~LST(i, a, b)",
    "include", "includer", "includew", "includes.d/*.conf", "*.conf", "{a,b}",
    "10.0.0.1", "10.0.0.1-5", "10.0.0.0/30", "2001:db8::1", "fe80::1", "0", "1", "80", "-1",
    "65536", "1.5", "3s", "TCP", "UDP", "NAT", "DR", "TUN", "type", "gue", "port", "csum",
    "rr", "wlc", "sh", "fwmark", "group", "inet6", "on", "off", "reverse", "/bin/true",
    "VI_1", "G1", "x" * 40,
]  # fmt: skip

token = st.sampled_from(KEYWORDS + WORDS)
line = st.lists(token, max_size=8).map(" ".join)
text_strategy = st.lists(line, max_size=40).map("\n".join)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    lines = text.split("\n")
    for _ in range(draw(st.integers(1, 6))):
        op = draw(st.sampled_from(["delete", "dup", "insert", "swap", "cut"]))
        if not lines:
            lines = [""]
        i = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[i]
        elif op == "dup":
            lines.insert(i, lines[i])
        elif op == "insert":
            lines.insert(i, draw(line))
        elif op == "swap":
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        else:
            cut = draw(st.integers(0, max(0, len(lines[i]))))
            lines[i] = lines[i][:cut]
    return "\n".join(lines)


def check(text: str) -> None:
    reader = MemoryReader({**CORPUS, MAIN: text}, executables=["/bin/true"])
    options = LoadOptions(config_id="a", env={"HOME": "/root"}, rng=Random(0), config_test=True)
    result = load(MAIN, reader, options)
    for d in result.diagnostics:
        assert d.file and isinstance(d.file, str)
        assert isinstance(d.line, int) and d.line >= 0
        assert d.keyword and isinstance(d.keyword, str)
        assert d.message
    assert result.status in (0, 2, 4, 5, 6)
    dump(result.config)
    dump_table(build_table(result.config))
    dump_table(initial_table(result.config))


FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@given(text_strategy)
def test_random_text(text: str) -> None:
    check(text)


@FUZZ
@given(mutated())
def test_mutated_corpus(text: str) -> None:
    check(text)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_characters(text: str) -> None:
    check(text)
