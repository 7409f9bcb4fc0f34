"""The TUN fast path (pylvs.dataplane.kernel.tunbpf) on a real kernel.

A test bed of network namespaces this module creates and always deletes
(``tb-<pid>-*``): a client, a director and a real server on one bridge, the
seed guide's DR/TUN layout::

    tb-cli 10.77.0.50 ─┐
    tb-dir 10.77.0.10 ─┼─ br0 (tb-sw)     VIP 10.77.0.100: on the director's
    tb-rs  10.77.0.11 ─┘                  and the real server's lo

The director runs the program on its eth0 ingress (the frame goes back out
of the same interface, as on a one-armed director). The client's frames
are built byte by byte and sent with AF_PACKET, so every field IPVS's
outer header depends on can be set; the real server's AF_PACKET socket
sees the tunnelled frames as they arrive on its wire, before anything
decapsulates them. Real TCP runs through the tunnel with tun_decap.c on
the real server. Every process a test starts is killed by its pid.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import random
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from pylvs.core import sctpstate, tcpstate
from pylvs.dataplane.kernel.ruleset import Timeouts
from pylvs.dataplane.kernel.tunbpf import TunFastPath, probe
from pylvs.dataplane.kernel.tunbpf.decap import TunDecap
from pylvs.dataplane.kernel.tunbpf.tcnl import INGRESS, TcSocket

pytestmark = pytest.mark.root

PREFIX = f"tb-{os.getpid()}"
NS = {role: f"{PREFIX}-{role}" for role in ("sw", "cli", "dir", "rs")}
CLIENT, DIRECTOR, RS, VIP = "10.77.0.50", "10.77.0.10", "10.77.0.11", "10.77.0.100"
MAC = {
    "cli": "02:77:00:00:00:50",
    "dir": "02:77:00:00:00:10",
    "rs": "02:77:00:00:00:11",
}
UNDERLAY_MTU = 1600  # director, real server and bridge: room for the outer header
CLIENT_MTU = 1500
DEST = 7
IPPROTO_IPIP = 4
TCP, UDP, SCTP = 6, 17, 132
PY = sys.executable

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


# --- namespaces ----------------------------------------------------------------


def ip(*args: str, ns: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    cmd = ["ip", *(["-n", ns] if ns else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=30)


def nsexec(ns: str, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, *cmd], capture_output=True, text=True, check=check, timeout=60
    )


@contextlib.contextmanager
def inside(ns: str) -> Iterator[None]:
    """Run this thread in a namespace for a while (sockets keep theirs)."""
    here = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    there = os.open(f"/run/netns/{ns}", os.O_RDONLY)
    try:
        if _libc.setns(there, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {ns}")
        try:
            yield
        finally:
            if _libc.setns(here, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(here)
        os.close(there)


def _sysctl(ns: str, *settings: str) -> None:
    for s in settings:
        nsexec(ns, "sysctl", "-qw", s)


def build_bed() -> None:
    for name in NS.values():
        ip("netns", "add", name)
    sw = NS["sw"]
    ip("link", "add", "br0", "type", "bridge", ns=sw)
    for role in ("cli", "dir", "rs"):
        mtu = CLIENT_MTU if role == "cli" else UNDERLAY_MTU
        ip(
            "link", "add", role, "mtu", str(UNDERLAY_MTU), "type", "veth",
            "peer", "name", "eth0", "netns", NS[role], "address", MAC[role], "mtu", str(mtu),
            ns=sw,
        )  # fmt: skip
        ip("link", "set", role, "master", "br0", "up", ns=sw)
    ip("link", "set", "br0", "up", ns=sw)
    addrs = {"cli": CLIENT, "dir": DIRECTOR, "rs": RS}
    for role, addr in addrs.items():
        ns = NS[role]
        ip("addr", "add", f"{addr}/24", "dev", "eth0", ns=ns)
        ip("link", "set", "lo", "up", ns=ns)
        ip("link", "set", "eth0", "up", ns=ns)
        _sysctl(ns, "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0")
        _sysctl(ns, "net.ipv4.conf.lo.rp_filter=0", "net.ipv4.conf.default.rp_filter=0")
    for role in ("dir", "rs"):
        ip("addr", "add", f"{VIP}/32", "dev", "lo", ns=NS[role])
    _sysctl(NS["rs"], "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2")
    _sysctl(NS["dir"], "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2")
    ip("route", "add", f"{VIP}/32", "via", DIRECTOR, ns=NS["cli"])
    for role, peer in (("cli", "dir"), ("dir", "rs"), ("rs", "cli"), ("dir", "cli")):
        ip("neigh", "replace", addrs[peer], "lladdr", MAC[peer], "dev", "eth0",
           "nud", "permanent", ns=NS[role])  # fmt: skip
    ip("neigh", "replace", CLIENT, "lladdr", MAC["cli"], "dev", "eth0", "nud", "permanent",
       ns=NS["rs"])  # fmt: skip


def remove_bed() -> None:
    for name in NS.values():
        ip("netns", "del", name, check=False)


def _leftover_beds() -> list[str]:
    """Beds of earlier runs of this module whose process is gone."""
    out = ip("netns", "list", check=False).stdout.split()
    stale = set()
    for name in out:
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == "tb" and parts[1].isdigit():
            if not os.path.exists(f"/proc/{parts[1]}"):
                stale.add(name)
    return sorted(stale)


def skip_reason() -> str:
    if os.geteuid() != 0:
        return "needs root"
    why = probe(CACHE)
    if why:
        return why
    if shutil.which("ip") is None:
        return "needs iproute2"
    return ""


CACHE = "/run/pylvs/tunbpf"


@pytest.fixture(scope="module")
def bed() -> Iterator[None]:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    for name in _leftover_beds():
        ip("netns", "del", name, check=False)
    try:
        build_bed()
        yield
    finally:
        remove_bed()


# --- frames ------------------------------------------------------------------------


def csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(
    proto: int,
    payload: bytes,
    *,
    src: str = CLIENT,
    dst: str = VIP,
    tos: int = 0,
    ttl: int = 64,
    df: bool = True,
    ident: int = 0x1234,
) -> bytes:
    head = struct.pack(
        "!BBHHHBBH4s4s",
        0x45, tos, 20 + len(payload), ident, 0x4000 if df else 0, ttl, proto, 0,
        socket.inet_aton(src), socket.inet_aton(dst),
    )  # fmt: skip
    return head[:10] + struct.pack("!H", csum(head)) + head[12:] + payload


def udp(sport: int, dport: int, data: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data


def tcp(sport: int, dport: int, flags: int, data: bytes = b"", seq: int = 1) -> bytes:
    return struct.pack("!HHIIBBHHH", sport, dport, seq, 0, 5 << 4, flags, 65535, 0, 0) + data


def sctp(sport: int, dport: int, *chunks: tuple[int, int]) -> bytes:
    """Chunks as (type, length); each padded to 4 bytes."""
    body = b""
    for kind, length in chunks:
        body += struct.pack("!BBH", kind, 0, length) + b"\0" * (((length + 3) & ~3) - 4)
    return struct.pack("!HHII", sport, dport, 1, 0) + body


def frame(packet: bytes, pad_to: int = 0) -> bytes:
    f = bytes.fromhex(MAC["dir"].replace(":", "")) + bytes.fromhex(MAC["cli"].replace(":", ""))
    f += b"\x08\x00" + packet
    return f + b"\0" * max(0, pad_to - len(f))


def expected_inner(packet: bytes) -> bytes:
    """The packet as IPVS sends it inside the tunnel: TTL - 1, checksum
    recomputed in full."""
    p = bytearray(packet)
    p[8] -= 1
    p[10:12] = b"\0\0"
    p[10:12] = struct.pack("!H", csum(bytes(p[:20])))
    return bytes(p)


@dataclass
class Wire:
    """AF_PACKET sockets: the client's sender, the real server's tap, the
    director's raw IP receivers (what reached its stack)."""

    tx: socket.socket
    rs: socket.socket
    stack: dict[int, socket.socket]  # per protocol

    def send(self, packet: bytes, pad_to: int = 0) -> None:
        self.tx.send(frame(packet, pad_to))

    def drain(self) -> None:
        for s in (self.rs, *self.stack.values()):
            while select.select([s], [], [], 0)[0]:
                s.recv(65536)

    def tunnelled(self, timeout: float = 1.0) -> bytes | None:
        """The next IPIP frame on the real server's wire."""
        deadline = time.monotonic() + timeout
        while True:
            left = max(0.0, deadline - time.monotonic())
            if not select.select([self.rs], [], [], left)[0]:
                return None
            f, addr = self.rs.recvfrom(65536)
            if addr[2] == socket.PACKET_OUTGOING:
                continue
            if f[12:14] == b"\x08\x00" and f[23] == IPPROTO_IPIP:
                return f
        return None

    def at_director(self, proto: int, timeout: float = 1.0) -> bytes | None:
        s = self.stack[proto]
        if not select.select([s], [], [], timeout)[0]:
            return None
        return s.recv(65536)


