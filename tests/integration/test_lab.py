"""pylvs lab: the guide's network in namespaces, per mode (design: The lab).

One lab per mode, module-scoped and always torn down (also after failures).
The director's daemon runs ``--dataplane none`` (holds the table, forwards
nothing) until the kernel plane lands; the checks here prove the lab itself:
addressing, routing, the real servers' per-mode setup, ARP ownership of the
VIP, and that a real server answers a packet delivered the way the director
will deliver it (DR: its MAC; TUN: IPIP) from the VIP straight to the client.
Packets are crafted with raw sockets by a small helper run inside a lab
namespace (no scapy, no arping).
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from conftest import Result, run_tool

from pylvs.lab.topology import NODES, build, mac_for

root = pytest.mark.root

VIP = "10.0.1.100"
CLIENT = "10.0.2.50"
WEB = {"web1": "10.0.1.11", "web2": "10.0.1.12"}
DIRECTOR_MAC = mac_for("10.0.1.10")


# --- pure: the topology as data (no root) ---------------------------------


def test_topology_follows_the_guide_per_mode() -> None:
    nat, dr, tun = build("nat"), build("dr"), build("tun")
    assert [r.via for r in nat.node("web1").routes] == ["10.0.1.10"]  # guide Step 3
    assert [r.via for r in dr.node("web1").routes] == ["10.0.1.1"]
    lo = [a for a in dr.node("web2").addrs if a.ifname == "lo"]
    assert [(a.cidr, a.label) for a in lo] == [(f"{VIP}/32", "lo:0")]  # guide Step 4
    assert ("net.ipv4.conf.all.arp_ignore", "1") in dr.node("web1").sysctls
    assert ("net.ipv4.conf.lo.arp_announce", "2") in dr.node("web1").sysctls
    director = {a.cidr: a.label for a in nat.node("director").addrs}
    assert director == {"10.0.1.10/24": None, f"{VIP}/24": "eth0:0"}
    assert f"{VIP}/32" in {a.cidr for a in dr.node("director").addrs}
    assert tun.tunnel == "userspace"
    assert tun.node("web1").iface("tunl0").kind == "tun"
    assert [s.module for s in tun.node("web1").services] == ["pylvs.lab.ipipd", "pylvs.lab.httpd"]
    assert ("net.ipv4.conf.tunl0.rp_filter", "0") in tun.node("web1").sysctls
    assert build("tun", tunnel="kernel").node("web1").iface("tunl0").kind == "ipip"
    assert tuple(n.name for n in nat.nodes) == NODES
    assert all(n.netns == f"lvs-{n.name}" for n in nat.nodes)


def test_bare_leaves_the_director_steps_to_the_user() -> None:
    director = build("dr", bare=True).node("director")
    assert [a.cidr for a in director.addrs] == ["10.0.1.10/24"]
    assert not director.services
    assert dict(director.sysctls)["net.ipv4.ip_forward"] == "0"  # guide Step 1 is the user's
    assert dict(director.sysctls)["net.ipv4.conf.all.send_redirects"] == "0"
    daemon = build("dr", dataplane="none").node("director").services[0]
    assert daemon.args == ("run", "--dataplane", "none", "--socket", "/run/pylvs-lab/director.sock")


def test_every_lab_command_needs_root(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from pylvs.cli.main import main

    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    for argv in (["up", "--mode", "nat"], ["down"], ["status"], ["exec", "client", "--", "true"]):
        assert main(["lab", *argv]) == 1
        assert "needs root" in capsys.readouterr().err


# --- the lab itself (root) -------------------------------------------------

# Runs inside a lab namespace: `python -c NETTOOLS COMMAND ARGS...`.
NETTOOLS = r"""
import json, select, socket, struct, sys, time

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def ip_packet(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0x1234, 0x4000, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

def tcp_syn(src, dst, sport, dport):
    tcp = struct.pack("!HHIIBBHHH", sport, dport, 1000, 0, 5 << 4, 0x02, 64240, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    return ip_packet(src, dst, 6, tcp)

def mac(text):
    return bytes.fromhex(text.replace(":", ""))

def arp(iface, src_ip, target, wait):
    # Broadcast "who-has target" and report every reply for it.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
    s.bind((iface, 0x0806))
    own = s.getsockname()[4]
    body = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, own, socket.inet_aton(src_ip),
                       b"\0" * 6, socket.inet_aton(target))
    s.send(b"\xff" * 6 + own + b"\x08\x06" + body)
    answers, deadline = [], time.monotonic() + float(wait)
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([s], [], [], left)[0]:
            break
        frame = s.recv(2048)
        if len(frame) < 42:
            continue
        op, sha, spa = struct.unpack("!6xH6s4s", frame[14:32])
        if op == 2 and socket.inet_ntoa(spa) == target:
            answers.append(":".join("%02x" % b for b in sha))
    print(json.dumps(answers))

def listen(src, sport, dport, wait):
    # Wait for a TCP segment src:sport -> *:dport; report its TTL and flags.
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    print("ready", flush=True)
    deadline = time.monotonic() + float(wait)
    while (left := deadline - time.monotonic()) > 0:
        if not select.select([s], [], [], left)[0]:
            break
        pkt = s.recv(65535)
        ihl = (pkt[0] & 15) * 4
        sp, dp = struct.unpack("!HH", pkt[ihl:ihl + 4])
        if socket.inet_ntoa(pkt[12:16]) == src and sp == int(sport) and dp == int(dport):
            print(json.dumps({"ttl": pkt[8], "flags": pkt[ihl + 13]}), flush=True)
            return
    print("null", flush=True)

def dr_syn(iface, dst_mac, src, dst, sport, dport):
    # What a DR director does: the unchanged packet, to the real server's MAC.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    own = s.getsockname()[4]
    s.send(mac(dst_mac) + own + b"\x08\x00" + tcp_syn(src, dst, int(sport), int(dport)))

def ipip_syn(outer_dst, src, dst, sport, dport):
    # What a TUN director does: the packet inside IPIP (the kernel adds the outer header).
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, 4)
    s.sendto(tcp_syn(src, dst, int(sport), int(dport)), (outer_dst, 0))

