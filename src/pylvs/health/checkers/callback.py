"""TCP probes driven by readiness callbacks: no task, no coroutine, no
future per step.  At 10,000 checks a second this is what keeps the checker
process under one core (a coroutine per probe costs about 40 µs more, the
event loop's own add_reader/timer per probe about 25 µs more).

A :class:`TcpProbe` creates its socket, binds it as keepalived does,
connects, and then lets the subclass talk (``on_connected``); each wait is
bounded by a timeout and :meth:`finish` reports exactly once.  Connection
outcomes follow keepalived's connect_result (layer4.c).
"""

from __future__ import annotations

import _socket
import asyncio
import errno
import socket
from collections.abc import Callable
from typing import TypeVar, cast

from pylvs.health.checkers.base import Connect, bind_socket
from pylvs.health.checkers.reactor import EPOLLOUT, Reactor
from pylvs.health.params import ConnectParams
from pylvs.health.result import ProbeResult

__all__ = ["Done", "TcpProbe", "run_callback_probe"]

Done = Callable[[ProbeResult], None]

_TCP_ESTABLISHED, _TCP_CLOSE_WAIT = 1, 8
_STREAM_NONBLOCK = socket.SOCK_STREAM | socket.SOCK_NONBLOCK


def _nothing(probe: TcpProbe) -> None:
    pass


#: a step of a probe, stored unbound: a bound method kept on the probe
#: would make a reference cycle, i.e. garbage for the cyclic collector
#: (10,000 of them a second).
Step = Callable[["TcpProbe"], None]
_P = TypeVar("_P", bound="TcpProbe")