@pytest.fixture(scope="module")
def wire(bed: None) -> Iterator[Wire]:
    with inside(NS["cli"]):
        tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        tx.bind(("eth0", 0))
    with inside(NS["rs"]):
        rs = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
        rs.bind(("eth0", 0))
    with inside(NS["dir"]):
        stack = {p: socket.socket(socket.AF_INET, socket.SOCK_RAW, p) for p in (TCP, UDP, SCTP)}
    w = Wire(tx, rs, stack)
    yield w
    for s in (tx, rs, *stack.values()):
        s.close()


@pytest.fixture(scope="module")
def fastpath(bed: None) -> Iterator[TunFastPath]:
    with inside(NS["dir"]):
        fp = TunFastPath(["eth0"], cache_dir=CACHE, flow_max=4096, adopt=False)
    try:
        yield fp
    finally:
        with inside(NS["dir"]):
            fp.close()


@pytest.fixture
def fp(fastpath: TunFastPath, wire: Wire) -> TunFastPath:
    """The fast path with one real server, no flows, IPVS's default options."""
    fastpath.flush()
    fastpath.set_options()
    set_rs(fastpath)
    wire.drain()
    return fastpath


def set_rs(fp: TunFastPath, mtu: int = UNDERLAY_MTU, dest: int = DEST) -> None:
    with inside(NS["dir"]):
        ifindex = socket.if_nametoindex("eth0")
    fp.set_dest(dest, RS, DIRECTOR, ifindex, MAC["dir"], MAC["rs"], mtu)


