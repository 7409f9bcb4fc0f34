"""TCP through the proxy plane: one accepted client connection, one
connection to the real server the core chose, bytes relayed both ways.

The core sees the connection as IPVS would see its packets: the accept is
the client's SYN, the real server's accept its SYN-ACK and the client's
ACK, every read a segment (a packet; its payload bytes are counted), each
end-of-stream a FIN, a reset an RST. So ``pylvsadm -Lnc`` shows IPVS's
states and ``-Ln`` its ActiveConn/InActConn.

Half-closes pass through (``write_eof``); backpressure pauses the reading
side while the writing side's buffer is above its high-water mark, so a slow
reader never makes the plane buffer without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import TYPE_CHECKING, cast

from pylvs.core.conn import Conn
from pylvs.core.ipvs import ACCEPT, FORWARD, Ipvs
from pylvs.core.tcpstate import ACK, FIN, RST, SYN

if TYPE_CHECKING:
    from pylvs.dataplane.proxy.plane import ProxyPlane

__all__ = ["ClientSide", "ServerSide"]

_LINGER_RST = struct.pack("ii", 1, 0)
# Per direction, what may sit in the writing transport before reading pauses.
HIGH_WATER = 256 * 1024
LOW_WATER = 64 * 1024
# Client bytes kept while the real server's connection is being made.
PENDING_LIMIT = 256 * 1024


def reset(transport: asyncio.BaseTransport) -> None:
    """Close with a TCP RST (SO_LINGER 0), as a client of a dead flow sees."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
    transport.abort()  # type: ignore[attr-defined]


