"""The asyncio side of the health checks: the only place that reads the
clock.

It drives :class:`~pylvs.health.policy.HealthPolicy`: one timer for all
checkers (armed at the policy's next deadline, rounded up to ``tick``),
the due probes started as tasks with at most ``max_in_flight`` at once
(the rest wait in order), each result fed back at its completion time, and
every resulting action handed to the daemon's callbacks.

The daemon does::

    runner = HealthRunner(params, on_table=apply_to_core, on_log=log.info,
                          on_fifo=fifo.write_line)
    await runner.start()      # initial table + first probes scheduled
    ...
    await runner.stop()       # shutdown lines, table released, scripts waited

``on_script`` may take over running notify/quorum scripts; by default the
runner runs them itself, as their user, skipping those the script-security
check refused.
"""

from __future__ import annotations

import asyncio
import collections
import gc
import logging
import math
import os
import random as _random
from collections.abc import Callable
from functools import partial
from typing import cast

from pylvs.health.actions import Action, FifoLine, Log, ProbeStart, RunScript, TableAction
from pylvs.health.checkers import ProbeContext, build_checker
from pylvs.health.checkers.base import Cancellable, Checker, FastChecker
from pylvs.health.checkers.file import read_track_file
from pylvs.health.checkers.ping import restore_ping_group_range, widen_ping_group_range
from pylvs.health.display import fmt_pair
from pylvs.health.params import FileSpec, HealthParams, MiscSpec, ScriptParams
from pylvs.health.policy import CheckerInfo, HealthPolicy, iter_checkers
from pylvs.health.result import ProbeResult
from pylvs.health.scripts import UserId, cmd_str, default_user, resolve_user, run_script
from pylvs.health.security import (
    check_script_secure,
    misc_script_disabled_line,
    security_violation_line,
)
from pylvs.health.stats import RunnerStats

__all__ = ["HealthRunner"]

_log = logging.getLogger("pylvs.health")
#: how long stop() waits for shutdown scripts beyond their own timeout
_SCRIPT_SLACK = 3.0
_GONE = object()


