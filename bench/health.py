"""Health-check load: N loopback HTTP servers, one HTTP_GET checker each.

    .venv/bin/python bench/health.py [--servers 10000] [--seconds 60] [--delay-loop 1]

A child process serves HTTP on 127.10.x.y:8080 (one address per real
server, asyncio + uvloop); this process runs pylvs's HealthRunner over
them with delay_loop 1 s and reports how late checks started against their
schedule (p50/p99/max), the CPU this checking process used (% of one
core; the servers' process is not counted), its memory, and the check
outcomes.  Everything stays on loopback and stops by itself.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter

RESPONSE = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
PORT = 8080


def address(i: int) -> str:
    return f"127.10.{i // 250}.{i % 250 + 1}"


def raise_nofile(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if need > hard:
        try:  # root may raise the hard limit too
            resource.setrlimit(resource.RLIMIT_NOFILE, (need, need))
            return
        except (ValueError, OSError):
            pass
    want = min(max(soft, need), hard)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def use_uvloop() -> str:
    try:
        import uvloop
    except ImportError:
        return "asyncio"
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return "uvloop"


# -- the servers (child process) -------------------------------------------


class _Http(asyncio.Protocol):
    __slots__ = ("buf", "transport")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.buf = b""

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if b"\r\n\r\n" in self.buf:
            self.transport.write(RESPONSE)  # type: ignore[attr-defined]
            self.transport.close()


async def serve(n: int, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    servers = []
    for i in range(n):
        servers.append(
            await loop.create_server(_Http, address(i), PORT, reuse_address=True, backlog=64)
        )
    print("ready", flush=True)
    await asyncio.sleep(seconds)
    for s in servers:
        s.close()


def haproxy_config(n: int) -> str:
    binds = "\n".join(f"    bind {address(i)}:{PORT}" for i in range(n))
    return f"""global
    nbthread 1
    maxconn 4096
defaults
    mode http
    timeout client 10s
    timeout connect 5s
    timeout server 10s
frontend health
{binds}
    http-request return status 200 content-type text/plain string ok
"""


def wait_http(child: subprocess.Popen[str], ip: str) -> None:
    """Until the server answers a real request (haproxy binds long before it
    serves 10,000 addresses)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise SystemExit(f"haproxy failed: {child.stderr.read() if child.stderr else ''}")
        with socket.socket() as s:
            s.settimeout(0.5)
            try:
                s.connect((ip, PORT))
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
            except OSError:
                pass
        time.sleep(0.1)
    raise SystemExit("haproxy did not start")


