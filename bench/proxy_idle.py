"""Proxy plane: memory and CPU of idle connections. Not a test.
Issue #4 target: at most 10 KB of daemon memory per idle connection.

    .venv/bin/python bench/proxy_idle.py [--conns 4000]

Opens N client connections through a pylvs daemon on the proxy plane to a
local backend that holds them open, and reports the daemon's resident
memory growth per connection (each idle flow is two sockets in the daemon,
one entry in the core's table, two protocol objects) and its CPU time while
they sit idle.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BIN = Path(sys.executable).parent
VIP = "127.0.0.100"


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def holder(listener: socket.socket, held: list[socket.socket], stop: threading.Event) -> None:
    listener.settimeout(0.2)
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        held.append(conn)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--conns", type=int, default=4000)
    ap.add_argument("--idle-seconds", type=float, default=10.0)
    args = ap.parse_args()
    backend = socket.socket()
    backend.bind(("127.0.0.11", 0))
    backend.listen(4096)
    bport = backend.getsockname()[1]
    held: list[socket.socket] = []
    stop = threading.Event()
    threading.Thread(target=holder, args=(backend, held, stop), daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        sock = os.path.join(tmp, "pylvs.sock")
        env = {**os.environ, "PYLVS_SOCKET": sock}
        daemon = subprocess.Popen(
            [str(BIN / "pylvs"), "run", "--dataplane", "proxy"], env=env, stderr=subprocess.DEVNULL
        )
        clients: list[socket.socket] = []
        try:
            while not os.path.exists(sock):
                time.sleep(0.05)
            time.sleep(0.3)
            with socket.socket() as probe:
                probe.bind((VIP, 0))
                port = probe.getsockname()[1]
            adm = str(BIN / "pylvsadm")
            subprocess.run([adm, "-A", "-t", f"{VIP}:{port}", "-s", "rr"], env=env, check=True)
            subprocess.run(
                [adm, "-a", "-t", f"{VIP}:{port}", "-r", f"127.0.0.11:{bport}", "-m"],
                env=env,
                check=True,
            )
            time.sleep(1.0)
            before = rss_kb(daemon.pid)
            for i in range(args.conns):
                c = socket.socket()
                c.bind((f"127.0.{10 + i // 250}.{i % 250 + 1}", 0))
                c.connect((VIP, port))
                clients.append(c)
            deadline = time.monotonic() + 30
            while len(held) < args.conns and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.0)
            after = rss_kb(daemon.pid)
            c0 = cpu_s(daemon.pid)
            time.sleep(args.idle_seconds)
            c1 = cpu_s(daemon.pid)
        finally:
            for c in clients:
                c.close()
            daemon.terminate()
            daemon.wait(10)
            stop.set()
    n = len(held)
    print(f"{n} idle connections through the proxy plane")
    print(
        f"daemon RSS: {before} KB before, {after} KB after: {(after - before) / n:.2f} KB per idle connection (target <= 10 KB)"
    )
    print(f"daemon CPU while idle: {(c1 - c0) / args.idle_seconds * 100:.2f}% of a core "
          f"= {(c1 - c0) / args.idle_seconds * 1000 / (n / 1000):.3f} ms/s per 1,000 idle connections")  # fmt: skip


if __name__ == "__main__":
    main()
