"""A driver for HealthPolicy scenarios: builders for params and a clock
that jumps from deadline to deadline."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pylvs.health.actions import Action, FifoLine, Log, ProbeStart, RunScript, TableAction
from pylvs.health.params import (
    CheckerParams,
    CheckerSpec,
    GlobalParams,
    HealthParams,
    HttpSpec,
    RealServerParams,
    ScriptParams,
    SorryServerParams,
    TcpSpec,
    TimingOverrides,
    UrlParams,
    VirtualServerParams,
    make_checker,
)
from pylvs.health.policy import HealthPolicy
from pylvs.health.result import ProbeResult

VS = "[10.0.1.100]:tcp:80"


def rs_name(n: int) -> str:
    return f"[10.0.1.{10 + n}]:tcp:80"


RS1 = rs_name(1)


def checker(
    kind: str = "TCP_CHECK",
    spec: CheckerSpec | None = None,
    *,
    delay_loop: float = 10.0,
    retry: int | None = None,
    delay_before_retry: float | None = None,
    warmup: float | None = 0.0,
    alpha: bool | None = None,
    log_all_failures: bool = False,
    connect_timeout: float | None = None,
) -> CheckerParams:
    if spec is None:
        spec = HttpSpec(urls=(UrlParams("/"),)) if kind in ("HTTP_GET", "SSL_GET") else TcpSpec()
    return make_checker(
        kind,
        spec,
        checker=TimingOverrides(
            delay_loop=delay_loop,
            retry=retry,
            delay_before_retry=delay_before_retry,
            warmup=warmup,
            alpha=alpha,
            connect_timeout=connect_timeout,
        ),
        log_all_failures=log_all_failures,
    )


def real_server(
    n: int,
    *checkers: CheckerParams,
    weight: int = 1,
    inhibit: bool = False,
    notify: bool = False,
) -> RealServerParams:
    return RealServerParams(
        id=f"rs{n}",
        ip=f"10.0.1.{10 + n}",
        port=80,
        weight=weight,
        inhibit_on_failure=inhibit,
        notify_up=ScriptParams((f"/bin/up{n}",)) if notify else None,
        notify_down=ScriptParams((f"/bin/down{n}",)) if notify else None,
        checkers=checkers,
    )


def virtual_server(
    *rss: RealServerParams,
    quorum: int = 1,
    hysteresis: int = 0,
    sorry: bool = False,
    sorry_inhibit: bool = False,
    omega: bool = False,
    scripts: bool = False,
    vs_id: Hashable = "vs",
) -> VirtualServerParams:
    return VirtualServerParams(
        id=vs_id,
        ip="10.0.1.100",
        port=80,
        protocol="tcp",
        quorum=quorum,
        hysteresis=hysteresis,
        sorry_server=SorryServerParams("sorry", "10.0.1.250", 80, inhibit=sorry_inhibit)
        if sorry
        else None,
        omega=omega,
        quorum_up=ScriptParams(("/bin/qup",)) if scripts else None,
        quorum_down=ScriptParams(("/bin/qdown",)) if scripts else None,
        real_servers=rss,
    )


OK = ProbeResult(ok=True)
FAIL = ProbeResult(ok=False, reason="timeout")


def logs(actions: Sequence[Action]) -> list[str]:
    return [a.text for a in actions if isinstance(a, Log)]


def table(actions: Sequence[Action]) -> list[TableAction]:
    return [a for a in actions if isinstance(a, TableAction)]


def fifo(actions: Sequence[Action]) -> list[str]:
    return [a.text for a in actions if isinstance(a, FifoLine)]


def scripts(actions: Sequence[Action]) -> list[tuple[str, str, float | None]]:
    return [(a.script.argv[0], a.event, a.timeout) for a in actions if isinstance(a, RunScript)]


@dataclass
class Sim:
    """Runs a policy: ``start`` at t=0, then ``next()`` jumps to the next
    deadline and returns the probes due; ``feed`` answers one of them."""

    params: HealthParams
    rand: float = 0.0
    now: float = 0.0
    started: list[Action] = field(default_factory=list)
    pending: dict[int, ProbeStart] = field(default_factory=dict)
    #: what each checker's server answers when probed in passing
    last: dict[int, ProbeResult] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.policy = HealthPolicy(self.params, random=lambda: self.rand)

    @classmethod
    def of(
        cls,
        *vss: VirtualServerParams,
        rand: float = 0.0,
        file_values: dict[int, int] | None = None,
        **global_kw: object,
    ) -> Sim:
        sim = cls(HealthParams(vss, GlobalParams(**global_kw)), rand)  # type: ignore[arg-type]
        sim.started = sim.policy.start(0.0, file_values)
        return sim

    def next(self) -> list[ProbeStart]:
        deadline = self.policy.next_deadline()
        assert deadline is not None
        self.now = deadline
        starts = self.policy.advance(self.now)
        for s in starts:
            self.pending[s.checker] = s
        return starts

    def due_at(self) -> float | None:
        return self.policy.next_deadline()

    def probe(self, index: int = 0) -> ProbeStart:
        """Advance until checker ``index`` is started; others get the answer
        they got last (OK at first)."""
        while index not in self.pending:
            for s in self.next():
                if s.checker != index:
                    self.feed(s.checker, self.last.get(s.checker, OK))
        return self.pending[index]

    def feed(self, index: int, result: ProbeResult, after: float = 0.0) -> list[Action]:
        self.pending.pop(index, None)
        self.last[index] = result
        return self.policy.on_result(self.now + after, index, result)

    def run(self, index: int, result: ProbeResult, after: float = 0.0) -> list[Action]:
        """Start checker ``index``'s next probe and answer it."""
        self.probe(index)
        return self.feed(index, result, after)


def single(*checkers: CheckerParams, **sim_kw: Any) -> Sim:
    """A started Sim of one virtual server with one real server (rs1) that
    has ``checkers``; ``sim_kw`` go to :meth:`Sim.of`."""
    return Sim.of(virtual_server(real_server(1, *checkers)), **sim_kw)