class HealthRunner:
    """Runs the health checks of ``params`` until :meth:`stop`.

    ``on_table`` gets each :data:`~pylvs.health.actions.TableAction`,
    ``on_log`` each log line (keepalived's text), ``on_fifo`` each
    ``lvs_notify_fifo`` line (None: dropped), ``on_script`` each
    :class:`RunScript` (None: run here).  ``factory`` builds checkers
    (tests substitute fakes); ``random`` draws the warmup delays;
    ``freeze_gc`` calls :func:`gc.freeze` once the configuration is loaded.
    """

    def __init__(
        self,
        params: HealthParams,
        *,
        on_table: Callable[[TableAction], None],
        on_log: Callable[[str], None] = _log.info,
        on_fifo: Callable[[str], None] | None = None,
        on_script: Callable[[RunScript], None] | None = None,
        max_in_flight: int = 4096,
        tick: float = 0.001,
        random: Callable[[], float] = _random.random,
        factory: Callable[..., Checker] = build_checker,
        freeze_gc: bool = True,
    ) -> None:
        self.params = params
        self._on_table = on_table
        self._on_log = on_log
        self._on_fifo = on_fifo
        self._on_script = on_script
        self._max_in_flight = max(1, max_in_flight)
        self._tick = tick
        self._random = random
        self._factory = factory
        self._freeze_gc = freeze_gc
        self.stats = RunnerStats()
        self.policy: HealthPolicy | None = None
        self._checkers: list[Checker | None] = []
        self._guards: list[float] = []
        self._infos: tuple[CheckerInfo, ...] = ()
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = math.inf
        self._waiting: collections.deque[ProbeStart] = collections.deque()
        self._in_flight = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._fast: dict[int, Cancellable | None] = {}
        self._fast_done_cbs: list[Callable[[ProbeResult], None] | None] = []
        self._script_tasks: set[asyncio.Task[None]] = set()
        self._refused_scripts: set[ScriptParams] = set()
        self._script_users: dict[ScriptParams, UserId | None] = {}
        self._pinging = False
        self._stopped = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- life cycle ----------------------------------------------------------

    async def start(self, previous: HealthPolicy | None = None) -> None:
        """Build the checkers, push the initial table and schedule the first
        probes; with ``previous`` (the engine of a runner stopped with
        ``release=False``) take its state over instead, as a reload does
        (:meth:`HealthPolicy.resume`)."""
        loop = self._loop = asyncio.get_running_loop()
        infos = tuple(iter_checkers(self.params))
        self._infos = infos
        disabled = self._check_scripts(infos)
        if any(i.checker.kind == "PING_CHECK" for i in infos) and os.geteuid() == 0:
            self._pinging = True
            for line in widen_ping_group_range():
                self._on_log(line)
        self._checkers = [None] * len(infos)
        self._guards = [0.0] * len(infos)
        self._fast_done_cbs = [None] * len(infos)
        file_values: dict[int, int] = {}
        for info in infos:
            if info.index in disabled:
                continue
            try:
                self._checkers[info.index] = self._factory(info.checker, self._context(info))
            except Exception as e:  # a checker we cannot build is left out
                self._on_log(f"{info.checker.kind} for {info.rs_display}: {e} - ignoring")
                disabled.add(info.index)
                continue
            self._guards[info.index] = _guard(info)
            if getattr(self._checkers[info.index], "fast", False):
                self._fast_done_cbs[info.index] = partial(self._fast_done, info.index)
            spec = info.checker.spec
            if isinstance(spec, FileSpec):
                value, logs = read_track_file(spec.path)
                for line in logs:
                    self._on_log(line)
                file_values[info.index] = value or 0
        self.policy = HealthPolicy(self.params, random=self._random, disabled=disabled)
        if previous is None:
            self._dispatch(self.policy.start(loop.time(), file_values))
        else:
            self._dispatch(self.policy.resume(loop.time(), previous, file_values))
        if self._freeze_gc:
            # The configuration and per-checker state live as long as the
            # runner; without this every full collection rescans them all
            # (tens of ms at 10,000 checkers, stalling the probes).
            gc.freeze()
        self._arm()

    async def stop(self, release: bool = True) -> None:
        """Stop probing, release the table as keepalived does at exit, and
        wait for the shutdown scripts (omega).  ``release=False`` (a reload)
        only stops probing: the table and the engine's state stay as they
        are for the next runner to take over."""
        if self._stopped or self.policy is None or self._loop is None:
            return
        self._stopped = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._waiting.clear()
        fast, self._fast = self._fast, {}
        for handle in fast.values():
            if handle is not None:
                handle.cancel()
        self._in_flight -= len(fast)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if not release:
            if self._pinging:
                restore_ping_group_range()
            return
        self._dispatch(self.policy.shutdown(self._loop.time()))
        if self._script_tasks:
            await asyncio.wait(list(self._script_tasks), timeout=_SCRIPT_SLACK + 1.0)
        if self._pinging:
            restore_ping_group_range()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    # -- start-up checks -----------------------------------------------------

    def _context(self, info: CheckerInfo) -> ProbeContext:
        user = None
        spec = info.checker.spec
        if isinstance(spec, MiscSpec):
            user = self._script_users.get(spec.script)
        return ProbeContext(
            rs_ip=info.rs.ip,
            rs_port=info.rs.port,
            rs_display=info.rs_display,
            vs_display=info.vs_display,
            rs_virtualhost=info.rs.virtualhost,
            vs_virtualhost=info.vs.virtualhost,
            vs_delay_loop=info.vs.delay_loop,
            uid=user.uid if user else None,
            gid=user.gid if user else None,
            log=self._on_log,
        )

    def _script_user(self, script: ScriptParams) -> UserId | None:
        if script not in self._script_users:
            g = self.params.globals
            if script.user is not None:
                self._script_users[script] = resolve_user(script.user, script.group)
            else:
                self._script_users[script] = default_user(g.script_user, g.script_group)
        return self._script_users[script]

    def _check_scripts(self, infos: tuple[CheckerInfo, ...]) -> set[int]:
        """check_check_script_security(): MISC scripts that are missing or
        insecure are dropped, notify scripts likewise not run."""
        g = self.params.globals
        flags = 0
        disabled: set[int] = set()
        for info in infos:
            spec = info.checker.spec
            if not isinstance(spec, MiscSpec):
                continue
            user = self._script_user(spec.script)
            if user is None:
                how = "Failed to set uid/gid" if spec.script.user else "Unable to set default user"
                self._on_log(
                    f"{how} for misc checker script {cmd_str(spec.script.argv)} - removing"
                )
                disabled.add(info.index)
                continue
            check = check_script_secure(spec.script.argv, user, g.enable_script_security)
            flags |= check.flags
            for line in check.logs:
                self._on_log(line)
            dropped = misc_script_disabled_line(spec.script.argv, check)
            if dropped is not None:
                self._on_log(dropped)
            if not check.runnable:
                disabled.add(info.index)
        for script in self._notify_scripts():
            user = self._script_user(script)
            if user is None:
                self._refused_scripts.add(script)
                continue
            check = check_script_secure(script.argv, user, g.enable_script_security)
            flags |= check.flags
            for line in check.logs:
                self._on_log(line)
            if not check.runnable:
                self._refused_scripts.add(script)
        violation = security_violation_line(flags, g.enable_script_security)
        if violation is not None:
            self._on_log(violation)
        return disabled

    def _notify_scripts(self) -> list[ScriptParams]:
        found: list[ScriptParams] = []
        for vs in self.params.virtual_servers:
            found += [s for s in (vs.quorum_up, vs.quorum_down) if s is not None]
            for rs in vs.real_servers:
                found += [s for s in (rs.notify_up, rs.notify_down) if s is not None]
        return found

    # -- the loop --------------------------------------------------------------

    def _arm(self) -> None:
        policy, loop = self.policy, self._loop
        if self._stopped or policy is None or loop is None:
            return
        deadline = policy.next_deadline()
        if deadline is None or deadline >= self._timer_at:
            return
        if self._tick > 0:
            deadline = math.ceil(deadline / self._tick) * self._tick
        if self._timer is not None and deadline >= self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = deadline
        self._timer = loop.call_at(deadline, self._wake)

    def _wake(self) -> None:
        self._timer = None
        self._timer_at = math.inf
        policy, loop = self.policy, self._loop
        if self._stopped or policy is None or loop is None:
            return
        now = loop.time()
        for start in policy.advance(now):
            if self._in_flight < self._max_in_flight:
                self._launch(start, now)
            else:
                self._waiting.append(start)
        if len(self._waiting) > self.stats.queued_peak:
            self.stats.queued_peak = len(self._waiting)
        self._arm()

    def _launch(self, start: ProbeStart, now: float) -> None:
        assert self._loop is not None
        self._in_flight += 1
        self.stats.started += 1
        self.stats.lateness.add(now - start.due)
        index = start.checker
        done = self._fast_done_cbs[index]
        if done is not None:
            self._launch_fast(index, start.url, cast(FastChecker, self._checkers[index]), done)
            return
        task = self._loop.create_task(self._probe(start))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _launch_fast(
        self, index: int, url: int, checker: FastChecker, done: Callable[[ProbeResult], None]
    ) -> None:
        """The callback path: no task; ``done`` may run before start() returns."""
        self._fast[index] = None
        try:
            handle = checker.start(url, done)
        except Exception as e:
            self.stats.crashed += 1
            self._fast_done(index, _crash_result(self._infos[index], repr(e)))
            return
        if index in self._fast:
            self._fast[index] = handle

    def _fast_done(self, index: int, result: ProbeResult) -> None:
        if self._fast.pop(index, _GONE) is _GONE:
            return
        self._finish(index, result)

    async def _probe(self, start: ProbeStart) -> None:
        index = start.checker
        checker = self._checkers[index]
        try:
            if checker is None:
                result = ProbeResult(ok=False, reschedule=True)
            else:
                async with asyncio.timeout(self._guards[index]):
                    result = await checker.probe(start.url)
        except asyncio.CancelledError:
            self._in_flight -= 1
            raise
        except TimeoutError:
            result = _crash_result(self._infos[index], f"exceeded {self._guards[index]:g} s")
        except Exception as e:  # a bug in a checker is a failed check
            self.stats.crashed += 1
            result = _crash_result(self._infos[index], repr(e))
        self._finish(index, result)

    def _finish(self, index: int, result: ProbeResult) -> None:
        self._in_flight -= 1
        self.stats.finished += 1
        policy, loop = self.policy, self._loop
        if policy is None or loop is None or self._stopped:
            return
        actions = policy.on_result(loop.time(), index, result)
        if actions:
            self._dispatch(actions)
        if self._waiting:
            now = loop.time()
            while self._waiting and self._in_flight < self._max_in_flight:
                self._launch(self._waiting.popleft(), now)
        self._arm()

    # -- outputs -------------------------------------------------------------

    def _dispatch(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Log):
                self._on_log(action.text)
            elif isinstance(action, FifoLine):
                if self._on_fifo is not None:
                    self._on_fifo(action.text)
            elif isinstance(action, RunScript):
                self._script(action)
            else:
                self._on_table(action)

    def _script(self, action: RunScript) -> None:
        if self._on_script is not None:
            self._on_script(action)
            return
        if action.script in self._refused_scripts or self._loop is None:
            return
        user = self._script_user(action.script)
        task = self._loop.create_task(self._run_script(action, user))
        self._script_tasks.add(task)
        task.add_done_callback(self._script_tasks.discard)

    async def _run_script(self, action: RunScript, user: UserId | None) -> None:
        try:
            await run_script(action.script.argv, user, action.timeout, term_grace=0.0)
        except Exception as e:
            self._on_log(f"{action.event} script {cmd_str(action.script.argv)} failed: {e!r}")


def _guard(info: CheckerInfo) -> float:
    """A hard bound on one probe, well beyond what keepalived's own
    per-phase timeouts allow in practice."""
    spec = info.checker.spec
    if isinstance(spec, MiscSpec):
        return (spec.timeout or info.vs.delay_loop) + 15.0
    return 10 * info.checker.connect_timeout + 1.0


def _crash_result(info: CheckerInfo, why: str) -> ProbeResult:
    """How a probe that raised (a bug) or overran its bound is reported:
    a failure in that checker's own terms, plus a line saying why."""
    kind = info.checker.kind
    line = f"{kind} probe of {info.rs_display} for VS {info.vs_display} failed: {why}"
    if kind in ("HTTP_GET", "SSL_GET"):
        reason = "Error connecting"
    elif kind == "SMTP_CHECK":
        reason = f"Error connecting to server {fmt_pair(info.rs.ip, info.rs.port)}"
    elif kind == "DNS_CHECK":
        reason = "connection error."
    else:
        reason = "failed"
    return ProbeResult(ok=False, reason=reason, logs=(line,), exit_status=1)
