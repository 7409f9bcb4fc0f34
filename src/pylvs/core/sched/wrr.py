"""wrr — weighted round robin (behaviour reference §2.4).

The kernel's interleaved cycle: a current weight ``cw`` steps down by the
gcd of the weights each time the scan passes the end of the list, and a dest
is chosen when its weight is at least ``cw``.
"""

from __future__ import annotations

from math import gcd
from random import Random

from pylvs.core.model import DEST_F_OVERLOAD, Dest, Service
from pylvs.core.sched.base import Scheduler
from pylvs.core.sysctl import Sysctl

ALL_OVERLOADED_MSG = "no destination available: all destinations are overloaded"


class WeightedRoundRobin(Scheduler):
    name = "wrr"

    def __init__(self, svc: Service, rng: Random, sysctl: Sysctl | None = None) -> None:
        super().__init__(svc, rng, sysctl)
        self.cl = -1  # list position of the last choice; -1 is the head
        self.di = self._gcd_weight()
        self.mw = self._max_weight() - (self.di - 1)
        self.cw = self.mw

    def _gcd_weight(self) -> int:
        g = 0
        for d in self.svc.dests:
            if d.weight > 0:
                g = gcd(g, d.weight)
        return g if g > 0 else 1

    def _max_weight(self) -> int:
        return max((d.weight for d in self.svc.dests), default=0)

    def _dest_changed(self) -> None:
        self.cl = -1
        self.di = self._gcd_weight()
        self.mw = self._max_weight() - (self.di - 1)
        if self.cw > self.mw or not self.cw:
            self.cw = self.mw
        elif self.di > 1:
            self.cw = (self.cw // self.di) * self.di + 1

    def add_dest(self, dest: Dest) -> None:
        self._dest_changed()

    def del_dest(self, dest: Dest, index: int) -> None:
        self._dest_changed()

    def upd_dest(self, dest: Dest) -> None:
        self._dest_changed()

    def schedule(self, caddr: int, cport: int, daddr: int, now: float) -> Dest | None:
        self.last_error = "no destination available"
        if self.mw == 0:
            return None
        dests = self.svc.dests
        n = len(dests)
        last = self.cl
        start = last + 1
        stop = -2  # list position at which a final pass gives up; -2 = none
        last_pass = False
        restarted = False
        while True:
            cw = self.cw
            for i in range(start, n):
                d = dests[i]
                if d.weight >= cw and not d.flags & DEST_F_OVERLOAD:
                    self.cl = i
                    return d
                if i == stop:
                    self._give_up(i)
                    return None
            self.cw -= self.di
            if self.cw <= 0:
                self.cw = self.mw
                if last_pass or last == -1:
                    self._give_up(-1)
                    return None
                restarted = True
            last_pass = self.cw <= self.di
            if last_pass and restarted and last != -1:
                stop = last
            start = 0

    def _give_up(self, at: int) -> None:
        self.cl = at
        self.last_error = ALL_OVERLOADED_MSG
        return None
