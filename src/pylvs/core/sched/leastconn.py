"""Shared machinery of the schedulers that pick by load through a LoadIndex."""

from __future__ import annotations

from collections.abc import Callable
from random import Random

from pylvs.core.model import Dest, Service
from pylvs.core.sched.base import Scheduler
from pylvs.core.sched.loadindex import LoadIndex
from pylvs.core.sysctl import Sysctl

__all__ = ["IndexedScheduler"]


class IndexedScheduler(Scheduler):
    """A scheduler whose choice is "the first dest in list order that is best"
    under an eligibility test and a strict comparison."""

    eligible: Callable[[Dest], bool]
    better: Callable[[Dest, Dest], bool]

    def __init__(self, svc: Service, rng: Random, sysctl: Sysctl | None = None) -> None:
        super().__init__(svc, rng, sysctl)
        cls = type(self)
        self.index = LoadIndex(svc, cls.eligible, cls.better)

    def add_dest(self, dest: Dest) -> None:
        self.index.invalidate()

    def del_dest(self, dest: Dest, index: int) -> None:
        if dest.load_listener is self.index:
            dest.load_listener = None
        self.index.invalidate()

    def upd_dest(self, dest: Dest) -> None:
        self.index.invalidate()

    def done(self) -> None:
        self.index.detach()

    def schedule(self, caddr: int, cport: int, daddr: int, now: float) -> Dest | None:
        return self.index.best()
