"""sh — source hashing (§2.4).

256 buckets; each dest takes max(weight, 1) consecutive buckets in list
order, wrapping until the table is full. ``sh-port`` adds the client port
to the hashed value; ``sh-fallback`` probes other buckets when the hashed
dest is unusable.
"""

from __future__ import annotations

from random import Random

from pylvs.core.addr import fold32
from pylvs.core.model import DEST_F_OVERLOAD, SVC_F_SCHED1, SVC_F_SCHED2, Dest, Service
from pylvs.core.sched.base import Scheduler
from pylvs.core.sched.hashing import hash_32
from pylvs.core.sysctl import Sysctl

TAB_BITS = 8
TAB_SIZE = 1 << TAB_BITS
TAB_MASK = TAB_SIZE - 1


def _unusable(d: Dest) -> bool:
    return d.weight <= 0 or bool(d.flags & DEST_F_OVERLOAD)


class SourceHashing(Scheduler):
    name = "sh"

    def __init__(self, svc: Service, rng: Random, sysctl: Sysctl | None = None) -> None:
        super().__init__(svc, rng, sysctl)
        self.buckets: list[Dest | None] = []
        self._assign()

    def _assign(self) -> None:
        dests = self.svc.dests
        if not dests:
            self.buckets = [None] * TAB_SIZE
            return
        buckets: list[Dest | None] = []
        i = 0
        count = 0
        while len(buckets) < TAB_SIZE:
            d = dests[i]
            buckets.append(d)
            count += 1
            if count >= d.weight:
                i = (i + 1) % len(dests)
                count = 0
        self.buckets = buckets

    def add_dest(self, dest: Dest) -> None:
        self._assign()

    def del_dest(self, dest: Dest, index: int) -> None:
        self._assign()

    def upd_dest(self, dest: Dest) -> None:
        self._assign()

    def schedule(self, caddr: int, cport: int, daddr: int, now: float) -> Dest | None:
        svc = self.svc
        port = cport if svc.flags & SVC_F_SCHED2 else 0
        value = fold32(svc.key.af, caddr)
        ihash = hash_32((port + value) & 0xFFFFFFFF, TAB_BITS)
        d = self.buckets[ihash]
        if d is None:
            return None
        if not _unusable(d):
            return d
        if not svc.flags & SVC_F_SCHED1:
            return None
        h = hash_32((port + value) & 0xFFFFFFFF, TAB_BITS)
        for offset in range(TAB_SIZE):
            roffset = (offset + ihash) & TAB_MASK
            cand = self.buckets[(roffset + h) & TAB_MASK]
            if cand is None:
                return None
            if not _unusable(cand):
                return cand
        return None
