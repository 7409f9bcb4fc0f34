"""keepalived's up/down engine as a pure state machine (reference §3.6).

No I/O and no clock: every call takes ``now`` (seconds, any monotonic
origin) and returns values.  The runner (runner.py) feeds it:

- :meth:`HealthPolicy.start` once: the initial table (non-alpha servers
  added, alpha ones held back), quorum state, ``Activating healthchecker``
  lines and the first probe times (1 s + uniform [0, warmup]);
- :meth:`HealthPolicy.tick` (or :meth:`advance` and :meth:`next_deadline`)
  when the last deadline has passed: the probes to start now, and when to
  call again;
- :meth:`HealthPolicy.on_result` with each probe's :class:`ProbeResult`
  (MISC exit codes and FILE values carry the dynamic weights);
- :meth:`HealthPolicy.shutdown` at exit;
- :meth:`HealthPolicy.resume` instead of ``start`` after a reload: the new
  configuration's engine takes the state over from the old one.

Outputs are :mod:`pylvs.health.actions` values in keepalived's order.  The
IPVS side follows ipwrapper.c/ipvswrapper.c: ``inhibit_on_failure`` turns a
removal into weight 0, quorum changes swap the sorry server in and out.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Collection, Hashable, Iterator, Mapping
from dataclasses import dataclass

from pylvs.health import epilogs
from pylvs.health.actions import (
    Action,
    AddDest,
    AddService,
    FifoLine,
    FlushAll,
    Log,
    ProbeStart,
    RemoveDest,
    RemoveService,
    RunScript,
    SetWeight,
)
from pylvs.health.compare import same_checker
from pylvs.health.display import fmt_trio, fmt_vs
from pylvs.health.params import (
    CheckerParams,
    FileSpec,
    HealthParams,
    HttpSpec,
    MiscSpec,
    RealServerParams,
    ScriptParams,
    VirtualServerParams,
)
from pylvs.health.result import ProbeResult
from pylvs.health.state import IPVS_WEIGHT_FAULT, CheckerState, RsState, VsState, real_weight

__all__ = ["CheckerInfo", "CheckerStatus", "HealthPolicy", "RsStatus", "iter_checkers"]

#: keepalived's BOOTSTRAP_DELAY before the first probe (scheduler.h).
BOOTSTRAP_DELAY = 1.0
#: how long scripts run at shutdown may take before their group is killed.
SHUTDOWN_SCRIPT_TIMEOUT = 1.0

Epilog = Callable[["HealthPolicy", CheckerState, ProbeResult, float], None]
#: each checker kind's result handling (epilogs.py)
EPILOGS: dict[str, Epilog] = {
    "TCP_CHECK": epilogs.l4,
    "UDP_CHECK": epilogs.l4,
    "PING_CHECK": epilogs.l4,
    "HTTP_GET": epilogs.http,
    "SSL_GET": epilogs.http,
    "SMTP_CHECK": epilogs.smtp,
    "DNS_CHECK": epilogs.dns,
    "MISC_CHECK": epilogs.misc,
    "FILE_CHECK": epilogs.file,
}

_ADD, _DEL, _EDIT = 0, 1, 2


@dataclass(frozen=True, slots=True)
class CheckerInfo:
    """Checker number ``index``: where it sits and how it prints."""

    index: int
    vs: VirtualServerParams
    rs: RealServerParams
    checker: CheckerParams
    vs_display: str
    rs_display: str


@dataclass(frozen=True, slots=True)
class RsStatus:
    alive: bool
    in_table: bool
    weight: int
    failed_checkers: int


@dataclass(frozen=True, slots=True)
class CheckerStatus:
    is_up: bool
    has_run: bool
    retry_it: int
    cur_weight: int


def vs_display(vs: VirtualServerParams) -> str:
    return fmt_vs(ip=vs.ip, port=vs.port, protocol=vs.protocol, fwmark=vs.fwmark, group=vs.group)


def iter_checkers(params: HealthParams) -> Iterator[CheckerInfo]:
    """Every checker with the index the engine uses for it (FILE_CHECKs last
    within their real server, as keepalived queues them)."""
    index = 0
    for vs in params.virtual_servers:
        shown_vs = vs_display(vs)
        for rs in vs.real_servers:
            shown_rs = fmt_trio(rs.ip, vs.protocol, rs.port)
            for checker in _in_queue_order(rs.checkers):
                yield CheckerInfo(index, vs, rs, checker, shown_vs, shown_rs)
                index += 1


def _in_queue_order(checkers: tuple[CheckerParams, ...]) -> list[CheckerParams]:
    # keepalived queues FILE_CHECKs after the others (add_rs_to_track_files)
    ordered = [c for c in checkers if c.kind != "FILE_CHECK"]
    return ordered + [c for c in checkers if c.kind == "FILE_CHECK"]


class HealthPolicy:
    """The engine.  ``random`` returns uniform floats in [0, 1] (warmup);
    ``disabled`` lists checker indices to leave out (scripts refused by the
    script-security check)."""

    def __init__(
        self,
        params: HealthParams,
        *,
        random: Callable[[], float],
        disabled: Collection[int] = (),
    ) -> None:
        self.params = params
        self._random = random
        self._global = params.globals
        self._out: list[Action] = []
        self._heap: list[tuple[float, int, int]] = []
        self._seq = 0
        self._stopped = False
        self.checkers: tuple[CheckerInfo, ...] = tuple(iter_checkers(params))
        self._states: list[CheckerState | None] = [None] * len(self.checkers)
        self._vs: list[VsState] = []
        self._vs_by_id: dict[Hashable, VsState] = {}
        skip = set(disabled)
        infos = iter(self.checkers)
        for vsp in params.virtual_servers:
            vs = VsState(
                vsp.id,
                vs_display(vsp),
                vsp.quorum,
                vsp.hysteresis,
                vsp.omega,
                vsp.quorum_up,
                vsp.quorum_down,
            )
            for rsp in vsp.real_servers:
                rs = RsState(
                    rsp.id,
                    fmt_trio(rsp.ip, vsp.protocol, rsp.port),
                    vs,
                    rsp.weight,
                    rsp.inhibit_on_failure,
                    rsp.notify_up,
                    rsp.notify_down,
                )
                vs.rs.append(rs)
                # this real server's checkers are the next ones iter_checkers numbered
                for info in itertools.islice(infos, len(rsp.checkers)):
                    if info.index not in skip:
                        spec = info.checker.spec
                        n_urls = len(spec.urls) if isinstance(spec, HttpSpec) else 0
                        c = CheckerState(info.index, info.checker, rs, n_urls)
                        rs.checkers.append(c)
                        self._states[info.index] = c
            if vsp.sorry_server is not None:
                ss = vsp.sorry_server
                vs.sorry = RsState(
                    ss.id, fmt_trio(ss.ip, vsp.protocol, ss.port), vs, ss.weight, ss.inhibit
                )
            self._vs.append(vs)
            self._vs_by_id[vsp.id] = vs
        self._epilogs = [EPILOGS[c.kind] if c is not None else epilogs.l4 for c in self._states]

    # -- the four inputs ---------------------------------------------------

    def start(self, now: float, file_values: Mapping[int, int] | None = None) -> list[Action]:
        """Push the initial table and schedule the first probes.

        ``file_values`` maps FILE_CHECK indices to the value their file holds
        at start (missing: 0, like an absent file)."""
        values = file_values or {}
        for c in self._live():
            # check_data.c: non-alpha, one failure is enough initially; alpha
            # checkers start failed.
            c.retry_it = c.params.retry
            if c.kind == "FILE_CHECK":
                self._init_file_checker(c, values.get(c.index, 0))
            elif c.alpha:
                self._set_checker_state(c, False)
        self._sum_checker_weights()
        for vs in self._vs:
            self._init_service_vs(vs)
        self._schedule_first_probes(now)
        return self._take()

    def advance(self, now: float) -> list[ProbeStart]:
        """The probes due at ``now``; call when :meth:`next_deadline` passed."""
        starts: list[ProbeStart] = []
        heap = self._heap
        states = self._states
        while heap and heap[0][0] <= now:
            due, seq, index = heapq.heappop(heap)
            c = states[index]
            if c is None or c.seq != seq:
                continue
            c.seq = -1
            c.in_flight = True
            if c.kind == "SMTP_CHECK" and not c.smtp_retry:
                c.retry_it = 0  # smtp_start_check_thread
            elif c.kind == "MISC_CHECK":
                c.last_ran = now
            starts.append(ProbeStart(index, c.url_it or 0, due))
        return starts

    def tick(self, now: float) -> tuple[list[ProbeStart], float | None]:
        """The probes due at ``now`` and the next deadline after them."""
        return self.advance(now), self.next_deadline()

    def next_deadline(self) -> float | None:
        """When :meth:`advance` next has something to start (None: never)."""
        heap = self._heap
        states = self._states
        while heap:
            due, seq, index = heap[0]
            c = states[index]
            if c is not None and c.seq == seq:
                return due
            heapq.heappop(heap)
        return None

    def on_result(self, now: float, checker: int, result: ProbeResult) -> list[Action]:
        """Feed one probe's result, at ``now`` (when it finished)."""
        c = self._states[checker]
        if c is None or not c.in_flight or self._stopped:
            return []
        c.in_flight = False
        for line in result.logs:
            self.log(line)
        if result.reschedule:
            self.schedule(c, now + c.params.delay_loop)
        else:
            self._epilogs[checker](self, c, result, now)
        return self._take()

    def set_file_value(self, now: float, checker: int, value: int) -> list[Action]:
        """A FILE_CHECK's file changed (inotify-style input); same as a FILE
        probe result."""
        c = self._states[checker]
        if c is None or c.kind != "FILE_CHECK" or self._stopped:
            return []
        epilogs.file(self, c, ProbeResult(ok=True, file_value=value), now)
        return self._take()

    def shutdown(self, now: float) -> list[Action]:
        """clear_services(): stop probing and release the table (unless
        ``dont_release_ipvs``), with notify_down/quorum_down only for
        ``omega`` virtual servers."""
        del now  # keepalived's shutdown does not depend on time
        self._stopped = True
        self._heap.clear()
        for c in self._live():
            c.seq = -1
            c.in_flight = False
        g = self._global
        if g.dont_release_ipvs:
            return self._take()
        if g.lvs_flush_on_stop == "full":
            self._out.append(FlushAll())
            for vs in self._vs:
                self._update_vs_notifies(vs, stopping=True)
            return self._take()
        for vs in self._vs:
            self._clear_service_vs(vs)
        return self._take()

    def resume(
        self,
        now: float,
        previous: HealthPolicy,
        file_values: Mapping[int, int] | None = None,
        same: Callable[[CheckerParams, CheckerParams], bool] = same_checker,
    ) -> list[Action]:
        """Take over from ``previous`` (the engine of the configuration being
        replaced, no longer driven) instead of :meth:`start`: a reload as
        keepalived does it (check_daemon.c ``start_check`` with ``reload``;
        ipwrapper.c ``clear_diff_services``, ``migrate_checkers``,
        ``check_new_rs_state``, ``init_services``).

        Virtual and real servers are matched by ``id``, checkers within a
        real server by kind and ``same``.  Servers gone from the
        configuration are released ("Removing Virtual Server X", "service X
        no longer exist"); those that stay keep their alive/in-table state
        and weight, their checkers' up/down state and retry counters, and a
        checker that has already run is not announced again.  The table
        actions returned describe the change step by step; :meth:`table`
        gives the resulting table whole."""
        values = file_values or {}
        for c in self._live():
            if c.kind == "FILE_CHECK":
                self._init_file_checker(c, values.get(c.index, 0))
        reloaded: dict[RsState, int] = {}
        groups = {v.id: v.group for v in previous.params.virtual_servers}
        for old_vs in previous._vs:
            vs = self._vs_by_id.get(old_vs.id)
            if vs is None:
                group = groups.get(old_vs.id)
                if group is not None:
                    self.log(f"Removing Virtual Server Group [{group}]")
                else:
                    self.log(f"Removing Virtual Server {old_vs.display}")
                self._clear_service_vs(old_vs, stopping=False)
                continue
            vs.alive = old_vs.alive
            vs.quorum_up = old_vs.quorum_up
            self._reload_diff_rs(old_vs, vs, reloaded, same)
            self._reload_diff_sorry(old_vs, vs)
        self._sum_checker_weights()
        for c in self._live():
            if c.rs not in reloaded and c.alpha:  # check_new_rs_state()
                self._set_checker_state(c, False)
                c.rs.alive = False
        for vs in self._vs:
            self._init_service_vs(vs, reloaded)
        self._schedule_first_probes(now)
        return self._take()

    def table(self) -> dict[Hashable, list[tuple[Hashable, int]]]:
        """The table as the engine has made it: for each virtual server that
        is set up, its destinations (real servers in order, then the sorry
        server) with the weight each was given."""
        out: dict[Hashable, list[tuple[Hashable, int]]] = {}
        for vs in self._vs:
            if not vs.alive:
                continue
            servers = [*vs.rs, *([vs.sorry] if vs.sorry is not None else [])]
            out[vs.id] = [(rs.id, rs.table_weight) for rs in servers if rs.set]
        return out

    # -- reload (ipwrapper.c clear_diff_*) ------------------------------------

    def _reload_clear_rs(self, vs: VsState, rs: RsState) -> None:
        """clear_service_rs(stopping=false)."""
        if not rs.set:
            return
        inhibited = "(inhibited) " if rs.inhibit and not rs.alive else ""
        self.log(f"Removing {inhibited}service {rs.display} from VS {vs.display}")
        self._ipvs(_DEL, vs, rs, force=True)
        if rs.alive:
            rs.alive = False
            self._rs_notifies(rs)

    def _reload_diff_rs(
        self,
        old_vs: VsState,
        vs: VsState,
        reloaded: dict[RsState, int],
        same: Callable[[CheckerParams, CheckerParams], bool],
    ) -> None:
        """clear_diff_rs(): release the real servers that are gone, carry
        the others' state over and migrate their checkers."""
        by_id = {rs.id: rs for rs in vs.rs}
        for old in old_vs.rs:
            rs = by_id.get(old.id)
            if rs is None:
                self.log(f"service {old.display} no longer exist")
                self._reload_clear_rs(old_vs, old)
                continue
            rs.alive, rs.set = old.alive, old.set
            rs.effective_weight = old.effective_weight
            rs.table_weight = old.table_weight
            reloaded[rs] = old.effective_weight
            self._migrate_checkers(old, rs, same)
        self._update_vs_notifies(old_vs, stopping=False)

    def _migrate_checkers(
        self, old: RsState, rs: RsState, same: Callable[[CheckerParams, CheckerParams], bool]
    ) -> None:
        """migrate_checkers()."""
        for c in rs.checkers:
            if c.kind == "FILE_CHECK":
                continue  # no compare function: the file is read afresh
            for o in old.checkers:
                if not same(o.params, c.params):
                    continue
                if o.has_run and o.is_up != c.is_up:
                    self._set_checker_state(c, o.is_up)
                c.has_run = o.has_run
                retry = c.params.retry
                if not c.is_up:
                    c.retry_it = retry + 1
                else:
                    c.retry_it = min(o.retry_it, retry)
                c.last_exit, c.last_ran = o.last_exit, o.last_ran
                spec = c.params.spec
                if isinstance(spec, MiscSpec) and spec.dynamic and o.last_exit != 1:
                    c.cur_weight = o.last_exit - (2 if o.last_exit else 0) - rs.iweight
                if not c.is_up and o.failed_url is not None:  # migrate_http_check()
                    c.failed_url = c.url_it = o.failed_url
                break
        rs.num_failed = sum(1 for c in rs.checkers if c.has_run and not c.is_up)
        if rs.num_failed or (not rs.alive and not any(c.has_run for c in rs.checkers)):
            for c in rs.checkers:
                if not c.has_run:
                    if c.alpha:
                        self._set_checker_state(c, False)
                    c.retry_it = c.params.retry  # one failure is enough
        if not rs.num_failed and not rs.alive:
            self._perform_svr_state(True, rs)
        elif rs.num_failed and rs.set != rs.inhibit:
            self._ipvs(_ADD if rs.inhibit else _DEL, rs.vs, rs)

    def _reload_diff_sorry(self, old_vs: VsState, vs: VsState) -> None:
        """clear_diff_s_srv(): keep the sorry server if it is the same, else
        take the old one out (and put the live servers back when there is
        no sorry server any more)."""
        old, new = old_vs.sorry, vs.sorry
        if old is None:
            return
        if new is not None and new.id == old.id:
            new.alive, new.set, new.table_weight = old.alive, old.set, old.table_weight
            new.effective_weight = new.iweight
            if old.inhibit == new.inhibit or old.alive:
                return
        reinstate = old.alive and new is None
        if old.inhibit and not old.alive:
            old.alive, old.inhibit = True, False  # force its removal
        if old.alive:
            self.log(f"Removing sorry server {old.display} from VS {old_vs.display}")
            self._ipvs(_DEL, old_vs, old, force=True)
            if new is not None:
                new.set = False
            if reinstate:
                self._perform_quorum_state(vs, add=True)

    # -- introspection -------------------------------------------------------

    def rs_status(self, vs_id: Hashable, rs_id: Hashable) -> RsStatus:
        vs = self._vs_by_id[vs_id]
        for rs in [*vs.rs, *([vs.sorry] if vs.sorry else [])]:
            if rs.id == rs_id:
                return RsStatus(rs.alive, rs.set, real_weight(rs.effective_weight), rs.num_failed)
        raise KeyError(rs_id)

    def quorum_up(self, vs_id: Hashable) -> bool:
        return self._vs_by_id[vs_id].quorum_up

    def checker_status(self, checker: int) -> CheckerStatus | None:
        """A checker's state (None: left out, e.g. an insecure script)."""
        c = self._states[checker]
        if c is None:
            return None
        return CheckerStatus(c.is_up, c.has_run, c.retry_it, c.cur_weight)

    # -- Engine interface used by epilogs ------------------------------------

    def log(self, text: str) -> None:
        self._out.append(Log(text))

    def log_all_failures(self, c: CheckerState) -> bool:
        return self._global.log_all_failures or c.params.log_all_failures

    def file_poll_interval(self) -> float:
        return self._global.file_poll_interval

    def schedule(self, c: CheckerState, at: float, smtp_retry: bool = False) -> None:
        if self._stopped:
            return
        self._seq += 1
        c.seq = self._seq
        c.smtp_retry = smtp_retry
        heapq.heappush(self._heap, (at, self._seq, c.index))

    def update_checker_state(self, c: CheckerState, up: bool) -> None:
        """update_svr_checker_state(): the real server goes down when its
        first checker fails and up when its last failed checker recovers."""
        rs = c.rs
        if c.is_up == up:
            if not c.has_run:
                if c.alpha or not up:
                    self._rs_notifies(rs)
                c.has_run = True
            return
        c.has_run = True
        if up:
            if rs.num_failed <= 1:
                self._perform_svr_state(True, rs)
        elif rs.num_failed == 0:
            self._perform_svr_state(False, rs)
        self._set_checker_state(c, up)

    def update_weight(self, rs: RsState, weight: int, update_quorum: bool) -> None:
        """update_svr_wgt(): log a change of the IPVS weight and apply it when
        the server is in the pool and not displaced by the sorry server."""
        new, old = real_weight(weight), real_weight(rs.effective_weight)
        rs.effective_weight = weight
        if new == old:
            return
        vs = rs.vs
        self.log(
            f"Changing weight from {old} to {new} for {'' if rs.alive else 'in'}active "
            f"service {rs.display} of VS {vs.display}"
        )
        if rs.set and rs.alive and self._pool_is_live(vs):
            self._ipvs(_EDIT, vs, rs)
        if update_quorum:
            self._update_quorum_state(vs, init=False)

    # -- keepalived's ipwrapper.c ------------------------------------------

    def _live(self) -> Iterator[CheckerState]:
        return (c for c in self._states if c is not None)

    def _take(self) -> list[Action]:
        out, self._out = self._out, []
        return out

    @staticmethod
    def _set_checker_state(c: CheckerState, up: bool) -> None:
        if c.is_up == up:
            return
        c.is_up = up
        if not up:
            c.rs.num_failed += 1
        elif c.rs.num_failed:
            c.rs.num_failed -= 1

    def _sum_checker_weights(self) -> None:
        """Each real server's effective weight: its own plus what its
        checkers contribute (FILE and dynamic MISC weights)."""
        for vs in self._vs:
            for rs in vs.rs:
                rs.effective_weight = rs.iweight + sum(c.cur_weight for c in rs.checkers)

    def _schedule_first_probes(self, now: float) -> None:
        """FILE_CHECKs poll from ``now``; the others are announced (unless
        they ran before a reload) and start after BOOTSTRAP_DELAY plus a
        random part of their warmup."""
        for c in self._live():
            if c.kind == "FILE_CHECK":
                self.schedule(c, now + self._global.file_poll_interval)
                continue
            if not c.has_run:
                self.log(
                    f"Activating healthchecker for service {c.rs.display} for VS {c.rs.vs.display}"
                )
            warmup = c.params.warmup
            if warmup is None:
                warmup = c.params.delay_loop
            self.schedule(c, now + BOOTSTRAP_DELAY + (warmup * self._random() if warmup else 0.0))

    def _init_file_checker(self, c: CheckerState, value: int) -> None:
        """A FILE_CHECK's state at start (set_track_file_weights,
        set_track_file_checkers_down, init_service_rs).  keepalived ignores
        ``reverse`` here for weight-0 checkers; so do we."""
        spec = c.params.spec
        assert isinstance(spec, FileSpec)
        c.file_last = value
        c.has_run = True
        mult = -1 if spec.reverse else 1
        if value and spec.weight:
            c.cur_weight = value * spec.weight * mult
        faulty = value * spec.weight * mult <= IPVS_WEIGHT_FAULT if spec.weight else value != 0
        if faulty:
            c.is_up = False
            c.rs.num_failed += 1

    def _pool_is_live(self, vs: VsState) -> bool:
        """Real servers are in the table unless the sorry server replaced them."""
        return vs.quorum_up or vs.sorry is None or not vs.sorry.alive

    def _ipvs(self, cmd: int, vs: VsState, rs: RsState, *, force: bool = False,
              zero: bool = False) -> None:  # fmt: skip
        """ipvs_cmd() for a destination: with inhibit a delete becomes weight 0
        and an add of a present server a weight edit; ``force`` removes even
        an inhibited one (shutdown); ``zero`` adds with weight 0."""
        weight = 0 if zero else real_weight(rs.effective_weight)
        inhibit = rs.inhibit and not force
        if cmd == _DEL and inhibit:
            rs.table_weight = 0
            self._out.append(SetWeight(vs.id, rs.id, 0))
        elif cmd == _ADD and inhibit and rs.set:
            rs.table_weight = weight
            self._out.append(SetWeight(vs.id, rs.id, weight))
        elif cmd == _ADD:
            if rs.set:
                return  # already there (the kernel would say EEXIST)
            rs.set = True
            if inhibit and rs.num_failed:
                weight = 0
            rs.table_weight = weight
            self._out.append(AddDest(vs.id, rs.id, weight))
        elif cmd == _DEL:
            if not rs.set:
                return
            rs.set = False
            self._out.append(RemoveDest(vs.id, rs.id))
        else:
            rs.table_weight = weight
            self._out.append(SetWeight(vs.id, rs.id, weight))

    def _init_service_vs(self, vs: VsState, reloaded: Mapping[RsState, int] | None = None) -> None:
        """init_service_vs() + init_service_rs(); ``reloaded`` maps the real
        servers a reload carried over to their previous effective weight."""
        if not vs.alive:
            self._out.append(AddService(vs.id))
            vs.alive = True
        for rs in vs.rs:
            if reloaded is not None and rs in reloaded:
                previous = reloaded[rs]
                if rs.effective_weight != previous:
                    weight, rs.effective_weight = rs.effective_weight, previous
                    self.update_weight(rs, weight, update_quorum=False)
                continue  # a failed server is not re-added on reload
            if (not rs.num_failed and not rs.alive) or (rs.inhibit and not rs.set):
                self._ipvs(_ADD, vs, rs)
                if not rs.num_failed:
                    rs.alive = True
                    if self._global.rs_init_notifies:
                        self._rs_notifies(rs)
        self._update_quorum_state(vs, init=True)
        ss = vs.sorry
        if ss is not None and ss.inhibit and not ss.set:
            self._ipvs(_ADD, vs, ss, zero=True)

    def _weigh_live(self, vs: VsState) -> int:
        return sum(real_weight(rs.effective_weight) for rs in vs.rs if rs.alive)

    def _perform_svr_state(self, alive: bool, rs: RsState) -> None:
        vs = rs.vs
        if rs.alive == alive:
            return
        if alive:
            verb, prep = ("Enabling", "of") if rs.inhibit else ("Adding", "to")
        else:
            verb, prep = ("Disabling", "of") if rs.inhibit else ("Removing", "from")
        self.log(f"{verb} service {rs.display} {prep} VS {vs.display}")
        if self._pool_is_live(vs):
            self._ipvs(_ADD if alive else _DEL, vs, rs)
        rs.alive = alive
        self._rs_notifies(rs)
        self._update_quorum_state(vs, init=False)

    def _perform_quorum_state(self, vs: VsState, add: bool) -> None:
        what = "Adding alive servers to" if add else "Removing alive servers from"
        self.log(f"{what} the pool for VS {vs.display}")
        for rs in vs.rs:
            if rs.alive:
                self._ipvs(_ADD if add else _DEL, vs, rs)

    def _update_quorum_state(self, vs: VsState, init: bool) -> None:
        """Quorum with hysteresis: gained at >= quorum + hysteresis, lost
        below quorum - hysteresis (or at 0); the sorry server goes in while
        it is lost, the alive real servers come out."""
        weight_sum = self._weigh_live(vs)
        q, h = vs.quorum, vs.hysteresis
        threshold = q - h if vs.quorum_up else q + h
        ss = vs.sorry
        if not vs.quorum_up and weight_sum >= threshold:
            vs.quorum_up = True
            self.log(f"Gained quorum {q}+{h}={threshold} <= {weight_sum} for VS {vs.display}")
            if ss is not None and ss.alive:
                what = "Disabling" if ss.inhibit else "Removing"
                self.log(f"{what} sorry server {ss.display} from VS {vs.display}")
                self._ipvs(_DEL, vs, ss)
                ss.alive = False
                self._perform_quorum_state(vs, add=True)
            self._vs_notifies(vs, stopping=False)
        elif (vs.quorum_up and (not weight_sum or weight_sum < threshold)) or (
            init and not vs.quorum_up and ss is not None and not ss.alive
        ):
            vs.quorum_up = False
            # keepalived prints "-" even when it compared against q + h.
            what = "Starting with quorum down" if init else "Lost quorum"
            self.log(f"{what} {q}-{h}={threshold} > {weight_sum} for VS {vs.display}")
            if ss is not None and not ss.alive:
                how = "Enabling" if ss.inhibit else "Adding"
                self.log(f"{how} sorry server {ss.display} to VS {vs.display}")
                self._perform_quorum_state(vs, add=False)
                self._ipvs(_ADD, vs, ss)
                ss.alive = True
            self._vs_notifies(vs, stopping=False)

    def _script(self, script: ScriptParams | None, event: str, stopping: bool) -> None:
        if script is not None:
            timeout = SHUTDOWN_SCRIPT_TIMEOUT if stopping else None
            self._out.append(RunScript(script, event, timeout))

    def _rs_notifies(self, rs: RsState, stopping: bool = False) -> None:
        if rs.alive:
            self._script(rs.notify_up, "notify_up", stopping)
        else:
            self._script(rs.notify_down, "notify_down", stopping)
        state = "UP" if rs.alive else "DOWN"
        self._out.append(FifoLine(f"RS {rs.display} {rs.vs.display} {state}"))

    def _vs_notifies(self, vs: VsState, stopping: bool) -> None:
        if stopping and not vs.omega:
            return
        if vs.quorum_up:
            self._script(vs.quorum_up_script, "quorum_up", stopping)
        else:
            self._script(vs.quorum_down, "quorum_down", stopping)
        self._out.append(FifoLine(f"VS {vs.display} {'UP' if vs.quorum_up else 'DOWN'}"))

    def _update_vs_notifies(self, vs: VsState, stopping: bool) -> None:
        threshold = vs.quorum - vs.hysteresis
        weight_sum = self._weigh_live(vs)
        if stopping or (vs.quorum_up and (not weight_sum or weight_sum < threshold)):
            vs.quorum_up = False
            self._vs_notifies(vs, stopping)

    def _clear_service_vs(self, vs: VsState, stopping: bool = True) -> None:
        """clear_service_vs(): at shutdown, or (``stopping`` False) for a
        virtual server a reload removed."""
        ss = vs.sorry
        clear_rs = self._clear_service_rs if stopping else self._reload_clear_rs
        if self._global.lvs_flush_on_stop == "no":
            if ss is not None and ss.set:
                self._ipvs(_DEL, vs, ss, force=True)
                ss.alive = False
            for rs in vs.rs:
                clear_rs(vs, rs)
            self._update_vs_notifies(vs, stopping=stopping)
        else:
            self._update_vs_notifies(vs, stopping=stopping)
            if ss is not None and ss.set:
                ss.alive = False
        self._out.append(RemoveService(vs.id))
        vs.alive = False

    def _clear_service_rs(self, vs: VsState, rs: RsState) -> None:
        inhibited = "(inhibited) " if rs.inhibit and not rs.alive else ""
        self.log(f"Shutting down {inhibited}service {rs.display} from VS {vs.display}")
        if not rs.set:
            return
        self._ipvs(_DEL, vs, rs, force=True)
        if not rs.alive:
            return
        rs.alive = False
        if vs.omega:
            self._rs_notifies(rs, stopping=True)
