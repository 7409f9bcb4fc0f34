"""A walk-through of the IPVS core on the guide's NAT table (Step 3, Step 8):
wrr 3:2 over web1 and web2, ten new connections, the counters after the
estimator's 2-second pass. Pure simulation: no packets leave the process."""

from __future__ import annotations

from random import Random

from pylvs.core.addr import AF_INET, IPPROTO_TCP, format_addr_port, parse_addr
from pylvs.core.ipvs import Ipvs
from pylvs.core.model import CONN_F_MASQ, DestSpec, ServiceKey, ServiceSpec
from pylvs.core.ops import AddDest, AddService
from pylvs.core.tcpstate import ACK, FIN, SYN


def run() -> int:
    ipvs = Ipvs(Random(0))
    vip = parse_addr("10.0.1.100")[1]
    key = ServiceKey(AF_INET, IPPROTO_TCP, vip, 80)
    names = {}
    now = 0.0
    ipvs.apply(AddService(ServiceSpec.make(key, "wrr")), now)
    print("ipvsadm -A -t 10.0.1.100:80 -s wrr")
    for host, addr, weight in (("web1", "10.0.1.11", 3), ("web2", "10.0.1.12", 2)):
        spec = DestSpec(AF_INET, parse_addr(addr)[1], 80, fwd=CONN_F_MASQ, weight=weight)
        ipvs.apply(AddDest(key, spec), now)
        names[spec.addr] = host
        print(f"ipvsadm -a -t 10.0.1.100:80 -r {addr}:80 -m -w {weight}")
    print()
    client = parse_addr("192.168.10.5")[1]
    answered = []
    ipvs.tick(now)
    for i in range(10):
        cport = 40000 + i
        _, conn = ipvs.process_in(AF_INET, IPPROTO_TCP, client, cport, vip, 80, now, SYN, 60)
        assert conn is not None
        ipvs.process_out(conn, now, SYN | ACK, 60)
        ipvs.process_in(AF_INET, IPPROTO_TCP, client, cport, vip, 80, now, ACK, 52)
        ipvs.process_in(AF_INET, IPPROTO_TCP, client, cport, vip, 80, now, ACK, 130)
        ipvs.process_out(conn, now, ACK, 300)
        ipvs.process_out(conn, now, FIN | ACK, 52)
        ipvs.process_in(AF_INET, IPPROTO_TCP, client, cport, vip, 80, now, FIN | ACK, 52)
        answered.append(names[conn.daddr])
        now += 0.1
    print("10 requests answered by:", " ".join(answered))
    ipvs.tick(2.0)
    print()
    print(
        f"{'service / real server':<24} {'Conns':>6} {'InPkts':>7} {'OutPkts':>8} {'InBytes':>8} {'OutBytes':>9}"
    )
    for svc in ipvs.services():
        s = svc.stats
        label = "TCP  " + format_addr_port(AF_INET, svc.spec.key.addr, svc.spec.key.port)
        print(
            f"{label:<24} {s.conns:>6} {s.inpkts:>7} {s.outpkts:>8} {s.inbytes:>8} {s.outbytes:>9}"
        )
        for d in sorted(svc.dests, key=lambda d: d.spec.addr):
            ds = d.stats
            label = "  -> " + format_addr_port(AF_INET, d.spec.addr, d.spec.port)
            print(
                f"{label:<24} {ds.conns:>6} {ds.inpkts:>7} {ds.outpkts:>8} {ds.inbytes:>8} {ds.outbytes:>9}"
            )
    print()
    print("Connections (TIME_WAIT, as IPVS keeps them for 2 minutes):")
    for info in ipvs.conn_infos(now):
        print(
            f"  {info.state:<11} {format_addr_port(AF_INET, info.caddr, info.cport)} -> "
            f"{format_addr_port(AF_INET, info.daddr, info.dport)} expires in {info.expires} s"
        )
    return 0
