"""keepalived's checker process inside ``pylvs run``: the table owned by a
keepalived.conf, its servers checked, reloads that drop nothing.

At start (check_daemon.c ``start_check``): the LVS timeouts, ``lvs_flush``,
then the table keepalived starts with (``pylvs.config.initial_table``) is
applied in one validated batch, the notify FIFOs are opened and the health
checks start.  From then on each table action of the health engine becomes
core ops at once (:mod:`pylvs.keepalived.tableops`), each log line is
logged with keepalived's text, each FIFO line written.

A reload (SIGHUP) reads the file again.  If it may not be used
(:mod:`pylvs.keepalived.gate`) the running configuration stays and the log
says why.  Otherwise the checks stop probing (nothing is released), a new
engine takes every surviving server's and checker's state over
(:meth:`pylvs.health.policy.HealthPolicy.resume`), and the table is brought
to what the new engine holds with ``pylvs.core.diff``: only the services
and destinations that changed are touched, connections of the ones that
stay are never flushed, and a removed real server is deleted, which drains
it as IPVS does.  Services that no configuration owned (added with
pylvsadm) are left alone.

At stop the engine releases what it created, unless ``-I``
(``--dont-release-ipvs``); ``lvs_flush_on_stop`` as keepalived.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import tempfile
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pylvs.config import LoadOptions, LoadResult, dump, dump_table, initial_table, load
from pylvs.config.diagnostics import Level
from pylvs.config.model import KeepalivedConfig
from pylvs.core.diff import ServiceConfig, diff, snapshot
from pylvs.core.errors import PylvsError
from pylvs.core.ipvs import Ipvs
from pylvs.core.model import ServiceKey
from pylvs.core.ops import Flush, Op, SetTimeouts
from pylvs.health.actions import TableAction
from pylvs.health.policy import HealthPolicy
from pylvs.health.runner import HealthRunner
from pylvs.keepalived.adapter import Adapted, adapt
from pylvs.keepalived.dumps import check_data, dump_path, stats_text, vrrp_data
from pylvs.keepalived.fifo import NotifyFifos
from pylvs.keepalived.gate import reload_blockers, wants_checked_reload
from pylvs.keepalived.identity import rs_key, vs_keys
from pylvs.keepalived.servermap import ServerMap
from pylvs.keepalived.tableops import to_ops

__all__ = ["KeepalivedDirector", "KeepalivedOptions", "log_diagnostics", "tmp_dir"]

log = logging.getLogger("pylvs.keepalived")

VRRP_BLOCKS = ("vrrp_instance", "vrrp_sync_group", "vrrp_script")


@dataclass(frozen=True)
class KeepalivedOptions:
    """keepalived's command line, as far as the checker process uses it."""

    config_file: str
    dump_conf: bool = False  # -d
    dont_release_ipvs: bool = False  # -I
    vrrp_only: bool = False  # -P
    check_only: bool = False  # -C
    config_id: str | None = None  # -i
    tmp_dir: str = "/tmp"


def tmp_dir() -> str:
    """keepalived's temporary directory: ``$TMPDIR`` when it is an absolute
    path to a directory, else /tmp (lib/utils.c ``set_tmp_dir``)."""
    value = os.environ.get("TMPDIR", "")
    if value.startswith("/") and os.path.isdir(value):
        return value
    return "/tmp"


def log_diagnostics(result: LoadResult, logger: logging.Logger = log) -> None:
    """Every diagnostic of a load, as keepalived logs it."""
    for d in result.diagnostics:
        if d.level == Level.LOG:
            logger.info("%s", d)
        else:
            logger.warning("%s", d)


