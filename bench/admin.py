"""Admin-path performance: pylvsadm against a pylvs daemon (--dataplane none).
Not a test. Issue #3 targets: restoring 10,000 services with 10 real servers
each under 5 s, and `pylvsadm -Ln` of that table under 2 s.

    .venv/bin/python bench/admin.py [--services 10000] [--dests 10]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def rules(services: int, dests: int) -> str:
    lines = []
    for s in range(services):
        vip = f"10.{100 + s // 62500}.{(s // 250) % 250}.{s % 250 + 1}"
        lines.append(f"-A -t {vip}:80 -s wlc")
        lines.extend(
            f"-a -t {vip}:80 -r 192.168.{d}.{s % 250 + 1}:80 -m -w 1" for d in range(dests)
        )
    return "\n".join(lines) + "\n"


def wait_socket(path: str) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return
        except OSError:
            time.sleep(0.05)
        finally:
            s.close()
    raise RuntimeError("daemon did not start")


def timed(args: list[str], env: dict[str, str], stdin: str | None = None) -> float:
    t = time.perf_counter()
    p = subprocess.run(args, input=stdin, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t
    if p.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {p.stderr[:500]}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--services", type=int, default=10_000)
    ap.add_argument("--dests", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "pylvs.sock")
        env = {**os.environ, "PYLVS_SOCKET": sock}
        daemon = subprocess.Popen(
            [str(BIN / "pylvs"), "run", "--dataplane", "none"], env=env, stderr=subprocess.DEVNULL
        )
        try:
            wait_socket(sock)
            adm = str(BIN / "pylvsadm")
            rtt = [
                timed([adm, "-A", "-t", f"10.9.{i // 250}.{i % 250 + 1}:80", "-s", "rr"], env)
                for i in range(args.rounds)
            ]
            timed([adm, "-C"], env)
            text = rules(args.services, args.dests)
            n = args.services * (1 + args.dests)
            restore = timed([adm, "-R"], env, text)
            listing = timed([adm, "-Ln"], env)
            save = timed([str(BIN / "pylvsadm-save"), "-n"], env)
        finally:
            daemon.terminate()
            daemon.wait(10)
    print(f"pylvsadm -A round trip (process start included), median of {args.rounds}: "
          f"{statistics.median(rtt) * 1000:.1f} ms")  # fmt: skip
    print(f"restore {args.services:,} services x {args.dests} dests ({n:,} lines): {restore:.2f} s "
          f"(target < 5 s) = {n / restore:,.0f} lines/s")  # fmt: skip
    print(f"pylvsadm -Ln of that table: {listing:.2f} s (target < 2 s)")
    print(f"pylvsadm-save -n of that table: {save:.2f} s")


if __name__ == "__main__":
    main()