def check_tunnelled(f: bytes, sent: bytes, *, tos: int, df: bool) -> None:
    """Every byte of the frame the real server got, against §6.5."""
    assert f[0:6] == bytes.fromhex(MAC["rs"].replace(":", "")), "to the real server's MAC"
    assert f[6:12] == bytes.fromhex(MAC["dir"].replace(":", "")), "from the director's MAC"
    assert f[12:14] == b"\x08\x00"
    outer, inner = f[14:34], f[34:]
    assert len(f) == 14 + 20 + len(sent), "no padding, no options"
    ver_ihl, otos, tot_len, _ident, frag, ttl, proto, _c = struct.unpack("!BBHHHBBH", outer[:12])
    assert ver_ihl == 0x45
    assert otos == tos
    assert tot_len == 20 + len(sent)
    assert frag == (0x4000 if df else 0), "DF as asked, fragment offset 0, MF 0"
    assert ttl == sent[8] - 1, "the inner TTL after the decrement"
    assert proto == IPPROTO_IPIP
    assert csum(outer) == 0, "outer header checksum"
    assert outer[12:16] == socket.inet_aton(DIRECTOR)
    assert outer[16:20] == socket.inet_aton(RS)
    assert inner == expected_inner(sent), "inner: TTL - 1 and its checksum, nothing else"
    assert csum(inner[:20]) == 0


