"""One epoll set and one timeout sweep for all callback probes of a loop.

Registering each probe socket with the event loop (add_reader, a timer
handle) costs about 25 µs per probe with uvloop; here a probe costs one
epoll_ctl and two deque appends.  The epoll fd itself is watched by the
event loop, so the probes still run on it.  Timeouts are swept every
``RESOLUTION`` seconds: a probe's timeout fires at most that much late.
"""

from __future__ import annotations

import asyncio
import collections
import select
from collections.abc import Callable

__all__ = ["EPOLLIN", "EPOLLOUT", "Reactor"]

EPOLLIN = select.EPOLLIN
EPOLLOUT = select.EPOLLOUT
_ERRORS = select.EPOLLERR | select.EPOLLHUP
RESOLUTION = 0.01

_reactors: dict[asyncio.AbstractEventLoop, Reactor] = {}


class Reactor:
    """``watch(fd, events, handler)`` calls ``handler()`` whenever ``fd`` is
    ready (level-triggered: handlers must tolerate a spurious call);
    ``expire_in(delay, handler)`` returns a token and calls ``handler()``
    after ``delay`` unless :meth:`cancel_timer` was called with it."""

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> Reactor:
        reactor = _reactors.get(loop)
        if reactor is None:
            for old in [r for r in _reactors.values() if r.loop.is_closed()]:
                old.close()  # loops that ended (asyncio.run in tests)
            reactor = _reactors[loop] = cls(loop)
        return reactor

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._epoll = select.epoll()
        self._handlers: dict[int, Callable[[], None]] = {}
        loop.add_reader(self._epoll.fileno(), self._ready)
        # One FIFO per timeout length: deadlines within each are in order.
        # Entries hold no reference to their probe (``_live`` does, until
        # the timer is cancelled), so a finished probe is freed at once.
        self._queues: dict[float, collections.deque[tuple[float, int]]] = {}
        self._live: dict[int, Callable[[], None]] = {}
        self._next_token = 0
        self._sweeper: asyncio.TimerHandle | None = None

    @classmethod
    def cached(cls, holder: Reactor | None) -> Reactor:
        """``holder`` if its loop is still open, else the running loop's
        reactor (asyncio.get_running_loop() costs a getpid() per call)."""
        if holder is not None and not holder.loop.is_closed():
            return holder
        return cls.of(asyncio.get_running_loop())

    def close(self) -> None:
        if not self.loop.is_closed():
            self.loop.remove_reader(self._epoll.fileno())
        self._epoll.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        _reactors.pop(self.loop, None)

    # -- readiness ---------------------------------------------------------------

    def watch(self, fd: int, events: int, handler: Callable[[], None]) -> None:
        if fd in self._handlers:
            self._epoll.modify(fd, events)
        else:
            self._epoll.register(fd, events)
        self._handlers[fd] = handler

    def forget(self, fd: int) -> None:
        """Before closing ``fd`` (closing removes it from the epoll set)."""
        self._handlers.pop(fd, None)

    def unwatch(self, fd: int) -> None:
        """Stop watching an fd that stays open."""
        if self._handlers.pop(fd, None) is not None:
            self._epoll.unregister(fd)

    def _ready(self) -> None:
        handlers = self._handlers
        for fd, _events in self._epoll.poll(0, 1024):
            handler = handlers.get(fd)
            if handler is not None:
                handler()

    # -- timeouts ------------------------------------------------------------

    def expire_in(self, delay: float, handler: Callable[[], None]) -> int:
        self._next_token += 1
        token = self._next_token
        queue = self._queues.get(delay)
        if queue is None:
            queue = self._queues[delay] = collections.deque()
        queue.append((self.loop.time() + delay, token))
        self._live[token] = handler
        if self._sweeper is None:
            self._sweeper = self.loop.call_later(RESOLUTION, self._sweep)
        return token

    def cancel_timer(self, token: int) -> None:
        self._live.pop(token, None)

    def _sweep(self) -> None:
        self._sweeper = None
        now = self.loop.time()
        live = self._live
        pending = False
        for queue in list(self._queues.values()):
            while queue:
                deadline, token = queue[0]
                if token not in live:
                    queue.popleft()
                    continue
                if deadline > now:
                    pending = True
                    break
                queue.popleft()
                live.pop(token)()
        if pending or live:
            self._sweeper = self.loop.call_later(RESOLUTION, self._sweep)
