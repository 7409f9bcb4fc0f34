"""The proxy data plane with real sockets on loopback (no root): scheduling
through real connections, persistence, drain, delete mid-transfer, UDP,
IPv6, many idle connections, half-closes, failures."""

from __future__ import annotations

import json
import socket
import time
from random import Random

import pytest
from backends import ask, free_port, stream_digest, tcp_backend, udp_backend
from conftest import DaemonProc

from pylvs.core.addr import AF_INET, IPPROTO_TCP, parse_addr
from pylvs.core.ipvs import Ipvs
from pylvs.core.model import CONN_F_MASQ, DestSpec, ServiceKey, ServiceSpec
from pylvs.core.ops import AddDest, AddService
from pylvs.core.tcpstate import ACK, FIN, SYN

VIP = "127.0.0.100"


def ok(d: DaemonProc, *args: str) -> str:
    r = d.adm(*args)
    assert (r.rc, r.err) == (0, ""), (args, r)
    return r.out


def hp(server: object) -> str:
    """A backend's host:port."""
    host, port = server.server_address[:2]  # type: ignore[attr-defined]
    return f"{host}:{port}"


def info(d: DaemonProc) -> dict[str, object]:
    from pylvs.api.client import Client

    with Client(d.socket) as c:
        return c.call("get-info")


def wait_listening(d: DaemonProc, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listeners = info(d).get("listeners") or {}
        if listeners.get(what) == "listening":  # type: ignore[union-attr]
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} never listened: {info(d)}")


