"""The IPVS data model: service keys, specs (what the user asks for) and the
live service and destination objects the table holds (behaviour reference §1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from pylvs.core.addr import (
    AF_INET,
    AF_INET6,
    IPPROTO_IP,
    IPPROTO_SCTP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    format_addr_port,
)
from pylvs.core.stats import Stats

if TYPE_CHECKING:
    from pylvs.core.sched.base import Scheduler

__all__ = [
    "CONN_F_DROUTE",
    "CONN_F_FWD_MASK",
    "CONN_F_INACTIVE",
    "CONN_F_LOCALNODE",
    "CONN_F_MASQ",
    "CONN_F_NOOUTPUT",
    "CONN_F_ONE_PACKET",
    "CONN_F_TEMPLATE",
    "CONN_F_TUNNEL",
    "DEST_F_AVAILABLE",
    "DEST_F_OVERLOAD",
    "FWD_NAMES",
    "SVC_F_ONEPACKET",
    "SVC_F_PERSISTENT",
    "SVC_F_SCHED1",
    "SVC_F_SCHED2",
    "SVC_F_SCHED3",
    "Dest",
    "DestKey",
    "DestSpec",
    "Service",
    "ServiceKey",
    "ServiceSpec",
]

# Service flags (uapi ip_vs.h).
SVC_F_PERSISTENT = 0x0001
SVC_F_HASHED = 0x0002
SVC_F_ONEPACKET = 0x0004
SVC_F_SCHED1 = 0x0008  # sh-fallback / mh-fallback
SVC_F_SCHED2 = 0x0010  # sh-port / mh-port
SVC_F_SCHED3 = 0x0020
SVC_F_SCHED_MASK = SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3
# Flags a user may set; HASHED is the kernel's own.
SVC_F_USER_MASK = SVC_F_PERSISTENT | SVC_F_ONEPACKET | SVC_F_SCHED_MASK

# Connection flags (behaviour reference §4.1); the low 3 bits are the method.
CONN_F_MASQ = 0
CONN_F_LOCALNODE = 1
CONN_F_TUNNEL = 2
CONN_F_DROUTE = 3
CONN_F_BYPASS = 4
CONN_F_FWD_MASK = 0x0007
CONN_F_SYNC = 0x0020
CONN_F_HASHED = 0x0040
CONN_F_NOOUTPUT = 0x0080
CONN_F_INACTIVE = 0x0100
CONN_F_OUT_SEQ = 0x0200
CONN_F_IN_SEQ = 0x0400
CONN_F_SEQ_MASK = 0x0600
CONN_F_NO_CPORT = 0x0800
CONN_F_TEMPLATE = 0x1000
CONN_F_ONE_PACKET = 0x2000

FWD_NAMES = {
    CONN_F_MASQ: "Masq",
    CONN_F_LOCALNODE: "Local",
    CONN_F_TUNNEL: "Tunnel",
    CONN_F_DROUTE: "Route",
}

# Destination flags.
DEST_F_AVAILABLE = 0x0001
DEST_F_OVERLOAD = 0x0002

# Tunnel encapsulation (uapi): type, and checksum flags.
TUNNEL_TYPE_IPIP = 0
TUNNEL_TYPE_GUE = 1
TUNNEL_TYPE_GRE = 2
TUNNEL_ENCAP_FLAG_NOCSUM = 0
TUNNEL_ENCAP_FLAG_CSUM = 1 << 0
TUNNEL_ENCAP_FLAG_REMCSUM = 1 << 1

# ipvsadm's defaults (ipvsadm-cli reference §0).
DEFAULT_SCHEDULER = "wlc"
DEFAULT_PERSISTENT_TIMEOUT = 360
IPV4_FULL_MASK = 0xFFFFFFFF
IPV6_FULL_PREFIX = 128


class ServiceKey(NamedTuple):
    """How IPVS identifies a service (§1.1).

    Address services: ``(af, protocol, addr, port)`` with ``fwmark == 0``.
    Firewall-mark services: ``(af, fwmark)``; protocol, addr and port are 0.
    """

    af: int
    protocol: int
    addr: int
    port: int
    fwmark: int = 0

    @classmethod
    def fwm(cls, mark: int, af: int = AF_INET) -> ServiceKey:
        return cls(af, IPPROTO_IP, 0, 0, mark)

    @property
    def is_fwmark(self) -> bool:
        return self.fwmark != 0

    def __str__(self) -> str:
        if self.fwmark:
            return f"FWM {self.fwmark}" + (" IPv6" if self.af == AF_INET6 else "")
        proto = {IPPROTO_TCP: "TCP", IPPROTO_UDP: "UDP", IPPROTO_SCTP: "SCTP"}.get(
            self.protocol, str(self.protocol)
        )
        return f"{proto} {format_addr_port(self.af, self.addr, self.port)}"


class DestKey(NamedTuple):
    """A destination is unique within its service by family, address and port."""

    af: int
    addr: int
    port: int


def default_netmask(af: int) -> int:
    return IPV4_FULL_MASK if af == AF_INET else IPV6_FULL_PREFIX


class ServiceSpec(NamedTuple):
    """The user-settable attributes of a virtual service (immutable; a named
    tuple because restores build a hundred thousand of them)."""

    key: ServiceKey
    scheduler: str = DEFAULT_SCHEDULER
    flags: int = 0
    timeout: int = 0
    # IPv4: a 32-bit mask; IPv6: a prefix length (§1.1).
    netmask: int = IPV4_FULL_MASK
    pe_name: str = ""

    @classmethod
    def make(
        cls,
        key: ServiceKey,
        scheduler: str = DEFAULT_SCHEDULER,
        *,
        persistent: int | None = None,
        netmask: int | None = None,
        flags: int = 0,
        pe_name: str = "",
    ) -> ServiceSpec:
        """Build a spec with ipvsadm's defaults for what is not given."""
        timeout = 0
        if persistent is not None:
            flags |= SVC_F_PERSISTENT
            timeout = persistent
        return cls(
            key=key,
            scheduler=scheduler,
            flags=flags,
            timeout=timeout,
            netmask=default_netmask(key.af) if netmask is None else netmask,
            pe_name=pe_name,
        )

    @property
    def persistent(self) -> bool:
        return bool(self.flags & SVC_F_PERSISTENT)

    def with_(self, **changes: Any) -> ServiceSpec:
        return self._replace(**changes)


