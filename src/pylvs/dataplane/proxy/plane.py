"""``--dataplane proxy``: the embedded plane. Any user, any OS with asyncio.

For each TCP and UDP service it listens on VIP:port (IPv4 and IPv6) and
relays every connection or UDP flow to the real server the core scheduled
(see tcp.py and udp.py). Masq semantics at connection level: real servers
see the director as the client, unless the PROXY protocol is turned on for
them. Routing and tunnelling need the kernel plane; their real servers are
proxied like Masq ones, with one log line saying so.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import resource
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, format_addr_port
from pylvs.core.conn import Conn, decode_key
from pylvs.core.ipvs import Ipvs
from pylvs.core.model import CONN_F_DROUTE, CONN_F_TUNNEL, FWD_NAMES, ServiceKey
from pylvs.core.ops import AddService, DelService, Flush, Op
from pylvs.dataplane.base import Capabilities, DataPlane
from pylvs.dataplane.proxy.proxyproto import proxy_v1, proxy_v2
from pylvs.dataplane.proxy.tcp import ClientSide
from pylvs.dataplane.proxy.udp import UdpService

__all__ = ["ProxyPlane", "ProxyProtocolRule"]

log = logging.getLogger("pylvs.proxy")

BACKLOG = 4096
RETRY_BIND = 5.0
CONNECT_TIMEOUT = 5.0
CONNECT_SWEEP = 0.25
_SOCK_AF = {AF_INET: socket.AF_INET, AF_INET6: socket.AF_INET6}


@dataclass(frozen=True)
class ProxyProtocolRule:
    """Send a PROXY protocol header to a real server (``None``: to every one)."""

    version: int  # 1 or 2
    dest: tuple[int, int, int] | None = None  # (af, addr, port)


class Listener:
    """One service's socket, or why it has none."""

    def __init__(self, key: ServiceKey) -> None:
        self.key = key
        self.server: asyncio.AbstractServer | None = None
        self.udp: UdpService | None = None
        self.error = ""
        self.retry: asyncio.TimerHandle | None = None
        self.closed = False

    @property
    def state(self) -> str:
        if self.server is not None or self.udp is not None:
            return "listening"
        return self.error or "opening"

    def close(self) -> None:
        self.closed = True
        if self.retry is not None:
            self.retry.cancel()
        if self.server is not None:
            self.server.close()
        if self.udp is not None:
            self.udp.close()