# --- tests ---------------------------------------------------------------------------


def test_probe_says_it_can_run(bed: None) -> None:
    assert probe(CACHE) == ""


def test_attached_as_one_direct_action_filter_beside_others(bed: None) -> None:
    """Another owner's filter on the same clsact survives attach and detach,
    and so does the clsact that filter needs."""
    d = NS["dir"]
    ip("link", "add", "tbx0", "type", "veth", "peer", "name", "tbx1", ns=d)
    try:
        nsexec(d, "tc", "qdisc", "add", "dev", "tbx0", "clsact")
        nsexec(d, "tc", "filter", "add", "dev", "tbx0", "ingress", "pref", "7",
               "protocol", "ip", "u32", "match", "u32", "0", "0")  # fmt: skip
        with inside(d):
            fp = TunFastPath(["tbx0"], cache_dir=CACHE, flow_max=128, adopt=False)
            ifindex = socket.if_nametoindex("tbx0")
            with TcSocket() as tc:
                mine = [f for f in tc.filters(ifindex, INGRESS) if f.kind == "bpf"]
                assert len(mine) == 1 and mine[0].direct and mine[0].name == "pylvs_tun"
                assert any(f.prio == 7 and f.kind == "u32" for f in tc.filters(ifindex, INGRESS))
            fp.close()
            with TcSocket() as tc:
                assert {(f.kind, f.prio) for f in tc.filters(ifindex, INGRESS)} == {("u32", 7)}
                assert tc.has_clsact(ifindex)
            # On a device without clsact: added, then removed with our filter.
            fp = TunFastPath(["tbx1"], cache_dir=CACHE, flow_max=128, adopt=False)
            ifindex1 = socket.if_nametoindex("tbx1")
            with TcSocket() as tc:
                assert tc.has_clsact(ifindex1)
            fp.close()
            with TcSocket() as tc:
                assert not tc.has_clsact(ifindex1)
    finally:
        ip("link", "del", "tbx0", ns=d, check=False)


@pytest.mark.parametrize(
    ("tos", "outer_tos"),
    [(0x00, 0x00), (0x01, 0x01), (0x02, 0x02), (0x03, 0x02), (0xB8, 0xB8), (0xBB, 0xBA)],
)
def test_udp_outer_header_byte_by_byte(
    fp: TunFastPath, wire: Wire, tos: int, outer_tos: int
) -> None:
    fp.add_flow(CLIENT, VIP, 40000, 53, UDP, DEST)
    for ttl, df in ((64, True), (2, False), (255, True)):
        sent = ipv4(UDP, udp(40000, 53, b"q" * 33), tos=tos, ttl=ttl, df=df)
        wire.send(sent)
        f = wire.tunnelled()
        assert f is not None, "the packet was tunnelled"
        check_tunnelled(f, sent, tos=outer_tos, df=df)
    assert wire.at_director(UDP, timeout=0.1) is None, "nothing reached the director's stack"


def test_tcp_outer_header_and_ids(fp: TunFastPath, wire: Wire) -> None:
    fp.add_flow(CLIENT, VIP, 40001, 80, TCP, DEST)
    ids = set()
    for i in range(8):
        sent = ipv4(TCP, tcp(40001, 80, 0x10, b"x" * (100 + i)), ident=1000 + i)
        wire.send(sent)
        f = wire.tunnelled()
        assert f is not None
        check_tunnelled(f, sent, tos=0, df=True)
        ids.add(f[18:20])
    assert len(ids) > 1, "each outer header gets its own ID"


