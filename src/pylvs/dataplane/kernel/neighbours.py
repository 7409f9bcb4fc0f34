"""Where a DR or TUN real server is on the link: the interface the route to
it leaves by, the director's MAC there, the real server's MAC (the kernel's
neighbour table, through pyroute2), and the director's local addresses.

IPVS sends a DR packet "with the RS address as the next-hop gateway"
(behaviour reference §6.4), so the RS must be on a directly attached
network; one behind a gateway is reported, not forwarded to the wrong MAC.
A real server whose MAC is not known yet is resolved the way any first
packet would resolve it: the director sends it one empty UDP datagram
(port 9, discard), and the kernel's ARP/ND fills the neighbour table.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from pylvs.core.addr import AF_INET, AF_INET6, format_addr

__all__ = ["LinkInfo", "Neighbours", "Resolution"]

# Neighbour states that carry a usable link-layer address (uapi neighbour.h).
NUD_USABLE = 0x02 | 0x04 | 0x08 | 0x10 | 0x40 | 0x80  # reachable stale delay probe noarp permanent
IFF_LOOPBACK = 0x8
IFF_UP = 0x1
DISCARD_PORT = 9
T = TypeVar("T")


@dataclass(frozen=True)
class LinkInfo:
    index: int
    name: str
    mac: str
    mtu: int


@dataclass(frozen=True)
class Resolution:
    """How to reach one real server; ``error`` when it cannot be reached by
    DR/TUN, ``mac`` empty while ARP/ND is still running."""

    link: LinkInfo | None = None
    mac: str = ""  # the next hop's: the real server, or its gateway (tunnels)
    mtu: int = 1500
    local: bool = False
    error: str = ""
    src: int = 0  # the director's preferred source address towards it
    gateway: int = 0


def _sock_af(af: int) -> int:
    return socket.AF_INET if af == AF_INET else socket.AF_INET6


class Neighbours:
    """Netlink lookups through pyroute2. Its synchronous API runs an event
    loop of its own, which cannot nest in the daemon's, so every call runs on
    one worker thread that owns the socket (each takes about a millisecond)."""

    def __init__(self) -> None:
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pylvs-netlink")
        self._ipr: Any = self._call(self._open)

    @staticmethod
    def _open() -> Any:
        from pyroute2 import IPRoute

        # A plain asyncio loop: uvloop (the daemon's policy) cannot carry
        # netlink sockets.
        loop = asyncio.SelectorEventLoop()
        asyncio.set_event_loop(loop)
        return IPRoute(use_event_loop=loop)

    def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return self._worker.submit(fn, *args).result()

    def close(self) -> None:
        self._call(self._ipr.close)
        self._worker.shutdown()

    def links(self) -> dict[int, LinkInfo]:
        return self._call(self._links)

    def forwarding_devices(self) -> list[str]:
        """Interfaces that are up and not loopback: where client traffic can
        arrive and real servers can be reached."""
        return self._call(self._forwarding_devices)

    def local_addresses(self) -> set[tuple[int, int]]:
        return self._call(self._local_addresses)

    def resolve(self, af: int, addr: int, via_gateway: bool = False) -> Resolution:
        """How to reach a real server. DR needs it on the link; a tunnel
        (``via_gateway``) may be routed, its next hop is then the gateway."""
        return self._call(self._resolve, af, addr, via_gateway)

    def macs(self, wanted: set[tuple[int, int, int]]) -> dict[tuple[int, int, int], str]:
        """(af, address, ifindex) -> MAC for many real servers at once (one
        neighbour dump); the ones without a usable entry are nudged."""
        return self._call(self._macs, wanted)

    def _macs(self, wanted: set[tuple[int, int, int]]) -> dict[tuple[int, int, int], str]:
        out: dict[tuple[int, int, int], str] = {}
        for n in self._ipr.get_neighbours():
            mac = n.get_attr("NDA_LLADDR")
            dst = n.get_attr("NDA_DST")
            if not mac or not dst or not n["state"] & NUD_USABLE:
                continue
            fam = AF_INET if n["family"] == socket.AF_INET else AF_INET6
            key = (fam, int.from_bytes(socket.inet_pton(n["family"], dst), "big"), n["ifindex"])
            if key in wanted:
                out[key] = mac
        for af, addr, _ifindex in wanted - out.keys():
            self._nudge(af, format_addr(af, addr))
        return out

    def _links(self) -> dict[int, LinkInfo]:
        out = {}
        for link in self._ipr.get_links():
            out[link["index"]] = LinkInfo(
                link["index"],
                link.get_attr("IFLA_IFNAME"),
                link.get_attr("IFLA_ADDRESS") or "",
                int(link.get_attr("IFLA_MTU") or 1500),
            )
        return out

    def _forwarding_devices(self) -> list[str]:
        names = []
        for link in self._ipr.get_links():
            flags = link["flags"]
            if flags & IFF_UP and not flags & IFF_LOOPBACK and link.get_attr("IFLA_ADDRESS"):
                names.append(link.get_attr("IFLA_IFNAME"))
        return sorted(names)

    def _local_addresses(self) -> set[tuple[int, int]]:
        out = set()
        for a in self._ipr.get_addr():
            fam = AF_INET if a["family"] == socket.AF_INET else AF_INET6
            text = a.get_attr("IFA_LOCAL") or a.get_attr("IFA_ADDRESS")
            if text:
                out.add((fam, int.from_bytes(socket.inet_pton(a["family"], text), "big")))
        return out

    def _resolve(self, af: int, addr: int, via_gateway: bool) -> Resolution:
        text = format_addr(af, addr)
        links = self._links()
        try:
            routes = self._ipr.route("get", dst=text)
        except Exception as e:  # pyroute2 raises NetlinkError for no route
            return Resolution(error=f"no route to {text} ({e})")
        if not routes:
            return Resolution(error=f"no route to {text}")
        route = routes[0]
        if route["type"] == 2:  # RTN_LOCAL
            return Resolution(local=True)
        gateway = route.get_attr("RTA_GATEWAY")
        if gateway and not via_gateway:
            return Resolution(
                error=f"{text} is reached through a gateway; DR needs it on a directly "
                "attached network"
            )
        link = links.get(route.get_attr("RTA_OIF"))
        if link is None:
            return Resolution(error=f"no interface for the route to {text}")
        mtu = link.mtu
        metrics = route.get_attr("RTA_METRICS")
        if metrics is not None:
            mtu = int(metrics.get_attr("RTAX_MTU") or mtu)
        fam = _sock_af(af)
        src_text = route.get_attr("RTA_PREFSRC")
        src = int.from_bytes(socket.inet_pton(fam, src_text), "big") if src_text else 0
        hop = gateway or text
        gw = int.from_bytes(socket.inet_pton(fam, gateway), "big") if gateway else 0
        for n in self._ipr.get_neighbours(family=fam, dst=hop, ifindex=link.index):
            mac = n.get_attr("NDA_LLADDR")
            if mac and n["state"] & NUD_USABLE:
                return Resolution(link=link, mac=mac, mtu=mtu, src=src, gateway=gw)
        self._nudge(af, text)
        return Resolution(link=link, mtu=mtu, src=src, gateway=gw)

    @staticmethod
    def _nudge(af: int, text: str) -> None:
        with contextlib.suppress(OSError), socket.socket(_sock_af(af), socket.SOCK_DGRAM) as s:
            s.sendto(b"", (text, DISCARD_PORT))
