"""fo — weighted fail-over: the highest weight among non-overloaded dests (§2.4)."""

from __future__ import annotations

from pylvs.core.model import Dest
from pylvs.core.sched.leastconn import IndexedScheduler
from pylvs.core.sched.wlc import wlc_eligible


def heavier(a: Dest, b: Dest) -> bool:
    return a.weight > b.weight


class WeightedFailover(IndexedScheduler):
    name = "fo"
    eligible = staticmethod(wlc_eligible)
    better = staticmethod(heavier)