class TcpProbe:
    """One probe; subclasses implement :meth:`on_connected` and
    :meth:`on_connect_failed`."""

    __slots__ = ("_on_expired", "_on_ready", "done", "fd", "finished", "reactor", "sock",
                 "timer", "watching")  # fmt: skip

    #: sent as soon as connect() returns (see :meth:`connect`)
    greeting: bytes | None = None

    #: log lines when the socket cannot be created (subclasses override)
    SOCKET_FAILED: tuple[str, ...] = ()
    #: the failure reason reported when the probe itself crashes
    CRASH_REASON = "failed"

    def __init__(self, reactor: Reactor, done: Done) -> None:
        self.reactor = reactor
        self.done = done
        self.sock: _socket.socket | None = None
        self.fd = -1
        self.timer = 0
        self.watching = False
        self.finished = False
        self._on_ready: Step = _nothing
        self._on_expired: Step = _nothing

    # -- to be provided by subclasses ------------------------------------------

    def on_connected(self) -> None:
        raise NotImplementedError

    def on_connect_failed(self, outcome: Connect, logs: tuple[str, ...] = ()) -> None:
        raise NotImplementedError

    # -- connecting --------------------------------------------------------------

    def connect(
        self,
        family: socket.AddressFamily,
        addr: tuple[str, int],
        params: ConnectParams,
        timeout: float,
    ) -> None:
        try:
            # the C socket type: no Python-level wrapper, born non-blocking
            self.sock = sock = _socket.socket(family, _STREAM_NONBLOCK)
        except OSError:
            self.finish(ProbeResult.rescheduled(*self.SOCKET_FAILED))
            return
        try:
            self.fd = sock.fileno()
            failure = bind_socket(sock, params)
            if failure is not None:
                self.on_connect_failed(Connect.ERROR_AT_ONCE, (failure,))
                return
            err = sock.connect_ex(addr)
            if err == 0:
                self.on_connected()
            elif err != errno.EINPROGRESS:
                self.on_connect_failed(Connect.at_once(err))
            elif self.greeting is not None:
                # Loopback handshakes complete inside connect(): a send that
                # goes through proves the connection (and saves the wait);
                # EAGAIN means still connecting (sk_stream_wait_connect).
                try:
                    sock.send(self.greeting)
                except BlockingIOError:
                    self.wait(EPOLLOUT, TcpProbe._connect_done, timeout, TcpProbe._connect_timeout)
                    return
                except OSError:
                    self.on_connect_failed(Connect.FAIL)
                    return
                self.on_sent()
            elif self._tcp_state() in (_TCP_ESTABLISHED, _TCP_CLOSE_WAIT):
                self.on_connected()
            else:
                self.wait(EPOLLOUT, TcpProbe._connect_done, timeout, TcpProbe._connect_timeout)
        except Exception as e:  # never let a bug escape into the event loop
            self.crash(e)

    def on_sent(self) -> None:
        """The greeting went out with the connection (greeting probes)."""
        raise NotImplementedError

    def _tcp_state(self) -> int:
        assert self.sock is not None
        try:
            return self.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0]
        except OSError:
            return 0

    def _connect_done(self) -> None:
        assert self.sock is not None
        try:
            status = self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        except OSError:
            self.stop_waiting()
            self.on_connect_failed(Connect.ERROR)
            return
        if status == 0 and self._tcp_state() not in (_TCP_ESTABLISHED, _TCP_CLOSE_WAIT):
            return  # spurious wake-up: still connecting
        self.stop_waiting()
        if status == 0:
            self.on_connected()
        elif status == errno.ETIMEDOUT:
            self.on_connect_failed(Connect.TIMEOUT)
        else:
            self.on_connect_failed(Connect.FAIL)

    def _connect_timeout(self) -> None:
        self.stop_waiting()
        self.on_connect_failed(Connect.TIMEOUT)

    # -- waiting -----------------------------------------------------------------

    def wait(
        self: _P,
        events: int,
        ready: Callable[[_P], None],
        timeout: float,
        expired: Callable[[_P], None],
    ) -> None:
        """Call ``ready(self)`` when the socket is ready for ``events``, or
        ``expired(self)`` after ``timeout`` seconds."""
        self._on_ready = cast(Step, ready)
        self._on_expired = cast(Step, expired)
        self.reactor.watch(self.fd, events, self._ready)
        self.watching = True
        self.restart_timer(timeout)

    def restart_timer(self, timeout: float) -> None:
        if self.timer:
            self.reactor.cancel_timer(self.timer)
        self.timer = self.reactor.expire_in(timeout, self._expired)

    def stop_waiting(self) -> None:
        if self.watching:
            self.reactor.unwatch(self.fd)
            self.watching = False
        if self.timer:
            self.reactor.cancel_timer(self.timer)
            self.timer = 0

    def _ready(self) -> None:
        if self.finished:
            return
        try:
            self._on_ready(self)
        except Exception as e:
            self.crash(e)

    def _expired(self) -> None:
        self.timer = 0
        if self.finished:
            return
        try:
            self._on_expired(self)
        except Exception as e:
            self.crash(e)

    # -- ending ------------------------------------------------------------------

    def crash(self, error: BaseException) -> None:
        """A bug in a probe is a failed check, with a line saying why."""
        self.finish(
            ProbeResult(ok=False, reason=self.CRASH_REASON, logs=(f"probe failed: {error!r}",))
        )

    def finish(self, result: ProbeResult) -> None:
        if self.finished:
            return
        self.cancel()
        self.done(result)

    def cancel(self) -> None:
        """Drop the probe (also used when the runner stops)."""
        self.finished = True
        if self.timer:
            self.reactor.cancel_timer(self.timer)
            self.timer = 0
        if self.watching:
            self.reactor.forget(self.fd)  # close() takes it out of the epoll set
            self.watching = False
        if self.sock is not None:
            self.sock.close()


async def run_callback_probe(start: Callable[[Done], TcpProbe]) -> ProbeResult:
    """The coroutine face of a callback probe."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[ProbeResult] = loop.create_future()

    def done(result: ProbeResult) -> None:
        if not fut.done():
            fut.set_result(result)

    probe = start(done)
    try:
        return await fut
    finally:
        probe.cancel()
