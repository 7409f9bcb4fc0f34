"""The kernel's counters and entries read as IPVS's figures (counters.py,
flows.py): pure functions over what the plane read."""

from __future__ import annotations

import socket
from random import Random

from pylvs.core.addr import AF_INET, IPPROTO_TCP, IPPROTO_UDP
from pylvs.core.ipvs import Ipvs
from pylvs.core.model import CONN_F_DROUTE, CONN_F_MASQ, DestSpec, ServiceKey, ServiceSpec
from pylvs.core.ops import AddDest, AddService
from pylvs.dataplane.kernel import counters, flows
from pylvs.dataplane.kernel import ruleset as rs
from pylvs.dataplane.kernel.ctnetlink import CtEntry
from pylvs.dataplane.kernel.drflows import DrFlow
from pylvs.dataplane.kernel.tunbpf.fastpath import TunFlow

VIP, WEB1, WEB2, CLIENT = 0x0A000164, 0x0A00010B, 0x0A00010C, 0x0A000232
ESTABLISHED, TIME_WAIT = 3, 7  # conntrack's TCP states


def test_deltas_name_what_moved() -> None:
    last = {"d3i": (10, 1000), "d3o": (5, 500), "r4c": (1, 0), "k1n": (7, 0)}
    now = {
        "d3i": (12, 1300),  # 2 packets in
        "d3o": (5, 500),  # nothing
        "d3f": (1, 0),  # a first FIN (new counter)
        "r4c": (3, 0),  # two DR flows scheduled in the kernel
        "k1n": (9, 0),  # a kernel cycle's own counter: not a real server's
        "d9": (1, 60),  # no suffix: packets in
    }
    got = sorted(counters.deltas(last, now))
    assert got == [
        counters.CounterDelta(False, 4, "c", 2, 0),
        counters.CounterDelta(True, 3, "f", 1, 0),
        counters.CounterDelta(True, 3, "i", 2, 300),
        counters.CounterDelta(True, 9, "i", 1, 60),
    ]


def test_zeroed_counters_move_nothing() -> None:
    assert list(counters.deltas({"d1i": (50, 5000)}, {"d1i": (0, 0)})) == []


def _table() -> Ipvs:
    ipvs = Ipvs(Random(1))
    key = ServiceKey(AF_INET, IPPROTO_TCP, VIP, 80)
    ipvs.apply(AddService(ServiceSpec.make(key, "wlc")), 0)
    ipvs.apply(AddDest(key, DestSpec(AF_INET, WEB1, 8080, fwd=CONN_F_MASQ, weight=1)), 0)
    ipvs.apply(AddDest(key, DestSpec(AF_INET, WEB2, 0, fwd=CONN_F_DROUTE, weight=1)), 0)
    return ipvs


def _ct(state: int, ident: int, proto: int = IPPROTO_TCP, sport: int = 40000) -> CtEntry:
    return CtEntry(
        family=socket.AF_INET, proto=proto, src=CLIENT, dst=VIP, sport=sport, dport=80,
        rsrc=WEB1, rsport=8080, tcp_state=state, mark=rs.mark_of(ident), timeout=99,
    )  # fmt: skip


def _dr(state: str, ident: int, cport: int) -> DrFlow:
    return DrFlow(IPPROTO_TCP, CLIENT, VIP, cport, 80, ident, 900, 42, state)


def test_exact_counts_from_every_source() -> None:
    nat = [
        _ct(ESTABLISHED, 1),
        _ct(TIME_WAIT, 1, sport=40001),
        _ct(-1, 1, proto=IPPROTO_UDP, sport=40002),
    ]
    dr = [_dr("ESTABLISHED", 2, 1), _dr("FIN_WAIT", 2, 2)]
    tun = {3: (4, 5)}
    core = [(2, "SYN_RECV"), (3, "CLOSE")]
    assert flows.exact_counts(nat, dr, tun, core) == {1: [1, 2], 2: [2, 1], 3: [4, 6]}


def test_conn_rows_as_ipvsadm_lists_them() -> None:
    ipvs = _table()
    key = ServiceKey(AF_INET, IPPROTO_TCP, VIP, 80)
    web1 = ipvs.dest(key, (AF_INET, WEB1, 8080))
    web2 = ipvs.dest(key, (AF_INET, WEB2, 0))
    assert web1 is not None and web2 is not None
    by_id = {1: web1, 2: web2}
    nat = [_ct(ESTABLISHED, 1), _ct(ESTABLISHED, 77, sport=1)]  # 77: not ours any more
    dr = [_dr("FIN_WAIT", 2, 5555)]
    tun = [TunFlow(IPPROTO_TCP, CLIENT, VIP, 6666, 80, 2, "ESTABLISHED", -0.5, True)]
    rows = flows.conn_infos(nat, dr, tun, by_id)
    assert [(r.cport, r.daddr, r.dport, r.state, r.expires) for r in rows] == [
        (40000, WEB1, 8080, "ESTABLISHED", 99),
        (5555, WEB2, 80, "FIN_WAIT", 42),  # port 0: the VIP's port, as IPVS shows DR
        (6666, WEB2, 80, "ESTABLISHED", 0),
    ]
