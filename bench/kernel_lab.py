"""Kernel plane in the lab: connect latency, daemon CPU per new connection,
and the tunnelling path's speed. Not a test; needs root and no lab up.

    .venv/bin/python bench/kernel_lab.py [--conns 2000] [--seconds 5]

For each lab mode (nat, dr, tun) it brings up ``pylvs lab`` with the
kernel plane and measures, side by side in the same lab:

* connect latency from the client: the median and p99 of N sequential
  ``connect()`` calls (each closed at once) to: a real server by its own
  address (routed through the director, no balancing: the floor), a plain
  nftables DNAT rule (NAT) or a stateless nft netdev forward (DR), a pylvs
  service scheduled in the kernel (rr) and one scheduled by the daemon
  (wlc: each new connection's first packet is queued to Python);
* the daemon's CPU time (utime+stime, kernel work done in its verdict
  syscalls included) per new connection, sequential and under wrk load;
* TUN: requests/s through the userspace tunnelling path and the daemon's
  CPU per packet (the lab's real servers decapsulate in userspace too, so
  the request rate is theirs as much as the director's).

Writes the table to bench/measured/kernel-lab.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from pylvs.lab import state as lab_state

BIN = Path(sys.executable).parent
OUT = Path(__file__).parent / "measured" / "kernel-lab.md"
VIP = "10.0.1.100"
WEB1 = "10.0.1.11"
CONNECT_SCRIPT = r"""
import socket, sys, time, json
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = []
for i in range(n):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    t = time.perf_counter_ns()
    s.connect((host, port))
    out.append((time.perf_counter_ns() - t) / 1000)
    s.close()
