"""``pylvs run``: the director daemon.

Holds the core (the one source of truth), runs a data plane, serves the
control socket, drives the core's timers from the monotonic clock, loads
rules at start and saves them at stop. Everything runs on one asyncio loop,
so requests and packets never interleave inside a core call.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from random import SystemRandom
from typing import Any

from pylvs import __version__
from pylvs.api.protocol import Dispatcher
from pylvs.config import LoadResult
from pylvs.core.errors import IpvsError
from pylvs.core.ipvs import Ipvs
from pylvs.dataplane.base import DataPlane
from pylvs.keepalived.director import KeepalivedDirector, KeepalivedOptions
from pylvs.keepalived.signums import SIGJSON, SIGSTATS_CLEAR
from pylvs.runtime.control import ControlServer
from pylvs.runtime.planes import select_plane
from pylvs.runtime.rules import load_rules, load_rules_text, save_rules

__all__ = ["Daemon", "DaemonOptions"]

log = logging.getLogger("pylvs")
# The core's own messages (no destination, port zero, ...) log as the kernel's do.
kernel_log = logging.getLogger("pylvs.ipvs")

TICK = 1.0


@dataclass
class DaemonOptions:
    socket_path: str
    dataplane: str = "auto"
    restore: str | None = None
    save_on_exit: str | None = None
    proxy_protocol: list[Any] = field(default_factory=list)
    connect_timeout: float = 5.0
    sysctl: dict[str, Any] = field(default_factory=dict)
    extra_status: dict[str, Any] = field(default_factory=dict)
    #: keepalived mode (``-f FILE``): the options and the configuration read at start
    keepalived: KeepalivedOptions | None = None
    keepalived_config: LoadResult | None = None


class Daemon:
    def __init__(self, options: DaemonOptions, clock: Callable[[], float] = time.monotonic) -> None:
        self.options = options
        self.clock = clock
        self.ipvs = Ipvs(SystemRandom(), log=kernel_log.error)
        self.plane: DataPlane | None = None
        self.control: ControlServer | None = None
        self.director: KeepalivedDirector | None = None
        self.started = 0.0
        self.loop_errors = 0
        self._stop = asyncio.Event()

    def status(self) -> dict[str, Any]:
        plane = self.plane.status() if self.plane else {}
        return {
            "pylvs": __version__,
            "pid": os.getpid(),
            "uptime": round(self.clock() - self.started, 3),
            "services": len(self.ipvs.table),
            "connections": len(self.ipvs.conns),
            "internal_errors": self.loop_errors,
            **plane,
            **(self.director.status() if self.director else {}),
            **self.options.extra_status,
        }

    def request_stop(self) -> None:
        self._stop.set()

    async def run(self) -> int:
        opts = self.options
        self.started = self.clock()
        self.ipvs.sysctl.update(opts.sysctl)
        plane = select_plane(
            opts.dataplane, opts.proxy_protocol, opts.connect_timeout,
            state_path=opts.socket_path + ".kernel-state.json",
        )  # fmt: skip
        self.plane = plane
        # The table first, then the plane sees it whole, then every change.
        if opts.restore:
            load_rules(self.ipvs, opts.restore, self.clock())
        else:
            saved = plane.saved_rules()
            if saved is not None:
                log.info("restoring the table the previous daemon left in the kernel")
                load_rules_text(self.ipvs, saved, self.clock(), "saved state")
                for op in plane.saved_ops():
                    with contextlib.suppress(IpvsError):
                        self.ipvs.apply(op, self.clock())
        await plane.start(self.ipvs, self.clock)
        self.ipvs.listeners.append(plane.on_op)
        dispatcher = Dispatcher(self.ipvs, self.clock, info=self.status, plane=plane)
        self.control = ControlServer(opts.socket_path, dispatcher)
        await self.control.start()
        log.info(
            "pylvs %s started: data plane %s (%s); control socket %s",
            __version__, plane.name, plane.reason, opts.socket_path,
        )  # fmt: skip
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(self._loop_error)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)
        handlers = self._signal_handlers()
        for signum, handler in handlers.items():
            loop.add_signal_handler(signum, handler)
        ticker = asyncio.create_task(self._tick_forever())
        status = 0
        try:
            if opts.keepalived is not None:
                self.director = KeepalivedDirector(
                    self.ipvs, self.clock, opts.keepalived, opts.keepalived_config
                )
                try:
                    await self.director.start()
                except Exception:
                    log.exception("internal error starting the health checks")
                    status = 1
                    self._stop.set()
            await self._stop.wait()
        finally:
            log.info("pylvs stopping")
            if self.director is not None:
                try:
                    await self.director.stop()
                except Exception:
                    log.exception("internal error stopping the health checks")
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            for signum in (signal.SIGTERM, signal.SIGINT, *handlers):
                loop.remove_signal_handler(signum)
            await self.control.stop()
            await plane.stop()
            if opts.save_on_exit:
                save_rules(self.ipvs, opts.save_on_exit)
                log.info("rules saved to %s", opts.save_on_exit)
        return status

    def _signal_handlers(self) -> dict[int, Callable[[], None]]:
        """keepalived's signals: HUP reload, USR1 data, USR2 / STATS_CLEAR
        stats, JSON (SIGRTMIN+2). Without a configuration there is nothing
        to reload or dump, and they say so rather than end the daemon."""
        return {
            signal.SIGHUP: self._on_reload,
            signal.SIGUSR1: lambda: self._keepalived_only("data dump", lambda d: d.write_data()),
            signal.SIGUSR2: lambda: self._keepalived_only("stats dump", lambda d: d.write_stats()),
            SIGSTATS_CLEAR: lambda: self._keepalived_only(
                "stats dump", lambda d: d.write_stats(clear=True)
            ),
            SIGJSON: lambda: self._keepalived_only("JSON dump", lambda d: d.write_json()),
        }

    def _on_reload(self) -> None:
        if self.director is None:
            log.info("SIGHUP: nothing to reload (no keepalived configuration: run with -f FILE)")
            return
        self.director.request_reload()

    def _keepalived_only(self, what: str, dump: Callable[[KeepalivedDirector], object]) -> None:
        if self.director is None:
            log.info("%s asked for: nothing to dump without a keepalived configuration", what)
            return
        try:
            dump(self.director)
        except Exception:
            log.exception("internal error in the %s", what)

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """A callback raised: log it, count it, keep running (nothing a flow
        does may take the daemon down)."""
        self.loop_errors += 1
        exc = context.get("exception")
        if isinstance(exc, OSError) and exc.errno in (errno.EMFILE, errno.ENFILE):
            log.error("out of file descriptors (%s): new connections wait; raise the limit", exc)
            return
        log.error("internal error: %s", context.get("message", "?"), exc_info=exc)

    async def _tick_forever(self) -> None:
        while True:
            now = self.clock()
            try:
                if self.plane is not None:
                    self.plane.before_tick(now)
                expired = self.ipvs.tick(now)
                if expired and self.plane is not None:
                    self.plane.on_expired(expired)
            except Exception:
                log.exception("internal error in the timer loop")
            deadline = self.ipvs.next_deadline()
            delay = TICK if deadline is None else min(TICK, max(0.01, deadline - now))
            await asyncio.sleep(delay)
