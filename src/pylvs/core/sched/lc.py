"""lc — least connection: minimum (active << 8) + inactive, first wins ties (§2.4)."""

from __future__ import annotations

from pylvs.core.model import DEST_F_OVERLOAD, Dest
from pylvs.core.sched.leastconn import IndexedScheduler


def _eligible(d: Dest) -> bool:
    return d.weight != 0 and not d.flags & DEST_F_OVERLOAD


def _better(a: Dest, b: Dest) -> bool:
    return (a.activeconns << 8) + a.inactconns < (b.activeconns << 8) + b.inactconns


class LeastConnection(IndexedScheduler):
    name = "lc"
    eligible = staticmethod(_eligible)
    better = staticmethod(_better)