def test_ethernet_padding_stays_out_of_the_tunnel(fp: TunFastPath, wire: Wire) -> None:
    fp.add_flow(CLIENT, VIP, 40002, 53, UDP, DEST)
    sent = ipv4(UDP, udp(40002, 53, b"hi"))
    wire.send(sent, pad_to=60)
    f = wire.tunnelled()
    assert f is not None
    check_tunnelled(f, sent, tos=0, df=True)


def test_unknown_flow_reaches_the_directors_stack_untouched(fp: TunFastPath, wire: Wire) -> None:
    fp.add_flow(CLIENT, VIP, 40003, 53, UDP, DEST)
    before = fp.stats()
    for sent in (
        ipv4(UDP, udp(40004, 53, b"other port")),
        ipv4(UDP, udp(40003, 54, b"other vport")),
        ipv4(UDP, udp(40003, 53, b"other vip"), dst="10.77.0.101"),
        ipv4(TCP, tcp(40003, 53, 0x02)),  # other protocol
    ):
        wire.send(sent)
        if sent[16:20] == socket.inet_aton(VIP):
            got = wire.at_director(sent[9])
            assert got == sent, "delivered as sent: TTL and all"
    assert wire.tunnelled(timeout=0.3) is None
    after = fp.stats()
    assert after["miss"] - before["miss"] == 4
    assert after["forwarded"] == before["forwarded"]


def test_ttl_one_and_unknown_dest_go_to_the_stack(fp: TunFastPath, wire: Wire) -> None:
    fp.add_flow(CLIENT, VIP, 40005, 53, UDP, DEST)
    fp.add_flow(CLIENT, VIP, 40006, 53, UDP, DEST + 1)  # no such real server
    fp.zero_counters()
    before = fp.stats()
    one = ipv4(UDP, udp(40005, 53, b"ttl"), ttl=1)
    wire.send(one)
    assert wire.at_director(UDP) == one
    orphan = ipv4(UDP, udp(40006, 53, b"no dest"))
    wire.send(orphan)
    assert wire.at_director(UDP) == orphan
    assert wire.tunnelled(timeout=0.3) is None
    after = fp.stats()
    assert after["ttl"] - before["ttl"] == 1
    assert after["no_dest"] - before["no_dest"] == 1
    assert fp.counters()[DEST] == (0, 0), "what the stack gets is not counted"


def test_mtu(fp: TunFastPath, wire: Wire) -> None:
    """Inner length + 20 must fit the route's MTU; what does not goes to the
    stack (the daemon answers frag-needed, or fragments without DF)."""
    set_rs(fp, mtu=1000)
    fp.add_flow(CLIENT, VIP, 40007, 53, UDP, DEST)
    fits = ipv4(UDP, udp(40007, 53, b"f" * (980 - 28)))
    assert len(fits) == 980
    wire.send(fits)
    f = wire.tunnelled()
    assert f is not None and len(f) == 14 + 1000
    for df in (True, False):
        big = ipv4(UDP, udp(40007, 53, b"b" * (981 - 28)), df=df)
        wire.send(big)
        assert wire.at_director(UDP) == big
    assert wire.tunnelled(timeout=0.3) is None
    assert fp.stats()["too_big"] >= 2


def test_pmtu_disc_off_clears_df(fp: TunFastPath, wire: Wire) -> None:
    fp.set_options(pmtu_disc=False)
    fp.add_flow(CLIENT, VIP, 40008, 53, UDP, DEST)
    sent = ipv4(UDP, udp(40008, 53, b"df"), df=True)
    wire.send(sent)
    f = wire.tunnelled()
    assert f is not None
    check_tunnelled(f, sent, tos=0, df=False)


def _sent_and_seen(wire: Wire, packet: bytes) -> bool:
    """Sent, and tunnelled (True) or delivered to the director (False)."""
    wire.send(packet)
    proto = packet[9]
    stack = wire.stack[proto]
    deadline = time.monotonic() + 1.0
    while (left := deadline - time.monotonic()) > 0:
        ready = select.select([wire.rs, stack], [], [], left)[0]
        if wire.rs in ready and wire.tunnelled(timeout=0) is not None:
            return True
        if stack in ready:
            got = stack.recv(65536)
            assert got == packet, "the stack got the packet untouched"
            return False
    raise AssertionError("the packet went nowhere")


