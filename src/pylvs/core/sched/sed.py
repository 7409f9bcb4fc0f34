"""sed — shortest expected delay: wlc with overhead = active + 1 (§2.4)."""

from __future__ import annotations

from pylvs.core.model import Dest
from pylvs.core.sched.leastconn import IndexedScheduler
from pylvs.core.sched.wlc import wlc_eligible


def sed_better(a: Dest, b: Dest) -> bool:
    return (b.activeconns + 1) * a.weight > (a.activeconns + 1) * b.weight


class ShortestExpectedDelay(IndexedScheduler):
    name = "sed"
    eligible = staticmethod(wlc_eligible)
    better = staticmethod(sed_better)
