"""Scheduler properties: wrr ratios, mh fairness."""

from __future__ import annotations

from collections import Counter
from functools import reduce
from math import gcd

from hypothesis import given, settings
from hypothesis import strategies as st

from builders import Lab
from pylvs.core.sched.mh import TAB_SIZE, MaglevHashing


@settings(max_examples=60, deadline=None)
@given(weights=st.lists(st.integers(0, 12), min_size=1, max_size=6))
def test_wrr_ratios_equal_weights_over_a_cycle(weights: list[int]) -> None:
    lab = Lab("wrr")
    for i, w in enumerate(weights):
        lab.add(f"d{i}", w)
    positive = [w for w in weights if w > 0]
    if not positive:
        assert lab.pick() == "-"
        return
    g = reduce(gcd, positive)
    cycle = sum(w // g for w in positive)
    lab.picks(cycle * 3)  # leave the first, cw = 1 round behind
    counts = Counter(lab.picks(cycle).split())
    assert counts == Counter({f"d{i}": w // g for i, w in enumerate(weights) if w > 0})


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 40))
def test_mh_gives_each_dest_floor_or_ceil_slots(n: int) -> None:
    lab = Lab("mh")
    for i in range(n):
        lab.add(f"d{i}", 1, addr=f"10.3.{i // 200}.{i % 200 + 1}")
    sched = lab.svc.sched
    assert isinstance(sched, MaglevHashing)
    counts = Counter(d for d in sched.lookup if d is not None)
    assert sum(counts.values()) == TAB_SIZE
    assert set(counts.values()) <= {TAB_SIZE // n, -(-TAB_SIZE // n)}
