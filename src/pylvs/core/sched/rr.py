"""rr — round robin (behaviour reference §2.4)."""

from __future__ import annotations

from random import Random

from pylvs.core.model import DEST_F_OVERLOAD, Dest, Service
from pylvs.core.sched.base import Scheduler
from pylvs.core.sysctl import Sysctl


class RoundRobin(Scheduler):
    name = "rr"

    def __init__(self, svc: Service, rng: Random, sysctl: Sysctl | None = None) -> None:
        super().__init__(svc, rng, sysctl)
        # Index of the last chosen dest in svc.dests; -1 is the list head.
        self.pos = -1

    def add_dest(self, dest: Dest) -> None:
        # The kernel keeps pointing at the same element; with an index the
        # head insertion shifts it by one.
        if self.pos >= 0:
            self.pos += 1

    def del_dest(self, dest: Dest, index: int) -> None:
        if index < self.pos:
            self.pos -= 1
        elif index == self.pos:
            # Pointing at the unlinked dest: move to its previous element.
            self.pos = index - 1

    def schedule(self, caddr: int, cport: int, daddr: int, now: float) -> Dest | None:
        dests = self.svc.dests
        pos = self.pos
        for i in range(pos + 1, len(dests)):
            d = dests[i]
            if d.weight > 0 and not d.flags & DEST_F_OVERLOAD:
                self.pos = i
                return d
        if pos >= 0:
            # Wrap and check up to and including the last chosen dest.
            for i in range(pos + 1):
                d = dests[i]
                if d.weight > 0 and not d.flags & DEST_F_OVERLOAD:
                    self.pos = i
                    return d
        return None