class ClientSide(asyncio.Protocol):
    """The client's connection to the VIP."""

    __slots__ = (
        "conn",
        "eof",
        "ipvs",
        "key",
        "pending",
        "plane",
        "server",
        "transport",
    )

    def __init__(self, plane: ProxyPlane, key: tuple[int, int, int, int]) -> None:
        self.plane = plane
        self.ipvs: Ipvs = plane.ipvs
        self.key = key  # (af, protocol, vaddr, vport) of the listening service
        self.transport: asyncio.Transport | None = None
        self.server: ServerSide | None = None
        self.conn: Conn | None = None
        self.pending: list[bytes] | None = []
        self.eof = False

    # --- the client's connection --------------------------------------
    def connection_made(self, base: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses: cast.
        transport = cast(asyncio.Transport, base)
        self.transport = transport
        plane = self.plane
        peer = transport.get_extra_info("peername")
        af, proto, vaddr, vport = self.key
        try:
            caddr = plane.addr_int(af, peer[0])
        except (TypeError, ValueError, OSError):
            transport.abort()
            return
        verdict, conn = self.ipvs.process_in(
            af, proto, caddr, peer[1], vaddr, vport, plane.clock(), SYN
        )
        if verdict != FORWARD or conn is None:
            plane.rejected += 1
            reset(transport)
            return
        self.conn = conn
        plane.flows[conn] = self
        transport.set_write_buffer_limits(HIGH_WATER, LOW_WATER)
        plane.note_method(conn)
        # The plane's sweep gives up on connects that take too long (one
        # periodic timer for all flows is cheaper than one timer each).
        plane.connecting[self] = plane.clock() + plane.connect_timeout
        plane.loop.create_task(self._connect(conn))

    async def _connect(self, conn: Conn) -> None:
        plane = self.plane
        host = plane.addr_text(conn.daf, conn.daddr)
        try:
            await plane.loop.create_connection(lambda: ServerSide(self), host, conn.dport)
        except OSError:
            if plane.connecting.pop(self, None) is not None:
                plane.connect_failures += 1
                self._abort(from_server=True)

    def connect_timed_out(self) -> None:
        """Called by the plane's sweep (already removed from ``connecting``)."""
        if self.server is None:
            self.plane.connect_failures += 1
            self._abort(from_server=True)

    def data_received(self, data: bytes) -> None:
        conn = self.conn
        if conn is None:
            return
        verdict = self.ipvs.tcp_in(conn, self.plane.clock(), ACK, len(data))
        if verdict == FORWARD:
            server = self.server
            if server is not None and server.transport is not None:
                server.transport.write(data)
            elif self.pending is not None:
                self.pending.append(data)
                if sum(len(x) for x in self.pending) > PENDING_LIMIT and self.transport is not None:
                    self.transport.pause_reading()
        elif verdict == ACCEPT:
            self._abort(from_server=False)
        # DROP: the kernel's behaviour for a deleted real server (keep_nodest_conn 0)

    def eof_received(self) -> bool:
        conn = self.conn
        self.eof = True
        if conn is not None:
            self.ipvs.tcp_in(conn, self.plane.clock(), FIN | ACK, 0)
        server = self.server
        if server is not None and server.transport is not None:
            if server.transport.can_write_eof():
                server.transport.write_eof()
            if server.eof:
                self._both_closed()
        return True  # keep our write side open: a half-close

    def connection_lost(self, exc: Exception | None) -> None:
        conn = self.conn
        if conn is None:
            return
        self.conn = None
        plane = self.plane
        plane.flows.pop(conn, None)
        plane.connecting.pop(self, None)
        if exc is not None or not self.eof:
            self.ipvs.tcp_in(conn, plane.clock(), RST, 0)
        server = self.server
        if (
            server is not None
            and server.transport is not None
            and not server.transport.is_closing()
        ):
            if exc is not None:
                reset(server.transport)
            else:
                server.transport.close()

    def pause_writing(self) -> None:
        server = self.server
        if server is not None and server.transport is not None:
            server.transport.pause_reading()

    def resume_writing(self) -> None:
        server = self.server
        if server is not None and server.transport is not None:
            server.transport.resume_reading()

    # --- shared ---------------------------------------------------------
    def server_ready(self, server: ServerSide) -> None:
        self.server = server
        self.plane.connecting.pop(self, None)
        conn = self.conn
        transport = server.transport
        assert transport is not None
        if conn is None or self.transport is None or self.transport.is_closing():
            transport.close()
            return
        ipvs = self.ipvs
        now = self.plane.clock()
        ipvs.tcp_out(conn, now, SYN | ACK, 0)
        ipvs.tcp_in(conn, now, ACK, 0)
        header = self.plane.proxy_header(conn, self.transport)
        if header:
            transport.write(header)
        pending = self.pending
        self.pending = None
        if pending:
            transport.write(b"".join(pending))
            self.transport.resume_reading()
        if self.eof and transport.can_write_eof():
            transport.write_eof()

    def _both_closed(self) -> None:
        if self.transport is not None:
            self.transport.close()
        server = self.server
        if server is not None and server.transport is not None:
            server.transport.close()

    def _abort(self, from_server: bool) -> None:
        """Reset both ends (a failed or expired flow). A real server that
        could not be reached counts as its RST."""
        conn = self.conn
        if from_server and conn is not None:
            self.ipvs.tcp_out(conn, self.plane.clock(), RST, 0)
        if self.transport is not None and not self.transport.is_closing():
            reset(self.transport)
        server = self.server
        if (
            server is not None
            and server.transport is not None
            and not server.transport.is_closing()
        ):
            reset(server.transport)

    def expire(self) -> None:
        """The core expired this flow's entry: IPVS would no longer forward it."""
        self.conn = None
        self._abort(from_server=False)


class ServerSide(asyncio.Protocol):
    """Our connection to the real server."""

    __slots__ = ("client", "eof", "transport")

    def __init__(self, client: ClientSide) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None
        self.eof = False

    def connection_made(self, base: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, base)
        self.transport = transport
        transport.set_write_buffer_limits(HIGH_WATER, LOW_WATER)
        self.client.server_ready(self)

    def data_received(self, data: bytes) -> None:
        client = self.client
        conn = client.conn
        if conn is None:
            return
        client.ipvs.tcp_out(conn, client.plane.clock(), ACK, len(data))
        transport = client.transport
        if transport is not None:
            transport.write(data)

    def eof_received(self) -> bool:
        self.eof = True
        client = self.client
        conn = client.conn
        if conn is not None:
            client.ipvs.tcp_out(conn, client.plane.clock(), FIN | ACK, 0)
        transport = client.transport
        if transport is not None and not transport.is_closing():
            if transport.can_write_eof():
                transport.write_eof()
            if client.eof:
                client._both_closed()
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        client = self.client
        conn = client.conn
        if conn is not None and (exc is not None or not self.eof):
            client.ipvs.tcp_out(conn, client.plane.clock(), RST, 0)
        transport = client.transport
        if transport is not None and not transport.is_closing():
            if exc is not None or not self.eof:
                reset(transport)
            else:
                transport.close()

    def pause_writing(self) -> None:
        transport = self.client.transport
        if transport is not None:
            transport.pause_reading()

    def resume_writing(self) -> None:
        transport = self.client.transport
        if transport is not None:
            transport.resume_reading()
