"""The lab's network as data: the seed guide's layout, per forwarding mode.

Pure: no I/O. ``builder.py`` applies a :class:`Topology`; ``survey.py``
reads back what exists. The layout (design: The lab)::

    lvs-client  eth0 10.0.2.50/24 --- eth1 10.0.2.1/24  lvs-router
                                      br0  10.0.1.1/24  (ip_forward=1)
                 +--------------------+--------+-------------------+
           to-director              to-web1                  to-web2     (bridge ports, in lvs-router)
                 |                     |                         |
    lvs-director eth0 10.0.1.10   lvs-web1 eth0 10.0.1.11   lvs-web2 eth0 10.0.1.12

VIP 10.0.1.100. Every interface that holds an address has a fixed, locally
administered MAC ``02:00:0a:00:SS:HH`` spelling its address 10.0.SS.HH
(router ports to a host: ``02:01:0a:00:01:HH``), so captures and neighbour
tables read the same on every run. The 10.0.1.0/24 segment (bridge and its
veths) has MTU 1600 so an IPIP-encapsulated 1500-byte packet (+20) fits;
the client's link keeps 1500.

Real servers are set up exactly as the guide says:

- NAT (guide Step 3): default route via the director 10.0.1.10.
- DR (guide Step 4): VIP 10.0.1.100/32 on ``lo`` (label ``lo:0``),
  ``arp_ignore=1`` and ``arp_announce=2`` for ``lo`` and ``all``; default
  route via the router.
- TUN: VIP /32 on ``tunl0`` behind IPIP decapsulation (the kernel's ``ipip``
  device where it exists, else a TUN device fed by ``pylvs.lab.ipipd``),
  ``rp_filter=0`` for ``all`` and ``tunl0``; default route via the router.
  The real servers share the director's L2 segment here, so they also get
  DR's ARP settings (the LVS "ARP problem" applies to TUN servers on the
  director's segment: without them they would answer ARP for the VIP).

Every node's ``ip_forward`` is pinned (1 on the router and the director,
0 elsewhere, 0 on a bare director): new namespaces copy the host's IPv4
defaults, and the lab must not depend on the host.

The director (unless ``bare``) follows guide Step 1 (``ip_forward=1``) and
Steps 3/4 (VIP on ``eth0`` label ``eth0:0``, /24 for NAT, /32 for DR and TUN),
and runs ``pylvs run --dataplane NAME --socket /run/pylvs-lab/director.sock``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = [
    "LAB_DIR",
    "MODES",
    "NODES",
    "SEGMENT_MTU",
    "SOCKET",
    "VIP",
    "Addr",
    "Iface",
    "Mode",
    "Node",
    "Route",
    "Service",
    "Topology",
    "Tunnel",
    "Wire",
    "build",
    "mac_for",
    "netns_name",
]

Mode = Literal["nat", "dr", "tun"]
Tunnel = Literal["kernel", "userspace"]
IfaceKind = Literal["veth", "bridge", "tun", "ipip", "loopback"]

MODES: tuple[Mode, ...] = ("nat", "dr", "tun")
NODES = ("client", "router", "director", "web1", "web2")
PREFIX = "lvs-"
LAB_DIR = "/run/pylvs-lab"
SOCKET = f"{LAB_DIR}/director.sock"

VIP = "10.0.1.100"
ROUTER_SEGMENT_IP = "10.0.1.1"
ROUTER_CLIENT_IP = "10.0.2.1"
CLIENT_IP = "10.0.2.50"
DIRECTOR_IP = "10.0.1.10"
REAL_SERVERS = {"web1": "10.0.1.11", "web2": "10.0.1.12"}
SEGMENT_MTU = 1600
HTTP_PORT = 80


def netns_name(node: str) -> str:
    """``web1`` -> ``lvs-web1``."""
    return PREFIX + node


def mac_for(ip: str, port: bool = False) -> str:
    """The fixed MAC of the interface holding ``ip`` (10.0.SS.HH ->
    02:00:0a:00:SS:HH); ``port=True`` gives the router's bridge port facing
    that host (02:01:...)."""
    octets = [int(o) for o in ip.split(".")]
    return ":".join(f"{b:02x}" for b in (2, 1 if port else 0, *octets))


@dataclass(frozen=True)
class Iface:
    """An interface the lab creates (or, for ``lo``, configures)."""

    name: str
    kind: IfaceKind
    mac: str | None = None
    mtu: int | None = None
    master: str | None = None  # the bridge this port belongs to
    offload_off: bool = False  # ethtool -K tx off tso off gso off (userspace packet paths)


@dataclass(frozen=True)
class Addr:
    ifname: str
    cidr: str  # "10.0.1.10/24"
    label: str | None = None  # "eth0:0", as the guide's `ip addr add ... label`


@dataclass(frozen=True)
class Route:
    dst: str  # "default" or a CIDR
    via: str


@dataclass(frozen=True)
class Service:
    """A background process run in the node's namespace.

    ``ready`` says how the builder knows it serves: ``fd`` -- the program
    writes ``ready`` to the file descriptor given by ``--ready-fd``;
    ``socket`` -- the Unix socket ``socket`` accepts connections.
    """

    name: str
    module: str  # run as ``python -m module *args``
    args: tuple[str, ...]
    ready: Literal["fd", "socket"] = "fd"
    socket: str | None = None


@dataclass(frozen=True)
class Node:
    name: str
    netns: str
    ifaces: tuple[Iface, ...]
    addrs: tuple[Addr, ...]
    routes: tuple[Route, ...] = ()
    sysctls: tuple[tuple[str, str], ...] = ()
    services: tuple[Service, ...] = ()

    def iface(self, name: str) -> Iface:
        for i in self.ifaces:
            if i.name == name:
                return i
        raise KeyError(f"{self.name} has no interface {name}")


@dataclass(frozen=True)
class Wire:
    """A veth pair: ``a`` = (node, ifname) is created, ``b`` is its peer,
    created straight in b's namespace (no end ever lives in the host's)."""

    a: tuple[str, str]
    b: tuple[str, str]


@dataclass(frozen=True)
class Topology:
    mode: Mode
    bare: bool
    dataplane: str
    tunnel: Tunnel | None
    nodes: tuple[Node, ...]
    wires: tuple[Wire, ...]
    vip: str = VIP
    socket: str = SOCKET

    def node(self, name: str) -> Node:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    @property
    def namespaces(self) -> tuple[str, ...]:
        return tuple(n.netns for n in self.nodes)


# A new namespace copies the host's IPv4 "all"/"default" settings, forwarding
# included (net.core.devconf_inherit_init_net=0): pin it on every node so the
# lab behaves the same on a host that forwards (a Docker host, say).
NO_FORWARDING = ("net.ipv4.ip_forward", "0")


def _client() -> Node:
    return Node(
        name="client",
        netns=netns_name("client"),
        ifaces=(
            Iface("lo", "loopback"),
            Iface("eth0", "veth", mac_for(CLIENT_IP), 1500, offload_off=True),
        ),
        addrs=(Addr("eth0", f"{CLIENT_IP}/24"),),
        routes=(Route("default", ROUTER_CLIENT_IP),),
        sysctls=(NO_FORWARDING,),
    )


def _router() -> Node:
    ports = [
        Iface(
            f"to-{host}",
            "veth",
            mac_for(ip, port=True),
            SEGMENT_MTU,
            master="br0",
            offload_off=host == "director",
        )
        for host, ip in (("director", DIRECTOR_IP), *REAL_SERVERS.items())
    ]
    return Node(
        name="router",
        netns=netns_name("router"),
        ifaces=(
            Iface("lo", "loopback"),
            Iface("br0", "bridge", mac_for(ROUTER_SEGMENT_IP), SEGMENT_MTU),
            *ports,
            Iface("eth1", "veth", mac_for(ROUTER_CLIENT_IP), 1500, offload_off=True),
        ),
        addrs=(Addr("br0", f"{ROUTER_SEGMENT_IP}/24"), Addr("eth1", f"{ROUTER_CLIENT_IP}/24")),
        sysctls=(("net.ipv4.ip_forward", "1"),),
    )


def _director(mode: Mode, bare: bool, dataplane: str) -> Node:
    addrs = [Addr("eth0", f"{DIRECTOR_IP}/24")]
    sysctls = [
        ("net.ipv4.conf.all.send_redirects", "0"),
        ("net.ipv4.conf.default.send_redirects", "0"),
        ("net.ipv4.conf.eth0.send_redirects", "0"),
    ]
    services: list[Service] = []
    if bare:
        sysctls.insert(0, NO_FORWARDING)  # guide Step 1 is the user's to do
    else:
        # Guide Step 1 (forwarding) and Steps 3/4 (the VIP on eth0).
        prefix = 24 if mode == "nat" else 32
        addrs.append(Addr("eth0", f"{VIP}/{prefix}", label="eth0:0"))
        sysctls.insert(0, ("net.ipv4.ip_forward", "1"))
        services.append(
            Service(
                "pylvs",
                "pylvs.cli.main",
                ("run", "--dataplane", dataplane, "--socket", SOCKET),
                ready="socket",
                socket=SOCKET,
            )
        )
    return Node(
        name="director",
        netns=netns_name("director"),
        ifaces=(
            Iface("lo", "loopback"),
            Iface("eth0", "veth", mac_for(DIRECTOR_IP), SEGMENT_MTU, offload_off=True),
        ),
        addrs=tuple(addrs),
        routes=(Route("default", ROUTER_SEGMENT_IP),),
        sysctls=tuple(sysctls),
        services=tuple(services),
    )


ARP_SYSCTLS = (
    ("net.ipv4.conf.lo.arp_ignore", "1"),
    ("net.ipv4.conf.lo.arp_announce", "2"),
    ("net.ipv4.conf.all.arp_ignore", "1"),
    ("net.ipv4.conf.all.arp_announce", "2"),
)


def _real_server(name: str, ip: str, mode: Mode, tunnel: Tunnel | None) -> Node:
    ifaces = [Iface("lo", "loopback"), Iface("eth0", "veth", mac_for(ip), SEGMENT_MTU)]
    addrs = [Addr("eth0", f"{ip}/24")]
    sysctls: list[tuple[str, str]] = [NO_FORWARDING]
    services: list[Service] = []
    gateway = ROUTER_SEGMENT_IP
    if mode == "nat":
        gateway = DIRECTOR_IP  # guide Step 3: ip route replace default via 10.0.1.10
    elif mode == "dr":
        addrs.append(Addr("lo", f"{VIP}/32", label="lo:0"))  # guide Step 4
        sysctls.extend(ARP_SYSCTLS)
    else:
        ifaces.append(Iface("tunl0", "ipip" if tunnel == "kernel" else "tun"))
        addrs.append(Addr("tunl0", f"{VIP}/32"))
        sysctls.extend(ARP_SYSCTLS)
        sysctls.extend(
            (("net.ipv4.conf.all.rp_filter", "0"), ("net.ipv4.conf.tunl0.rp_filter", "0"))
        )
        if tunnel != "kernel":
            services.append(Service("ipipd", "pylvs.lab.ipipd", ("--dev", "tunl0")))
    services.append(Service("httpd", "pylvs.lab.httpd", ("--name", name, "--port", str(HTTP_PORT))))
    return Node(
        name=name,
        netns=netns_name(name),
        ifaces=tuple(ifaces),
        addrs=tuple(addrs),
        routes=(Route("default", gateway),),
        sysctls=tuple(sysctls),
        services=tuple(services),
    )


def build(
    mode: Mode, *, bare: bool = False, dataplane: str = "kernel", tunnel: Tunnel | None = None
) -> Topology:
    """The whole lab for ``mode``. ``tunnel`` (TUN mode only) says how real
    servers decapsulate IPIP: ``kernel`` (an ``ipip`` tunl0) or ``userspace``
    (a TUN tunl0 fed by ``pylvs.lab.ipipd``, the default)."""
    if mode not in MODES:
        raise ValueError(f"mode {mode!r}: expected one of {', '.join(MODES)}")
    if mode != "tun":
        tunnel = None
    elif tunnel is None:
        tunnel = "userspace"
    nodes = (
        _client(),
        _router(),
        _director(mode, bare, dataplane),
        *(_real_server(name, ip, mode, tunnel) for name, ip in REAL_SERVERS.items()),
    )
    wires = (
        Wire(("router", "eth1"), ("client", "eth0")),
        *(Wire(("router", f"to-{h}"), (h, "eth0")) for h in ("director", *REAL_SERVERS)),
    )
    return Topology(
        mode=mode, bare=bare, dataplane=dataplane, tunnel=tunnel, nodes=nodes, wires=wires
    )