def test_tcp_states_follow_the_input_only_table(fp: TunFastPath, wire: Wire) -> None:
    """Random client flag sequences against pylvs.core's INPUT-ONLY table."""
    rng = random.Random(5)
    choices = [0x02, 0x10, 0x11, 0x01, 0x04, 0x14, 0x18, 0x00, 0x12, 0x08]
    table = tcpstate.TABLE[tcpstate.DIR_INPUT_ONLY]
    for n in range(6):
        port = 41000 + n
        fp.add_flow(CLIENT, VIP, port, 80, TCP, DEST, "SYN_RECV")
        state = tcpstate.SYN_RECV
        for _ in range(12):
            flags = rng.choice(choices)
            seen = _sent_and_seen(wire, ipv4(TCP, tcp(port, 80, flags)))
            ev = tcpstate.tcp_event(flags)
            if flags & 0x02 and state in (tcpstate.TIME_WAIT, tcpstate.CLOSE):
                assert not seen, "a SYN on TIME_WAIT/CLOSE is scheduled afresh (daemon)"
                continue
            assert seen
            state = tcpstate.CLOSE if ev == tcpstate.EV_NONE else table[ev][state]
            (flow,) = [f for f in fp.flows() if f.cport == port]
            assert flow.state == tcpstate.STATE_NAMES[state]
            assert flow.active == (state in tcpstate.TCP_ACTIVE)


def test_secure_tcp_and_reuse_options(fp: TunFastPath, wire: Wire) -> None:
    fp.set_options(secure_tcp=True)
    fp.add_flow(CLIENT, VIP, 41100, 80, TCP, DEST, "FIN_WAIT")
    assert _sent_and_seen(wire, ipv4(TCP, tcp(41100, 80, 0x02)))
    assert [f.state for f in fp.flows() if f.cport == 41100] == ["SYNACK"]
    # conn_reuse_mode 0: a SYN on TIME_WAIT stays with the flow.
    fp.set_options(conn_reuse_mode=0)
    fp.add_flow(CLIENT, VIP, 41101, 80, TCP, DEST, "TIME_WAIT")
    assert _sent_and_seen(wire, ipv4(TCP, tcp(41101, 80, 0x02)))
    # A flow a template controls is never rescheduled; FIN_WAIT with bit 2 is.
    fp.set_options(conn_reuse_mode=3)
    fp.add_flow(CLIENT, VIP, 41102, 80, TCP, DEST, "TIME_WAIT", controlled=True)
    assert _sent_and_seen(wire, ipv4(TCP, tcp(41102, 80, 0x02)))
    fp.add_flow(CLIENT, VIP, 41103, 80, TCP, DEST, "FIN_WAIT")
    assert not _sent_and_seen(wire, ipv4(TCP, tcp(41103, 80, 0x02)))
    # expire_nodest_conn with weight 0: every SYN goes to the daemon.
    with inside(NS["dir"]):
        ifindex = socket.if_nametoindex("eth0")
    fp.set_dest(DEST, RS, DIRECTOR, ifindex, MAC["dir"], MAC["rs"], UNDERLAY_MTU, resched=True)
    fp.add_flow(CLIENT, VIP, 41104, 80, TCP, DEST, "ESTABLISHED")
    assert not _sent_and_seen(wire, ipv4(TCP, tcp(41104, 80, 0x02)))
    assert _sent_and_seen(wire, ipv4(TCP, tcp(41104, 80, 0x10)))


