"""DNS_CHECK: one UDP query (random id, RD, class IN) to the target; the
check passes on a reply with the same id, QR set and RCODE 0 — the answer
itself is not looked at (check_dns.c).  Replies with another id, without
QR, or shorter than a header are ignored while waiting."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import struct

from pylvs.health.checkers.base import ProbeContext, bind_socket, family_of, recv_within, target
from pylvs.health.display import fmt_pair
from pylvs.health.dns_types import DNS_TYPES
from pylvs.health.params import CheckerParams, DnsSpec
from pylvs.health.result import ProbeResult

__all__ = ["DNS_TYPES", "DnsChecker", "build_query"]

_HEADER = struct.Struct("!HHHHHH")
_RD = 0x0100
_QR = 0x8000
#: keepalived's DNS_BUFFER_SIZE
_BUFFER = 768


def build_query(query_id: int, name: str, qtype: int) -> bytes:
    """dns_make_query(): labels split at dots; "" and "." are the root."""
    qname = bytearray()
    for label in name.split(".") if name not in ("", ".") else []:
        if label:
            qname.append(len(label))
            qname += label.encode()
    qname.append(0)
    return _HEADER.pack(query_id, _RD, 1, 0, 0, 0) + bytes(qname) + struct.pack("!HH", qtype, 1)


class DnsChecker:
    def __init__(self, params: CheckerParams, ctx: ProbeContext) -> None:
        spec = params.spec
        assert isinstance(spec, DnsSpec)
        self.spec = spec
        self.ctx = ctx
        self.addr = target(spec.connect, ctx)
        self.family = family_of(self.addr[0])
        self.timeout = params.connect_timeout
        self.qtype = DNS_TYPES.get(spec.type.upper(), DNS_TYPES["SOA"])

    def _log(self, text: str) -> str:
        return f"DNS_CHECK ({self.ctx.rs_display}) {text}"

    async def probe(self, url: int = 0) -> ProbeResult:
        try:
            sock = socket.socket(self.family, socket.SOCK_DGRAM)
        except OSError:
            return ProbeResult.rescheduled(self._log("failed to create socket. Rescheduling."))
        try:
            sock.setblocking(False)
            failure = bind_socket(sock, self.spec.connect)
            if failure is not None:
                return ProbeResult.rescheduled(
                    failure, self._log("UDP socket bind failed. Rescheduling.")
                )
            try:
                sock.connect(self.addr)
            except OSError:
                return ProbeResult(
                    ok=False, reason=f"network unreachable for {fmt_pair(*self.addr)}"
                )
            query_id = random.getrandbits(16)
            query = build_query(query_id, self.spec.name, self.qtype)
            try:
                sent = sock.send(query)
            except OSError:
                return ProbeResult(ok=False, reason="failed to write socket.")
            if sent != len(query):
                return ProbeResult(ok=False, reason="failed to write all of the datagram.")
            return await self._await_reply(sock, query_id)
        finally:
            sock.close()

    async def _await_reply(self, sock: socket.socket, query_id: int) -> ProbeResult:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return ProbeResult(ok=False, reason="read timeout from socket")
            try:
                data = await recv_within(sock, _BUFFER, remaining)
            except OSError as e:
                code = e.errno or 0
                return ProbeResult(
                    ok=False, reason=f"failed to read socket; errno {code} ({os.strerror(code)})"
                )
            if data is None:
                return ProbeResult(ok=False, reason="read timeout from socket")
            if len(data) < _HEADER.size:
                continue
            reply_id, flags = struct.unpack_from("!HH", data)
            if reply_id != query_id or not flags & _QR:
                continue
            rcode = flags & 0x000F
            if rcode:
                return ProbeResult(ok=False, reason=f"read error occurred. (rcode = {rcode})")
            return ProbeResult(ok=True)
