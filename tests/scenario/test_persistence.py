"""Persistence templates (behaviour reference §4.6)."""

from __future__ import annotations

from builders import IPPROTO_TCP, Lab, ip
from pylvs.core.addr import AF_INET, IPPROTO_IP
from pylvs.core.conn import Conn, decode_key
from pylvs.core.ipvs import FORWARD, Ipvs
from pylvs.core.model import ServiceKey
from pylvs.core.tcpstate import ACK, FIN, SYN

VIP = ip("10.0.1.100")


def connect(ipvs: Ipvs, client: str, now: float, cport: int = 40000, vport: int = 80) -> Conn:
    verdict, c = ipvs.process_in(AF_INET, IPPROTO_TCP, ip(client), cport, VIP, vport, now, SYN, 60)
    assert verdict == FORWARD and c is not None
    return c


def templates(ipvs: Ipvs) -> list[Conn]:
    return list(ipvs.conns.templates.values())


def test_client_is_pinned_and_template_listed() -> None:
    lab = Lab("rr", persistent=300)
    lab.add("web1")
    lab.add("web2")
    ipvs = lab.ipvs
    first = connect(ipvs, "10.0.1.50", 0).dest
    for i in range(5):
        assert connect(ipvs, "10.0.1.50", i, cport=41000 + i).dest is first
    other = connect(ipvs, "10.0.1.51", 0).dest
    assert other is not first
    (t1, _t2) = sorted(templates(ipvs), key=lambda t: t.key)
    info = ipvs.conn_info(t1, 4)
    assert (info.state, info.cport, info.vport, info.dport) == ("NONE", 0, 80, 80)
    assert info.expires == 300  # restarted by the last new connection at t=4
    assert first is not None and first.persistconns == 1


def test_netmask_groups_a_subnet() -> None:
    lab = Lab("rr", persistent=300, netmask=0xFFFFFF00)
    lab.add("web1")
    lab.add("web2")
    ipvs = lab.ipvs
    d = connect(ipvs, "10.0.1.50", 0).dest
    assert connect(ipvs, "10.0.1.77", 1).dest is d
    assert connect(ipvs, "10.0.2.77", 1).dest is not d


def test_template_outlives_its_connections() -> None:
    lab = Lab("rr", persistent=10)
    lab.add("web1")
    ipvs = lab.ipvs
    c = connect(ipvs, "10.0.1.50", 0)
    ipvs.process_in(AF_INET, IPPROTO_TCP, ip("10.0.1.50"), 40000, VIP, 80, 0.1, ACK, 52)
    (t,) = templates(ipvs)
    assert ipvs.state_name(t) == "ASSURED"
    ipvs.tick(11)  # template due, but it still controls c: re-armed for 60 s
    assert t.timeout == 60 and t in templates(ipvs)
    ipvs.expire_now(c, 20)
    ipvs.tick(70)
    assert t in templates(ipvs)
    ipvs.tick(72)
    assert templates(ipvs) == []


def test_quiesced_dest_keeps_pinned_clients_until_expire_quiescent_template() -> None:
    lab = Lab("rr", persistent=300)
    lab.add("web1")
    lab.add("web2")
    ipvs = lab.ipvs
    d = connect(ipvs, "10.0.1.50", 0).dest
    assert d is not None
    lab.edit(lab.name_of(d), weight=0)
    assert connect(ipvs, "10.0.1.50", 1, cport=41000).dest is d
    ipvs.sysctl.expire_quiescent_template = 1
    assert connect(ipvs, "10.0.1.50", 2, cport=42000).dest is not d
    # The old template was re-keyed so that it never matches again.
    stale = [c for c in ipvs.detached.values() if c.flags & 0x1000]
    assert len(stale) == 1 and decode_key(stale[0].key)[5] == 0xFFFF


def test_deleted_dest_template_is_invalid() -> None:
    lab = Lab("rr", persistent=300)
    lab.add("web1")
    lab.add("web2")
    ipvs = lab.ipvs
    d = connect(ipvs, "10.0.1.50", 0).dest
    assert d is not None
    lab.delete(lab.name_of(d))
    assert connect(ipvs, "10.0.1.50", 1, cport=41000).dest is not d


def test_fwmark_template_key() -> None:
    from builders import rs
    from pylvs.core.model import ServiceSpec
    from pylvs.core.ops import AddDest, AddService

    ipvs = Ipvs()
    key = ServiceKey.fwm(1)
    ipvs.apply(AddService(ServiceSpec.make(key, "rr", persistent=60)), 0)
    ipvs.apply(AddDest(key, rs("10.0.1.11", 0)), 0)
    c1 = ipvs.process_in(AF_INET, IPPROTO_TCP, ip("10.9.9.9"), 40000, VIP, 80, 0, SYN, 60, mark=1)[
        1
    ]
    c2 = ipvs.process_in(AF_INET, IPPROTO_TCP, ip("10.9.9.9"), 40001, VIP, 443, 0, SYN, 60, mark=1)[
        1
    ]
    assert c1 is not None and c2 is not None
    assert (c1.dport, c2.dport) == (80, 443)  # the packet's port for fwmark services
    (t,) = templates(ipvs)
    _af, proto, _caddr, cport, vaddr, vport = decode_key(t.key)
    assert (proto, vaddr, vport, cport) == (IPPROTO_IP, 1, 0, 0)


def test_client_fin_then_reuse_stays_on_template_dest() -> None:
    lab = Lab("rr", persistent=300)
    lab.add("web1")
    lab.add("web2")
    ipvs = lab.ipvs
    c = connect(ipvs, "10.0.1.50", 0)
    ipvs.process_in(AF_INET, IPPROTO_TCP, ip("10.0.1.50"), 40000, VIP, 80, 0.1, FIN, 52)
    # A controlled entry is never rescheduled: the SYN continues it.
    c2 = connect(ipvs, "10.0.1.50", 1)
    assert c2 is c