globals()[sys.argv[1]](*sys.argv[2:])
"""


@dataclass
class Lab:
    mode: str
    dataplane: str


def pylvs(*args: str, stdin: str | None = None) -> Result:
    return run_tool("pylvs", list(args), dict(os.environ), stdin)


def in_ns(node: str, *argv: str, timeout: float = 15) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", f"lvs-{node}", *argv],
        capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


def tool(node: str, *args: str) -> Any:
    r = in_ns(node, sys.executable, "-c", NETTOOLS, *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout) if r.stdout.strip() else None


def ip_json(node: str, *args: str) -> Any:
    r = in_ns(node, "ip", "-j", *args)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def addrs(node: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for link in ip_json(node, "-4", "addr"):
        out[link["ifname"]] = {f"{a['local']}/{a['prefixlen']}" for a in link["addr_info"]}
    return out


def sysctl(node: str, name: str) -> str:
    return in_ns(node, "sysctl", "-n", name).stdout.strip()


def curl(url: str) -> Result:
    return pylvs("lab", "exec", "client", "--", "curl", "-s", "--max-time", "3", url)


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if shutil.which("ip") is None:
        return "needs iproute2 ('ip netns')"
    if subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
        return "'ip netns' is unavailable here"
    try:
        import pyroute2  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        return "needs pyroute2 (pip install -e '.[kernel]')"
    if shutil.which("curl") is None:
        return "needs curl"
    return None


@pytest.fixture(scope="module", params=["nat", "dr", "tun"])
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    """A lab per mode (param ``MODE`` or ``MODE-DATAPLANE``), always removed."""
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    if os.path.exists("/run/pylvs-lab/state.json") or any(
        os.path.exists(f"/run/netns/lvs-{n}") for n in NODES
    ):
        pytest.skip("a pylvs lab is already up on this machine; the tests leave it alone")
    mode, _, plane = str(request.param).partition("-")
    plane = plane or "none"
    try:
        r = pylvs("lab", "up", "--mode", mode, "--dataplane", plane, "-q")
        assert r.rc == 0, f"lab up failed: {r.err}"
        yield Lab(mode, plane)
    finally:
        pylvs("lab", "down")


@root
def test_namespaces_addresses_and_routes(lab: Lab) -> None:
    names = set(
        subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    )
    assert {f"lvs-{n}" for n in NODES} <= names
    assert addrs("client")["eth0"] == {f"{CLIENT}/24"}
    assert addrs("router")["br0"] == {"10.0.1.1/24"}
    assert addrs("router")["eth1"] == {"10.0.2.1/24"}
    vip_prefix = 24 if lab.mode == "nat" else 32
    assert addrs("director")["eth0"] == {"10.0.1.10/24", f"{VIP}/{vip_prefix}"}
    labels = {
        a.get("label") for a in ip_json("director", "-4", "addr", "show", "eth0")[0]["addr_info"]
    }
    assert "eth0:0" in labels
    for name, ip in WEB.items():
        assert f"{ip}/24" in addrs(name)["eth0"]
        gateway = "10.0.1.10" if lab.mode == "nat" else "10.0.1.1"
        assert [r.get("gateway") for r in ip_json(name, "route", "show", "default")] == [gateway]
    assert [r.get("gateway") for r in ip_json("client", "route", "show", "default")] == ["10.0.2.1"]
    assert sysctl("router", "net.ipv4.ip_forward") == "1"
    assert sysctl("director", "net.ipv4.ip_forward") == "1"
    assert sysctl("web1", "net.ipv4.ip_forward") == "0"
    assert sysctl("director", "net.ipv4.conf.eth0.send_redirects") == "0"
    mtu = {link["ifname"]: link["mtu"] for link in ip_json("router", "link")}
    assert mtu["br0"] >= 1520 and mtu["to-web1"] >= 1520
    assert ip_json("director", "link", "show", "eth0")[0]["address"] == DIRECTOR_MAC


@root
def test_status_reports_processes_alive(lab: Lab) -> None:
    r = pylvs("lab", "status", "--json")
    assert r.rc == 0, r.out + r.err
    view = json.loads(r.out)
    assert view["mode"] == lab.mode and view["healthy"]
    running = {(p["node"], p["name"]) for p in view["processes"] if p["alive"]}
    expected = {("web1", "httpd"), ("web2", "httpd"), ("director", "pylvs")}
    if lab.mode == "tun":
        expected |= {("web1", "ipipd"), ("web2", "ipipd")}
    assert running == expected
    text = pylvs("lab", "status")
    assert text.rc == 0 and f"mode {lab.mode}" in text.out and "healthy" in text.out


@root
def test_client_reaches_each_web_server_through_the_router(lab: Lab) -> None:
    for name, ip in WEB.items():
        r = curl(f"http://{ip}/")
        assert r.rc == 0, r.err
        lines = r.out.splitlines()
        assert lines[0] == name
        assert lines[1].startswith(f"client {CLIENT}:")
        assert lines[2] == f"server {ip}:80"


def _tx_packets(node: str, ifname: str) -> int:
    return int(ip_json(node, "-s", "link", "show", ifname)[0]["stats64"]["tx"]["packets"])


@root
@pytest.mark.parametrize("lab", ["nat"], indirect=True)
def test_nat_replies_route_via_the_director(lab: Lab) -> None:
    route = ip_json("web1", "route", "get", CLIENT)[0]
    assert route["gateway"] == "10.0.1.10"
    before = _tx_packets("director", "eth0")
    assert curl("http://10.0.1.11/").out.startswith("web1\n")
    assert _tx_packets("director", "eth0") - before >= 3  # SYN-ACK, data, FIN at least


@root
@pytest.mark.parametrize("lab", ["nat"], indirect=True)
def test_exec_passes_exit_status_stdin_and_the_socket(lab: Lab) -> None:
    assert pylvs("lab", "exec", "web1", "--", "sh", "-c", "exit 7").rc == 7
    assert pylvs("lab", "exec", "client", "--", "cat", stdin="hello\n").out == "hello\n"
    env = pylvs("lab", "exec", "director", "--", "sh", "-c", "echo $PYLVS_SOCKET")
    assert env.out.strip() == "/run/pylvs-lab/director.sock"
    assert (
        pylvs("lab", "exec", "director", "--", "pylvsadm", "-A", "-t", f"{VIP}:80", "-s", "wrr").rc
        == 0
    )
    listing = pylvs("lab", "exec", "director", "--", "pylvsadm", "-Ln")
    assert listing.rc == 0 and f"TCP  {VIP}:80 wrr" in listing.out
    assert pylvs("lab", "exec", "director", "--", "pylvsadm", "-C").rc == 0
    bad = pylvs("lab", "exec", "nowhere", "--", "true")
    assert bad.rc == 2 and "invalid choice" in bad.err


@root
@pytest.mark.parametrize("lab", ["nat"], indirect=True)
def test_up_refuses_while_a_lab_exists(lab: Lab) -> None:
    r = pylvs("lab", "up", "--mode", "dr", "--dataplane", "none")
    assert r.rc == 1 and "already up (mode nat)" in r.err
    assert json.loads(pylvs("lab", "status", "--json").out)["mode"] == "nat"


@root
@pytest.mark.parametrize("lab", ["dr"], indirect=True)
def test_dr_real_servers_as_the_guide_says(lab: Lab) -> None:
    for name in WEB:
        for conf in ("lo", "all"):
            assert sysctl(name, f"net.ipv4.conf.{conf}.arp_ignore") == "1"
            assert sysctl(name, f"net.ipv4.conf.{conf}.arp_announce") == "2"
        lo = ip_json(name, "-4", "addr", "show", "lo")[0]["addr_info"]
        assert {(a["local"], a["prefixlen"], a.get("label")) for a in lo} >= {(VIP, 32, "lo:0")}


@root
@pytest.mark.parametrize("lab", ["dr", "tun"], indirect=True)
def test_only_the_director_answers_arp_for_the_vip(lab: Lab) -> None:
    assert tool("router", "arp", "br0", "10.0.1.1", VIP, "0.5") == [DIRECTOR_MAC]
    # ...while each real server still answers for its own address.
    assert tool("router", "arp", "br0", "10.0.1.1", "10.0.1.11", "0.5") == [mac_for("10.0.1.11")]


def _syn_reaches_client(send: list[str], sport: int) -> dict[str, int]:
    """Listen on the client for VIP:80 -> CLIENT:sport, have the director send
    ``send`` (a NETTOOLS command), and return what arrived."""
    listener = subprocess.Popen(
        ["ip", "netns", "exec", "lvs-client", sys.executable, "-c", NETTOOLS,
         "listen", VIP, "80", str(sport), "5"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert listener.stdout is not None
        assert select.select([listener.stdout], [], [], 10)[0], "listener did not start"
        assert listener.stdout.readline().strip() == "ready"
        tool("director", *send)
        out, err = listener.communicate(timeout=10)
    finally:
        if listener.poll() is None:
            listener.kill()
            listener.wait()
    seen = json.loads(out)
    assert seen is not None, f"no reply from the VIP reached the client ({err})"
    return dict(seen)


@root
@pytest.mark.parametrize("lab", ["dr"], indirect=True)
def test_dr_real_server_answers_a_mac_forwarded_syn_from_the_vip(lab: Lab) -> None:
    sport = 40001
    seen = _syn_reaches_client(
        ["dr_syn", "eth0", mac_for("10.0.1.11"), CLIENT, VIP, str(sport), "80"], sport
    )
    assert seen["flags"] & 0x12 == 0x12  # SYN-ACK
    assert seen["ttl"] == 63  # one hop (the router): not back through the director


@root
@pytest.mark.parametrize("lab", ["tun"], indirect=True)
def test_tun_real_server_decapsulates_and_answers_from_the_vip(lab: Lab) -> None:
    sport = 40002
    seen = _syn_reaches_client(["ipip_syn", "10.0.1.11", CLIENT, VIP, str(sport), "80"], sport)
    assert seen["flags"] & 0x12 == 0x12  # SYN-ACK from VIP:80
    assert seen["ttl"] == 63  # web1 -> router -> client, never via the director
    tunl0 = ip_json("web1", "-4", "addr", "show", "tunl0")[0]["addr_info"]
    assert [(a["local"], a["prefixlen"]) for a in tunl0] == [(VIP, 32)]
    assert sysctl("web1", "net.ipv4.conf.tunl0.rp_filter") == "0"
    assert sysctl("web1", "net.ipv4.conf.all.rp_filter") == "0"


@root
@pytest.mark.parametrize("lab", ["nat-proxy"], indirect=True)
def test_guide_step8_through_the_proxy_plane(lab: Lab) -> None:
    adm = ("lab", "exec", "director", "--", "pylvsadm")
    assert pylvs(*adm, "-A", "-t", f"{VIP}:80", "-s", "rr").rc == 0
    for ip in WEB.values():
        assert pylvs(*adm, "-a", "-t", f"{VIP}:80", "-r", f"{ip}:80", "-m").rc == 0
    names = [curl(f"http://{VIP}/").out.split("\n", 1)[0] for _ in range(4)]
    assert sorted(names) == ["web1", "web1", "web2", "web2"]


@root
def test_down_removes_everything_and_is_idempotent(lab: Lab) -> None:
    view = json.loads(pylvs("lab", "status", "--json").out)
    pids = [p["pid"] for p in view["processes"]]
    first = pylvs("lab", "down")
    assert first.rc == 0 and "removed 5 namespaces" in first.out
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert not [n for n in names.split() if n.startswith("lvs-")]
    assert not os.path.exists("/run/pylvs-lab")
    for pid in pids:
        state = ""
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            pass
        assert state in ("", "Z", "X"), f"pid {pid} still runs"
    again = pylvs("lab", "down")
    assert again.rc == 0 and "no lab is up" in again.out
    assert pylvs("lab", "status").rc == 1
