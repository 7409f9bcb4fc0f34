"""``pylvs demo``: the guide's NAT setup, for real, on loopback, no root.

Starts a pylvs daemon on the proxy plane and two small real servers that
answer with their own name (the guide's Step 8), builds the guide's table
with pylvsadm (wrr 3:2 on VIP 127.0.0.100), sends the guide's ten requests,
shows who answered and ``pylvsadm -Ln --stats``, then keeps serving until
Ctrl-C (``--once``: exits after the walk-through).
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["add_parser"]

VIP = "127.0.0.100"
REAL_SERVERS = (("web1", "127.0.0.11", 3), ("web2", "127.0.0.12", 2))


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo", help="the guide's NAT load balancer on loopback (no root)")
    p.add_argument("--once", action="store_true", help="do the walk-through and exit")
    p.add_argument("--port", type=int, default=0, help="VIP port (default: 8080, or a free one)")
    p.set_defaults(func=run)


class _NameServer(http.server.ThreadingHTTPServer):
    daemon_threads = True


def _real_server(name: str, addr: str, port: int) -> _NameServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = f"{name}\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return None

    server = _NameServer((addr, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _free(addr: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((addr, port))
        except OSError:
            return False
    return True


def _pick_port(wanted: int) -> int:
    if wanted:
        return wanted
    if all(_free(a, 8080) for a in (VIP, *(s[1] for s in REAL_SERVERS))):
        return 8080
    with socket.socket() as s:
        s.bind((VIP, 0))
        return int(s.getsockname()[1])


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _adm(env: dict[str, str], *args: str, show: bool = True) -> str:
    if show:
        print("$ pylvsadm " + " ".join(shlex.quote(a) for a in args))
    p = subprocess.run(
        [_bin("pylvsadm"), *args], env=env, capture_output=True, text=True, check=False
    )
    if p.returncode != 0:
        raise RuntimeError(f"pylvsadm {' '.join(args)} failed: {p.stderr.strip()}")
    return p.stdout


def _get(port: int) -> str:
    conn = http.client.HTTPConnection(VIP, port, timeout=5)
    try:
        conn.request("GET", "/")
        return conn.getresponse().read().decode().strip()
    finally:
        conn.close()


def _wait_for(what: str, check: object, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not come up")


def run(args: argparse.Namespace) -> int:
    port = _pick_port(args.port)
    workdir = tempfile.mkdtemp(prefix="pylvs-demo-")
    sock = os.path.join(workdir, "pylvs.sock")
    env = {**os.environ, "PYLVS_SOCKET": sock}
    servers = [_real_server(name, addr, port) for name, addr, _ in REAL_SERVERS]
    log = open(os.path.join(workdir, "pylvs.log"), "wb")  # noqa: SIM115 - lives as long as the daemon
    daemon = subprocess.Popen(
        [_bin("pylvs"), "run", "--dataplane", "proxy", "--socket", sock], env=env, stderr=log
    )
    try:
        _wait_for("the pylvs daemon", lambda: _connects_unix(sock))
        print(f"pylvs daemon running on the proxy plane (control socket {sock})\n")
        _adm(env, "-A", "-t", f"{VIP}:{port}", "-s", "wrr")
        for _, addr, weight in REAL_SERVERS:
            _adm(env, "-a", "-t", f"{VIP}:{port}", "-r", f"{addr}:{port}", "-m", "-w", str(weight))
        print()
        print(_adm(env, "-Ln"), end="")
        _wait_for("the VIP listener", lambda: _listening(sock, f"TCP {VIP}:{port}"))
        print(f"\n$ for i in $(seq 1 10); do curl -s http://{VIP}:{port}/; done")
        answers = [_get(port) for _ in range(10)]
        print(" ".join(answers))
        counts = {name: answers.count(name) for name, _, _ in REAL_SERVERS}
        print(f"({', '.join(f'{n}: {c}' for n, c in counts.items())} — wrr 3:2)")
        # ipvsadm shows what the 2-second rate estimator last saw, as IPVS does.
        time.sleep(2.2)
        print("\n$ pylvsadm -Ln --stats")
        print(_adm(env, "-Ln", "--stats", show=False), end="")
        if args.once:
            return 0
        print(
            f"""
The load balancer keeps running until Ctrl-C. Try it by hand:

  export PYLVS_SOCKET={sock}
  curl http://{VIP}:{port}/
  {_bin("pylvsadm")} -Lnc                # the connection entries, IPVS style
  {_bin("pylvsadm")} -e -t {VIP}:{port} -r {REAL_SERVERS[1][1]}:{port} -m -w 0   # drain web2
  {_bin("pylvsadm")} -Ln --rate
"""
        )
        while daemon.poll() is None:
            time.sleep(0.5)
        print("the daemon stopped; see", os.path.join(workdir, "pylvs.log"), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print()
        return 0
    except RuntimeError as e:
        print(f"pylvs demo: {e}", file=sys.stderr)
        return 1
    finally:
        if daemon.poll() is None:
            daemon.terminate()
            try:
                daemon.wait(10)
            except subprocess.TimeoutExpired:
                daemon.kill()
        log.close()
        for s in servers:
            s.shutdown()
            s.server_close()


def _connects_unix(path: str) -> bool:
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(path)
    return True


def _listening(sock: str, what: str) -> bool:
    """Asks the daemon (a test connection would count as a client)."""
    from pylvs.api.client import Client

    with Client(sock) as c:
        listeners = c.call("get-info").get("listeners") or {}
    return bool(listeners.get(what) == "listening")