def _write_file(path: str, text: str) -> None:
    """fopen_safe(): a temporary file renamed over the target, mode 0666
    less the umask."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path), dir=directory)
    try:
        mask = os.umask(0)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class KeepalivedDirector:
    """Owns the table of one keepalived configuration at a time."""

    def __init__(
        self,
        ipvs: Ipvs,
        clock: Callable[[], float],
        options: KeepalivedOptions,
        initial: LoadResult | None = None,
    ) -> None:
        self.ipvs = ipvs
        self.clock = clock
        self.options = options
        self._initial = initial
        self.config: KeepalivedConfig | None = None
        self.servers = ServerMap()
        self.runner: HealthRunner | None = None
        self._fifos = NotifyFifos()
        self._absorbing = False
        self._lock = asyncio.Lock()
        self._pending_reload = False
        self._stopping = False
        self._tasks: set[asyncio.Task[None]] = set()
        self._said_vrrp = False
        self._reloaded: set[Hashable] = set()
        self.reloads = 0
        self.reload_failures = 0
        self.last_reload_error = ""

    # -- life cycle -------------------------------------------------------------

    def _load(self) -> LoadResult:
        return load(self.options.config_file, options=LoadOptions(config_id=self.options.config_id))

    async def start(self) -> None:
        result = self._initial if self._initial is not None else self._load()
        self._initial = None
        config = result.config
        self.config = config
        self._vrrp_notice(config)
        if self.options.vrrp_only:
            log.info("-P (VRRP only): the health checks are off; pylvs runs no VRRP yet either")
            return
        adapted = self._adapt(config)
        self._set_timeouts(config)
        if config.globals.lvs_flush:
            self._apply([Flush()])
        self.servers = adapted.servers
        self._sync(initial_table(config), adapted.servers.keys())
        if self.options.dump_conf:
            self._dump(config)
        self._fifos.open(config.globals)
        runner = await self._start_runner(adapted, None, freeze_gc=True)
        self._reconcile(adapted.servers.keys())
        log.info(
            "keepalived configuration %s: %d virtual servers, %d services, %d checkers",
            self.options.config_file,
            len(config.virtual_servers),
            len(adapted.servers.keys()),
            len(runner.policy.checkers) if runner.policy else 0,
        )

    async def stop(self) -> None:
        """Release the table (unless -I) once any reload under way is done."""
        self._stopping = True
        async with self._lock:
            runner, self.runner = self.runner, None
            if runner is not None:
                await runner.stop()
            self._fifos.close()

    def request_reload(self) -> None:
        """SIGHUP: reload now, or after the reload under way (once)."""
        if self._stopping:
            return
        if self._lock.locked():
            if not self._pending_reload:
                self._pending_reload = True
                log.info("Reload queued")
            return
        task = asyncio.get_running_loop().create_task(self._reload_loop())
        self._tasks.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)

    async def _reload_loop(self) -> None:
        await self.reload()
        while self._pending_reload and not self._stopping:
            self._pending_reload = False
            await self.reload()

    async def reload(self) -> bool:
        """Read the file again and move to it; False when it was refused."""
        async with self._lock:
            if self._stopping:
                return False
            try:
                return await self._reload()
            except Exception as e:  # never take the daemon down
                log.exception("reload failed: %s", e)
                self.reload_failures += 1
                self.last_reload_error = repr(e)
                return False

    async def _reload(self) -> bool:
        log.info("Reloading")
        # parsed off the loop: traffic and checks go on meanwhile
        result = await asyncio.get_running_loop().run_in_executor(None, self._load)
        log_diagnostics(result)
        old_config = self.config
        checked = old_config is not None and wants_checked_reload(old_config)
        blockers = reload_blockers(result, checked=checked)
        if blockers:
            why = "; ".join(str(d) for d in blockers[:3])
            if len(blockers) > 3:
                why += f"; and {len(blockers) - 3} more"
            log.error(
                "Reload of %s refused, the running configuration stays: %s",
                self.options.config_file,
                why,
            )
            self.reload_failures += 1
            self.last_reload_error = why
            return False
        config = result.config
        self._vrrp_notice(config)
        self.config = config
        self.reloads += 1
        self.last_reload_error = ""
        if self.options.vrrp_only:
            return True
        adapted = self._adapt(config)
        old_runner, old_servers = self.runner, self.servers
        previous = old_runner.policy if old_runner is not None else None
        if old_runner is not None:
            await old_runner.stop(release=False)
        self._fifos.close()
        self._set_timeouts(config)
        self._fifos.open(config.globals)
        try:
            await self._start_runner(adapted, previous)
        except Exception:
            log.exception("Reload of %s failed, going back to the running configuration",
                          self.options.config_file)  # fmt: skip
            self.config, self.servers = old_config, old_servers
            if old_runner is not None and old_config is not None:
                self._fifos.close()
                self._fifos.open(old_config.globals)
                back = Adapted(old_runner.params, old_servers)
                await self._start_runner(back, previous)
            raise
        self.servers = adapted.servers
        self._reloaded = self._surviving(old_config, config)
        owned = old_servers.keys() | adapted.servers.keys()
        applied = self._reconcile(owned)
        del old_runner, previous
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        if self.options.dump_conf:
            self._dump(config)
        log.info("Reload of %s done: %d table changes", self.options.config_file, applied)
        return True

    # -- the table --------------------------------------------------------------

    async def _start_runner(
        self, adapted: Adapted, previous: HealthPolicy | None, *, freeze_gc: bool = False
    ) -> HealthRunner:
        """A runner for ``adapted`` (taking ``previous``'s state over, if
        any), started and made current; its start-up table actions are
        not applied one by one (the caller reconciles the whole table)."""
        runner = HealthRunner(
            adapted.params,
            on_table=self._on_table,
            on_log=log.info,
            on_fifo=self._fifos.write,
            freeze_gc=freeze_gc,
        )
        self._absorbing = True
        try:
            await runner.start(previous=previous)
        finally:
            self._absorbing = False
        self.runner = runner
        return runner

    def _adapt(self, config: KeepalivedConfig) -> Adapted:
        adapted = adapt(config, dont_release_ipvs=self.options.dont_release_ipvs)
        for line in adapted.notices:
            log.warning("%s", line)
        if config.globals.lvs_sync_daemon is not None:
            log.warning("lvs_sync_daemon is not started by pylvs yet (it follows a VRRP instance)")
        return adapted

    def _on_table(self, action: TableAction) -> None:
        if self._absorbing:
            return  # the whole table is brought into line afterwards
        try:
            ops = to_ops(action, self.servers, self.ipvs.table)
        except Exception:
            log.exception("internal error translating %s", action)
            return
        self._apply(ops)

    def _apply(self, ops: Sequence[Op], batch: bool = False) -> int:
        if not ops:
            return 0
        now = self.clock()
        if batch:
            try:
                self.ipvs.apply_batch(ops, now)
            except PylvsError as e:
                log.warning("IPVS: the change was refused as a whole (%s); applying it op by op", e)
            else:
                return len(ops)
        done = 0
        for op in ops:
            try:
                self.ipvs.apply(op, now)
            except PylvsError as e:
                log.error("IPVS: %s failed: %s", op.command, e)
                continue
            except Exception:
                log.exception("internal error applying %s", op)
                continue
            done += 1
        return done

    def _sync(self, desired: dict[ServiceKey, ServiceConfig], owned: Iterable[ServiceKey]) -> int:
        """Bring the owned services to ``desired``; others stay as they are."""
        keys = set(owned)
        current = {k: v for k, v in snapshot(self.ipvs.table).items() if k in keys}
        return self._apply(diff(current, desired), batch=True)

    def _reconcile(self, owned: Iterable[ServiceKey]) -> int:
        runner = self.runner
        if runner is None or runner.policy is None:
            return 0
        return self._sync(self.servers.table(runner.policy.table()), owned)

    def _set_timeouts(self, config: KeepalivedConfig) -> None:
        t = config.globals.lvs_timeouts
        if t.tcp or t.tcpfin or t.udp:
            self._apply([SetTimeouts(t.tcp or 0, t.tcpfin or 0, t.udp or 0)])

    @staticmethod
    def _surviving(old: KeepalivedConfig | None, new: KeepalivedConfig) -> set[Hashable]:
        def keys(config: KeepalivedConfig | None) -> set[Hashable]:
            out: set[Hashable] = set()
            if config is None:
                return out
            for vs, key in zip(
                config.virtual_servers, vs_keys(config.virtual_servers), strict=True
            ):
                out.add(key)
                out.update((key, rs_key(rs)) for rs in vs.real_servers)
            return out

        return keys(old) & keys(new)

    # -- messages and dumps -----------------------------------------------------

    def _vrrp_notice(self, config: KeepalivedConfig) -> None:
        if self._said_vrrp or self.options.check_only or not config.vrrp:
            return
        names = sorted({n.keyword for n in config.vrrp})
        blocks = ", ".join(
            f"{n.keyword} {' '.join(n.args)}".strip()
            for n in config.vrrp
            if n.keyword in VRRP_BLOCKS
        )
        log.warning(
            "VRRP configuration is parsed but not active yet (%s): pylvs does not run "
            "VRRP, no virtual address is managed",
            blocks or ", ".join(names),
        )
        self._said_vrrp = True

    def _dump(self, config: KeepalivedConfig) -> None:
        text = dump(config) + dump_table(initial_table(config))
        for line in text.splitlines():
            log.info("%s", line)

    def _state_dump_file(self) -> str | None:
        if self.config is None:
            return None
        for node in self.config.globals.statements:
            if node.keyword == "state_dump_file" and node.args:
                return node.args[0]
        return None

    def write_data(self) -> str | None:
        """SIGUSR1: the checker data file; its path, None when not written."""
        log.info("Printing checker data for process(%d) on signal", os.getpid())
        if self.config is None:
            return None
        path = dump_path(self.options.tmp_dir, self._state_dump_file(), "_check")
        policy = self.runner.policy if self.runner is not None else None
        files = [(path, check_data(self.config, policy, self._reloaded))]
        if self.config.vrrp and not self.options.check_only:
            log.info("Printing VRRP data for process(%d) on signal", os.getpid())
            vrrp = dump_path(self.options.tmp_dir, self._state_dump_file(), "")
            files.append((vrrp, vrrp_data(self.config)))
        written = None
        for name, text in files:
            try:
                _write_file(name, text)
            except OSError as e:
                log.info("Can't open dump file %s (%d: %s)", name, e.errno or 0, e.strerror)
                continue
            written = written or name
        return written

    def write_stats(self, clear: bool = False) -> str | None:
        """SIGUSR2 / STATS_CLEAR: the VRRP statistics file."""
        log.info(
            "Printing %sVRRP stats for process(%d) on signal",
            "and clearing " if clear else "",
            os.getpid(),
        )
        path = os.path.join(self.options.tmp_dir, "keepalived.stats")
        try:
            _write_file(path, stats_text())
        except OSError as e:
            log.info("Can't open %s (%d: %s)", path, e.errno or 0, e.strerror)
            return None
        return path

    def write_json(self) -> None:
        """SIGJSON: keepalived writes keepalived.json only when VRRP
        instances run; there are none yet."""
        log.info("JSON dump requested: no VRRP instance is running, nothing written")

    def status(self) -> dict[str, Any]:
        runner = self.runner
        return {
            "keepalived": {
                "config_file": self.options.config_file,
                "virtual_servers": len(self.config.virtual_servers) if self.config else 0,
                "checkers": len(runner.policy.checkers) if runner and runner.policy else 0,
                "probes_in_flight": runner.in_flight if runner else 0,
                "reloads": self.reloads,
                "reload_failures": self.reload_failures,
                "last_reload_error": self.last_reload_error,
                "fifos": self._fifos.paths,
            }
        }
