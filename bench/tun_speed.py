"""TUN: the tc-bpf fast path against the userspace path. Not a test; needs
root, clang and NetfilterQueue.

    .venv/bin/python bench/tun_speed.py

On the test bed of tests/integration/test_tunbpf.py (namespaces
``tb-<pid>-*`` this script creates and always deletes; its helpers are
imported from there so that bed and bench never drift apart):

* 64-byte UDP packets of one flow, a bounded burst (at most 3 s, 3 million
  packets) through each path: packets per second that reach the real
  server, the program's own time per packet (kernel BPF stats), the
  userspace path's CPU per packet;
* iperf3 TCP (3 s) through each path, the real server decapsulating with
  tun_decap.c.

Prints one JSON object.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))

import test_tunbpf as bed

from pylvs.dataplane.kernel.tunbpf import TunFastPath, bpfsys
from pylvs.dataplane.kernel.tunbpf.decap import TunDecap

NS = bed.NS

BLASTER = r"""
import ctypes, socket, sys, time
# 64-byte frames (18 bytes of UDP payload) of one flow, 1024 per sendmmsg().
dst, port, sport, n, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
s.bind(("", sport))
s.connect((dst, port))
class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
class MsgHdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32), ("iov", ctypes.c_void_p),
                ("iovlen", ctypes.c_size_t), ("control", ctypes.c_void_p),
                ("controllen", ctypes.c_size_t), ("flags", ctypes.c_int)]
class MMsgHdr(ctypes.Structure):
    _fields_ = [("hdr", MsgHdr), ("len", ctypes.c_uint)]
BATCH = 1024
payload = ctypes.create_string_buffer(b"x" * 18, 18)
iov = IoVec(ctypes.addressof(payload), 18)
vec = (MMsgHdr * BATCH)()
for m in vec:
    m.hdr.iov = ctypes.addressof(iov)
    m.hdr.iovlen = 1
libc = ctypes.CDLL(None, use_errno=True)
sendmmsg = libc.sendmmsg
fd = s.fileno()
sent = 0
start = time.monotonic()
end = start + limit
while sent < n and time.monotonic() < end:
    r = sendmmsg(fd, vec, min(BATCH, n - sent), 0)
    if r > 0:
        sent += r
print(sent, time.monotonic() - start, flush=True)
"""

USERSPACE = r"""
import json, resource, signal, socket, sys, time
from netfilterqueue import NetfilterQueue
from pylvs.core.addr import AF_INET
from pylvs.dataplane.kernel.emit import TunnelSender, TooBig
from pylvs.dataplane.kernel.ipip import decrement_ttl
rs, mtu, qnum, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
tx = TunnelSender()
n = 0
def on_packet(pkt):
    global n
    n += 1
    inner = bytearray(pkt.get_payload())
    pkt.drop()
    if decrement_ttl(inner):
        try:
            tx.send(AF_INET, rs, inner, pmtu_disc=True, mtu=mtu)
        except (OSError, TooBig):
            pass
def stop(*_):
    raise KeyboardInterrupt
signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGALRM, stop)
signal.setitimer(signal.ITIMER_REAL, limit)
q = NetfilterQueue()
q.bind(qnum, on_packet, max_len=8192)
print("ready", flush=True)
try:
    q.run()
except KeyboardInterrupt:
    pass
r = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"packets": n, "cpu": r.ru_utime + r.ru_stime}), flush=True)
"""

QNUM = 77


@contextlib.contextmanager
def rs_counter() -> Iterator[list[int]]:
    """An nft counter (and drop) of IPIP frames on the real server's ingress."""
    for cmd in (
        "add table netdev tbcount",
        "add chain netdev tbcount in { type filter hook ingress device eth0 priority 0 ; }",
        "add rule netdev tbcount in ip protocol 4 counter drop",
    ):
        bed.nsexec(bed.NS["rs"], "nft", cmd)
    box: list[int] = [0]
    try:
        yield box
    finally:
        out = bed.nsexec(bed.NS["rs"], "nft", "-j", "list", "table", "netdev", "tbcount").stdout
        for obj in json.loads(out)["nftables"]:
            rule = obj.get("rule")
            if rule:
                for e in rule["expr"]:
                    if "counter" in e:
                        box[0] = e["counter"]["packets"]
        bed.nsexec(bed.NS["rs"], "nft", "delete", "table", "netdev", "tbcount")


def blast(n: int, limit: float, sport: int) -> tuple[int, float]:
    p = bed.nsexec(
        bed.NS["cli"], bed.PY, "-c", BLASTER, bed.VIP, "9000", str(sport), str(n), str(limit)
    )
    sent, secs = p.stdout.split()
    return int(sent), float(secs)


