"""`make demo`'s walk-through, as a script runs it (`pylvs demo --once`)."""

from __future__ import annotations

import os
import subprocess

from backends import free_port
from conftest import BIN


def test_demo_once() -> None:
    port = free_port("127.0.0.100")
    env = {k: v for k, v in os.environ.items() if k != "PYLVS_SOCKET"}
    p = subprocess.run(
        [str(BIN / "pylvs"), "demo", "--once", "--port", str(port)],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert f"$ pylvsadm -A -t 127.0.0.100:{port} -s wrr" in out
    assert "(web1: 6, web2: 4 — wrr 3:2)" in out
    stats = out.split("$ pylvsadm -Ln --stats\n")[1].splitlines()
    assert stats[3].split()[:3] == ["TCP", f"127.0.0.100:{port}", "10"]
    assert stats[4].split()[1:3] == [f"127.0.0.11:{port}", "6"]