def start_servers(kind: str, n: int, seconds: float) -> tuple[subprocess.Popen[str], str]:
    """haproxy (C, one thread: leaves the other core to the checker) when it
    is installed, else a Python/uvloop server process."""
    haproxy = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if os.path.exists("/usr/sbin/haproxy") else None
    )
    if kind in ("auto", "haproxy") and haproxy:
        fd, conf = tempfile.mkstemp(suffix=".cfg", prefix="pylvs-bench-haproxy-")
        with os.fdopen(fd, "w") as f:
            f.write(haproxy_config(n))
        child = subprocess.Popen([haproxy, "-db", "-f", conf], text=True,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
        try:
            wait_http(child, address(n - 1))
        finally:
            os.unlink(conf)  # haproxy has read it (or died)
        return child, "haproxy"
    if kind == "haproxy":
        raise SystemExit("haproxy not found")
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", "--servers", str(n), "--seconds", str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    if child.stdout.readline().strip() != "ready":
        raise SystemExit("server process failed")
    return child, "python"


# -- the checker (this process) --------------------------------------------


def make_params(n: int, delay_loop: float):  # type: ignore[no-untyped-def]
    from pylvs.health.params import (
        HealthParams,
        HttpSpec,
        RealServerParams,
        TimingOverrides,
        UrlParams,
        VirtualServerParams,
        make_checker,
    )

    spec = HttpSpec(urls=(UrlParams(path="/health"),))
    checker = make_checker(
        "HTTP_GET", spec, vs=TimingOverrides(delay_loop=delay_loop, connect_timeout=3.0)
    )
    per_vs = 100
    vss = []
    for v in range((n + per_vs - 1) // per_vs):
        rss = tuple(
            RealServerParams(id=i, ip=address(i), port=PORT, checkers=(checker,))
            for i in range(v * per_vs, min(n, (v + 1) * per_vs))
        )
        vss.append(
            VirtualServerParams(
                id=v, ip=f"10.99.{v // 250}.{v % 250 + 1}", port=80, real_servers=rss
            )
        )
    return HealthParams(virtual_servers=tuple(vss))


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [float(x) for x in f.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def check(n: int, seconds: float, delay_loop: float, max_in_flight: int) -> dict[str, object]:
    from pylvs.health.runner import HealthRunner

    params = make_params(n, delay_loop)
    logs: Counter[str] = Counter()
    table: Counter[str] = Counter()

    def on_log(line: str) -> None:
        key = line.split(" [", 1)[0]
        logs[key] += 1

    runner = HealthRunner(
        params,
        on_table=lambda a: table.update([type(a).__name__]),
        on_log=on_log,
        max_in_flight=max_in_flight,
    )
    loop = asyncio.get_running_loop()
    rss_before = rss_mib()
    busy0 = machine_busy()
    t0, ru0 = loop.time(), resource.getrusage(resource.RUSAGE_SELF)
    await runner.start()
    await asyncio.sleep(seconds)
    t1, ru1 = loop.time(), resource.getrusage(resource.RUSAGE_SELF)
    busy1 = machine_busy()
    rss_after = rss_mib()
    await runner.stop()
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    stats = runner.stats
    h = stats.lateness
    return {
        "servers": n,
        "seconds": round(t1 - t0, 1),
        "delay_loop": delay_loop,
        "probes_started": stats.started,
        "probes_finished": stats.finished,
        "probes_per_second": round(stats.finished / (t1 - t0)),
        "lateness_ms": {
            "p50": round(h.quantile(0.50) * 1e3, 2),
            "p99": round(h.quantile(0.99) * 1e3, 2),
            "max": round(h.max * 1e3, 2),
        },
        "cpu_percent_of_one_core": round(100 * cpu / (t1 - t0), 1),
        # what one probe costs this process, whatever else the machine does
        "cpu_us_per_probe": round(1e6 * cpu / max(1, stats.finished), 1),
        "cpu_user_s": round(ru1.ru_utime - ru0.ru_utime, 1),
        "cpu_sys_s": round(ru1.ru_stime - ru0.ru_stime, 1),
        "rss_mib": {"before": round(rss_before, 1), "running": round(rss_after, 1)},
        "max_rss_mib": round(ru1.ru_maxrss / 1024, 1),
        "queued_peak": stats.queued_peak,
        # the whole machine's CPU use meanwhile (all cores, all processes):
        # other load on the machine delays the probes and the servers
        "machine_busy_percent": round(100 * (busy1[0] - busy0[0]) / (busy1[1] - busy0[1]), 1),
        "loadavg": os.getloadavg(),
        "crashed": stats.crashed,
        "log_lines": dict(logs),
        "table_actions": dict(table),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--servers", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--delay-loop", type=float, default=1.0)
    ap.add_argument("--max-in-flight", type=int, default=4096)
    ap.add_argument("--server", choices=("auto", "haproxy", "python"), default="auto")
    ap.add_argument(
        "--nice",
        type=int,
        default=0,
        help="scheduling priority change for this process and the servers (negative needs "
        "root): keeps other load on a shared machine from skewing the lateness figures",
    )
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    raise_nofile(2 * args.servers + 3 * args.max_in_flight + 1024)
    if args.nice:
        os.nice(args.nice)  # inherited by the server process
    loop_name = use_uvloop()
    if args.serve:
        asyncio.run(serve(args.servers, args.seconds))
        return
    t = time.monotonic()
    child, server = start_servers(args.server, args.servers, args.seconds + 120)
    try:
        print(f"{args.servers} {server} servers up in {time.monotonic() - t:.1f} s; checking "
              f"for {args.seconds:g} s ({loop_name})", file=sys.stderr, flush=True)  # fmt: skip
        report = asyncio.run(check(args.servers, args.seconds, args.delay_loop, args.max_in_flight))
        report["event_loop"] = loop_name
        report["server"] = server
        report["nice"] = args.nice
        report["cpus"] = os.cpu_count()
        print(json.dumps(report, indent=2))
    finally:
        child.terminate()
        child.wait(10)


if __name__ == "__main__":
    main()
