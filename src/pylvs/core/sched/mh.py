"""mh — Maglev hashing (Linux >= 4.18, §2.4).

A 4093-slot lookup table populated from each dest's (offset, skip)
permutation, with ``last_weight`` turning into consecutive claims per pass,
so that quiescing a dest (weight 0) keeps its slots.
"""

from __future__ import annotations

from math import gcd
from random import Random

from pylvs.core.addr import fold32
from pylvs.core.model import DEST_F_OVERLOAD, SVC_F_SCHED1, SVC_F_SCHED2, Dest, Service
from pylvs.core.sched.base import Scheduler
from pylvs.core.sched.hashing import hsiphash_u32_keyed
from pylvs.core.sysctl import Sysctl

TAB_INDEX = 12
# The prime table size for TAB_INDEX 12 (primes 251, 509, 1021, 2039, 4093, ...).
TAB_SIZE = 4093
TAB_BITS = TAB_INDEX // 2
# Two fixed keys, each as (word0, word1).
KEY1 = (2654435761, 2654435761)
KEY2 = (2654446892, 2654446892)


_HASHERS = {KEY1: hsiphash_u32_keyed(*KEY1), KEY2: hsiphash_u32_keyed(*KEY2)}
_hash1 = _HASHERS[KEY1]


def mh_hash(af: int, addr: int, port: int, key: tuple[int, int], offset: int) -> int:
    return _HASHERS[key]((offset + port + fold32(af, addr)) & 0xFFFFFFFF)


def _unusable(d: Dest) -> bool:
    return d.weight <= 0 or bool(d.flags & DEST_F_OVERLOAD)


class MaglevHashing(Scheduler):
    name = "mh"

    def __init__(self, svc: Service, rng: Random, sysctl: Sysctl | None = None) -> None:
        super().__init__(svc, rng, sysctl)
        self.lookup: list[Dest | None] = [None] * TAB_SIZE
        self._reassign()

    def _reassign(self) -> None:
        svc = self.svc
        dests = svc.dests
        if len(dests) > TAB_SIZE:
            return  # the kernel refuses the rebuild and keeps the old table
        lookup: list[Dest | None] = [None] * TAB_SIZE
        self.lookup = lookup
        g = 0
        for d in dests:
            if d.last_weight > 0:
                g = gcd(g, d.last_weight)
        if not dests or g < 1:
            return
        mw = max(d.last_weight for d in dests) // g
        rshift = max(0, mw.bit_length() - TAB_BITS)
        af = svc.key.af
        perms: list[int] = []
        skips: list[int] = []
        turns: list[int] = []
        for d in dests:
            perms.append(mh_hash(af, d.addr, d.port, KEY1, 0) % TAB_SIZE)
            skips.append(mh_hash(af, d.addr, d.port, KEY2, 0) % (TAB_SIZE - 1) + 1)
            lw = d.last_weight
            t = (lw // g) >> rshift
            turns.append(t if t else (1 if lw != 0 else 0))
        taken = bytearray(TAB_SIZE)
        n = 0
        while True:
            for i, d in enumerate(dests):
                t = turns[i]
                if t < 1:
                    continue
                for _ in range(t):
                    c = perms[i]
                    skip = skips[i]
                    while taken[c]:
                        c += skip
                        if c >= TAB_SIZE:
                            c -= TAB_SIZE
                    perms[i] = c
                    taken[c] = 1
                    lookup[c] = d
                    n += 1
                    if n == TAB_SIZE:
                        return

    def add_dest(self, dest: Dest) -> None:
        self._reassign()

    def del_dest(self, dest: Dest, index: int) -> None:
        self._reassign()

    def upd_dest(self, dest: Dest) -> None:
        self._reassign()

    def schedule(self, caddr: int, cport: int, daddr: int, now: float) -> Dest | None:
        svc = self.svc
        af = svc.key.af
        port = cport if svc.flags & SVC_F_SCHED2 else 0
        ihash = _hash1((port + fold32(af, caddr)) & 0xFFFFFFFF) % TAB_SIZE
        d = self.lookup[ihash]
        if d is None:
            return None
        if not _unusable(d):
            return d
        if not svc.flags & SVC_F_SCHED1:
            return None
        for offset in range(TAB_SIZE):
            roffset = (offset + ihash) % TAB_SIZE
            cand = self.lookup[mh_hash(af, caddr, port, KEY1, roffset) % TAB_SIZE]
            if cand is None:
                return None
            if not _unusable(cand):
                return cand
        return None
