"""nq — never queue: the first idle dest, else the sed choice (§2.4)."""

from __future__ import annotations

from pylvs.core.model import Dest
from pylvs.core.sched.leastconn import IndexedScheduler
from pylvs.core.sched.sed import sed_better
from pylvs.core.sched.wlc import wlc_eligible


def _better(a: Dest, b: Dest) -> bool:
    if b.activeconns == 0:
        return False
    if a.activeconns == 0:
        return True
    return sed_better(a, b)


class NeverQueue(IndexedScheduler):
    name = "nq"
    eligible = staticmethod(wlc_eligible)
    better = staticmethod(_better)