class ProxyPlane(DataPlane):
    name = "proxy"
    reason = "asked for: --dataplane proxy"

    def __init__(
        self,
        proxy_protocol: Sequence[ProxyProtocolRule] = (),
        connect_timeout: float = CONNECT_TIMEOUT,
    ) -> None:
        self.listeners: dict[ServiceKey, Listener] = {}
        self.flows: dict[Conn, Any] = {}
        # TCP flows waiting for their real server, with their deadline.
        self.connecting: dict[ClientSide, float] = {}
        self.proxy_rules = list(proxy_protocol)
        self.connect_timeout = connect_timeout
        self.rejected = 0
        self.connect_failures = 0
        self.accept_errors = 0
        self.fd_limit = 0
        self._noted: set[tuple[int, int, int]] = set()
        self._sweeper: asyncio.Task[None] | None = None

    def capabilities(self) -> Capabilities:
        return Capabilities(["Masq"], ["TCP", "UDP"])

    # --- lifecycle -----------------------------------------------------------
    async def start(self, ipvs: Ipvs, clock: Callable[[], float]) -> None:
        await super().start(ipvs, clock)
        self.loop = asyncio.get_running_loop()
        self.fd_limit = raise_fd_limit()
        for svc in ipvs.table:
            self._open(svc.key)
        self._sweeper = self.loop.create_task(self._sweep_forever())
        self._connect_sweeper = self.loop.create_task(self._connect_sweep_forever())

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._connect_sweeper.cancel()
        for listener in self.listeners.values():
            listener.close()
        for flow in list(self.flows.values()):
            flow.expire()
        self.listeners.clear()

    def on_op(self, op: Op) -> None:
        if isinstance(op, AddService):
            self._open(op.spec.key)
        elif isinstance(op, DelService):
            self._close(op.key)
        elif isinstance(op, Flush):
            for key in list(self.listeners):
                self._close(key)

    def on_expired(self, conns: Sequence[Conn]) -> None:
        flows = self.flows
        for conn in conns:
            flow = flows.pop(conn, None)
            if flow is not None:
                flow.expire()

    def status(self) -> dict[str, Any]:
        return {
            **super().status(),
            "listeners": {str(k): lst.state for k, lst in self.listeners.items()},
            "flows": len(self.flows),
            "rejected": self.rejected,
            "connect_failures": self.connect_failures,
            "accept_errors": self.accept_errors,
            "fd_limit": self.fd_limit,
        }

    # --- listeners ---------------------------------------------------------
    def _open(self, key: ServiceKey) -> None:
        if key in self.listeners:
            return
        listener = Listener(key)
        self.listeners[key] = listener
        why = self._unsupported(key)
        if why:
            listener.error = why
            log.warning("%s: %s", key, why)
            return
        self.loop.create_task(self._bind(listener))

    @staticmethod
    def _unsupported(key: ServiceKey) -> str:
        if key.fwmark:
            return "firewall-mark services need the kernel plane (--dataplane kernel)"
        if key.protocol not in (IPPROTO_TCP, IPPROTO_UDP):
            return "SCTP services need the kernel plane (--dataplane kernel)"
        if key.port == 0:
            return "port-0 (all ports) services need the kernel plane (--dataplane kernel)"
        return ""

    async def _bind(self, listener: Listener) -> None:
        key = listener.key
        k4 = (key.af, key.protocol, key.addr, key.port)
        try:
            sock = _listening_socket(key)
            if key.protocol == IPPROTO_TCP:
                listener.server = await self.loop.create_server(
                    lambda: ClientSide(self, k4), sock=sock, backlog=BACKLOG
                )
            else:
                _, proto = await self.loop.create_datagram_endpoint(
                    lambda: UdpService(self, k4), sock=sock
                )
                assert isinstance(proto, UdpService)
                listener.udp = proto
        except OSError as e:
            first = not listener.error
            listener.error = f"cannot listen on {_where(key)}: {bind_advice(e)}"
            if first:
                log.error("%s (retrying every %d s)", listener.error, RETRY_BIND)
            if not listener.closed:
                listener.retry = self.loop.call_later(
                    RETRY_BIND, lambda: self.loop.create_task(self._bind(listener))
                )
            return
        if listener.closed:
            listener.close()
            return
        if listener.error:
            log.info("listening on %s now", _where(key))
        listener.error = ""

    def _close(self, key: ServiceKey) -> None:
        listener = self.listeners.pop(key, None)
        if listener is not None:
            listener.close()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(5)
            now = self.clock()
            for listener in self.listeners.values():
                if listener.udp is not None:
                    listener.udp.sweep(now, self.ipvs.udp_timeout)

    async def _connect_sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(CONNECT_SWEEP)
            now = self.clock()
            late = [flow for flow, deadline in self.connecting.items() if deadline <= now]
            for flow in late:
                del self.connecting[flow]
                flow.connect_timed_out()

    # --- helpers for the relays ---------------------------------------------
    @staticmethod
    def addr_int(af: int, text: str) -> int:
        return int.from_bytes(socket.inet_pton(_SOCK_AF[af], text), "big")

    @staticmethod
    def addr_text(af: int, addr: int) -> str:
        return socket.inet_ntop(_SOCK_AF[af], addr.to_bytes(4 if af == AF_INET else 16, "big"))

    def note_method(self, conn: Conn) -> None:
        fwd = conn.fwd
        if fwd not in (CONN_F_DROUTE, CONN_F_TUNNEL):
            return
        key = (conn.daf, conn.daddr, conn.dport)
        if key in self._noted:
            return
        self._noted.add(key)
        log.warning(
            "real server %s is %s: the proxy plane proxies it as Masq; "
            "%s forwarding needs the kernel plane (--dataplane kernel)",
            format_addr_port(conn.daf, conn.daddr, conn.dport), FWD_NAMES[fwd], FWD_NAMES[fwd],
        )  # fmt: skip

    def proxy_header(self, conn: Conn, client: asyncio.BaseTransport) -> bytes:
        if not self.proxy_rules:
            return b""
        dest = (conn.daf, conn.daddr, conn.dport)
        for rule in self.proxy_rules:
            if rule.dest is None or rule.dest == dest:
                af, proto, caddr, cport, vaddr, vport = decode_key(conn.key)
                make = proxy_v1 if rule.version == 1 else proxy_v2
                return make(af, proto, caddr, cport, vaddr, vport)
        return b""


def _where(key: ServiceKey) -> str:
    proto = "TCP" if key.protocol == IPPROTO_TCP else "UDP"
    return f"{proto} {format_addr_port(key.af, key.addr, key.port)}"


def _listening_socket(key: ServiceKey) -> socket.socket:
    family = _SOCK_AF[key.af]
    kind = socket.SOCK_STREAM if key.protocol == IPPROTO_TCP else socket.SOCK_DGRAM
    sock = socket.socket(family, kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((ProxyPlane.addr_text(key.af, key.addr), key.port))
        if kind == socket.SOCK_STREAM:
            sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def bind_advice(e: OSError) -> str:
    """What went wrong binding a VIP, and what to do about it."""
    text = os.strerror(e.errno) if e.errno else str(e)
    if e.errno == errno.EADDRNOTAVAIL:
        return f"{text}: the VIP is not a local address (add it to an interface, e.g. 'ip addr add VIP/32 dev lo')"
    if e.errno == errno.EACCES:
        return f"{text}: ports below 1024 need root or CAP_NET_BIND_SERVICE"
    if e.errno == errno.EADDRINUSE:
        return f"{text}: another program listens on it"
    return text


def raise_fd_limit() -> int:
    """Raise the soft limit on open files to the hard one; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    log.info("open files limit: %d (each proxied TCP connection uses 2)", soft)
    return soft
