"""The kernel's rr/wrr cycle is exactly the core's (IPVS's) sequence."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from builders import DR, Lab
from pylvs.core.model import CONN_F_MASQ
from pylvs.dataplane.kernel import kernelsched as ks


def _ids(lab: Lab) -> dict[int, str]:
    return {id(d): lab.name_of(d) for d in lab.svc.dests}


def _layout(lab: Lab, dr_ready: set[int] | None = None) -> tuple[ks.KernelLayout | None, int]:
    numbers = {id(d): i + 1 for i, d in enumerate(lab.svc.dests)}
    return ks.layout(lab.svc, lambda d: numbers[id(d)], dr_ready or set())


def _names(lab: Lab, lay: ks.KernelLayout) -> list[str]:
    by_number = {i + 1: lab.name_of(d) for i, d in enumerate(lab.svc.dests)}
    return [by_number[i] for i in lay.ids]


@settings(max_examples=200, deadline=None)
@given(
    sched=st.sampled_from(["rr", "wrr"]),
    weights=st.lists(st.integers(0, 12), min_size=1, max_size=6),
    skip=st.integers(0, 40),
)
def test_cycle_repeats_the_core_sequence(sched: str, weights: list[int], skip: int) -> None:
    """Laid out after any number of picks, the cycle repeated gives the next
    picks of the core, for as long as one looks."""
    lab = Lab(sched)
    for i, w in enumerate(weights):
        lab.add(f"d{i}", weight=w)
    for _ in range(skip):
        lab.pick()
    lay, period = _layout(lab)
    if all(w == 0 for w in weights):
        assert lay is None
        return
    assert lay is not None and lay.method == "nat"
    cycle = _names(lab, lay)
    assert len(cycle) == period
    expected = [lab.pick() for _ in range(3 * period)]
    assert expected == cycle * 3


def test_guide_wrr_cycle_first_round() -> None:
    """wrr 3:2 with web2 added last: IPVS's first round (cw 0) picks both."""
    lab = Lab("wrr")
    lab.add("web1", weight=3)
    lab.add("web2", weight=2)
    lay, period = _layout(lab)
    assert lay is not None and period == 5
    assert _names(lab, lay) == ["web2", "web1", "web1", "web2", "web1"]


def test_advance_continues_the_sequence() -> None:
    lab = Lab("wrr")
    lab.add("a", weight=2)
    lab.add("b", weight=1)
    reference = Lab("wrr")
    reference.add("a", weight=2)
    reference.add("b", weight=1)
    lay, period = _layout(lab)
    assert lay is not None
    ks.advance(lab.svc, 7, period)  # the kernel scheduled 7 flows
    for _ in range(7):
        reference.pick()
    assert lab.picks(6) == reference.picks(6)


def test_not_in_the_kernel() -> None:
    lab = Lab("wlc")
    lab.add("a")
    assert _layout(lab) == (None, 0)
    persistent = Lab("rr", persistent=300)
    persistent.add("a")
    assert _layout(persistent) == (None, 0)
    threshold = Lab("rr")
    threshold.add("a", u_threshold=10)
    assert _layout(threshold) == (None, 0)
    mixed = Lab("rr")
    mixed.add("a", fwd=CONN_F_MASQ)
    mixed.add("b", fwd=DR)
    assert _layout(mixed, {1, 2}) == (None, 0)


def test_dr_cycle_needs_known_macs() -> None:
    lab = Lab("rr")
    lab.add("a", fwd=DR)
    lab.add("b", fwd=DR)
    assert _layout(lab, {1})[0] is None
    lay, _ = _layout(lab, {1, 2})
    assert lay is not None and lay.method == "dr"


def test_long_wrr_cycles_stay_with_the_daemon() -> None:
    lab = Lab("wrr")
    lab.add("a", weight=65535)
    lab.add("b", weight=1)
    assert _layout(lab) == (None, 0)
