"""lblcr — lblc with replication: each address maps to a set of dests (§2.4)."""

from __future__ import annotations

from random import Random

from pylvs.core.model import DEST_F_AVAILABLE, DEST_F_OVERLOAD, Dest, Service
from pylvs.core.sched.base import NO_DEST_MSG, Scheduler
from pylvs.core.sched.lblc import LocalityCache, lblc_overloaded
from pylvs.core.sched.loadindex import LoadIndex
from pylvs.core.sched.wlc import wlc_better, wlc_eligible
from pylvs.core.sysctl import Sysctl


def _oh(d: Dest) -> int:
    return (d.activeconns << 8) + d.inactconns


class DestSet:
    """A replication set, newest member first, with its last modification time."""

    __slots__ = ("addr", "dests", "lastmod", "lastuse")

    def __init__(self, addr: int, dest: Dest, now: float) -> None:
        self.addr = addr
        self.dests = [dest]
        self.lastmod = now
        self.lastuse = now

    def insert(self, dest: Dest, now: float) -> None:
        if dest in self.dests:
            return
        self.dests.insert(0, dest)
        self.lastmod = now

    def erase(self, dest: Dest, now: float) -> None:
        self.dests.remove(dest)
        self.lastmod = now

    def least(self) -> Dest | None:
        least: Dest | None = None
        for d in self.dests:
            if least is None:
                if d.flags & DEST_F_OVERLOAD:
                    continue
                if d.weight > 0 and d.flags & DEST_F_AVAILABLE:
                    least = d
                continue
            if d.flags & DEST_F_OVERLOAD:
                continue
            if _oh(least) * d.weight > _oh(d) * least.weight and d.flags & DEST_F_AVAILABLE:
                least = d
        return least

    def most(self) -> Dest | None:
        most: Dest | None = None
        for d in self.dests:
            if most is None:
                if d.weight > 0:
                    most = d
                continue
            if _oh(most) * d.weight < _oh(d) * most.weight and d.weight > 0:
                most = d
        return most


class LocalityLeastConnectionReplicated(Scheduler):
    name = "lblcr"
    needs_tick = True

    def __init__(self, svc: Service, rng: Random, sysctl: Sysctl | None = None) -> None:
        super().__init__(svc, rng, sysctl)
        self.cache: LocalityCache[DestSet] = LocalityCache(svc.key.af)
        self.wlc = LoadIndex(svc, wlc_eligible, wlc_better)

    def add_dest(self, dest: Dest) -> None:
        self.wlc.invalidate()

    def del_dest(self, dest: Dest, index: int) -> None:
        if dest.load_listener is self.wlc:
            dest.load_listener = None
        self.wlc.invalidate()

    def upd_dest(self, dest: Dest) -> None:
        self.wlc.invalidate()

    def done(self) -> None:
        self.wlc.detach()
        self.cache.flush()

    def tick(self, now: float) -> None:
        self.cache.tick(now, float(self.sysctl.lblcr_expiration))

    def schedule(self, caddr: int, cport: int, daddr: int, now: float) -> Dest | None:
        svc = self.svc
        self.last_error = NO_DEST_MSG
        en = self.cache.get(daddr)
        if en is not None:
            en.lastuse = now
            d = en.least()
            if len(en.dests) > 1 and now > en.lastmod + self.sysctl.lblcr_expiration:
                m = en.most()
                if m is not None:
                    en.erase(m, now)
            if d is not None and not lblc_overloaded(d, svc):
                return d
            d = self.wlc.best()
            if d is None:
                return None
            en.insert(d, now)
            return d
        d = self.wlc.best()
        if d is None:
            # The kernel logs this case at debug level only.
            self.last_error = ""
            return None
        self.cache.insert(DestSet(daddr, d, now))
        return d
