"""Golden cases for pylvsadm: exact stdout, stderr and exit status of one
invocation each, as ipvsadm 1.31 gives them (cases/*.case, see cases/README)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ipvsadm_harness import Runner, load_case

CASES = sorted((Path(__file__).parent / "cases").glob("*.case"))


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path: Path) -> None:
    case = load_case(path)
    result = Runner(case).run()
    assert result.stderr == case.sections.get("stderr", "")
    assert result.stdout == case.sections.get("stdout", "")
    assert result.status == int(case.headers.get("status", "0"))
    if "op" in case.sections:
        assert result.op == case.sections["op"]


def test_there_are_cases() -> None:
    assert len(CASES) > 100


REFERENCE = Path("/work/shared/reference/ipvsadm-cli.md")
_PLACEHOLDERS = {
    "X": ".+",
    "NAME": "[a-z-]+",
    "OPTION": "[a-z-]+",
    "COMMAND": "[a-z-]+",
    "TUNTYPE": "[a-z]+",
    "PROG": "[^ ]+",
    "OPT": "[^ ]+",
}


@pytest.mark.skipif(not REFERENCE.exists(), reason="reference not on this machine")
def test_every_reference_message_has_a_case() -> None:
    """Each message listed in reference §4.2 is the stderr of some case."""
    text = REFERENCE.read_text(encoding="utf-8")
    block = text[text.index("### 4.2") : text.index("### 4.3")]
    block = block.split("```\n")[1]
    stderr = "\n".join(load_case(p).sections.get("stderr", "") for p in CASES)
    for line in block.splitlines():
        message = re.split(r"\s{2,}\(", line)[0].strip()
        pattern = re.escape(message)
        for word, rx in _PLACEHOLDERS.items():
            pattern = pattern.replace(word, rx)
        assert re.search(f"^{pattern}$", stderr, re.M), message
