"""dh — destination hashing: 256 buckets filled round-robin, weight ignored (§2.4)."""

from __future__ import annotations

from random import Random

from pylvs.core.addr import fold32
from pylvs.core.model import DEST_F_AVAILABLE, DEST_F_OVERLOAD, Dest, Service
from pylvs.core.sched.base import Scheduler
from pylvs.core.sched.hashing import hash_32
from pylvs.core.sysctl import Sysctl

TAB_BITS = 8
TAB_SIZE = 1 << TAB_BITS


class DestinationHashing(Scheduler):
    name = "dh"

    def __init__(self, svc: Service, rng: Random, sysctl: Sysctl | None = None) -> None:
        super().__init__(svc, rng, sysctl)
        self.buckets: list[Dest | None] = []
        self._assign()

    def _assign(self) -> None:
        dests = self.svc.dests
        n = len(dests)
        self.buckets = [dests[i % n] for i in range(TAB_SIZE)] if n else [None] * TAB_SIZE

    def add_dest(self, dest: Dest) -> None:
        self._assign()

    def del_dest(self, dest: Dest, index: int) -> None:
        self._assign()

    def schedule(self, caddr: int, cport: int, daddr: int, now: float) -> Dest | None:
        d = self.buckets[hash_32(fold32(self.svc.key.af, daddr), TAB_BITS)]
        if d is None or not d.flags & DEST_F_AVAILABLE or d.weight <= 0:
            return None
        if d.flags & DEST_F_OVERLOAD:
            return None
        return d