def test_sctp_states_follow_the_input_only_table(fp: TunFastPath, wire: Wire) -> None:
    table = sctpstate.SCTP_TABLE[tcpstate.DIR_INPUT_ONLY]
    fp.add_flow(CLIENT, VIP, 42000, 9, SCTP, DEST)
    state = sctpstate.INIT1
    steps = [
        [(10, 20)],  # COOKIE ECHO
        [(0, 17)],  # DATA
        [(3, 16)],  # SACK: data
        [(11, 4), (6, 4)],  # COOKIE ACK then ABORT: abort
    ]
    for chunks in steps:
        assert _sent_and_seen(wire, ipv4(SCTP, sctp(42000, 9, *chunks)))
        second = chunks[1][0] if len(chunks) > 1 else None
        state = table[sctpstate.sctp_event(chunks[0][0], second)][state]
        (flow,) = [f for f in fp.flows() if f.cport == 42000]
        assert flow.state == sctpstate.SCTP_STATE_NAMES[state]
    assert state == sctpstate.CLOSED
    # An INIT on a CLOSED association is scheduled afresh.
    assert not _sent_and_seen(wire, ipv4(SCTP, sctp(42000, 9, (1, 20))))


def test_counters_flows_and_expiry(fp: TunFastPath, wire: Wire) -> None:
    before = fp.counters().get(DEST, (0, 0))
    set_rs(fp, dest=DEST + 2)
    fp.add_flow(CLIENT, VIP, 43000, 80, TCP, DEST)
    fp.add_flow(CLIENT, VIP, 43001, 80, TCP, DEST)
    fp.add_flow(CLIENT, VIP, 43002, 53, UDP, DEST)
    fp.add_flow(CLIENT, VIP, 43003, 53, UDP, DEST + 2)
    sent = [
        ipv4(TCP, tcp(43000, 80, 0x10, b"a" * 10)),  # -> ESTABLISHED
        ipv4(TCP, tcp(43001, 80, 0x11)),  # FIN from SYN_RECV -> TIME_WAIT
        ipv4(UDP, udp(43002, 53, b"u" * 50)),
        ipv4(UDP, udp(43002, 53, b"u" * 70)),
    ]
    for p in sent:
        assert _sent_and_seen(wire, p)
    pk, by = fp.counters()[DEST]
    assert (pk - before[0], by - before[1]) == (4, sum(len(p) for p in sent)), "InPkts, InBytes"
    assert fp.counters()[DEST + 2] == (0, 0)

    now = time.monotonic()
    t = Timeouts(established=900, fin_wait=120, udp=300)
    rows = {(f.proto, f.cport): f for f in fp.flows(now, t)}
    est, tw = rows[(TCP, 43000)], rows[(TCP, 43001)]
    assert (est.state, est.active, est.dest_id) == ("ESTABLISHED", True, DEST)
    assert (tw.state, tw.active) == ("TIME_WAIT", False)
    assert rows[(UDP, 43002)].state == "UDP" and not rows[(UDP, 43002)].active
    assert 895 < est.expires <= 900
    assert 115 < tw.expires <= 120

    sweep = fp.expire(now, t)
    assert sweep.total_ended == 0
    assert sweep.counts[DEST] == (1, 2)
    assert sweep.counts[DEST + 2] == (0, 1)
    # 121 s on: TIME_WAIT is over; --set tcp 100 udp 110 ends the rest by 130 s.
    sweep = fp.expire(now + 121, t)
    assert sweep.ended == {DEST: 1}
    assert sweep.counts[DEST] == (1, 1)
    short = Timeouts(established=100, fin_wait=120, udp=110)
    sweep = fp.expire(now + 130, short)
    assert sweep.ended == {DEST: 2, DEST + 2: 1}
    assert sweep.counts == {}
    assert fp.flows() == []
    # A real server forgotten: its last counters come back, its entries go.
    assert fp.del_dest(DEST + 2) == (0, 0)
    assert DEST + 2 not in fp.counters()


