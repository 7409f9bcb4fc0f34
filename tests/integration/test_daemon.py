"""pylvs run as a process: its control socket, signals, rules at start and
stop, many clients at once, and bad input on the wire."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import threading
from pathlib import Path

from conftest import BIN, DaemonProc, run_tool, start_daemon


def raw(path: str, payload: bytes) -> list[dict[str, object]]:
    """Send raw bytes; return every reply line until the daemon stops talking."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(path)
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return [json.loads(line) for line in data.splitlines()]


def test_socket_is_private_and_single(daemon: DaemonProc, tmp_path: Path) -> None:
    mode = os.stat(daemon.socket).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
    second = subprocess.run(
        [str(BIN / "pylvs"), "run", "--dataplane", "none", "--socket", daemon.socket],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert second.returncode == 1
    assert "another pylvs daemon is listening on" in second.stderr
    assert daemon.adm("-Ln").rc == 0  # the first one is untouched


def test_stale_socket_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "pylvs.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))  # bound, never listening: stale
    s.close()
    d = start_daemon(tmp_path)
    try:
        assert d.adm("-Ln").rc == 0
    finally:
        d.stop()


def test_no_daemon_says_so_like_ipvsadm(tmp_path: Path) -> None:
    env = {**os.environ, "PYLVS_SOCKET": str(tmp_path / "none.sock")}
    r = run_tool("pylvsadm", ["-Ln"], env)
    assert r.rc == 2
    lines = r.err.splitlines()
    assert lines[0].startswith("Can't initialize ipvs: ")
    assert lines[1] == "Are you sure that IP Virtual Server is built in the kernel or as module?"
    assert "pylvs run" in lines[2]
    help_text = run_tool("pylvsadm", ["-h"], env)
    assert help_text.rc == 0 and help_text.out.startswith("ipvsadm v1.31 2019/12/24")


def test_sigterm_saves_and_restore_loads(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    d = start_daemon(tmp_path, "--save-on-exit", str(rules))
    assert d.adm("-A", "-t", "10.0.1.100:80", "-s", "wrr").rc == 0
    assert d.adm("-a", "-t", "10.0.1.100:80", "-r", "10.0.1.11:80", "-m", "-w", "3").rc == 0
    assert d.stop(signal.SIGTERM) == 0
    assert not os.path.exists(d.socket)
    assert rules.read_text() == (
        "-A -t 10.0.1.100:80 -s wrr\n-a -t 10.0.1.100:80 -r 10.0.1.11:80 -m -w 3\n"
    )
    d2 = start_daemon(tmp_path, "--restore", str(rules), name="second.sock")
    try:
        assert d2.adm("-S", "-n").out == rules.read_text()
    finally:
        assert d2.stop(signal.SIGINT) == 0


def test_many_clients_at_once(daemon: DaemonProc) -> None:
    from pylvs.api.client import Client
    from pylvs.api.wire import op_to_wire
    from pylvs.core.model import DestSpec, ServiceKey, ServiceSpec
    from pylvs.core.ops import AddDest, AddService

    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            with Client(daemon.socket) as c:
                for i in range(40):
                    key = ServiceKey(2, 6, 0x0A000000 + n * 256 + i, 80)
                    ops = [AddService(ServiceSpec.make(key, "rr"))] + [
                        AddDest(key, DestSpec(2, 0x0A640000 + j + 1, 80)) for j in range(3)
                    ]
                    c.call("apply", ops=[op_to_wire(o) for o in ops])
                    c.call("get-services")
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    saved = daemon.adm("-S", "-n").out.splitlines()
    assert len([x for x in saved if x.startswith("-A")]) == 320
    assert len([x for x in saved if x.startswith("-a")]) == 960


def test_bad_messages_change_nothing(daemon: DaemonProc) -> None:
    assert daemon.adm("-A", "-t", "10.0.1.100:80").rc == 0
    before = daemon.adm("-S", "-n").out
    replies = raw(
        daemon.socket,
        b"not json\n"
        b"[]\n"
        b'{"v": 2, "cmd": "get-info"}\n'
        b'{"cmd": "nope"}\n'
        b'{"cmd": "apply", "ops": [{"op": "new-service", "service": {"protocol": "tcp", "addr": "10.0.1.100", "port": 99999}}]}\n'
        b'{"cmd": "apply", "ops": [{"op": "flush"}, {"op": "new-dest", "service": {"protocol": "tcp", "addr": "1.2.3.4", "port": 80}, "dest": {"addr": "10.0.0.1", "port": 80}}]}\n'
        b'{"cmd": "apply", "ops": "x"}\n'
        b"\xff\xfe\n",
    )
    assert len(replies) == 8 and not any(r["ok"] for r in replies)
    messages = [r["error"]["message"] for r in replies]  # type: ignore[index]
    assert "field 'port': 99999 is out of range 0..65535" in messages[4]
    assert messages[5] == "Service not defined"  # the flush before it was not applied
    assert daemon.adm("-S", "-n").out == before


def test_oversized_message_is_refused(daemon: DaemonProc) -> None:
    from pylvs.api import MAX_MESSAGE

    replies = raw(daemon.socket, b"x" * (MAX_MESSAGE + 10) + b"\n")
    assert replies[0]["error"]["errno"] == 90  # type: ignore[index]
    assert daemon.adm("-Ln").rc == 0
