"""UDP_CHECK: send one datagram and judge the answer (check_udp.c,
layer4.c).

Without ``require_reply`` an ICMP error is a failure and a reply *or
silence until connect_timeout* is a success.  With it a reply is needed;
when a reply pattern is given, the reply must also be within
[min_reply_length, max_reply_length] and match the pattern over the
shorter of the two (``X`` nibbles match anything).
"""

from __future__ import annotations

import socket

from pylvs.health.checkers.base import (
    ProbeContext,
    bind_socket,
    family_of,
    filler,
    recv_within,
    target,
)
from pylvs.health.hex_string import read_hex_str
from pylvs.health.params import CheckerParams, UdpSpec
from pylvs.health.result import ProbeResult

__all__ = ["FILLER", "UdpChecker", "parse_hex", "reply_matches"]

_IP_RECVERR = 11
_IPV6_RECVERR = 25


#: what keepalived sends when no payload is configured (set_buf, UDP_BUFSIZE)
FILLER = filler(32)


def parse_hex(text: str, wildcards: bool = False) -> tuple[bytes, bytes]:
    """read_hex_str(): hex digits, optionally grouped by spaces (a lone digit
    before a space is one byte); with ``wildcards`` an ``X``/``x`` nibble
    matches anything.  Returns (data, mask) — mask bits set = don't care;
    ValueError when ``text`` is not such a string."""
    parsed = read_hex_str(text, wildcards)
    if parsed is None:
        raise ValueError(f"invalid hex string {text!r}")
    data, mask = parsed
    return data, mask if mask is not None else bytes(len(data))


def reply_matches(reply: bytes, spec: UdpSpec, pattern: bytes, mask: bytes) -> bool:
    """check_udp_reply(), inverted: True when the reply is acceptable."""
    if not spec.min_reply_length <= len(reply) <= spec.max_reply_length:
        return False
    return all(
        not ((reply[i] ^ pattern[i]) & ~mask[i] & 0xFF)
        for i in range(min(len(reply), len(pattern)))
    )


class UdpChecker:
    def __init__(self, params: CheckerParams, ctx: ProbeContext) -> None:
        spec = params.spec
        assert isinstance(spec, UdpSpec)
        self.spec = spec
        self.addr = target(spec.connect, ctx)
        self.family = family_of(self.addr[0])
        self.timeout = params.connect_timeout
        self.payload = parse_hex(spec.payload)[0] if spec.payload else FILLER
        self.pattern: tuple[bytes, bytes] | None = None
        if spec.require_reply and spec.reply:
            self.pattern = parse_hex(spec.reply, wildcards=True)

    async def probe(self, url: int = 0) -> ProbeResult:
        try:
            sock = socket.socket(self.family, socket.SOCK_DGRAM)
        except OSError:
            return ProbeResult.rescheduled("UDP connect fail to create socket. Rescheduling.")
        try:
            sock.setblocking(False)
            try:
                if self.family == socket.AF_INET:
                    sock.setsockopt(socket.SOL_IP, _IP_RECVERR, 1)
                else:
                    sock.setsockopt(socket.IPPROTO_IPV6, _IPV6_RECVERR, 1)
            except OSError:
                pass
            failure = bind_socket(sock, self.spec.connect, udp=True)
            if failure is not None:
                return ProbeResult(ok=False, logs=(failure,))
            try:
                sock.connect(self.addr)
                if sock.send(self.payload) != len(self.payload):
                    return ProbeResult(ok=False)
            except OSError:
                return ProbeResult(ok=False)
            return await self._answer(sock)
        finally:
            sock.close()

    async def _answer(self, sock: socket.socket) -> ProbeResult:
        spec = self.spec
        size = spec.max_reply_length + 1 if spec.require_reply else 1
        try:
            reply = await recv_within(sock, size, self.timeout)
        except OSError:
            return ProbeResult(ok=False, reason="failed")
        if reply is None:
            if spec.require_reply:
                return ProbeResult(ok=False, reason="failed")
            return ProbeResult(ok=True)
        if self.pattern is not None and not reply_matches(reply, spec, *self.pattern):
            return ProbeResult(ok=False, reason="mismatch")
        return ProbeResult(ok=True)
