"""Connections through the core: TCP state tables per method, active and
inactive counts, timeouts, thresholds (behaviour reference §3, §4)."""

from __future__ import annotations

from builders import DR, IPPROTO_TCP, IPPROTO_UDP, Lab, ip, udp
from pylvs.core.addr import AF_INET
from pylvs.core.conn import Conn
from pylvs.core.ipvs import ACCEPT, DROP, FORWARD, REJECT, Ipvs
from pylvs.core.model import DEST_F_OVERLOAD
from pylvs.core.ops import SetTimeouts
from pylvs.core.tcpstate import ACK, FIN, RST, SYN

VIP = ip("10.0.1.100")


def send_in(ipvs: Ipvs, flags: int, now: float, cport: int = 40000, client: str = "192.168.10.5",
            proto: int = IPPROTO_TCP, nbytes: int = 60) -> tuple[int, Conn | None]:  # fmt: skip
    return ipvs.process_in(AF_INET, proto, ip(client), cport, VIP, 80, now, flags, nbytes)


def state(ipvs: Ipvs, conn: Conn) -> str:
    return ipvs.state_name(conn)


def test_nat_flow_states_and_counters() -> None:
    lab = Lab("rr")
    d = lab.add("web1", 1)
    ipvs = lab.ipvs
    verdict, c = send_in(ipvs, SYN, 0.0)
    assert verdict == FORWARD and c is not None
    assert state(ipvs, c) == "SYN_RECV" and c.timeout == 60
    assert (d.activeconns, d.inactconns) == (1, 0)  # active from the first SYN
    ipvs.process_out(c, 0.1, SYN | ACK, 60)
    assert state(ipvs, c) == "SYN_RECV"
    send_in(ipvs, ACK, 0.2)
    assert state(ipvs, c) == "ESTABLISHED" and c.timeout == 900
    ipvs.process_out(c, 1.0, FIN | ACK)
    assert state(ipvs, c) == "FIN_WAIT"
    assert (d.activeconns, d.inactconns) == (0, 1)
    send_in(ipvs, ACK, 1.1)
    assert state(ipvs, c) == "FIN_WAIT"
    send_in(ipvs, FIN | ACK, 1.2)
    assert state(ipvs, c) == "TIME_WAIT" and c.timeout == 120
    assert ipvs.tick(1.2 + 119) == []
    assert ipvs.tick(1.2 + 120.5) == [c]
    assert (d.activeconns, d.inactconns) == (0, 0)
    assert len(ipvs.conns) == 0


def test_dr_flow_uses_input_only_table() -> None:
    lab = Lab("rr")
    d = lab.add("web1", 1, fwd=DR)
    ipvs = lab.ipvs
    _, c = send_in(ipvs, SYN, 0.0)
    assert c is not None and state(ipvs, c) == "SYN_RECV"
    send_in(ipvs, ACK, 0.1)
    assert state(ipvs, c) == "ESTABLISHED"
    send_in(ipvs, FIN | ACK, 5)
    assert state(ipvs, c) == "FIN_WAIT" and c.timeout == 120
    send_in(ipvs, ACK, 5.1)
    assert state(ipvs, c) == "FIN_WAIT"
    assert (d.activeconns, d.inactconns) == (0, 1)
    # Out-stats stay 0: the director never sees replies in DR.
    assert d.stats.outpkts == 0 and d.stats.inpkts == 4


def test_segment_without_flags_closes() -> None:
    lab = Lab("rr")
    lab.add("web1")
    _, c = send_in(lab.ipvs, SYN, 0)
    send_in(lab.ipvs, 0, 1)
    assert c is not None and state(lab.ipvs, c) == "CLOSE" and c.timeout == 10


def test_non_syn_without_entry_is_not_ours() -> None:
    lab = Lab("rr")
    lab.add("web1")
    assert send_in(lab.ipvs, ACK, 0) == (ACCEPT, None)
    assert send_in(lab.ipvs, SYN | RST, 0) == (ACCEPT, None)
    lab.ipvs.sysctl.sloppy_tcp = 1
    verdict, c = send_in(lab.ipvs, ACK, 0)
    assert verdict == FORWARD and c is not None


def test_no_destination_rejects_and_ftp_data_is_ignored() -> None:
    lab = Lab("rr")
    assert send_in(lab.ipvs, SYN, 0)[0] == REJECT
    lab.add("web1", 0)
    assert send_in(lab.ipvs, SYN, 0)[0] == REJECT
    assert send_in(lab.ipvs, SYN, 0, cport=20)[0] == ACCEPT


def test_timeouts_set() -> None:
    lab = Lab("rr")
    lab.add("web1")
    lab.ipvs.apply(SetTimeouts(3600, 0, 0), 0)
    assert lab.ipvs.timeouts().tcp == 3600 and lab.ipvs.timeouts().tcpfin == 120
    _, c = send_in(lab.ipvs, SYN, 0)
    send_in(lab.ipvs, ACK, 0)
    assert c is not None and c.timeout == 3600


