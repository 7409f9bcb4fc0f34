"""UDP through the proxy plane: one socket on VIP:port per service; a flow
per client address and port, each with its own socket towards the real
server the core chose, so replies find their client.

A flow is an entry of the core (state ``UDP``, InActConn) and ends when the
core expires it (the UDP timeout, 300 s by default, ``--set`` changes it).
One-packet services schedule every datagram anew (``-o``).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

from pylvs.core.addr import IPPROTO_UDP
from pylvs.core.conn import Conn
from pylvs.core.ipvs import ACCEPT, FORWARD
from pylvs.core.model import CONN_F_ONE_PACKET

if TYPE_CHECKING:
    from pylvs.dataplane.proxy.plane import ProxyPlane

__all__ = ["UdpFlow", "UdpService"]

# Datagrams kept for a flow while its socket towards the real server opens.
PENDING_LIMIT = 64


class UdpService(asyncio.DatagramProtocol):
    """The socket on VIP:port of one UDP service."""

    def __init__(self, plane: ProxyPlane, key: tuple[int, int, int, int]) -> None:
        self.plane = plane
        self.key = key
        self.transport: asyncio.DatagramTransport | None = None
        self.flows: dict[tuple[int, int], UdpFlow] = {}
        # One-packet flows: by (client addr, client port, dest addr, dest port).
        self.ops_flows: dict[tuple[int, int, int, int], UdpFlow] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(
        self, data: bytes, addr: tuple[str, int] | tuple[str, int, int, int]
    ) -> None:
        plane = self.plane
        ipvs = plane.ipvs
        af, _, vaddr, vport = self.key
        caddr = plane.addr_int(af, addr[0])
        cport = addr[1]
        now = plane.clock()
        flow = self.flows.get((caddr, cport))
        if flow is not None:
            verdict = ipvs.packet_in(flow.conn, now, 0, len(data))
            if verdict == FORWARD:
                flow.send(data)
                return
            if verdict != ACCEPT:
                return  # dropped, as the kernel drops it
            flow.close()  # the entry is gone: schedule afresh
        verdict, conn = ipvs.process_in(
            af, IPPROTO_UDP, caddr, cport, vaddr, vport, now, 0, len(data)
        )
        if verdict != FORWARD or conn is None:
            plane.rejected += 1
            return
        plane.note_method(conn)
        if conn.flags & CONN_F_ONE_PACKET:
            okey = (caddr, cport, conn.daddr, conn.dport)
            flow = self.ops_flows.get(okey)
            if flow is None:
                flow = UdpFlow(self, conn, addr, okey)
                self.ops_flows[okey] = flow
            flow.conn = conn
            flow.last = now
        else:
            flow = UdpFlow(self, conn, addr, None)
            self.flows[(caddr, cport)] = flow
            plane.flows[conn] = flow
        flow.send(data)

    def close(self) -> None:
        for flow in [*self.flows.values(), *self.ops_flows.values()]:
            flow.close()
        if self.transport is not None:
            self.transport.close()

    def sweep(self, now: float, idle: float) -> None:
        """One-packet flows have no entry to expire them: close idle ones."""
        for okey, flow in list(self.ops_flows.items()):
            if now - flow.last > idle:
                flow.close()
                self.ops_flows.pop(okey, None)


class UdpFlow(asyncio.DatagramProtocol):
    """One client's flow: a socket connected to its real server."""

    def __init__(
        self,
        service: UdpService,
        conn: Conn,
        client: tuple[str, int] | tuple[str, int, int, int],
        ops_key: tuple[int, int, int, int] | None,
    ) -> None:
        self.service = service
        self.conn = conn
        self.client = client
        self.ops_key = ops_key
        self.transport: asyncio.DatagramTransport | None = None
        self.pending: list[bytes] | None = []
        self.closed = False
        self.last = 0.0
        plane = service.plane
        host = plane.addr_text(conn.daf, conn.daddr)
        plane.loop.create_task(self._open(host, conn.dport))

    async def _open(self, host: str, port: int) -> None:
        try:
            await self.service.plane.loop.create_datagram_endpoint(
                lambda: self, remote_addr=(host, port)
            )
        except OSError:
            self.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self.closed:
            transport.close()
            return
        self.transport = cast(asyncio.DatagramTransport, transport)
        pending = self.pending or []
        self.pending = None
        for data in pending:
            self.transport.sendto(data)

    def send(self, data: bytes) -> None:
        if self.transport is not None:
            self.transport.sendto(data)
        elif self.pending is not None and len(self.pending) < PENDING_LIMIT:
            self.pending.append(data)

    def datagram_received(
        self, data: bytes, addr: tuple[str, int] | tuple[str, int, int, int]
    ) -> None:
        service = self.service
        plane = service.plane
        plane.ipvs.process_out(self.conn, plane.clock(), 0, len(data))
        if service.transport is not None:
            service.transport.sendto(data, self.client)

    def error_received(self, exc: Exception) -> None:
        return None  # ICMP from the real server: UDP has no connection to break

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        service = self.service
        service.plane.flows.pop(self.conn, None)
        if self.ops_key is None:
            key = (service.plane.addr_int(service.key[0], self.client[0]), self.client[1])
            if service.flows.get(key) is self:
                del service.flows[key]
        if self.transport is not None:
            self.transport.close()

    def expire(self) -> None:
        self.close()
