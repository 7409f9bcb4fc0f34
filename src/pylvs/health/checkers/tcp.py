"""TCP_CHECK: success = the TCP connection completes within connect_timeout
(check_tcp.c); the socket is closed at once."""

from __future__ import annotations

from pylvs.health.checkers.base import Connect, ProbeContext, family_of, target
from pylvs.health.checkers.callback import Done, TcpProbe, run_callback_probe
from pylvs.health.checkers.reactor import Reactor
from pylvs.health.params import CheckerParams, TcpSpec
from pylvs.health.result import ProbeResult

__all__ = ["TcpChecker"]

_OK = ProbeResult(ok=True)
_RESULTS = {
    Connect.TIMEOUT: ProbeResult(ok=False, reason="timeout"),
    Connect.FAIL: ProbeResult(ok=False, reason="failed"),
    Connect.ERROR: ProbeResult(ok=False, reason="failed"),
    # refused inside connect(): keepalived goes straight to its epilog
    Connect.FAIL_AT_ONCE: ProbeResult(ok=False),
}
_BIND_FAILED = "TCP socket bind failed. Rescheduling."


class _Probe(TcpProbe):
    __slots__ = ()
    SOCKET_FAILED = ("TCP connect fail to create socket. Rescheduling.",)

    def on_connected(self) -> None:
        self.finish(_OK)

    def on_connect_failed(self, outcome: Connect, logs: tuple[str, ...] = ()) -> None:
        if outcome is Connect.ERROR_AT_ONCE:
            self.finish(ProbeResult.rescheduled(*logs, _BIND_FAILED))
        else:
            self.finish(_RESULTS[outcome])


class TcpChecker:
    def __init__(self, params: CheckerParams, ctx: ProbeContext) -> None:
        spec = params.spec
        assert isinstance(spec, TcpSpec)
        self.connect = spec.connect
        self.addr = target(spec.connect, ctx)
        self.family = family_of(self.addr[0])
        self.timeout = params.connect_timeout
        self.fast = True
        self.reactor: Reactor | None = None

    def start(self, url: int, done: Done) -> TcpProbe:
        self.reactor = reactor = Reactor.cached(self.reactor)
        probe = _Probe(reactor, done)
        probe.connect(self.family, self.addr, self.connect, self.timeout)
        return probe

    async def probe(self, url: int = 0) -> ProbeResult:
        return await run_callback_probe(lambda done: self.start(url, done))
