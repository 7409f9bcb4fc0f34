"""Read back what a lab has: namespaces, interfaces (MAC, MTU, addresses),
default routes, and whether each recorded process still runs. Used by
``pylvs lab status``; reads only, changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyroute2 import IPRoute, netns
from pyroute2.netlink.exceptions import NetlinkError

from pylvs.lab import procs
from pylvs.lab.state import LabState
from pylvs.lab.topology import NODES, netns_name

__all__ = ["IfaceView", "NodeView", "ProcView", "Survey", "survey"]

IFF_UP = 0x1


@dataclass
class IfaceView:
    name: str
    mac: str
    mtu: int
    up: bool
    addrs: list[str] = field(default_factory=list)  # "10.0.1.100/32 (eth0:0)"


@dataclass
class NodeView:
    node: str
    netns: str
    exists: bool
    ifaces: list[IfaceView] = field(default_factory=list)
    gateway: str | None = None


@dataclass
class ProcView:
    node: str
    name: str
    pid: int
    alive: bool
    log: str


@dataclass
class Survey:
    state: LabState | None
    nodes: list[NodeView]
    processes: list[ProcView]

    @property
    def healthy(self) -> bool:
        return (
            self.state is not None
            and self.state.complete
            and all(n.exists for n in self.nodes)
            and all(p.alive for p in self.processes)
        )

    def to_json(self) -> dict[str, Any]:
        st = self.state
        return {
            "up": st is not None,
            "healthy": self.healthy,
            "mode": st.mode if st else None,
            "bare": st.bare if st else None,
            "dataplane": st.dataplane if st else None,
            "tunnel": st.tunnel if st else None,
            "complete": st.complete if st else None,
            "nodes": [
                {
                    "node": n.node,
                    "netns": n.netns,
                    "exists": n.exists,
                    "gateway": n.gateway,
                    "ifaces": [vars(i) for i in n.ifaces],
                }
                for n in self.nodes
            ],
            "processes": [vars(p) for p in self.processes],
        }


def _node_view(node: str, name: str, present: set[str]) -> NodeView:
    view = NodeView(node, name, name in present)
    if not view.exists:
        return view
    try:
        with IPRoute(netns=name, flags=0) as ipr:
            by_index: dict[int, IfaceView] = {}
            for link in ipr.get_links():
                iface = IfaceView(
                    name=str(link.get_attr("IFLA_IFNAME")),
                    mac=str(link.get_attr("IFLA_ADDRESS") or ""),
                    mtu=int(link.get_attr("IFLA_MTU") or 0),
                    up=bool(link["flags"] & IFF_UP),
                )
                by_index[int(link["index"])] = iface
            for addr in ipr.get_addr(family=2):
                owner = by_index.get(int(addr["index"]))
                if owner is None:
                    continue
                text = f"{addr.get_attr('IFA_ADDRESS')}/{addr['prefixlen']}"
                label = addr.get_attr("IFA_LABEL")
                if label and label != owner.name:
                    text += f" ({label})"
                owner.addrs.append(text)
            for route in ipr.get_routes(family=2, table=254):
                if route["dst_len"] == 0 and route.get_attr("RTA_GATEWAY"):
                    view.gateway = str(route.get_attr("RTA_GATEWAY"))
            view.ifaces = sorted(by_index.values(), key=lambda i: (i.name != "lo", i.name))
    except (NetlinkError, OSError):
        view.exists = False
    return view


def survey(state: LabState | None) -> Survey:
    names = state.namespaces if state else [netns_name(n) for n in NODES]
    present = set(netns.listnetns())
    nodes = [_node_view(name.removeprefix("lvs-"), name, present) for name in names]
    processes = [
        ProcView(p.node, p.name, p.pid, procs.alive(p), p.log)
        for p in (state.processes if state else [])
    ]
    return Survey(state, nodes, processes)