def test_restarted_daemon_adopts_flows_and_counters(fp: TunFastPath, wire: Wire) -> None:
    fp.add_flow(CLIENT, VIP, 44000, 53, UDP, DEST)
    assert _sent_and_seen(wire, ipv4(UDP, udp(44000, 53, b"1")))
    counted = fp.counters()[DEST]
    with inside(NS["dir"]):
        successor = TunFastPath(["eth0"], cache_dir=CACHE, flow_max=4096, adopt=True)
    try:
        assert successor.adopted
        assert [f.cport for f in successor.flows()] == [44000]
        assert successor.counters()[DEST] == counted
        assert _sent_and_seen(wire, ipv4(UDP, udp(44000, 53, b"2")))
        assert successor.counters()[DEST][0] == counted[0] + 1
        assert fp.counters()[DEST][0] == counted[0] + 1, "the same maps"
    finally:
        with inside(NS["dir"]):
            successor.close(detach=False)
            fp.set_devices([])  # the successor's program off, the fixture's back on
            fp.set_devices(["eth0"])


# --- real TCP through the tunnel -------------------------------------------------------

SERVER = r"""
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(8)
s.settimeout(60)
print("ready", flush=True)
for _ in range(int(sys.argv[3])):
    c, _a = s.accept()
    c.settimeout(30)
    h = hashlib.sha256()
    got = 0
    while True:
        b = c.recv(1 << 16)
        if not b:
            break
        h.update(b)
        got += len(b)
    c.sendall(f"{got} {h.hexdigest()}\n".encode())
    c.close()
"""

CLIENT_PROG = r"""
import hashlib, socket, sys
n, port = int(sys.argv[3]), int(sys.argv[4])
c = socket.socket()
c.bind(("", port))
c.settimeout(30)
c.connect((sys.argv[1], int(sys.argv[2])))
block = hashlib.sha256(b"tb").digest() * 2048
h = hashlib.sha256()
sent = 0
while sent < n:
    chunk = block[: min(len(block), n - sent)]
    c.sendall(chunk)
    h.update(chunk)
    sent += len(chunk)
c.shutdown(socket.SHUT_WR)
print(c.makefile().readline().strip(), h.hexdigest(), flush=True)
"""


@contextlib.contextmanager
def process(ns: str, *argv: str) -> Iterator[subprocess.Popen[str]]:
    p = subprocess.Popen(
        ["ip", "netns", "exec", ns, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        yield p
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)


@pytest.fixture
def decap(bed: None) -> Iterator[None]:
    with inside(NS["rs"]):
        d = TunDecap(["eth0"], cache_dir=CACHE)
    try:
        yield
    finally:
        with inside(NS["rs"]):
            d.close()


def test_real_tcp_upload_with_gso_through_the_tunnel(
    fp: TunFastPath, wire: Wire, decap: None
) -> None:
    """A real connection from the client to the VIP, its client side (with
    the client's TSO: GSO packets) tunnelled by the program, the real server
    answering straight back; the bytes arrive intact."""
    port = 45000
    fp.add_flow(CLIENT, VIP, port, 8080, TCP, DEST)  # bound before the SYN
    fp.zero_counters()
    before = fp.stats()
    n = 8 << 20
    with process(NS["rs"], PY, "-c", SERVER, VIP, "8080", "1") as srv:
        assert srv.stdout is not None and srv.stdout.readline().strip() == "ready"
        with process(NS["cli"], PY, "-c", CLIENT_PROG, VIP, "8080", str(n), str(port)) as cli:
            out, err = cli.communicate(timeout=60)
    assert cli.returncode == 0, err
    got, digest, mine = out.split()
    assert int(got) == n and digest == mine
    (flow,) = [f for f in fp.flows() if f.cport == port]
    assert flow.state in ("FIN_WAIT", "TIME_WAIT", "CLOSE")
    after = fp.stats()
    assert after["too_big"] == before["too_big"] and after["error"] == before["error"]
    packets, nbytes = fp.counters()[DEST]
    assert nbytes >= n
    assert packets < n // 1448, "GSO packets were tunnelled whole"
