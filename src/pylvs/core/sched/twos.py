"""twos — power of two choices (Linux >= 6.2, §2.4).

Two weighted random draws; of the two dests drawn, the less loaded by the
wlc comparison wins. Draws are reduced as the kernel's
``get_random_u32_below`` does (multiply-high with rejection), and the final
comparison uses 32-bit ``int`` products as ip_vs_twos.c does. The walk "subtract each eligible weight until the draw
is <= 0" is a search over prefix sums, done here with bisect on a cached
prefix array (rebuilt when weights, flags or the list change).
"""

from __future__ import annotations

from bisect import bisect_left
from random import Random

from pylvs.core.model import DEST_F_OVERLOAD, Dest, LoadListener, Service
from pylvs.core.sched.base import Scheduler
from pylvs.core.sysctl import Sysctl


class _Invalidate(LoadListener):
    """Marks the prefix sums stale when a dest's OVERLOAD flag flips (load
    changes alone do not change which dests can be drawn)."""

    __slots__ = ("owner",)

    def __init__(self, owner: PowerOfTwo) -> None:
        self.owner = owner

    def load_changed(self, dest: Dest) -> None:
        owner = self.owner
        drawable = dest.weight > 0 and not dest.flags & DEST_F_OVERLOAD
        if drawable != (dest in owner.member_set):
            owner.stale = True


def _s32(x: int) -> int:
    x &= 0xFFFFFFFF
    return x - (1 << 32) if x & 0x80000000 else x


def random_below(rng: Random, ceil: int) -> int:
    """A uniform value in [0, ceil) from 32-bit draws, as get_random_u32_below."""
    mult = ceil * rng.getrandbits(32)
    if (mult & 0xFFFFFFFF) < ceil:
        bound = ((1 << 32) - ceil) % ceil
        while (mult & 0xFFFFFFFF) < bound:
            mult = ceil * rng.getrandbits(32)
    return mult >> 32


class PowerOfTwo(Scheduler):
    name = "twos"

    def __init__(self, svc: Service, rng: Random, sysctl: Sysctl | None = None) -> None:
        super().__init__(svc, rng, sysctl)
        self.stale = True
        self.listener = _Invalidate(self)
        self.prefix: list[int] = []
        self.members: list[Dest] = []
        self.member_set: set[Dest] = set()
        self._attach()

    def _attach(self) -> None:
        for d in self.svc.dests:
            d.load_listener = self.listener
        self.stale = True

    def add_dest(self, dest: Dest) -> None:
        self._attach()

    def del_dest(self, dest: Dest, index: int) -> None:
        if dest.load_listener is self.listener:
            dest.load_listener = None
        self.stale = True

    def upd_dest(self, dest: Dest) -> None:
        self.stale = True

    def done(self) -> None:
        for d in self.svc.dests:
            if d.load_listener is self.listener:
                d.load_listener = None

    def _refresh(self) -> None:
        prefix: list[int] = []
        members: list[Dest] = []
        total = 0
        for d in self.svc.dests:
            if d.weight > 0 and not d.flags & DEST_F_OVERLOAD:
                total += d.weight
                prefix.append(total)
                members.append(d)
        self.prefix = prefix
        self.members = members
        self.member_set = set(members)
        self.stale = False

    def schedule(self, caddr: int, cport: int, daddr: int, now: float) -> Dest | None:
        if self.stale:
            self._refresh()
        prefix = self.prefix
        if not prefix:
            return None
        span = prefix[-1] + 1
        r1 = random_below(self.rng, span)
        r2 = random_below(self.rng, span)
        members = self.members
        c1 = members[bisect_left(prefix, r1)]
        c2 = members[bisect_left(prefix, r2)]
        oh1 = (c1.activeconns << 8) + c1.inactconns
        oh2 = (c2.activeconns << 8) + c2.inactconns
        if _s32(c2.weight * oh1) > _s32(c1.weight * oh2):
            return c2
        return c1
