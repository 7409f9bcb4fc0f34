"""The indexed least-load schedulers pick exactly what the kernel's linear
walk picks (behaviour reference §2.2, §2.4), whatever the loads, weights,
flags and list changes."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from builders import Lab
from pylvs.core.model import DEST_F_OVERLOAD, Dest


def touch(d: Dest) -> None:
    """Tell the scheduler's index that d's load changed (as binding does)."""
    if d.load_listener is not None:
        d.load_listener.load_changed(d)


def oh(d: Dest) -> int:
    return (d.activeconns << 8) + d.inactconns


def ovl(d: Dest) -> bool:
    return bool(d.flags & DEST_F_OVERLOAD)


def scan_lc(dests: list[Dest]) -> Dest | None:
    least = None
    for d in dests:
        if ovl(d) or d.weight == 0:
            continue
        if least is None or oh(d) < oh(least):
            least = d
    return least


def scan_wlc(dests: list[Dest]) -> Dest | None:
    least = None
    for d in dests:
        if least is None:
            if not ovl(d) and d.weight > 0:
                least = d
            continue
        if ovl(d):
            continue
        if oh(least) * d.weight > oh(d) * least.weight:
            least = d
    return least


def scan_sed(dests: list[Dest]) -> Dest | None:
    least = None
    for d in dests:
        if least is None:
            if not ovl(d) and d.weight > 0:
                least = d
            continue
        if ovl(d):
            continue
        if (least.activeconns + 1) * d.weight > (d.activeconns + 1) * least.weight:
            least = d
    return least


def scan_nq(dests: list[Dest]) -> Dest | None:
    least = None
    for d in dests:
        if ovl(d) or not d.weight:
            continue
        if d.activeconns == 0:
            return d
        if least is None or (least.activeconns + 1) * d.weight > (d.activeconns + 1) * least.weight:
            least = d
    return least


def scan_fo(dests: list[Dest]) -> Dest | None:
    best, hw = None, 0
    for d in dests:
        if not ovl(d) and d.weight > hw:
            best, hw = d, d.weight
    return best


def scan_ovf(dests: list[Dest]) -> Dest | None:
    best = None
    for d in dests:
        if ovl(d) or d.activeconns > d.weight or d.weight == 0:
            continue
        if best is None or d.weight > best.weight:
            best = d
    return best


SCANS: dict[str, Callable[[list[Dest]], Dest | None]] = {
    "lc": scan_lc,
    "wlc": scan_wlc,
    "sed": scan_sed,
    "nq": scan_nq,
    "fo": scan_fo,
    "ovf": scan_ovf,
}

dest_state = st.tuples(
    st.integers(0, 5),  # weight
    st.integers(0, 6),  # active
    st.integers(0, 300),  # inactive
    st.booleans(),  # overloaded
)
step = st.one_of(
    st.tuples(st.just("load"), st.integers(0, 30), dest_state),
    st.tuples(st.just("add"), st.integers(0, 5), st.just((0, 0, 0, False))),
    st.tuples(st.just("del"), st.integers(0, 30), st.just((0, 0, 0, False))),
    st.tuples(st.just("pick"), st.just(0), st.just((0, 0, 0, False))),
)


@settings(max_examples=150, deadline=None)
@given(
    sched=st.sampled_from(sorted(SCANS)),
    initial=st.lists(dest_state, min_size=0, max_size=12),
    steps=st.lists(step, max_size=40),
)
def test_indexed_equals_scan(
    sched: str, initial: list[tuple[int, int, int, bool]], steps: list[tuple[str, int, object]]
) -> None:
    lab = Lab(sched)
    serial = 0

    def set_state(d: Dest, state: tuple[int, int, int, bool]) -> None:
        w, a, i, o = state
        if d.weight != w:
            lab.edit(lab.name_of(d), weight=w)
        d.activeconns, d.inactconns = a, i
        d.flags = (d.flags | DEST_F_OVERLOAD) if o else (d.flags & ~DEST_F_OVERLOAD)
        if d.load_listener is not None:
            d.load_listener.load_changed(d)

    for state in initial:
        serial += 1
        d = lab.add(f"d{serial}", 1, addr=f"10.2.{serial // 250}.{serial % 250 + 1}")
        set_state(d, state)
    for kind, idx, state in steps:
        dests = lab.svc.dests
        if kind == "load" and dests:
            set_state(dests[idx % len(dests)], state)  # type: ignore[arg-type]
        elif kind == "add":
            serial += 1
            lab.add(f"d{serial}", idx, addr=f"10.2.{serial // 250}.{serial % 250 + 1}")
        elif kind == "del" and dests:
            lab.delete(lab.name_of(dests[idx % len(dests)]))
        sched_obj = lab.svc.sched
        assert sched_obj is not None
        got = sched_obj.schedule(0, 0, 0, 0.0)
        assert got is SCANS[sched](lab.svc.dests)


def test_reference_examples() -> None:
    lab = Lab("lc")
    x = lab.add("X")
    y = lab.add("Y")
    x.activeconns, x.inactconns = 1, 0
    y.activeconns, y.inactconns = 0, 100
    for d in (x, y):
        touch(d)
    assert lab.pick() == "Y"
    lab = Lab("wlc")
    lab.add("W10", 10)
    lab.add("W1", 1)  # list: W1, W10
    assert lab.pick() == "W1"
    lab = Lab("sed")
    lab.add("W10", 10)
    lab.add("W1", 1)
    assert lab.pick() == "W10"


@settings(max_examples=100, deadline=None)
@given(
    loads=st.lists(
        st.tuples(st.integers(1, 9), st.integers(0, 5), st.integers(0, 50)), min_size=1, max_size=10
    )
)
def test_lc_and_wlc_never_pick_a_busier_dest(loads: list[tuple[int, int, int]]) -> None:
    for sched in ("lc", "wlc"):
        lab = Lab(sched)
        for i, (w, a, n) in enumerate(loads):
            d = lab.add(f"d{i}", w, addr=f"10.4.0.{i + 1}")
            d.activeconns, d.inactconns = a, n
            touch(d)
        s = lab.svc.sched
        assert s is not None
        got = s.schedule(0, 0, 0, 0.0)
        assert got is not None
        for d in lab.svc.dests:
            if sched == "lc":
                assert oh(got) <= oh(d)
            else:
                assert oh(got) * d.weight <= oh(d) * got.weight


def test_nq_fo_ovf_examples() -> None:
    lab = Lab("nq")
    a = lab.add("A", 1)
    b = lab.add("B", 5)  # list: B, A
    b.activeconns, a.activeconns = 2, 0
    for d in (a, b):
        touch(d)
    assert lab.pick() == "A"  # the first idle dest, whatever the weights
    a.activeconns = 1
    touch(a)
    assert lab.pick() == "B"  # (2+1)/5 < (1+1)/1
    lab = Lab("fo")
    lab.add("A", 3)
    lab.add("B", 3)  # list: B, A
    lab.add("C", 1)
    assert lab.pick() == "B"  # highest weight, first in list
    lab.edit("B", weight=0)
    assert lab.pick() == "A"
    lab = Lab("ovf")
    a = lab.add("A", 2)
    b = lab.add("B", 3)  # list: B, A
    assert lab.pick() == "B"
    b.activeconns = 3
    touch(b)
    assert lab.pick() == "B"  # active == weight is still eligible
    b.activeconns = 4
    touch(b)
    assert lab.pick() == "A"
