"""lblc — locality-based least connection (§2.4).

A cache maps a packet's destination address to the dest that served it.
A cache hit keeps its dest unless that dest is gone, has weight 0, or is
"lblc-overloaded"; otherwise the wlc choice is taken and cached. The cache
lives in 1024 hash chains (newest entry first) so that the periodic
collection walks it in the kernel's order.
"""

from __future__ import annotations

from random import Random
from typing import Generic, Protocol, TypeVar

from pylvs.core.addr import fold32
from pylvs.core.model import DEST_F_AVAILABLE, Dest, Service
from pylvs.core.sched.base import Scheduler
from pylvs.core.sched.hashing import hash_32
from pylvs.core.sched.loadindex import LoadIndex
from pylvs.core.sched.wlc import wlc_better, wlc_eligible
from pylvs.core.sysctl import Sysctl

TAB_BITS = 10
TAB_SIZE = 1 << TAB_BITS
TAB_MASK = TAB_SIZE - 1
# Collection: every 60 s; above MAX_SIZE entries, drop those idle for
# ENTRY_TIMEOUT (at most MAX_SIZE/2 per run); every 30th run, drop every
# entry idle longer than the *_expiration sysctl.
CHECK_EXPIRE_INTERVAL = 60.0
ENTRY_TIMEOUT = 6 * 60.0
MAX_SIZE = TAB_SIZE * 16
COUNT_FOR_FULL_EXPIRATION = 30


def lblc_overloaded(dest: Dest, svc: Service) -> bool:
    """Busier than its weight while some dest of the service is under half load."""
    if dest.activeconns > dest.weight:
        for d in svc.dests:
            if d.activeconns * 2 < d.weight:
                return True
    return False


class CacheEntry:
    __slots__ = ("addr", "dest", "lastuse")

    def __init__(self, addr: int, dest: Dest, now: float) -> None:
        self.addr = addr
        self.dest = dest
        self.lastuse = now


class _Cached(Protocol):
    addr: int
    lastuse: float


E = TypeVar("E", bound=_Cached)


class LocalityCache(Generic[E]):
    """Address -> entry, in hash chains with the kernel's walk order."""

    def __init__(self, af: int) -> None:
        self.af = af
        self.chains: list[list[E]] = [[] for _ in range(TAB_SIZE)]
        self.index: dict[int, E] = {}
        self.rover = 0
        self.counter = 1
        # The kernel's entry counter: replacing an entry's dest does not
        # decrement it (ip_vs_lblc_new), so it can exceed len(index).
        self.entries = 0
        self.next_check: float | None = None

    def bucket(self, addr: int) -> int:
        return hash_32(fold32(self.af, addr), TAB_BITS)

    def get(self, addr: int) -> E | None:
        return self.index.get(addr)

    def insert(self, entry: E) -> None:
        self.chains[self.bucket(entry.addr)].insert(0, entry)
        self.index[entry.addr] = entry
        self.entries += 1

    def replace(self, old: E, new: E) -> None:
        """Drop ``old`` (without counting it out, as the kernel) and add ``new``."""
        self.chains[self.bucket(old.addr)].remove(old)
        del self.index[old.addr]
        self.insert(new)

    def __len__(self) -> int:
        return len(self.index)

    def flush(self) -> None:
        self.chains = [[] for _ in range(TAB_SIZE)]
        self.index.clear()
        self.entries = 0

    def collect(self, now: float, expiration: float) -> None:
        """One periodic run (every 60 s)."""
        if self.counter % COUNT_FOR_FULL_EXPIRATION == 0:
            j = self.rover
            for _ in range(TAB_SIZE):
                j = (j + 1) & TAB_MASK
                self._drop_idle(j, now, expiration, None)
            self.rover = j
            self.counter = 1
            return
        if self.entries <= MAX_SIZE:
            self.counter += 1
            return
        goal = [min((self.entries - MAX_SIZE) * 4 // 3, MAX_SIZE // 2)]
        j = self.rover
        for _ in range(TAB_SIZE):
            j = (j + 1) & TAB_MASK
            self._drop_idle(j, now, ENTRY_TIMEOUT, goal)
            if goal[0] <= 0:
                break
        self.rover = j

    def _drop_idle(self, j: int, now: float, idle: float, goal: list[int] | None) -> None:
        chain = self.chains[j]
        keep: list[E] = []
        for en in chain:
            if now < en.lastuse + idle:
                keep.append(en)
                continue
            del self.index[en.addr]
            self.entries -= 1
            if goal is not None:
                goal[0] -= 1
        self.chains[j] = keep

    def tick(self, now: float, expiration: float) -> None:
        if self.next_check is None:
            self.next_check = now + CHECK_EXPIRE_INTERVAL
            return
        while now >= self.next_check:
            self.collect(self.next_check, expiration)
            self.next_check += CHECK_EXPIRE_INTERVAL


class LocalityLeastConnection(Scheduler):
    name = "lblc"
    needs_tick = True

    def __init__(self, svc: Service, rng: Random, sysctl: Sysctl | None = None) -> None:
        super().__init__(svc, rng, sysctl)
        self.cache: LocalityCache[CacheEntry] = LocalityCache(svc.key.af)
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
        self.cache.tick(now, float(self.sysctl.lblc_expiration))

    def schedule(self, caddr: int, cport: int, daddr: int, now: float) -> Dest | None:
        cache = self.cache
        en = cache.get(daddr)
        if en is not None:
            en.lastuse = now
            d = en.dest
            if d.flags & DEST_F_AVAILABLE and d.weight > 0 and not lblc_overloaded(d, self.svc):
                return d
        d2 = self.wlc.best()
        if d2 is None:
            return None
        if en is None:
            cache.insert(CacheEntry(daddr, d2, now))
        elif en.dest is not d2:
            cache.replace(en, CacheEntry(daddr, d2, now))
        return d2