class DestSpec(NamedTuple):
    """The user-settable attributes of a real server."""

    af: int
    addr: int
    port: int
    fwd: int = CONN_F_DROUTE
    weight: int = 1
    u_threshold: int = 0
    l_threshold: int = 0
    tun_type: int = TUNNEL_TYPE_IPIP
    tun_port: int = 0
    tun_flags: int = TUNNEL_ENCAP_FLAG_NOCSUM

    @property
    def key(self) -> DestKey:
        return DestKey(self.af, self.addr, self.port)

    def with_(self, **changes: Any) -> DestSpec:
        return self._replace(**changes)


class Dest:
    """A live real server. Mutable; owned by the table."""

    __slots__ = (
        "activeconns",
        "addr",
        "af",
        "conn_flags",
        "flags",
        "fwd",
        "inactconns",
        "l_threshold",
        "last_weight",
        "load_listener",
        "persistconns",
        "port",
        "seq",
        "stats",
        "svc",
        "trash_since",
        "tun_flags",
        "tun_port",
        "tun_type",
        "u_threshold",
        "weight",
    )

    def __init__(self, spec: DestSpec, svc: Service, seq: int) -> None:
        self.af = spec.af
        self.addr = spec.addr
        self.port = spec.port
        self.svc = svc
        self.seq = seq
        self.flags = 0
        self.activeconns = 0
        self.inactconns = 0
        self.persistconns = 0
        self.last_weight = 0
        self.stats = Stats()
        self.trash_since: float | None = None
        # Called with the dest whenever its connection counts change; set by
        # schedulers that keep an index of dest load (lc, wlc, sed, nq, ovf).
        self.load_listener: LoadListener | None = None
        self.fwd = CONN_F_DROUTE
        self.conn_flags = 0
        self.weight = 0
        self.u_threshold = 0
        self.l_threshold = 0
        self.tun_type = TUNNEL_TYPE_IPIP
        self.tun_port = 0
        self.tun_flags = 0
        self.update(spec)

    def update(self, spec: DestSpec) -> None:
        """Set the user attributes (kernel __ip_vs_update_dest)."""
        self.fwd = spec.fwd & CONN_F_FWD_MASK
        flags = self.fwd | CONN_F_INACTIVE
        if self.fwd != CONN_F_MASQ:
            flags |= CONN_F_NOOUTPUT
        self.conn_flags = flags
        self.weight = spec.weight
        if spec.weight > 0:
            self.last_weight = spec.weight
        self.u_threshold = spec.u_threshold
        self.l_threshold = spec.l_threshold
        self.tun_type = spec.tun_type
        self.tun_port = spec.tun_port
        self.tun_flags = spec.tun_flags

    @property
    def key(self) -> DestKey:
        return DestKey(self.af, self.addr, self.port)

    @property
    def available(self) -> bool:
        return bool(self.flags & DEST_F_AVAILABLE)

    @property
    def overloaded(self) -> bool:
        return bool(self.flags & DEST_F_OVERLOAD)

    def spec(self) -> DestSpec:
        return DestSpec(
            af=self.af,
            addr=self.addr,
            port=self.port,
            fwd=self.fwd,
            weight=self.weight,
            u_threshold=self.u_threshold,
            l_threshold=self.l_threshold,
            tun_type=self.tun_type,
            tun_port=self.tun_port,
            tun_flags=self.tun_flags,
        )

    def overhead(self) -> int:
        """Load measure of the least-connection family (§2.2)."""
        return (self.activeconns << 8) + self.inactconns

    def __repr__(self) -> str:
        return f"<Dest {format_addr_port(self.af, self.addr, self.port)} w={self.weight}>"


class LoadListener:
    """Receives a dest whose active/inactive counts changed."""

    __slots__ = ()

    def load_changed(self, dest: Dest) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class Service:
    """A live virtual service. ``dests`` is in kernel list order: newest first."""

    __slots__ = (
        "dest_index",
        "dests",
        "flags",
        "key",
        "netmask",
        "pe_name",
        "sched",
        "sched_name",
        "stats",
        "timeout",
    )

    def __init__(self, spec: ServiceSpec) -> None:
        self.key = spec.key
        self.sched_name = spec.scheduler
        self.flags = spec.flags & SVC_F_USER_MASK
        self.timeout = spec.timeout
        self.netmask = spec.netmask
        self.pe_name = spec.pe_name
        self.dests: list[Dest] = []
        self.dest_index: dict[DestKey, Dest] = {}
        self.sched: Scheduler | None = None
        self.stats = Stats()

    def spec(self) -> ServiceSpec:
        return ServiceSpec(
            key=self.key,
            scheduler=self.sched_name,
            flags=self.flags,
            timeout=self.timeout,
            netmask=self.netmask,
            pe_name=self.pe_name,
        )

    @property
    def af(self) -> int:
        return self.key.af

    @property
    def persistent(self) -> bool:
        return bool(self.flags & SVC_F_PERSISTENT)

    def __repr__(self) -> str:
        return f"<Service {self.key} {self.sched_name}>"