@contextlib.contextmanager
def userspace_path() -> Iterator[subprocess.Popen[str]]:
    """The userspace TUN path as the daemon runs it today: NFQUEUE, TTL,
    the raw IPIP socket (emit.TunnelSender); without the core's lookup."""
    rule = ["PREROUTING", "-d", bed.VIP, "-j", "NFQUEUE", "--queue-num", str(QNUM)]
    bed.nsexec(bed.NS["dir"], "iptables", "-t", "raw", "-A", *rule)
    env_path = os.pathsep.join(p for p in sys.path if p)
    argv = ["env", f"PYTHONPATH={env_path}", bed.PY, "-c", USERSPACE, bed.RS, str(bed.UNDERLAY_MTU)]
    argv += [str(QNUM), "30"]
    try:
        with bed.process(bed.NS["dir"], *argv) as p:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
            yield p
    finally:
        bed.nsexec(bed.NS["dir"], "iptables", "-t", "raw", "-D", *rule, check=False)


def userspace_ok() -> str:
    try:
        import netfilterqueue  # noqa: F401
    except ImportError:
        return "netfilterqueue is not installed"
    if shutil.which("iptables") is None or shutil.which("nft") is None:
        return "needs iptables and nft"
    return ""


@contextlib.contextmanager
def tun_bed() -> Iterator[tuple[TunFastPath, bed.Wire]]:
    for name in bed._leftover_beds():
        bed.ip("netns", "del", name, check=False)
    bed.build_bed()
    try:
        with bed.inside(NS["cli"]):
            tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            tx.bind(("eth0", 0))
        with bed.inside(NS["rs"]):
            rs = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            rs.bind(("eth0", 0))
        wire = bed.Wire(tx, rs, {})
        with bed.inside(NS["dir"]):
            fp = TunFastPath(["eth0"], cache_dir=bed.CACHE, flow_max=4096, adopt=False)
        try:
            fp.set_options()
            bed.set_rs(fp)
            yield fp, wire
        finally:
            with bed.inside(NS["dir"]):
                fp.close()
            tx.close()
            rs.close()
    finally:
        bed.remove_bed()


def udp_packets(fp: TunFastPath) -> dict[str, dict[str, float]]:
    n, limit = 3_000_000, 3.0
    fp.add_flow(bed.CLIENT, bed.VIP, 46000, 9000, bed.UDP, bed.DEST)
    timing = bpfsys.enable_stats()
    try:
        ns0, runs0 = fp.run_stats()
        with rs_counter() as fast:
            sent_f, secs_f = blast(n, limit, 46000)
            time.sleep(0.3)
        ns1, runs1 = fp.run_stats()
    finally:
        os.close(timing)
    fp.del_flow(bed.CLIENT, bed.VIP, 46000, 9000, bed.UDP)
    with rs_counter() as slow, userspace_path() as us:
        sent_s, secs_s = blast(n, limit, 46001)
        time.sleep(0.5)
        os.kill(us.pid, signal.SIGTERM)
        out, _err = us.communicate(timeout=20)
    report = json.loads(out.strip().splitlines()[-1])
    return {
        "fast": {
            "sent": sent_f,
            "received": fast[0],
            "pps": round(fast[0] / secs_f),
            "program_ns_per_packet": round((ns1 - ns0) / max(1, runs1 - runs0)),
        },
        "userspace": {
            "sent": sent_s,
            "received": slow[0],
            "pps": round(slow[0] / secs_s),
            "cpu_us_per_packet": round(1e6 * report["cpu"] / max(1, report["packets"]), 1),
        },
    }


def tcp_gbps(fp: TunFastPath) -> dict[str, float]:
    ports = range(47000, 47004)
    bed.nsexec(NS["cli"], "sysctl", "-qw", f"net.ipv4.ip_local_port_range={ports[0]} {ports[-1]}")
    with bed.inside(NS["rs"]):
        decap = TunDecap(["eth0"], cache_dir=bed.CACHE)
    results = {}
    try:
        for path in ("fast", "userspace"):
            fp.flush()
            if path == "fast":
                for port in ports:
                    fp.add_flow(bed.CLIENT, bed.VIP, port, 5201, bed.TCP, bed.DEST)
            ctx = userspace_path() if path == "userspace" else contextlib.nullcontext()
            with ctx, bed.process(NS["rs"], "iperf3", "-s", "-1", "-B", bed.VIP) as srv:
                time.sleep(0.5)
                p = bed.nsexec(NS["cli"], "iperf3", "-c", bed.VIP, "-t", "3", "-J", check=False)
                srv.wait(timeout=15)
            if p.returncode != 0:
                raise RuntimeError(f"{path}: iperf3 failed: {p.stdout[-500:]} {p.stderr}")
            data = json.loads(p.stdout)
            results[path] = round(data["end"]["sum_received"]["bits_per_second"] / 1e9, 2)
    finally:
        bed.nsexec(NS["cli"], "sysctl", "-qw", "net.ipv4.ip_local_port_range=32768 60999")
        with bed.inside(NS["rs"]):
            decap.close()
    return results


def main() -> int:
    why = bed.skip_reason() or userspace_ok()
    if not why and shutil.which("iperf3") is None:
        why = "needs iperf3"
    if why:
        print(f"tun_speed: {why}", file=sys.stderr)
        return 2
    with tun_bed() as (fp, _wire):
        result = {"udp_64B": udp_packets(fp), "tcp_gbit_s": tcp_gbps(fp)}
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
