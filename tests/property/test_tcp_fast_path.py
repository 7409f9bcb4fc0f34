"""tcp_in / tcp_out (the proxy plane's fast paths) leave the core exactly as
packet_in / process_out do."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from builders import DR, Lab, ip
from pylvs.core.addr import AF_INET, IPPROTO_TCP
from pylvs.core.ipvs import Ipvs
from pylvs.core.tcpstate import ACK, FIN, RST, SYN

flags = st.sampled_from([ACK, FIN | ACK, RST, SYN, SYN | ACK, 0, FIN])
events = st.lists(
    st.tuples(st.booleans(), flags, st.integers(0, 2000), st.floats(0, 30)), max_size=25
)


def state(ipvs: Ipvs, d: object) -> tuple[object, ...]:
    svc = d.svc  # type: ignore[attr-defined]
    c = next(iter(ipvs.conns.conns.values()), None)
    conn = None if c is None else (c.state, c.flags, c.timeout, c.expires, c.in_pkts, c.bucket)
    return (d.stats.live(), svc.stats.live(), ipvs.stats.live(), d.activeconns, d.inactconns, conn)  # type: ignore[attr-defined]


@settings(max_examples=300, deadline=None)
@given(evs=events, method=st.sampled_from(["masq", "route"]), delete=st.booleans())
def test_fast_paths_equal_general_paths(
    evs: list[tuple[bool, int, int, float]], method: str, delete: bool
) -> None:
    labs = []
    for _ in range(2):
        lab = Lab("rr")
        lab.add("A", 1, fwd=DR if method == "route" else 0)
        labs.append(lab)
    conns = []
    for lab in labs:
        _, c = lab.ipvs.process_in(
            AF_INET, IPPROTO_TCP, ip("10.9.0.1"), 4000, lab.key.addr, 80, 0.0, SYN, 60
        )
        assert c is not None
        conns.append(c)
    now = 0.0
    for i, (inbound, f, n, dt) in enumerate(evs):
        now += dt
        if delete and i == len(evs) // 2:
            for lab in labs:
                lab.delete("A")
        for k, (lab, c) in enumerate(zip(labs, conns, strict=True)):
            lab.ipvs.tick(now)
            if inbound:
                r = lab.ipvs.tcp_in(c, now, f, n) if k else lab.ipvs.packet_in(c, now, f, n)
            else:
                r = lab.ipvs.tcp_out(c, now, f, n) if k else lab.ipvs.process_out(c, now, f, n)
            if k == 0:
                first = r
            else:
                assert r == first
        assert state(labs[0].ipvs, conns[0].dest) == state(labs[1].ipvs, conns[1].dest)
