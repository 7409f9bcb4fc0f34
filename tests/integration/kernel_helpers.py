"""Helpers for the kernel data plane's integration tests (test_kernel_plane.py).

A :class:`KernelLab` is one ``pylvs lab up --mode MODE --dataplane kernel``
plus what the tests add inside the lab's namespaces (and remove again):
extra client addresses, a route on the router, and small servers on the
real servers. Every process a test starts is recorded by pid and killed by
that pid at teardown; nothing is ever signalled by name.

Traffic comes from a *client agent*: one Python process in ``lvs-client``
that takes JSON commands on stdin (one-shot HTTP GETs, keep-alive
connections held open, rate-limited bulk downloads checked by SHA-256, UDP
exchanges) so a test pays one interpreter start, not one per connection.
"""

from __future__ import annotations

import contextlib
import ctypes.util
import hashlib
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

from conftest import Result, run_tool

from pylvs.core.addr import AF_INET, IPPROTO_TCP, format_addr, parse_addr
from pylvs.core.conn import Conn, decode_key
from pylvs.core.ipvs import FORWARD, Ipvs
from pylvs.core.model import CONN_F_FWD_MASK, CONN_F_MASQ
from pylvs.core.tcpstate import ACK, FIN, SYN
from pylvs.lab.topology import (
    CLIENT_IP,
    DIRECTOR_IP,
    LAB_DIR,
    NODES,
    REAL_SERVERS,
    SOCKET,
    VIP,
)
from pylvs.runtime.rules import load_rules_text

CLIENT = CLIENT_IP
DIRECTOR = DIRECTOR_IP
WEB = REAL_SERVERS
NAME_OF = {ip: name for name, ip in WEB.items()}
# Client addresses the tests add: more of the client's /24, and one /24 the
# router is told to route to the client.
EXTRA_CLIENTS = [f"10.0.2.{i}" for i in range(51, 63)]
OTHER_NET_CLIENT = "10.0.3.50"
CLIENTS = [CLIENT, *EXTRA_CLIENTS]
# The tests' own TCP ports on the real servers (kernel_helpers.RS_SERVER), so
# that a test whose counts matter has a service, and real servers, of its own
# (a DR real server's port is the service's).
TCP_PORTS = range(8080, 8100)
UDP_PORT = 5353
METHOD_FLAG = {"nat": "-m", "dr": "-g", "tun": "-i"}
METHOD_NAME = {"nat": "Masq", "dr": "Route", "tun": "Tunnel"}


def two_servers(
    port: int,
    sched: str,
    flag: str,
    *,
    weights: tuple[int, int] = (1, 1),
    proto: str = "-t",
    rs_port: int | None = None,
) -> list[str]:
    """ipvsadm commands for one service on VIP:port with web1 and web2 (on
    ``rs_port``, by default the service's port) forwarded by ``flag``."""
    rs_port = port if rs_port is None else rs_port
    return [
        f"-A {proto} {VIP}:{port} -s {sched}",
        *(
            f"-a {proto} {VIP}:{port} -r {ip}:{rs_port} {flag} -w {w}"
            for ip, w in zip(WEB.values(), weights, strict=True)
        ),
    ]


# --- the deterministic byte stream of a bulk download ------------------------


def stream_digest(n: int, seed: int) -> str:
    """SHA-256 of the n bytes RS_SERVER sends for ``SEND n rate seed``."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    h = hashlib.sha256()
    sent = 0
    while sent < n:
        chunk = block[: min(len(block), n - sent)]
        h.update(chunk)
        sent += len(chunk)
    return h.hexdigest()


# --- programs run inside the lab's namespaces --------------------------------

# A real server's extra services:
# ``python -c RS_SERVER NAME UDP_BIND UDP_PORT TCP_PORT...``.
# TCP, on every TCP_PORT: ``SEND n rate seed\n`` -> its name and a newline,
# then n deterministic bytes at ``rate`` bytes/s (0: as fast as it can);
# ``GET ...`` -> HTTP/1.1 with keep-alive, the body as the lab's httpd's (its
# name first); anything else -> its name. UDP: echoes ``NAME:payload`` from
# UDP_BIND (the VIP for DR and TUN, so that replies leave from the VIP).
RS_SERVER = r"""
import hashlib, socket, socketserver, sys, threading, time
name, udp_bind, udp_port = sys.argv[1], sys.argv[2], int(sys.argv[3])
tcp_ports = [int(p) for p in sys.argv[4:]]

