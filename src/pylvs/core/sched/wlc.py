"""wlc — weighted least connection, ipvsadm's default (§2.4).

``a`` beats ``b`` when overhead(b)·w(a) > overhead(a)·w(b): cross-multiplied,
never divided, as the kernel compares.
"""

from __future__ import annotations

from pylvs.core.model import DEST_F_OVERLOAD, Dest
from pylvs.core.sched.leastconn import IndexedScheduler


def wlc_eligible(d: Dest) -> bool:
    return d.weight > 0 and not d.flags & DEST_F_OVERLOAD


def wlc_better(a: Dest, b: Dest) -> bool:
    return ((b.activeconns << 8) + b.inactconns) * a.weight > (
        (a.activeconns << 8) + a.inactconns
    ) * b.weight


class WeightedLeastConnection(IndexedScheduler):
    name = "wlc"
    eligible = staticmethod(wlc_eligible)
    better = staticmethod(wlc_better)