def test_threshold_example() -> None:
    # u_threshold 4, no l: the 4th bound connection sets OVERLOAD, cleared when
    # the total falls to 2 (below 3/4 of u).
    lab = Lab("rr")
    d = lab.add("web1", 1, u_threshold=4)
    conns = []
    for i in range(4):
        verdict, c = send_in(lab.ipvs, SYN, 0, cport=1000 + i)
        assert verdict == FORWARD
        conns.append(c)
        assert bool(d.flags & DEST_F_OVERLOAD) == (i == 3)
    assert send_in(lab.ipvs, SYN, 0, cport=2000)[0] == REJECT
    lab.ipvs.expire_now(conns[0], 1)
    assert d.flags & DEST_F_OVERLOAD
    lab.ipvs.expire_now(conns[1], 1)
    assert not d.flags & DEST_F_OVERLOAD


def test_udp_entries_stay_inactive_and_use_udp_timeout() -> None:
    lab = Lab("rr", key=udp("10.0.1.100", 53))
    d = lab.add("dns1", port=53)
    ipvs = lab.ipvs
    verdict, c = ipvs.process_in(AF_INET, IPPROTO_UDP, ip("192.168.1.1"), 5353, VIP, 53, 0.0, 0, 40)
    assert verdict == FORWARD and c is not None
    assert state(ipvs, c) == "UDP" and c.timeout == 300
    assert (d.activeconns, d.inactconns) == (0, 1)
    ipvs.process_out(c, 1.0, 0, 80)
    assert ipvs.tick(300.5) == []
    assert ipvs.tick(301.5) == [c]


def test_one_packet_scheduling() -> None:
    from pylvs.core.model import SVC_F_ONEPACKET

    lab = Lab("rr", key=udp("10.0.1.100", 53), flags=SVC_F_ONEPACKET)
    a = lab.add("A", port=53)
    b = lab.add("B", port=53)
    ipvs = lab.ipvs
    picks = []
    for _ in range(4):
        verdict, c = ipvs.process_in(
            AF_INET, IPPROTO_UDP, ip("192.168.1.1"), 5353, VIP, 53, 0, 0, 40
        )
        assert verdict == FORWARD and c is not None
        picks.append(c.dest)
    assert picks == [b, a, b, a]  # every packet scheduled anew
    assert len(ipvs.conns) == 0 and a.inactconns == b.inactconns == 0
    assert a.stats.conns == 2


def test_deleted_dest_keeps_its_connections_by_default() -> None:
    lab = Lab("rr")
    lab.add("web1")
    ipvs = lab.ipvs
    _, c = send_in(ipvs, SYN, 0)
    send_in(ipvs, ACK, 0.1)
    lab.delete("web1")
    assert c is not None and c.key in ipvs.conns.conns
    # pylvs default: the connection drains (forwarded, uncounted).
    assert send_in(ipvs, ACK, 1)[0] == FORWARD
    assert lab.svc.stats.inpkts == 2
    # The kernel's behaviour: silently dropped, the entry lives on.
    ipvs.sysctl.keep_nodest_conn = 0
    assert send_in(ipvs, ACK, 1)[0] == DROP
    ipvs.sysctl.expire_nodest_conn = 1
    verdict, c2 = send_in(ipvs, ACK, 2)
    assert verdict == ACCEPT and c2 is None  # expired; a non-SYN is not scheduled
    assert c.key not in ipvs.conns.conns


def test_connection_reuse_in_time_wait() -> None:
    lab = Lab("rr")
    a = lab.add("A")
    b = lab.add("B")
    ipvs = lab.ipvs
    _, c = send_in(ipvs, SYN, 0)
    send_in(ipvs, FIN, 0.1)
    send_in(ipvs, FIN, 0.2)
    assert c is not None and state(ipvs, c) in ("TIME_WAIT", "CLOSE")
    first = c.dest
    _, c2 = send_in(ipvs, SYN, 1)
    assert c2 is not None and c2 is not c and c2.dest is not first
    assert {first, c2.dest} == {a, b}
    ipvs.sysctl.conn_reuse_mode = 0
    _, c3 = send_in(ipvs, SYN, 2)
    assert c3 is c2


def test_stats_counting() -> None:
    lab = Lab("rr")
    d = lab.add("web1")
    ipvs = lab.ipvs
    _, c = send_in(ipvs, SYN, 0, nbytes=60)
    assert c is not None
    ipvs.process_out(c, 0, SYN | ACK, 60)
    send_in(ipvs, ACK, 0, nbytes=52)
    assert (d.stats.conns, d.stats.inpkts, d.stats.inbytes, d.stats.outpkts) == (1, 2, 112, 1)
    assert lab.svc.stats.live() == d.stats.live() == ipvs.stats.live()
    # ipvsadm shows the estimator's snapshot, refreshed every 2 s.
    assert d.stats.view().conns == 0
    ipvs.tick(0)
    ipvs.tick(2.0)
    assert d.stats.view().conns == 1 and d.stats.view().inbytes == 112