print(json.dumps(out))
"""


def run(*args: str, check: bool = True, timeout: float = 120) -> str:
    r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {r.stderr.strip() or r.stdout.strip()}")
    return r.stdout


def lab(*args: str, check: bool = True) -> str:
    return run(str(BIN / "pylvs"), "lab", *args, check=check)


def on(node: str, *cmd: str, check: bool = True, timeout: float = 120) -> str:
    return run("ip", "netns", "exec", f"lvs-{node}", *cmd, check=check, timeout=timeout)


def adm(*args: str) -> None:
    lab("exec", "director", "--", str(BIN / "pylvsadm"), *args)


def daemon_pid() -> int:
    """The director's daemon, from the lab's own record of what it started."""
    state = lab_state.load()
    for p in state.processes if state is not None else ():
        if p.node == "director" and "pylvs" in p.name:
            return p.pid
    raise RuntimeError("the lab's director runs no pylvs daemon")


def cpu_ticks(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def tick_us() -> float:
    return 1e6 / os.sysconf("SC_CLK_TCK")


def connects(host: str, port: int, n: int) -> list[float]:
    out = on("client", sys.executable, "-c", CONNECT_SCRIPT, host, str(port), str(n))
    return json.loads(out)


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def wrk(url: str, seconds: int, close: bool) -> float:
    args = ["wrk", "-t1", "-c20", f"-d{seconds}s"]
    if close:
        args += ["-H", "Connection: close"]
    out = on("client", *args, url, timeout=seconds + 30)
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    return float(m.group(1)) if m else float("nan")


def status_field(name: str) -> int:
    out = lab("exec", "director", "--", str(BIN / "pylvs"), "status", "--json")
    return int(json.loads(out).get(name, 0))


def bench_mode(mode: str, n: int, seconds: int, rows: list[str]) -> None:
    lab("up", "--mode", mode, "--dataplane", "kernel", "-q")
    try:
        pid = daemon_pid()
        m = "-m" if mode == "nat" else "-g" if mode == "dr" else "-i"
        adm("-A", "-t", f"{VIP}:80", "-s", "rr")
        adm("-A", "-t", f"{VIP}:82", "-s", "wlc")
        for port in ("80", "82"):
            for rs in (WEB1, "10.0.1.12"):
                target = f"{rs}:80" if mode == "nat" else f"{rs}:{port}"
                adm("-a", "-t", f"{VIP}:{port}", "-r", target, m)
        if mode != "nat":  # DR/TUN real servers must listen on the VIP's port 82 too
            for web in ("web1", "web2"):
                on(web, "nft", "add table ip bench; add chain ip bench pre { type nat hook "
                   "prerouting priority dstnat; }; add rule ip bench pre tcp dport 82 "
                   "redirect to :80")  # fmt: skip
        anchor = ""
        if mode == "nat":
            on("director", "nft", "add table ip bench; add chain ip bench pre { type nat hook "
               "prerouting priority dstnat - 5; }; add rule ip bench pre ip daddr "
               f"{VIP} tcp dport 81 dnat to numgen inc mod 2 map {{ 0 : {WEB1} . 80, "
               "1 : 10.0.1.12 . 80 }")  # fmt: skip
            anchor = "nftables DNAT (numgen)"
        elif mode == "dr":
            mac1 = on("web1", "cat", "/sys/class/net/eth0/address").strip()
            own = on("director", "cat", "/sys/class/net/eth0/address").strip()
            on("web1", "nft", "add table ip bench81; add chain ip bench81 pre { type nat hook "
               "prerouting priority dstnat; }; add rule ip bench81 pre tcp dport 81 "
               "redirect to :80")  # fmt: skip
            on("director", "nft", "add table netdev bench; add chain netdev bench in { type "
               'filter hook ingress device "eth0" priority -500; }; add rule netdev bench in '
               f"ip daddr {VIP} tcp dport 81 ether saddr set {own} ether daddr set {mac1} "
               'fwd to "eth0"')  # fmt: skip
            anchor = "nft netdev fwd (stateless)"
        time.sleep(1.0)
        cases = [("routed to a real server (no balancer)", WEB1, 80)]
        if anchor:
            cases.append((anchor, VIP, 81))
        cases += [("pylvs rr (cycle in the kernel)", VIP, 80), ("pylvs wlc (daemon)", VIP, 82)]
        lat: dict[str, tuple[float, float]] = {}
        for name, host, port in cases:
            connects(host, port, 50)  # warm: ARP, caches
            t0 = cpu_ticks(pid)
            values = connects(host, port, n)
            used = (cpu_ticks(pid) - t0) * tick_us() / n
            lat[name] = (statistics.median(values), pct(values, 0.99))
            rows.append(
                f"| {mode} | {name} | {lat[name][0]:.1f} | {lat[name][1]:.1f} | {used:.1f} |  |"
            )
        for port, label in ((80, "pylvs rr"), (82, "pylvs wlc")):
            q0, t0 = status_field("queued_packets"), cpu_ticks(pid)
            rps = wrk(f"http://{VIP}:{port}/", seconds, close=True)
            used = (cpu_ticks(pid) - t0) * tick_us()
            queued = status_field("queued_packets") - q0
            per_conn = used / max(1.0, rps * seconds)
            per_pkt = f"{used / queued:.1f} µs per queued packet" if queued else "no packet queued"
            rows.append(
                f"| {mode} | {label}, wrk -c20 close, {seconds} s | {rps:,.0f} req/s | "
                f"| {per_conn:.1f} | {per_pkt} ({queued:,}) |"
            )
    finally:
        lab("down", check=False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--conns", type=int, default=2000)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--modes", default="nat,dr,tun")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("kernel_lab.py needs root (it builds the lab)")
    rows = [
        "| mode | path | connect p50 µs | connect p99 µs | daemon CPU µs/conn | notes |",
        "|---|---|---|---|---|---|",
    ]
    for mode in args.modes.split(","):
        bench_mode(mode, args.conns, args.seconds, rows)
    text = "\n".join(rows) + "\n"
    print(text)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    OUT.write_text(f"# Kernel plane in the lab ({stamp})\n\n{text}")


if __name__ == "__main__":
    main()