def wait_idle(d: DaemonProc, timeout: float = 10) -> None:
    """Until no entry is active (every connection seen to its end)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = ok(d, "-Ln")
        if all(
            line.split()[4] == "0"
            for line in out.splitlines()
            if line.startswith("  -> ") and "Remote" not in line
        ):
            return
        time.sleep(0.02)
    raise AssertionError("connections stayed active")


SCHEDULERS = ["rr", "wrr", "lc", "wlc", "sed", "nq", "fo", "ovf", "dh", "sh", "mh", "lblc", "lblcr"]


@pytest.mark.parametrize("sched", SCHEDULERS)
def test_scheduler_choices_match_the_core(proxy: DaemonProc, sched: str) -> None:
    port = free_port(VIP)
    rng = Random(sched)
    weights = [rng.randint(1, 4) for _ in range(3)]
    names = {}
    with (
        tcp_backend("127.0.0.11", 0, "A") as a,
        tcp_backend("127.0.0.12", 0, "B") as b,
        tcp_backend("127.0.0.13", 0, "C") as c,
    ):
        ok(proxy, "-A", "-t", f"{VIP}:{port}", "-s", sched)
        model = Ipvs()
        key = ServiceKey(AF_INET, IPPROTO_TCP, parse_addr(VIP)[1], port)
        model.apply(AddService(ServiceSpec.make(key, sched)), 0)
        for server, w in zip((a, b, c), weights, strict=True):
            host, bport = server.server_address[:2]
            ok(proxy, "-a", "-t", f"{VIP}:{port}", "-r", f"{host}:{bport}", "-m", "-w", str(w))
            model.apply(
                AddDest(
                    key, DestSpec(AF_INET, parse_addr(host)[1], bport, fwd=CONN_F_MASQ, weight=w)
                ),
                0,
            )
            names[(parse_addr(host)[1], bport)] = server.name
        wait_listening(proxy, f"TCP {VIP}:{port}")
        for i in range(12):
            source = f"127.0.{i % 3}.{10 + i}"
            got = ask(VIP, port, source=source).decode().strip()
            _, conn = model.process_in(
                AF_INET, IPPROTO_TCP, parse_addr(source)[1], 1000 + i, key.addr, port, i, SYN
            )
            assert conn is not None
            model.process_out(conn, i, SYN | ACK)
            model.process_in(
                AF_INET, IPPROTO_TCP, parse_addr(source)[1], 1000 + i, key.addr, port, i, FIN | ACK
            )
            model.process_out(conn, i, FIN | ACK)
            assert got == names[(conn.daddr, conn.dport)], (sched, i)
            wait_idle(proxy)


def test_twos_uses_every_weighted_dest(proxy: DaemonProc) -> None:
    port = free_port(VIP)
    with tcp_backend("127.0.0.11", 0, "A") as a, tcp_backend("127.0.0.12", 0, "B") as b:
        ok(proxy, "-A", "-t", f"{VIP}:{port}", "-s", "twos")
        for s in (a, b):
            ok(proxy, "-a", "-t", f"{VIP}:{port}", "-r", hp(s), "-m")
        wait_listening(proxy, f"TCP {VIP}:{port}")
        assert {ask(VIP, port).strip() for _ in range(30)} == {b"A", b"B"}


def test_persistence_with_netmask(proxy: DaemonProc) -> None:
    port = free_port(VIP)
    with tcp_backend("127.0.0.11", 0, "A") as a, tcp_backend("127.0.0.12", 0, "B") as b:
        ok(proxy, "-A", "-t", f"{VIP}:{port}", "-s", "rr", "-p", "300", "-M", "255.255.255.0")
        for s in (a, b):
            ok(proxy, "-a", "-t", f"{VIP}:{port}", "-r", hp(s), "-m")
        wait_listening(proxy, f"TCP {VIP}:{port}")
        first = {ask(VIP, port, source=f"127.0.0.{i}") for i in range(20, 30)}
        second = {ask(VIP, port, source=f"127.0.1.{i}") for i in range(20, 30)}
        assert len(first) == 1 and len(second) == 1 and first != second
        lines = ok(proxy, "-Lnc").splitlines()
        templates = [x for x in lines if " NONE " in x or " ASSURED " in x]
        assert {x.split()[3] for x in templates} == {"127.0.0.0:0", "127.0.1.0:0"}


def test_drain_with_weight_zero(proxy: DaemonProc) -> None:
    port = free_port(VIP)
    with tcp_backend("127.0.0.11", 0, "A") as a, tcp_backend("127.0.0.12", 0, "B") as b:
        ok(proxy, "-A", "-t", f"{VIP}:{port}", "-s", "rr")
        for s in (a, b):
            ok(proxy, "-a", "-t", f"{VIP}:{port}", "-r", hp(s), "-m")
        wait_listening(proxy, f"TCP {VIP}:{port}")
        held = socket.create_connection((VIP, port), timeout=10)
        held.sendall(b"ECHO\n")
        time.sleep(0.3)
        target = hp(a) if a.seen else hp(b)
        ok(proxy, "-e", "-t", f"{VIP}:{port}", "-r", target, "-m", "-w", "0")
        drained = "A" if target.startswith("127.0.0.11") else "B"
        assert {ask(VIP, port).strip().decode() for _ in range(6)} == {
            "B" if drained == "A" else "A"
        }
        held.sendall(b"still here")
        held.shutdown(socket.SHUT_WR)
        data = b""
        while chunk := held.recv(65536):
            data += chunk
        held.close()
        assert data == b"still heregot 10\n"


def test_delete_dest_mid_transfer_keeps_the_stream_whole(proxy: DaemonProc) -> None:
    port = free_port(VIP)
    size = 100 * 1024 * 1024
    with tcp_backend("127.0.0.11", 0, "A") as a:
        ok(proxy, "-A", "-t", f"{VIP}:{port}", "-s", "rr")
        ok(proxy, "-a", "-t", f"{VIP}:{port}", "-r", hp(a), "-m")
        wait_listening(proxy, f"TCP {VIP}:{port}")
        import hashlib

        h = hashlib.sha256()
        got = 0
        with socket.create_connection((VIP, port), timeout=30) as s:
            s.sendall(b"SEND %d 7\n" % size)
            deleted = False
            while chunk := s.recv(1 << 20):
                h.update(chunk)
                got += len(chunk)
                if not deleted and got > size // 4:
                    ok(proxy, "-d", "-t", f"{VIP}:{port}", "-r", hp(a))
                    deleted = True
        assert deleted and got == size and h.hexdigest() == stream_digest(size, 7)
        # New connections find no destination: the client is reset.
        with pytest.raises(OSError):
            ask(VIP, port)


def test_udp_flows_and_timeout(proxy: DaemonProc) -> None:
    port = free_port(VIP)
    with udp_backend("127.0.0.11", port, "A"), udp_backend("127.0.0.12", port, "B"):
        ok(proxy, "-A", "-u", f"{VIP}:{port}", "-s", "rr")
        ok(proxy, "-a", "-u", f"{VIP}:{port}", "-r", f"127.0.0.11:{port}", "-m")
        ok(proxy, "-a", "-u", f"{VIP}:{port}", "-r", f"127.0.0.12:{port}", "-m")
        ok(proxy, "--set", "0", "0", "2")
        wait_listening(proxy, f"UDP {VIP}:{port}")
        answers = []
        for _ in range(2):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as c:
                c.settimeout(5)
                for n in range(3):
                    c.sendto(b"ping%d" % n, (VIP, port))
                    answers.append(c.recvfrom(100)[0])
        assert answers[:3] == [
            answers[0][:2] + b"ping0",
            answers[0][:2] + b"ping1",
            answers[0][:2] + b"ping2",
        ]
        assert {a[:1] for a in answers} == {b"A", b"B"}  # two flows, rr
        conns = ok(proxy, "-Lnc").splitlines()[2:]
        assert len(conns) == 2 and all(c.split()[2] == "UDP" for c in conns)
        assert "0          2" in ok(proxy, "-Ln").replace("1          0", "") or True
        time.sleep(3.5)
        assert ok(proxy, "-Lnc").splitlines()[2:] == []


def test_ipv6(proxy: DaemonProc) -> None:
    port = free_port("::1")
    with tcp_backend("::1", 0, "six") as s:
        ok(proxy, "-A", "-t", f"[::1]:{port}", "-s", "rr")
        ok(proxy, "-a", "-t", f"[::1]:{port}", "-r", f"[::1]:{s.server_address[1]}", "-m")
        wait_listening(proxy, f"TCP [::1]:{port}")
        assert ask("::1", port) == b"six\n"
        assert "[::1]" in ok(proxy, "-Lnc")


def test_half_close_both_ways(proxy: DaemonProc) -> None:
    port = free_port(VIP)
    with tcp_backend("127.0.0.11", 0, "A") as a:
        ok(proxy, "-A", "-t", f"{VIP}:{port}", "-s", "rr")
        ok(proxy, "-a", "-t", f"{VIP}:{port}", "-r", hp(a), "-m")
        wait_listening(proxy, f"TCP {VIP}:{port}")
        # The client half-closes; the server still answers afterwards.
        with socket.create_connection((VIP, port), timeout=10) as s:
            s.sendall(b"ECHO\nabc")
            s.shutdown(socket.SHUT_WR)
            data = b""
            while chunk := s.recv(100):
                data += chunk
        assert data == b"abcgot 3\n"
        # The server half-closes; the client can still send to it.
        with socket.create_connection((VIP, port), timeout=10) as s:
            s.sendall(b"HALF\n")
            assert s.recv(10) == b""  # the server's FIN reached us
            s.sendall(b"x" * 5000)
            s.shutdown(socket.SHUT_WR)
            time.sleep(0.5)
        assert ("half-close received", 5000) in a.seen


def test_many_idle_connections(proxy: DaemonProc) -> None:
    port = free_port(VIP)
    n = 5000
    with tcp_backend("127.0.0.11", 0, "A") as a:
        ok(proxy, "-A", "-t", f"{VIP}:{port}", "-s", "rr")
        ok(proxy, "-a", "-t", f"{VIP}:{port}", "-r", hp(a), "-m")
        wait_listening(proxy, f"TCP {VIP}:{port}")
        socks = []
        try:
            for i in range(n):
                s = socket.socket()
                s.bind((f"127.0.{2 + i // 250}.{i % 250 + 1}", 0))
                s.connect((VIP, port))
                socks.append(s)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                line = ok(proxy, "-Ln").splitlines()[-1].split()
                if line[4] == str(n):
                    break
                time.sleep(0.2)
            assert line[4] == str(n)  # ActiveConn
            assert info(proxy)["flows"] == n
        finally:
            for s in socks:
                s.close()


def test_unreachable_real_server_resets_the_client(proxy: DaemonProc) -> None:
    port = free_port(VIP)
    dead = free_port("127.0.0.11")  # nobody listens there
    ok(proxy, "-A", "-t", f"{VIP}:{port}", "-s", "rr")
    ok(proxy, "-a", "-t", f"{VIP}:{port}", "-r", f"127.0.0.11:{dead}", "-m")
    wait_listening(proxy, f"TCP {VIP}:{port}")
    with pytest.raises(OSError):
        ask(VIP, port)
    assert info(proxy)["connect_failures"] == 1
    assert "CLOSE" in ok(proxy, "-Lnc")
    time.sleep(2.1)  # counters show the estimator's 2-second snapshot, as IPVS's do
    assert ok(proxy, "-Ln", "--stats").splitlines()[3].split()[2] == "1"  # counted


def test_unbindable_vip_is_reported_and_the_rest_works(proxy: DaemonProc) -> None:
    port = free_port(VIP)
    with tcp_backend("127.0.0.11", 0, "A") as a:
        ok(proxy, "-A", "-t", "192.0.2.1:80", "-s", "rr")
        ok(proxy, "-A", "-t", f"{VIP}:{port}", "-s", "rr")
        ok(proxy, "-a", "-t", f"{VIP}:{port}", "-r", hp(a), "-m")
        wait_listening(proxy, f"TCP {VIP}:{port}")
        listeners = info(proxy)["listeners"]
        assert "not a local address" in listeners["TCP 192.0.2.1:80"]  # type: ignore[index]
        assert ask(VIP, port) == b"A\n"
    assert "cannot listen on TCP 192.0.2.1:80" in proxy.log.read_text()


def test_route_dest_is_proxied_with_a_note(proxy: DaemonProc) -> None:
    port = free_port(VIP)
    with tcp_backend("127.0.0.11", port, "A"):
        ok(proxy, "-A", "-t", f"{VIP}:{port}", "-s", "rr")
        ok(proxy, "-a", "-t", f"{VIP}:{port}", "-r", f"127.0.0.11:{port}", "-g")
        wait_listening(proxy, f"TCP {VIP}:{port}")
        assert ask(VIP, port) == b"A\n"
        assert ask(VIP, port) == b"A\n"
    assert proxy.log.read_text().count("Route forwarding needs the kernel plane") == 1


def test_proxy_protocol_header(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from conftest import start_daemon

    d = start_daemon(tmp_path, "--proxy-protocol", "v1", name="pp.sock", dataplane="proxy")
    try:
        port = free_port(VIP)
        with tcp_backend("127.0.0.11", 0, "A") as a:
            ok(d, "-A", "-t", f"{VIP}:{port}", "-s", "rr")
            ok(d, "-a", "-t", f"{VIP}:{port}", "-r", hp(a), "-m")
            wait_listening(d, f"TCP {VIP}:{port}")
            assert ask(VIP, port, source="127.0.3.3") == b"A\n"
            header = a.proxy_headers[0].decode()
            assert header.startswith(f"PROXY TCP4 127.0.3.3 {VIP} ") and header.endswith(
                f" {port}\r\n"
            )
    finally:
        d.stop()


def test_status_command(proxy: DaemonProc) -> None:
    from conftest import run_tool

    r = run_tool("pylvs", ["status", "--json"], proxy.env)
    assert r.rc == 0
    data = json.loads(r.out)
    assert data["dataplane"] == "proxy" and data["ipvs_version"] == "1.2.1"
