"""ovf — overflow: the highest weight among dests with active <= weight (§2.4)."""

from __future__ import annotations

from pylvs.core.model import DEST_F_OVERLOAD, Dest
from pylvs.core.sched.fo import heavier
from pylvs.core.sched.leastconn import IndexedScheduler


def _eligible(d: Dest) -> bool:
    w = d.weight
    return w > 0 and d.activeconns <= w and not d.flags & DEST_F_OVERLOAD


class Overflow(IndexedScheduler):
    name = "ovf"
    eligible = staticmethod(_eligible)
    better = staticmethod(heavier)