class H(socketserver.StreamRequestHandler):
    def handle(self):
        first = self.rfile.readline()
        words = first.split()
        if words[:1] == [b"GET"]:
            return self.http(first)
        if len(words) != 4 or words[0] != b"SEND":
            self.wfile.write(name.encode() + b"\n")
            return
        n, rate, seed = int(words[1]), int(words[2]), int(words[3])
        self.wfile.write(name.encode() + b"\n")
        self.wfile.flush()
        block = hashlib.sha256(str(seed).encode()).digest() * 2048
        sent, start = 0, time.monotonic()
        while sent < n:
            chunk = block[: min(len(block), n - sent)]
            self.connection.sendall(chunk)
            sent += len(chunk)
            if rate:
                ahead = sent / rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)

    def http(self, line):
        while line:
            close = False
            while True:
                h = self.rfile.readline()
                if h in (b"\r\n", b"\n", b""):
                    break
                if h.lower().startswith(b"connection:") and b"close" in h.lower():
                    close = True
            peer, local = self.connection.getpeername(), self.connection.getsockname()
            body = ("%s\nclient %s:%d\nserver %s:%d\n" % (name, peer[0], peer[1], local[0], local[1])).encode()
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            self.wfile.flush()
            if close:
                return
            line = self.rfile.readline()

