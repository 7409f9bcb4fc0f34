"""Runner support: the lateness histogram and the reactor's timeouts."""

from __future__ import annotations

import asyncio

from pylvs.health.checkers.reactor import Reactor
from pylvs.health.stats import LatenessHistogram


def test_histogram_quantiles() -> None:
    h = LatenessHistogram()
    for i in range(100):
        h.add(i / 1000)  # 0..99 ms
    assert abs(h.quantile(0.5) - 0.05) < 0.0011
    assert abs(h.quantile(0.99) - 0.099) < 0.0011
    assert h.max == 0.099
    h.add(5.0)
    assert h.max == 5.0 and h.total == 101


def test_reactor_timeouts_fire_in_order_and_cancel() -> None:
    async def main() -> list[str]:
        loop = asyncio.get_running_loop()
        reactor = Reactor.of(loop)
        fired: list[str] = []
        reactor.expire_in(0.05, lambda: fired.append("a"))
        token = reactor.expire_in(0.05, lambda: fired.append("cancelled"))
        reactor.expire_in(0.02, lambda: fired.append("b"))
        reactor.cancel_timer(token)
        await asyncio.sleep(0.12)
        reactor.close()
        return fired

    assert asyncio.run(main()) == ["b", "a"]
