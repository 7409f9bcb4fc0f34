"""twos with injected draws; lblc and lblcr caches (§2.4)."""

from __future__ import annotations

from random import Random

from builders import Lab, ip
from pylvs.core.sched.lblc import LocalityLeastConnection
from pylvs.core.sched.lblcr import LocalityLeastConnectionReplicated
from pylvs.core.sched.twos import random_below


class Draws(Random):
    """A Random whose 32-bit draws are given."""

    def __init__(self, values: list[int]) -> None:
        super().__init__(0)
        self.values = list(values)

    def getrandbits(self, k: int) -> int:
        assert k == 32
        return self.values.pop(0)


def twos_lab(draws: list[int]) -> Lab:
    lab = Lab("twos")
    b = lab.add("B", 1)
    a = lab.add("A", 3)  # list: A, B
    a.activeconns = 1
    b.activeconns = 0
    sched = lab.svc.sched
    assert sched is not None
    sched.rng = Draws(draws)
    return lab


def test_random_below_is_multiply_high() -> None:
    # 0 is rejected for ceil 5 (its low word is below 2^32 mod 5), so draw again.
    assert random_below(Draws([0, 1]), 5) == 0
    assert random_below(Draws([0x40000000]), 5) == 1
    assert random_below(Draws([0xF0000000]), 5) == 4
    assert random_below(Draws([0xFFFFFFFF]), 5) == 4


def test_twos_choices() -> None:
    assert twos_lab([1, 1]).pick() == "A"
    assert twos_lab([0x40000000, 0xF0000000]).pick() == "B"
    assert twos_lab([0xFFFFFFFF, 0x00000001]).pick() == "B"


def lblc(lab: Lab) -> LocalityLeastConnection:
    sched = lab.svc.sched
    assert isinstance(sched, LocalityLeastConnection)
    return sched


def test_lblc_cache_sticks_and_moves() -> None:
    lab = Lab("lblc")
    lab.add("B", 1)
    lab.add("A", 1)
    assert lab.pick(daddr="192.0.2.7") == "A"  # both idle: the first in list order
    lab.dest("A").activeconns = 1
    assert lab.pick(daddr="192.0.2.7") == "A"  # cache hit, not overloaded
    lab.dest("A").activeconns = 5  # active > weight while B is under half load
    lab.dest("A").load_listener.load_changed(lab.dest("A"))  # type: ignore[union-attr]
    assert lab.pick(daddr="192.0.2.7") == "B"
    lab.dest("A").activeconns = 0
    assert lab.pick(daddr="192.0.2.7") == "B"  # the cache now names B
    cache = lblc(lab).cache
    assert cache.entries == 2 and len(cache) == 1  # the kernel's counter drift


def test_lblc_collects_idle_entries() -> None:
    lab = Lab("lblc")
    lab.add("A", 1)
    lab.pick(daddr="192.0.2.7")
    sched = lblc(lab)
    sched.tick(0.0)
    for t in range(60, 60 * 31, 60):
        sched.tick(float(t))
    assert len(sched.cache) == 1  # idle 30 min < 24 h expiration
    lab.ipvs.sysctl.lblc_expiration = 600
    for t in range(60 * 31, 60 * 62, 60):
        sched.tick(float(t))
    assert len(sched.cache) == 0


def test_lblcr_replicates() -> None:
    lab = Lab("lblcr")
    lab.add("B", 1)
    lab.add("A", 1)
    assert lab.pick(daddr="192.0.2.7") == "A"
    lab.dest("A").activeconns = 5
    lab.dest("A").load_listener.load_changed(lab.dest("A"))  # type: ignore[union-attr]
    assert lab.pick(daddr="192.0.2.7") == "B"
    sched = lab.svc.sched
    assert isinstance(sched, LocalityLeastConnectionReplicated)
    entry = sched.cache.get(ip("192.0.2.7"))
    assert entry is not None and [lab.name_of(d) for d in entry.dests] == ["B", "A"]
    lab.dest("A").activeconns = 0
    assert lab.pick(daddr="192.0.2.7") == "B"  # a tie keeps the first member
    lab.dest("B").activeconns = 3
    assert lab.pick(daddr="192.0.2.7") == "A"  # the least loaded member