class S(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

for port in tcp_ports:
    threading.Thread(target=S(("0.0.0.0", port), H).serve_forever, daemon=True).start()
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind((udp_bind, udp_port))
print("ready", flush=True)
while True:
    data, peer = udp.recvfrom(65536)
    udp.sendto(name.encode() + b":" + data, peer)
"""

# The client agent: ``python -c CLIENT_AGENT VIP``; one JSON command a line
# in, one JSON answer a line out.
CLIENT_AGENT = r"""
import hashlib, json, socket, sys, threading, time
VIP = sys.argv[1]
held, bulks = {}, {}
counter = [0]

def new_id():
    counter[0] += 1
    return counter[0]

def connect(src, port, timeout=5.0):
    s = socket.socket()
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((VIP, port))
    return s

def http_get(s, close):
    s.sendall(b"GET / HTTP/1.1\r\nHost: lab\r\n" + (b"Connection: close\r\n" if close else b"") + b"\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(4096)
        if not chunk:
            raise OSError("connection closed before the answer")
        buf += chunk
    head, _, body = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v)
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            break
        body += chunk
    return body.decode()

def op_get(src=None, port=80, timeout_s=5.0):
    s = connect(src, port, timeout_s)
    try:
        sport = s.getsockname()[1]
        body = http_get(s, True)
    finally:
        s.close()
    return {"name": body.split("\n")[0], "sport": sport, "body": body}

def op_open(src=None, port=80, timeout=5.0):
    s = connect(src, port, timeout)
    body = http_get(s, False)
    i = new_id()
    held[i] = s
    return {"id": i, "name": body.split("\n")[0], "sport": s.getsockname()[1], "body": body}

def op_ask(id):
    # Another request on a held keep-alive connection.
    body = http_get(held[id], False)
    return {"name": body.split("\n")[0], "body": body}

def op_close(id):
    held.pop(id).close()
    return {}

def bulk_run(b):
    try:
        s = connect(b["src"], b["port"], b["timeout"])
        b["sport"] = s.getsockname()[1]
        s.sendall(("SEND %d %d %d\n" % (b["size"], b["rate"], b["seed"])).encode())
        f = s.makefile("rb")
        b["name"] = f.readline().decode().strip()
        h = hashlib.sha256()
        while True:
            chunk = f.read1(65536)
            if not chunk:
                break
            h.update(chunk)
            b["bytes"] += len(chunk)
        b["sha"] = h.hexdigest()
        s.close()
    except Exception as e:
        b["error"] = repr(e)
    finally:
        b["done"] = True

def op_bulk(size, rate, seed=7, src=None, port=8080, timeout=6.0):
    i = new_id()
    b = {"src": src, "port": port, "size": size, "rate": rate, "seed": seed, "timeout": timeout,
         "bytes": 0, "done": False, "name": None, "sha": None, "error": None, "sport": None}
    bulks[i] = b
    threading.Thread(target=bulk_run, args=(b,), daemon=True).start()
    deadline = time.monotonic() + timeout
    while b["name"] is None and not b["done"] and time.monotonic() < deadline:
        time.sleep(0.01)
    return {"id": i, **{k: b[k] for k in ("name", "sport", "error")}}

def op_bulk_state(id):
    b = bulks[id]
    return {k: b[k] for k in ("bytes", "done", "name", "sha", "error", "sport")}

def op_udp(payloads, src=None, port=5353, timeout=2.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    s.bind((src or "0.0.0.0", 0))
    replies = []
    for p in payloads:
        s.sendto(p.encode(), (VIP, port))
        try:
            data, peer = s.recvfrom(65536)
            replies.append([data.decode(), peer[0], peer[1]])
        except socket.timeout:
            replies.append(None)
    sport = s.getsockname()[1]
    s.close()
    return {"sport": sport, "replies": replies}

OPS = {k[3:]: v for k, v in globals().items() if k.startswith("op_")}
for line in sys.stdin:
    req = json.loads(line)
    try:
        res = {"ok": True, **OPS[req.pop("op")](**req)}
    except Exception as e:
        res = {"ok": False, "error": repr(e)}
    print(json.dumps(res), flush=True)
"""


class AgentError(AssertionError):
    pass


class ClientAgent:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc

    def call(self, op: str, timeout: float = 15, **kw: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, **kw}) + "\n")
        self.proc.stdin.flush()
        if not select.select([self.proc.stdout], [], [], timeout)[0]:
            self.proc.kill()  # its late answer must not be taken for the next one's
            self.proc.wait(timeout=5)
            raise AgentError(f"client agent: no answer to {op} {kw} in {timeout}s")
        line = self.proc.stdout.readline()
        if not line:
            raise AgentError(f"client agent exited (rc {self.proc.poll()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def must(self, op: str, timeout: float = 15, **kw: Any) -> dict[str, Any]:
        r = self.call(op, timeout=timeout, **kw)
        if not r.get("ok"):
            raise AgentError(f"{op} {kw}: {r.get('error')}")
        return r

    def get(self, src: str | None = None, port: int = 80) -> str:
        return str(self.must("get", src=src, port=port)["name"])

    def fails(self, port: int, wait: float = 1.0, src: str | None = None) -> str:
        """A GET that must not be answered (within ``wait`` seconds); its error."""
        r = self.call("get", timeout=wait + 5, src=src, port=port, timeout_s=wait)
        assert not r["ok"], r
        return str(r["error"])

    def bulk_wait(self, ident: int, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            st = self.must("bulk_state", id=ident)
            if st["done"] or time.monotonic() > deadline:
                return st
            time.sleep(0.1)


# --- the lab ------------------------------------------------------------------


def skip_reason() -> str | None:
    """Why the kernel-plane lab cannot run here (None: it can)."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, nftables, NFQUEUE)"
    for tool in ("ip", "curl"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    if subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
        return "'ip netns' is unavailable here"
    for module in ("pyroute2", "netfilterqueue"):
        try:
            __import__(module)
        except ImportError:
            return f"needs the Python package {module} (pip install -e '.[kernel]')"
    if ctypes.util.find_library("nftables") is None:
        return "needs libnftables (the nftables package)"
    if os.path.exists(f"{LAB_DIR}/state.json") or any(
        os.path.exists(f"/run/netns/lvs-{n}") for n in NODES
    ):
        return "a pylvs lab is already up on this machine; the tests leave it alone"
    return None


def pylvs(*args: str, stdin: str | None = None) -> Result:
    return run_tool("pylvs", list(args), dict(os.environ), stdin)


@dataclass
class KernelLab:
    mode: str
    tmp: Path
    procs: list[subprocess.Popen[Any]] = field(default_factory=list)
    owned: bool = False  # our "lab up" made the lab: ours to take down
    _agent: ClientAgent | None = None

    # -- the director's table (pylvsadm straight at the lab daemon's socket)
    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "PYLVS_SOCKET": SOCKET}

    def adm(self, *args: str, stdin: str | None = None) -> Result:
        return run_tool("pylvsadm", list(args), self.env, stdin)

    def ok(self, *args: str, stdin: str | None = None) -> str:
        r = self.adm(*args, stdin=stdin)
        assert (r.rc, r.err) == (0, ""), f"pylvsadm {' '.join(args)}: rc {r.rc} {r.err}"
        return r.out

    def restore(self, lines: Sequence[str]) -> None:
        self.ok("-R", stdin="".join(line + "\n" for line in lines))

    def status(self) -> dict[str, Any]:
        r = run_tool("pylvs", ["status", "--json"], self.env)
        assert r.rc == 0, r.err
        data: dict[str, Any] = json.loads(r.out)
        return data

    def status_ok(self) -> bool:
        return run_tool("pylvs", ["status", "--json"], self.env).rc == 0

    def clear(self) -> None:
        """An empty table with IPVS's default timeouts. Flows of earlier
        tests stay (as IPVS's would): tests that compare connection counts
        use a service of their own."""
        self.ok("-C")
        self.ok("--set", "900", "120", "300")
        if self.mode == "dr":
            self.warm_neighbours()

    def warm_neighbours(self) -> None:
        """The director talks to each real server once, so it knows their
        MACs, as it would on any network that has been up for a while (the
        cold case has a test of its own)."""
        urls = [f"http://{ip}/" for ip in WEB.values()]
        self.ns("director", "curl", "-s", "-o", "/dev/null", "--max-time", "2", *urls)

    # -- the namespaces
    def ns(
        self, node: str, *argv: str, timeout: float = 20, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(
            ["ip", "netns", "exec", f"lvs-{node}", *argv],
            capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        if check:
            assert r.returncode == 0, f"{node}: {' '.join(argv)}: {r.stderr}"
        return r

    def spawn(self, node: str, argv: Sequence[str], log: str, **kw: Any) -> subprocess.Popen[Any]:
        """Start a process in lvs-NODE (recorded; killed by pid at teardown)."""
        out = open(self.tmp / log, "ab")  # noqa: SIM115 -- closed with the process
        p: subprocess.Popen[Any] = subprocess.Popen(
            ["ip", "netns", "exec", f"lvs-{node}", *argv],
            stdout=kw.pop("stdout", out), stderr=out, start_new_session=True, cwd="/", **kw,
        )  # fmt: skip
        out.close()
        self.procs.append(p)
        return p

    def kill(self, p: subprocess.Popen[Any], sig: int = signal.SIGKILL) -> None:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=5)

    def agent(self) -> ClientAgent:
        if self._agent is None or self._agent.proc.poll() is not None:
            p = self.spawn(
                "client", [sys.executable, "-c", CLIENT_AGENT, VIP], "client-agent.log",
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            self._agent = ClientAgent(p)
        return self._agent

    def start_rs_servers(self) -> None:
        udp_bind = "0.0.0.0" if self.mode == "nat" else VIP
        for name in WEB:
            p = self.spawn(
                name,
                [sys.executable, "-u", "-c", RS_SERVER, name, udp_bind, str(UDP_PORT),
                 *(str(p) for p in TCP_PORTS)],
                f"{name}-rs.log", stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
            assert p.stdout is not None
            ready = select.select([p.stdout], [], [], 10)[0] and p.stdout.readline()
            assert ready == "ready\n", (self.tmp / f"{name}-rs.log").read_text()

    def extend_client(self) -> None:
        for addr in [*EXTRA_CLIENTS, OTHER_NET_CLIENT]:
            self.ns("client", "ip", "addr", "add", f"{addr}/24", "dev", "eth0")
        self.ns("router", "ip", "route", "add", "10.0.3.0/24", "via", CLIENT)

    def wait_listed(
        self, want: dict[str, tuple[int, int]], service: str, timeout: float = 5
    ) -> str:
        """Until ``-Ln`` of ``service`` ("-t VIP:PORT", "-u VIP:PORT") shows
        (ActiveConn, InActConn) per real server as ``want``."""
        deadline = time.monotonic() + timeout
        while True:
            out = self.ok("-Ln", *service.split())
            got = listed_counts(out)
            if all(got.get(k) == v for k, v in want.items()) or time.monotonic() > deadline:
                return out
            time.sleep(0.05)

    def up(self) -> None:
        r = pylvs("lab", "up", "--mode", self.mode, "--dataplane", "kernel", "-q")
        # A failed "lab up" removes what it made; one that found a lab made
        # nothing: either way there is nothing here for "lab down" to remove.
        assert r.rc == 0, f"lab up --mode {self.mode} --dataplane kernel failed: {r.err}"
        self.owned = True
        self.extend_client()
        self.start_rs_servers()

    def down(self) -> None:
        for p in reversed(self.procs):
            self.kill(p)
        self.procs.clear()
        if self.owned:
            pylvs("lab", "down")
            self.owned = False


@contextlib.contextmanager
def kernel_lab(mode: str, tmp: Path) -> Iterator[KernelLab]:
    lab = KernelLab(mode, tmp)
    try:
        lab.up()
        yield lab
    finally:
        lab.down()


# --- what IPVS would do: the pure core, fed the same table and flows ------------


def _ip(text: str) -> int:
    return parse_addr(text)[1]


class Model:
    """The core (``pylvs.core.ipvs.Ipvs``) on its own, given the same
    ipvsadm commands and the same connections as the lab, in the same
    order: its choices are IPVS's (the approach of test_proxy_plane.py)."""

    def __init__(self, commands: Sequence[str] = ()) -> None:
        self.ipvs = Ipvs(Random(0))
        self.t0 = time.monotonic()
        self.apply(commands)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def apply(self, commands: Sequence[str]) -> None:
        text = "".join(c + "\n" for c in commands)
        assert load_rules_text(self.ipvs, text, self.now(), "model") == 0

    def connect(
        self, src: str, sport: int, vport: int, proto: int = IPPROTO_TCP, vip: str = VIP
    ) -> Conn | None:
        """A new flow's first packet (and, for TCP, the handshake); None
        when IPVS finds no destination."""
        ipvs, now = self.ipvs, self.now()
        verdict, conn = ipvs.process_in(
            AF_INET,
            proto,
            _ip(src),
            sport,
            _ip(vip),
            vport,
            now,
            SYN if proto == IPPROTO_TCP else 0,
        )
        if verdict != FORWARD or conn is None or conn.dest is None:
            return None
        if proto == IPPROTO_TCP:
            if self.nat(conn):
                ipvs.process_out(conn, now, SYN | ACK)
            ipvs.process_in(AF_INET, proto, _ip(src), sport, _ip(vip), vport, now, ACK)
        return conn

    def close(self, conn: Conn) -> None:
        """The client closes first (its FIN; for NAT the server's too)."""
        ipvs, now = self.ipvs, self.now()
        af, proto, caddr, cport, vaddr, vport = decode_key(conn.key)
        ipvs.process_in(af, proto, caddr, cport, vaddr, vport, now, FIN | ACK)
        if self.nat(conn):
            ipvs.process_out(conn, now, FIN | ACK)
        ipvs.process_in(af, proto, caddr, cport, vaddr, vport, now, ACK)

    @staticmethod
    def nat(conn: Conn) -> bool:
        return conn.flags & CONN_F_FWD_MASK == CONN_F_MASQ

    @staticmethod
    def name(conn: Conn | None) -> str | None:
        return None if conn is None else NAME_OF[format_addr(AF_INET, conn.daddr)]

    @staticmethod
    def dest(conn: Conn) -> str:
        return f"{format_addr(AF_INET, conn.daddr)}:{conn.dport}"

    def counts(self, vport: int, proto: int = IPPROTO_TCP) -> dict[str, tuple[int, int]]:
        """(ActiveConn, InActConn) per real server of VIP:vport."""
        for svc in self.ipvs.table:
            if svc.key.port == vport and svc.key.protocol == proto:
                return {
                    f"{format_addr(AF_INET, d.addr)}:{d.port}": (d.activeconns, d.inactconns)
                    for d in svc.dests
                }
        return {}


# --- reading pylvsadm's views ----------------------------------------------------


def listed_counts(listing: str) -> dict[str, tuple[int, int]]:
    """``-Ln``: real server address:port -> (ActiveConn, InActConn); the
    last service listing it wins (tests list one service at a time)."""
    out = {}
    for line in listing.splitlines():
        f = line.split()
        if len(f) == 6 and f[0] == "->" and f[1][0].isdigit():
            out[f[1]] = (int(f[4]), int(f[5]))
    return out


def stats_rows(listing: str) -> dict[str, list[int]]:
    """``-Ln --stats --exact``: service or real server -> [Conns, InPkts,
    OutPkts, InBytes, OutBytes]."""
    out = {}
    for line in listing.splitlines()[3:]:
        f = line.split()
        if f and f[0] == "->":
            out[f[1]] = [int(x) for x in f[2:7]]
        elif len(f) == 7:
            out[f"{f[0]} {f[1]}"] = [int(x) for x in f[2:7]]
    return out


@dataclass(frozen=True)
class ConnRow:
    proto: str
    expire: int  # seconds
    state: str
    source: str
    virtual: str
    dest: str


def conn_rows(listing: str) -> list[ConnRow]:
    """``-Lnc`` rows."""
    rows = []
    for line in listing.splitlines()[2:]:
        f = line.split()
        if len(f) != 6:
            continue
        mm, _, ss = f[1].partition(":")
        rows.append(ConnRow(f[0], int(mm) * 60 + int(ss), f[2], f[3], f[4], f[5]))
    return rows


# --- captures (tcpdump -w, read back here) ----------------------------------------


@dataclass(frozen=True)
class Frame:
    dst_mac: str
    src_mac: str
    ethertype: int
    ip: bytes  # the IP packet

    @property
    def ttl(self) -> int:
        return self.ip[8]

    @property
    def proto(self) -> int:
        return self.ip[9]

    @property
    def src(self) -> str:
        return ".".join(str(b) for b in self.ip[12:16])

    @property
    def dst(self) -> str:
        return ".".join(str(b) for b in self.ip[16:20])

    @property
    def inner(self) -> bytes:
        """The payload of an IPIP packet: the inner IP packet."""
        return self.ip[(self.ip[0] & 15) * 4 :]

    def ports(self, ip: bytes | None = None) -> tuple[int, int]:
        p = self.ip if ip is None else ip
        off = (p[0] & 15) * 4
        sport, dport = struct.unpack("!HH", p[off : off + 4])
        return sport, dport

    def tcp_flags(self, ip: bytes | None = None) -> int:
        p = self.ip if ip is None else ip
        return p[(p[0] & 15) * 4 + 13]


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def read_pcap(path: Path) -> list[Frame]:
    data = path.read_bytes()
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    frames = []
    off = 24
    while off + 16 <= len(data):
        _s, _u, incl, _orig = struct.unpack(endian + "IIII", data[off : off + 16])
        raw = data[off + 16 : off + 16 + incl]
        off += 16 + incl
        if len(raw) < 34:
            continue
        ethertype = struct.unpack("!H", raw[12:14])[0]
        frames.append(Frame(_mac(raw[0:6]), _mac(raw[6:12]), ethertype, raw[14:]))
    return frames


class Capture:
    """tcpdump on one interface of a lab node, written to a pcap file."""

    def __init__(self, lab: KernelLab, node: str, ifname: str, bpf: str) -> None:
        self.lab = lab
        stem = f"{node}-{ifname}-{time.monotonic_ns()}"
        self.path = lab.tmp / f"{stem}.pcap"
        self.proc = lab.spawn(
            node,
            [
                "tcpdump",
                "-i",
                ifname,
                "-n",
                "-U",
                "--immediate-mode",
                "-s",
                "256",
                "-w",
                str(self.path),
                bpf,
            ],
            f"{stem}.log",
        )
        log = lab.tmp / f"{stem}.log"
        deadline = time.monotonic() + 5
        # tcpdump says "listening on IFACE" once its socket is attached.
        while f"listening on {ifname}" not in log.read_text(errors="replace"):
            assert self.proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "tcpdump did not start"
            time.sleep(0.02)

    def stop(self) -> list[Frame]:
        time.sleep(0.2)  # the last packets reach the file (-U: per packet)
        self.lab.kill(self.proc, signal.SIGINT)
        return read_pcap(self.path)
