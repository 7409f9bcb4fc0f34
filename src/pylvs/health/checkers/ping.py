"""PING_CHECK: one ICMP/ICMPv6 echo request; success = the echo reply with
our sequence number within connect_timeout (check_ping.c).

keepalived uses unprivileged ping sockets (SOCK_DGRAM + IPPROTO_ICMP, the
kernel fills in the identifier) and, when the checker is configured, widens
``net.ipv4.ping_group_range`` to start at gid 0 (restored at exit).  pylvs
does the same when root, and as root falls back to a raw socket if ping
sockets still cannot be had.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import socket
import struct

from pylvs.health.checkers.base import (
    SO_BINDTODEVICE,
    SO_MARK,
    ProbeContext,
    family_of,
    filler,
    target,
)
from pylvs.health.params import CheckerParams, PingSpec
from pylvs.health.result import ProbeResult

__all__ = ["PING_GROUP_RANGE", "PingChecker", "restore_ping_group_range", "widen_ping_group_range"]

PING_GROUP_RANGE = "/proc/sys/net/ipv4/ping_group_range"
_ICMP_BUFSIZE = 128
_ECHO, _ECHOREPLY = 8, 0
_ECHO6, _ECHOREPLY6 = 128, 129
_HDR = struct.Struct("!BBHHH")
_saved_gid_min: int | None = None
_sequence = itertools.count(1)


_PAYLOAD = filler(_ICMP_BUFSIZE)


def widen_ping_group_range(path: str = PING_GROUP_RANGE) -> list[str]:
    """set_ping_group_range(true): make the range start at gid 0, keeping
    its upper end; returns keepalived's log lines."""
    global _saved_gid_min
    logs: list[str] = []
    try:
        with open(path) as f:
            low_s, high_s = f.read().split()[:2]
        low, high = int(low_s), int(high_s)
    except (OSError, ValueError):
        return logs
    if low == 0:
        return logs
    if low > 1 and high > 1:
        logs.append(f"Warning: {path} being expanded from {low} {high} to 0 {high}")
    try:
        with open(path, "w") as f:
            f.write(f"0\t{high}\t\n")
    except OSError as e:
        logs.append(f"Write {path} failed - errno {e.errno}")
        return logs
    _saved_gid_min = low
    return logs


def restore_ping_group_range(path: str = PING_GROUP_RANGE) -> None:
    """set_ping_group_range(false), at shutdown."""
    global _saved_gid_min
    if _saved_gid_min is None:
        return
    try:
        with open(path) as f:
            high = f.read().split()[1]
        with open(path, "w") as f:
            f.write(f"{_saved_gid_min}\t{high}\t\n")
    except (OSError, IndexError):
        pass
    _saved_gid_min = None


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return int(~total & 0xFFFF)


class PingChecker:
    def __init__(self, params: CheckerParams, ctx: ProbeContext) -> None:
        spec = params.spec
        assert isinstance(spec, PingSpec)
        self.spec = spec
        self.addr = target(spec.connect, ctx)
        self.family = family_of(self.addr[0])
        self.v6 = self.family == socket.AF_INET6
        self.timeout = params.connect_timeout
        self.raw = False
        self.ident = os.getpid() & 0xFFFF

    def _socket(self) -> socket.socket:
        proto = socket.IPPROTO_ICMPV6 if self.v6 else socket.IPPROTO_ICMP
        try:
            return socket.socket(self.family, socket.SOCK_DGRAM, proto)
        except PermissionError:
            if os.geteuid() != 0:
                raise
        self.raw = True
        return socket.socket(self.family, socket.SOCK_RAW, proto)

    async def probe(self, url: int = 0) -> ProbeResult:
        try:
            sock = self._socket()
        except OSError:
            v6 = "v6" if self.v6 else ""
            return ProbeResult.rescheduled(f"ICMP{v6} connect fail to create socket. Rescheduling.")
        try:
            sock.setblocking(False)
            connect = self.spec.connect
            try:
                if connect.bind_if:
                    sock.setsockopt(
                        socket.SOL_SOCKET, SO_BINDTODEVICE, connect.bind_if.encode() + b"\0"
                    )
                if connect.bindto:
                    sock.bind((connect.bindto, 0))
            except OSError as e:
                return ProbeResult.rescheduled(
                    f"bind failed. errno: {e.errno}, error: {os.strerror(e.errno or 0)}"
                )
            if connect.fwmark:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, SO_MARK, connect.fwmark)
            seq = next(_sequence) & 0xFFFF
            return await self._echo(sock, seq)
        finally:
            sock.close()

    def _request(self, seq: int) -> bytes:
        kind = _ECHO6 if self.v6 else _ECHO
        header = _HDR.pack(kind, 0, 0, self.ident, seq)
        if self.raw and not self.v6:
            csum = _checksum(header + _PAYLOAD)
            header = _HDR.pack(kind, 0, csum, self.ident, seq)
        return header + _PAYLOAD

    async def _echo(self, sock: socket.socket, seq: int) -> ProbeResult:
        loop = asyncio.get_running_loop()
        try:
            await loop.sock_sendto(sock, self._request(seq), (self.addr[0], 0))
        except OSError as e:
            line = (
                f"send ICMPv6 packet fail - errno {e.errno}" if self.v6 else "send ICMP packet fail"
            )
            return ProbeResult(ok=False, logs=(line,))
        deadline = loop.time() + self.timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return ProbeResult(ok=False, reason="timeout")
            try:
                async with asyncio.timeout(remaining):
                    data = await loop.sock_recv(sock, 2048)
            except TimeoutError:
                return ProbeResult(ok=False, reason="timeout")
            except OSError:
                v6 = "v6" if self.v6 else ""
                return ProbeResult(ok=False, reason="failed", logs=(f"recv ICMP{v6} packet error",))
            verdict = self._judge(data, seq)
            if verdict is not None:
                return verdict

    def _judge(self, data: bytes, seq: int) -> ProbeResult | None:
        """recv_it()/recv6_it(); None for someone else's packet (raw socket)."""
        if self.raw and not self.v6 and data:
            data = data[(data[0] & 0x0F) * 4 :]
        v6 = "v6" if self.v6 else ""
        if len(data) < _HDR.size:
            line = f"Error, got short ICMP{v6} packet, {len(data)} bytes"
            return ProbeResult(ok=False, reason="failed", logs=(line,))
        kind, _code, _csum, ident, reply_seq = _HDR.unpack_from(data)
        if self.raw and (kind == (_ECHO6 if self.v6 else _ECHO) or ident != self.ident):
            return None
        if kind != (_ECHOREPLY6 if self.v6 else _ECHOREPLY):
            line = f"Got ICMP{v6} packet with type 0x{kind:x}"
            return ProbeResult(ok=False, reason="failed", logs=(line,))
        if reply_seq != seq:
            line = f"Ping reply expected seq no {seq}, received {reply_seq}"
            return ProbeResult(ok=False, reason="failed", logs=(line,))
        return ProbeResult(ok=True)
