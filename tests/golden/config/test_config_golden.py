"""Golden corpus of keepalived configurations (see config_harness.py).

``PYLVS_UPDATE_GOLDEN=1`` rewrites the expected files;
``PYLVS_RECORD_KEEPALIVED=1`` (with keepalived installed) records what
``keepalived -t`` says about each case into keepalived-2.2.7/.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from config_harness import CASES, EXPECTED, RECORDED, case_names, case_options, load_case, render

from pylvs.config import Level

NAMES = case_names()


@pytest.mark.parametrize("name", NAMES)
def test_golden(name: str) -> None:
    text = render(name)
    path = EXPECTED / f"{name}.txt"
    if os.environ.get("PYLVS_UPDATE_GOLDEN"):
        EXPECTED.mkdir(exist_ok=True)
        path.write_text(text)
    assert text == path.read_text()


def test_corpus_is_complete() -> None:
    assert len(NAMES) >= 18
    assert {p.stem for p in EXPECTED.glob("*.txt")} == set(NAMES)


# Where keepalived 2.2.7 (Debian 12) and pylvs are meant to differ.
KNOWN_DIFFERENCES = {
    "basic_http": "VRRP is not validated yet (keepalived checks the interfaces)",
    "vrrp_kept": "VRRP is not validated yet (keepalived checks the interfaces)",
    "ssl_get": "sni_name is newer than 2.2.7",
    "params_env": "${_ENV} is newer than 2.2.7",
    "syntax_errors": (
        "keepalived stops at the first keyword missing its value, and its parent "
        "pass also reports the lines of blocks it does not interpret"
    ),
}

_PREFIX = re.compile(r"^\((?:.*?: )?Line \d+\) ")


def _recorded(name: str) -> tuple[int, list[str]]:
    lines = (RECORDED / f"{name}.txt").read_text().splitlines()
    return int(lines[0].split()[1]), lines[1:]


@pytest.mark.parametrize("name", [n for n in NAMES if n not in KNOWN_DIFFERENCES])
def test_same_as_keepalived(name: str) -> None:
    """Status and messages of ``keepalived -t`` (recorded from 2.2.7) on the
    same files, scripts absent as they were on the recording machine."""
    status, messages = _recorded(name)
    result = load_case(name, as_recorded=True)
    ours = {d.message for d in result.diagnostics if d.level != Level.LOG}
    assert result.status == status
    for message in messages:
        assert _PREFIX.sub("", message) in ours


@pytest.mark.skipif(
    not os.environ.get("PYLVS_RECORD_KEEPALIVED") or shutil.which("keepalived") is None,
    reason="records keepalived's own output on demand",
)
@pytest.mark.parametrize("name", NAMES)
def test_record_keepalived(name: str) -> None:
    opts = case_options(name)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "keepalived"
        shutil.copytree(CASES, root)
        cmd = ["keepalived", "-t", "-f", str(root / f"{name}.conf")]
        cmd += ["-p", f"{tmp}/p.pid", "-r", f"{tmp}/r.pid", "-c", f"{tmp}/c.pid"]
        if opts.config_id:
            cmd += ["-i", opts.config_id]
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **opts.env}
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=20, env=env)
            status, stderr = proc.returncode, proc.stderr
        except subprocess.TimeoutExpired:
            status, stderr = -1, ""
    seen: dict[str, None] = {}
    for line in stderr.splitlines():
        seen.setdefault(_PREFIX.sub("", line) if line.startswith("(") else line, None)
    RECORDED.mkdir(exist_ok=True)
    (RECORDED / f"{name}.txt").write_text(f"status {status}\n" + "".join(f"{m}\n" for m in seen))
