"""Fixtures that run the real programs: a pylvs daemon on a temporary control
socket, and pylvsadm as a subprocess against it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pylvs.lab.procs import socket_answers as _answers

BIN = Path(sys.executable).parent


@dataclass
class Result:
    rc: int
    out: str
    err: str


@dataclass
class DaemonProc:
    socket: str
    proc: subprocess.Popen[bytes]
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    def adm(self, *args: str, stdin: str | None = None, prog: str = "pylvsadm") -> Result:
        return run_tool(prog, list(args), self.env, stdin)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.proc.wait(timeout=timeout)


def run_tool(
    prog: str, args: Sequence[str], env: dict[str, str], stdin: str | None = None
) -> Result:
    p = subprocess.run(
        [str(BIN / prog), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    return Result(p.returncode, p.stdout, p.stderr)


def start_daemon(
    tmp: Path, *extra: str, name: str = "pylvs.sock", dataplane: str = "none"
) -> DaemonProc:
    sock = str(tmp / name)
    env = {**os.environ, "PYLVS_SOCKET": sock}
    log = tmp / f"{name}.log"
    proc = subprocess.Popen(
        [str(BIN / "pylvs"), "run", "--dataplane", dataplane, *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    deadline = time.monotonic() + 15
    while not _answers(sock):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"daemon did not start: {log.read_text()}")
        time.sleep(0.05)
    return DaemonProc(sock, proc, log, env)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[DaemonProc]:
    d = start_daemon(tmp_path)
    yield d
    d.stop()


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[DaemonProc]:
    """A daemon on the proxy plane (no root needed)."""
    d = start_daemon(tmp_path, "--connect-timeout", "2", dataplane="proxy")
    yield d
    d.stop()
