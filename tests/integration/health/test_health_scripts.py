"""MISC_CHECK scripts (exit codes, misc_dynamic, timeout, user) and
keepalived's script-security check, FILE_CHECK reading."""

from __future__ import annotations

import asyncio
import os
import shutil
import stat
import tempfile
import time
from pathlib import Path

import pytest
from health_servers import context, params

from pylvs.health.checkers.file import FileChecker
from pylvs.health.checkers.misc import MiscChecker
from pylvs.health.params import FileSpec, MiscSpec, ScriptParams
from pylvs.health.result import ProbeResult
from pylvs.health.scripts import UserId, resolve_user, run_script
from pylvs.health.security import (
    SC_EXECUTABLE,
    SC_INHIBIT,
    SC_INSECURE,
    SC_ISSCRIPT,
    SC_NOTFOUND,
    check_script_secure,
    misc_script_disabled_line,
    security_violation_line,
)


def script(tmp_path: Path, body: str, name: str = "check.sh") -> str:
    path = tmp_path / name
    path.write_text("#!/bin/sh\n" + body + "\n")
    path.chmod(0o755)
    return str(path)


def misc(argv: tuple[str, ...], dynamic: bool = False, timeout: float | None = 2.0) -> ProbeResult:
    spec = MiscSpec(ScriptParams(argv), timeout=timeout, dynamic=dynamic)
    return asyncio.run(MiscChecker(params("MISC_CHECK", spec), context(80)).probe(0))


def test_exit_codes(tmp_path: Path) -> None:
    path = script(tmp_path, 'exit "$1"')
    assert misc((path, "0")) == ProbeResult(ok=True, exit_status=0)
    assert misc((path, "1")) == ProbeResult(ok=False, exit_status=1)
    assert misc((path, "5")) == ProbeResult(ok=False, exit_status=5)
    assert misc((path, "5"), dynamic=True) == ProbeResult(ok=True, exit_status=5, weight=3)
    assert misc((path, "1"), dynamic=True).ok is False


def test_timeout_sends_sigterm_to_the_group(tmp_path: Path) -> None:
    marker = tmp_path / "child-alive"
    path = script(tmp_path, f"(sleep 30; touch {marker}) & sleep 30")
    result = misc((path,), timeout=0.3)
    # SIGTERM was enough: no SIGKILL 2 s later
    assert result.timed_out and result.exit_status is None and result.signal == 15


@pytest.mark.slow
def test_sigterm_ignored_then_sigkill_after_two_seconds(tmp_path: Path) -> None:
    path = script(tmp_path, "trap '' TERM; sleep 30")
    t = time.monotonic()
    result = misc((path,), timeout=0.2)
    elapsed = time.monotonic() - t
    assert result.timed_out and result.signal == 9
    assert 2.0 < elapsed < 6.0


def test_misc_timeout_defaults_to_the_virtual_servers_delay_loop(tmp_path: Path) -> None:
    spec = MiscSpec(ScriptParams((script(tmp_path, "exit 0"),)))
    checker = MiscChecker(params("MISC_CHECK", spec), context(80))
    assert checker.timeout == 60.0


def test_a_script_that_cannot_run_counts_as_exit_0(tmp_path: Path) -> None:
    outcome = asyncio.run(run_script((str(tmp_path / "missing"),)))
    assert outcome.exit_status == 0
    assert outcome.logs[0].startswith(f"Error exec-ing command '{tmp_path / 'missing'}', error 2")


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
def test_script_runs_as_the_configured_user() -> None:
    nobody = resolve_user("nobody")
    assert nobody is not None
    # pytest's tmp_path sits under a 0700 directory nobody cannot enter
    where = Path(tempfile.mkdtemp(prefix="pylvs-health-"))
    try:
        where.chmod(0o777)
        out = where / "id"
        path = script(where, f"id -u > {out}")
        asyncio.run(run_script((path,), nobody, 5.0))
        assert out.read_text().strip() == str(nobody.uid)
    finally:
        shutil.rmtree(where)


ROOT = UserId(0, 0)


@pytest.mark.skipif(os.geteuid() != 0, reason="the root-owned path checks need root")
def test_script_security(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    safe = script(tmp_path, "exit 0", "safe.sh")
    check = check_script_secure((safe,), ROOT, True)
    assert check.flags == SC_ISSCRIPT | SC_EXECUTABLE and check.runnable

    unsafe_dir = tmp_path / "open"
    unsafe_dir.mkdir()
    unsafe_dir.chmod(0o777)  # world-writable, no sticky bit
    unsafe = script(unsafe_dir, "exit 0", "x.sh")
    check = check_script_secure((unsafe,), ROOT, True)
    assert check.flags & SC_INHIBIT and check.flags & SC_INSECURE and not check.runnable
    assert check.logs == (f"Unsafe permissions found for script '{unsafe}' - disabling.",)
    assert misc_script_disabled_line((unsafe, "a"), check) == (
        f"Disabling misc script '{unsafe}' 'a' due to insecure"
    )
    # without enable_script_security it only warns
    check = check_script_secure((unsafe,), ROOT, False)
    assert check.runnable and check.logs == (f"Unsafe permissions found for script '{unsafe}'.",)
    assert security_violation_line(check.flags, False) == (
        "SECURITY VIOLATION - check scripts are being executed but script_security not enabled."
        " There are insecure scripts."
    )
    assert security_violation_line(check.flags, True) is None

    writable = script(tmp_path, "exit 0", "w.sh")
    os.chmod(writable, 0o757)
    assert not check_script_secure((writable,), ROOT, True).runnable

    missing = check_script_secure((str(tmp_path / "nope"),), ROOT, True)
    assert missing.flags == SC_NOTFOUND
    assert misc_script_disabled_line((str(tmp_path / "nope"),), missing) == (
        f"Disabling misc script '{tmp_path / 'nope'}' since not found/accessible"
    )

    nonexec = tmp_path / "plain.sh"
    nonexec.write_text("exit 0\n")
    nonexec.chmod(stat.S_IRUSR | stat.S_IWUSR)
    check = check_script_secure((str(nonexec),), UserId(65534, 65534), True)
    assert not check.runnable
    assert check.logs == (
        f"WARNING - script '{nonexec}' is not executable for uid:gid 65534:65534 - disabling.",
    )


def test_file_checker_reads_values(tmp_path: Path) -> None:
    path = tmp_path / "weight"
    checker = FileChecker(params("FILE_CHECK", FileSpec(str(path), weight=2)), context(80))
    assert asyncio.run(checker.probe(0)).file_value == 0  # missing = 0
    path.write_text("-3\n")
    assert asyncio.run(checker.probe(0)).file_value == -3
