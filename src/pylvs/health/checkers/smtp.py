"""SMTP_CHECK: connect, expect a ``220`` greeting line, send
``HELO <helo_name>``, expect ``250``, send ``QUIT`` and read one more line
(check_smtp.c).  Reasons are keepalived's messages (logged after
``SMTP_CHECK ``), naming the target as ``[ip]:port``."""

from __future__ import annotations

import socket

from pylvs.health.checkers.base import (
    Connect,
    ProbeContext,
    bind_socket,
    family_of,
    nonblocking_connect,
    recv_within,
    target,
)
from pylvs.health.display import fmt_pair
from pylvs.health.params import CheckerParams, SmtpSpec
from pylvs.health.result import ProbeResult

__all__ = ["SmtpChecker", "smtp_status"]

#: keepalived's SMTP_BUFF_MAX; a longer line wraps the buffer.
SMTP_BUFF_MAX = 512
_BIND_FAILED = "SMTP_CHECK socket bind failed. Rescheduling."


def smtp_status(line: bytes) -> int:
    """smtp_get_status(): exactly three digits then a space or the end of
    the line (the newline is cut off, a ``\\r`` is not), else -1."""
    digits = line[:3]
    if len(digits) != 3 or not digits.isdigit():
        return -1
    if len(line) > 3 and line[3] != 0x20:
        return -1
    return int(digits)


class _Failed(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


class SmtpChecker:
    def __init__(self, params: CheckerParams, ctx: ProbeContext) -> None:
        spec = params.spec
        assert isinstance(spec, SmtpSpec)
        self.spec = spec
        self.ctx = ctx
        self.addr = target(spec.connect, ctx)
        self.family = family_of(self.addr[0])
        self.timeout = params.connect_timeout
        self.server = fmt_pair(*self.addr)

    async def probe(self, url: int = 0) -> ProbeResult:
        try:
            sock = socket.socket(self.family, socket.SOCK_STREAM)
        except OSError:
            return ProbeResult.rescheduled(
                "SMTP_CHECK connection failed to create socket. Rescheduling."
            )
        try:
            failure = bind_socket(sock, self.spec.connect)
            if failure is not None:
                return ProbeResult.rescheduled(failure, _BIND_FAILED)
            outcome = await nonblocking_connect(sock, self.addr, self.timeout)
            if outcome is not Connect.SUCCESS:
                return self._connect_failure(outcome)
            return await self._converse(sock)
        except _Failed as failed:
            return ProbeResult(ok=False, reason=failed.reason)
        finally:
            sock.close()

    def _connect_failure(self, outcome: Connect) -> ProbeResult:
        if outcome is Connect.ERROR_AT_ONCE:
            return ProbeResult.rescheduled(_BIND_FAILED)
        if outcome is Connect.FAIL_AT_ONCE:
            rs = fmt_pair(self.ctx.rs_ip, self.ctx.rs_port)
            return ProbeResult(
                ok=False, reason=f"Network unreachable for server {self.addr[0]} - real server {rs}"
            )
        reason = {
            Connect.TIMEOUT: "Connection timeout to server",
            Connect.FAIL: "Could not connect to server",
        }.get(outcome, "Error connecting to server")
        return ProbeResult(ok=False, reason=f"{reason} {self.server}")

    async def _converse(self, sock: socket.socket) -> ProbeResult:
        if smtp_status(await self._get_line(sock)) != 220:
            raise _Failed(f"Bad greeting banner from server {self.server}")
        self._put_line(sock, f"HELO {self.spec.helo_name}\r\n".encode())
        if smtp_status(await self._get_line(sock)) != 250:
            raise _Failed(f"Bad HELO response from server {self.server}")
        self._put_line(sock, b"QUIT\r\n")
        await self._get_line(sock)
        return ProbeResult(ok=True)

    async def _get_line(self, sock: socket.socket) -> bytes:
        """smtp_get_line_cb(): read until a newline; the buffer starts empty
        for each line, so whatever followed the previous newline is lost."""
        buf = b""
        while True:
            try:
                data = await recv_within(sock, SMTP_BUFF_MAX - 1 - len(buf), self.timeout)
            except OSError:
                data = b""
            if data is None:
                raise _Failed(f"Read timeout from server {self.server}")
            if not data:
                raise _Failed(f"Read failure from server {self.server}")
            buf += data
            nl = buf.find(b"\n")
            if nl >= 0:
                return buf[:nl]
            if len(buf) >= SMTP_BUFF_MAX - 1:
                buf = b""

    def _put_line(self, sock: socket.socket, line: bytes) -> None:
        try:
            sent = sock.send(line)
        except OSError:
            sent = 0
        if sent <= 0:
            raise _Failed(f"Write failure to server {self.server}")
