"""Background processes in a lab namespace: start one and wait until it
serves, tell whether a recorded one still runs, stop one by its pid.

Processes start through ``ip netns exec NS python -m MODULE ...``; ``ip``
execs the command in place, so the pid Popen returns is the program's own.
Each runs in its own session (a terminal's Ctrl-C does not reach it), with
stdin from /dev/null and stdout+stderr to a log file under /run/pylvs-lab/.
Only recorded pids whose start time still matches are ever signalled.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import FrameType

from pylvs.lab.state import ProcRecord, proc_starttime

__all__ = ["ProcessFailed", "alive", "log_tail", "ready", "socket_answers", "start", "stop"]

READY_TIMEOUT = 15.0


class ProcessFailed(RuntimeError):
    pass


def log_tail(path: str, lines: int = 8) -> str:
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def socket_answers(path: str) -> bool:
    """Does the Unix socket at ``path`` accept a connection?"""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError:
        return False
    finally:
        s.close()
    return True


def start(
    *,
    name: str,
    node: str,
    netns: str,
    module: str,
    args: Sequence[str],
    log: str,
    ready: str = "fd",
    ready_socket: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = READY_TIMEOUT,
) -> ProcRecord:
    """Start ``python -m module *args`` in ``netns`` and return once it
    serves: ``ready="fd"`` waits for ``ready`` on the pipe named by the
    ``--ready-fd`` argument it is given; ``ready="socket"`` waits until the
    Unix socket ``ready_socket`` accepts. Raises ProcessFailed (after
    killing the process) if it exits or is not ready within ``timeout``."""
    argv = [sys.executable, "-m", module, *args]
    read_fd = write_fd = -1
    pass_fds: tuple[int, ...] = ()
    if ready == "fd":
        read_fd, write_fd = os.pipe()
        argv += ["--ready-fd", str(write_fd)]
        pass_fds = (write_fd,)
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", netns, *argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            pass_fds=pass_fds,
            cwd="/",  # `python -m` puts the cwd first on sys.path: keep stray modules out
            env=dict(env) if env is not None else None,
        )
    if write_fd >= 0:
        os.close(write_fd)
    record = ProcRecord(
        name=name,
        node=node,
        netns=netns,
        pid=proc.pid,
        starttime=proc_starttime(proc.pid) or 0,
        argv=argv,
        log=log,
    )
    try:
        if ready == "fd":
            ok = _wait_fd(read_fd, proc, timeout)
        else:
            assert ready_socket is not None
            ok = _wait_socket(ready_socket, proc, timeout)
    finally:
        if read_fd >= 0:
            os.close(read_fd)
    if not ok:
        code = proc.poll()
        if code is None:
            proc.kill()
            proc.wait(timeout=5)
            why = f"not ready after {timeout:g}s"
        else:
            why = f"exited with status {code}"
        tail = log_tail(log)
        raise ProcessFailed(
            f"{name} in {netns} {why}" + (f"; its log ({log}) ends:\n{tail}" if tail else "")
        )
    return record


def ready(ready_fd: int | None) -> None:
    """The started program's side of ``start(ready="fd")``, called once it
    serves: from now on SIGTERM exits through SystemExit (``finally``
    clauses run), and "ready" goes down the ``--ready-fd`` pipe, if any."""

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    if ready_fd is not None:
        os.write(ready_fd, b"ready\n")
        os.close(ready_fd)


def _wait_fd(fd: int, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    data = b""
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([fd], [], [], min(left, 0.2))
        if readable:
            chunk = os.read(fd, 64)
            if not chunk:  # every writer closed: it exited (or closed the fd) without "ready"
                return b"ready" in data
            data += chunk
            if b"ready" in data:
                return True
        elif proc.poll() is not None:
            return False
    return False


def _wait_socket(path: str, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if socket_answers(path):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def alive(record: ProcRecord) -> bool:
    """Is the recorded process (same pid, same start time) still running?"""
    started = proc_starttime(record.pid)
    return started is not None and started == record.starttime


def stop(record: ProcRecord, timeout: float = 3.0) -> bool:
    """SIGTERM the recorded process, SIGKILL it if it outlives ``timeout``.
    Returns True if it was running. Never signals a pid that is not the
    recorded process."""
    if not alive(record):
        return False
    try:
        os.kill(record.pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    if _gone(record, timeout):
        return True
    if alive(record):
        try:
            os.kill(record.pid, signal.SIGKILL)
        except ProcessLookupError:
            return True
        _gone(record, timeout)
    return True


def _gone(record: ProcRecord, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(record.pid)
        if not alive(record):
            return True
        time.sleep(0.02)
    return not alive(record)


def _reap(pid: int) -> None:
    """Collect the exit status if the process is our own child (lab up
    started it in this same process), so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
