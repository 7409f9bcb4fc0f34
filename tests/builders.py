"""Short constructors for tests: addresses, keys, specs, a populated Ipvs."""

from __future__ import annotations

from random import Random

from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, parse_addr
from pylvs.core.ipvs import Ipvs
from pylvs.core.model import (
    CONN_F_DROUTE,
    CONN_F_MASQ,
    Dest,
    DestKey,
    DestSpec,
    Service,
    ServiceKey,
    ServiceSpec,
)
from pylvs.core.ops import AddDest, AddService, DelDest, EditDest, EditService

__all__ = [
    "AF_INET",
    "AF_INET6",
    "IPPROTO_SCTP",
    "IPPROTO_TCP",
    "IPPROTO_UDP",
    "ip",
    "make_ipvs",
    "rs",
    "tcp",
    "udp",
]


def ip(text: str) -> int:
    return parse_addr(text)[1]


def tcp(addr: str, port: int) -> ServiceKey:
    af, a = parse_addr(addr)
    return ServiceKey(af, IPPROTO_TCP, a, port)


def udp(addr: str, port: int) -> ServiceKey:
    af, a = parse_addr(addr)
    return ServiceKey(af, IPPROTO_UDP, a, port)


def rs(addr: str, port: int = 80, weight: int = 1, fwd: int = CONN_F_MASQ, **kw: int) -> DestSpec:
    af, a = parse_addr(addr)
    return DestSpec(af, a, port, fwd=fwd, weight=weight, **kw)


class Lab:
    """An Ipvs with one service and named dests, for scheduler tests."""

    def __init__(
        self, sched: str, key: ServiceKey | None = None, seed: int = 0, **svc: int
    ) -> None:
        self.ipvs = Ipvs(Random(seed))
        self.key = key or tcp("10.0.1.100", 80)
        self.now = 0.0
        persistent = svc.pop("persistent", None)
        netmask = svc.pop("netmask", None)
        self.ipvs.apply(
            AddService(
                ServiceSpec.make(self.key, sched, persistent=persistent, netmask=netmask, **svc)
            ),
            self.now,
        )
        self.names: dict[DestKey, str] = {}

    @property
    def svc(self) -> Service:
        s = self.ipvs.service(self.key)
        assert s is not None
        return s

    def add(
        self, name: str, weight: int = 1, addr: str | None = None, port: int = 80, **kw: int
    ) -> Dest:
        spec = rs(addr or f"10.0.1.{10 + len(self.names) + 1}", port, weight, **kw)
        self.names[spec.key] = name
        self.ipvs.apply(AddDest(self.key, spec), self.now)
        d = self.ipvs.dest(self.key, spec.key)
        assert d is not None
        return d

    def dest(self, name: str) -> Dest:
        for k, n in self.names.items():
            if n == name:
                d = self.svc.dest_index.get(k)
                assert d is not None
                return d
        raise KeyError(name)

    def edit(self, name: str, **kw: int) -> None:
        d = self.dest(name)
        self.ipvs.apply(EditDest(self.key, d.spec().with_(**kw)), self.now)

    def delete(self, name: str) -> None:
        d = self.dest(name)
        self.ipvs.apply(DelDest(self.key, d.key), self.now)

    def rebind(self, sched: str) -> None:
        self.ipvs.apply(EditService(self.svc.spec().with_(scheduler=sched)), self.now)

    def name_of(self, d: Dest | None) -> str:
        return "-" if d is None else self.names[d.key]

    def pick(self, caddr: str = "192.168.0.1", cport: int = 40000, daddr: str | None = None) -> str:
        sched = self.svc.sched
        assert sched is not None
        d = sched.schedule(ip(caddr), cport, ip(daddr) if daddr else self.key.addr, self.now)
        return self.name_of(d)

    def picks(self, n: int, **kw: str) -> str:
        return " ".join(self.pick(**kw) for _ in range(n))  # type: ignore[arg-type]

    def order(self) -> str:
        return " ".join(self.name_of(d) for d in self.svc.dests)


def make_ipvs(seed: int = 0) -> Ipvs:
    return Ipvs(Random(seed))


DR = CONN_F_DROUTE
