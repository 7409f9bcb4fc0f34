"""What every checker shares: its context, its interface, and keepalived's
socket set-up (layer4.c socket_bind_connect) with the same outcomes.

A checker is built once per configured checker and its :meth:`probe` is
awaited for each check; it must return a :class:`ProbeResult` and never
raise (the runner still guards against it).
"""

from __future__ import annotations

import _socket
import asyncio
import enum
import errno
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from pylvs.health.params import CheckerParams, ConnectParams
from pylvs.health.result import ProbeResult

__all__ = [
    "Cancellable",
    "Checker",
    "CheckerFactory",
    "Connect",
    "FastChecker",
    "ProbeContext",
    "bind_socket",
    "family_of",
    "filler",
    "nonblocking_connect",
    "recv_within",
    "target",
]

# connect() errors that mean "could not connect" rather than "could not run
# the check" (layer4.c).
_CONNECT_FAIL = {
    errno.ENETUNREACH,
    errno.EHOSTUNREACH,
    errno.ECONNREFUSED,
    errno.EHOSTDOWN,
    errno.ENETDOWN,
    errno.ECONNRESET,
    errno.ECONNABORTED,
    errno.ETIMEDOUT,
}
SO_MARK = getattr(socket, "SO_MARK", 36)
SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)


@dataclass(frozen=True, slots=True)
class ProbeContext:
    """Where a checker sits: its real and virtual server, as keepalived
    prints them, and the settings it inherits from them."""

    rs_ip: str
    rs_port: int
    rs_display: str
    vs_display: str
    rs_virtualhost: str | None = None
    vs_virtualhost: str | None = None
    vs_delay_loop: float = 60.0
    #: the uid/gid scripts run as (MISC_CHECK), resolved by the runner
    uid: int | None = None
    gid: int | None = None
    log: Callable[[str], None] = lambda _line: None


class Checker(Protocol):
    async def probe(self, url: int) -> ProbeResult: ...


class Cancellable(Protocol):
    def cancel(self) -> None: ...


class FastChecker(Checker, Protocol):
    """A checker that can also run a probe from event-loop callbacks:
    ``start`` calls ``done`` exactly once (possibly before returning) unless
    the returned handle is cancelled first.  Used when ``fast`` is true."""

    fast: bool

    def start(self, url: int, done: Callable[[ProbeResult], None]) -> Cancellable: ...


CheckerFactory = Callable[[CheckerParams, ProbeContext], Checker]


def filler(size: int) -> bytes:
    """keepalived's set_buf(): ``size`` bytes of ``"keepalived check - "``
    repeated, the payload UDP_CHECK and PING_CHECK send by default."""
    text = b"keepalived check - "
    return (text * (size // len(text) + 1))[:size]


def family_of(ip: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def target(connect: ConnectParams, ctx: ProbeContext) -> tuple[str, int]:
    """connect_ip/connect_port, defaulting to the real server's."""
    ip = connect.connect_ip or ctx.rs_ip
    port = connect.connect_port if connect.connect_port is not None else ctx.rs_port
    return ip, port


def bind_socket(sock: _socket.socket, connect: ConnectParams, udp: bool = False) -> str | None:
    """SO_MARK, SO_BINDTODEVICE and bind() as socket_bind_connect (or, with
    ``udp``, udp_bind_connect) does them; returns keepalived's log line on
    failure.  (keepalived only binds when ``bindto`` is set: a lone
    ``bind_port`` is ignored.)"""
    if connect.fwmark:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_MARK, connect.fwmark)
        except OSError as e:
            return f"Error setting fwmark {connect.fwmark} to socket: {os.strerror(e.errno or 0)}"
    if connect.bind_if:
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, connect.bind_if.encode() + b"\0")
        except OSError as e:
            return f"Checker can't bind to device {connect.bind_if}: {os.strerror(e.errno or 0)}"
    if connect.bindto:
        try:
            sock.bind((connect.bindto, connect.bind_port or 0))
        except OSError as e:
            if udp:
                return f"bind failed. errno: {e.errno}, error: {os.strerror(e.errno or 0)}"
            return f"Checker bind failed: {os.strerror(e.errno or 0)}"
    return None


class Connect(enum.Enum):
    """keepalived's connect_result values for a TCP connect."""

    SUCCESS = "success"
    #: connect() itself failed with a "cannot connect" errno (connect_fail)
    FAIL_AT_ONCE = "fail-at-once"
    #: connect() itself failed otherwise (connect_error)
    ERROR_AT_ONCE = "error-at-once"
    TIMEOUT = "timeout"
    #: the connection attempt failed later (SO_ERROR)
    FAIL = "fail"
    ERROR = "error"

    @staticmethod
    def at_once(err: int) -> Connect:
        """The outcome of a connect() that failed at once with ``err``."""
        return Connect.FAIL_AT_ONCE if err in _CONNECT_FAIL else Connect.ERROR_AT_ONCE


async def nonblocking_connect(
    sock: socket.socket, addr: tuple[str, int], timeout: float
) -> Connect:
    """connect() then wait for writability and read SO_ERROR, like
    tcp_bind_connect + tcp_socket_state."""
    sock.setblocking(False)
    err = sock.connect_ex(addr)
    if err == 0:
        return Connect.SUCCESS
    if err != errno.EINPROGRESS:
        return Connect.at_once(err)
    loop = asyncio.get_running_loop()
    if not await _ready_by(sock.fileno(), loop.time() + timeout, writable=True):
        return Connect.TIMEOUT
    try:
        status = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    except OSError:
        return Connect.ERROR
    if status == 0:
        return Connect.SUCCESS
    if status == errno.ETIMEDOUT:
        return Connect.TIMEOUT
    return Connect.FAIL


async def recv_within(sock: socket.socket, size: int, timeout: float) -> bytes | None:
    """One recv() on a non-blocking socket, waiting at most ``timeout`` for it
    to be readable; None on timeout.  OSError propagates."""
    try:
        return sock.recv(size)
    except BlockingIOError:
        pass
    deadline = asyncio.get_running_loop().time() + timeout
    fd = sock.fileno()
    while True:
        if not await _ready_by(fd, deadline, writable=False):
            return None
        try:
            return sock.recv(size)
        except BlockingIOError:
            continue


async def _ready_by(fd: int, deadline: float, *, writable: bool) -> bool:
    """Wait until ``fd`` is writable (or readable) or the loop's clock
    reaches ``deadline``; False on the deadline."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[bool] = loop.create_future()

    def ready(is_ready: bool) -> None:
        if not fut.done():
            fut.set_result(is_ready)

    if writable:
        loop.add_writer(fd, ready, True)
    else:
        loop.add_reader(fd, ready, True)
    handle = loop.call_at(deadline, ready, False)
    try:
        return await fut
    finally:
        if writable:
            loop.remove_writer(fd)
        else:
            loop.remove_reader(fd)
        handle.cancel()
