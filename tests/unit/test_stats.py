"""Counters, the 2 s rate estimator and -Z (behaviour reference §4.9, §5)."""

from __future__ import annotations

from pylvs.core.stats import Stats


def test_estimator_reference_example() -> None:
    s = Stats()
    shown = []
    for _ in range(5):
        s.conns += 200  # 100 conn/s over 2 s
        s.estimate()
        shown.append(s.view().cps)
    assert shown == [25, 44, 58, 68, 76]


def test_bytes_rates_are_bytes_per_second() -> None:
    s = Stats()
    for _ in range(80):
        s.inbytes += 2_000_000
        s.outpkts += 20
        s.estimate()
    v = s.view()
    assert v.inbps == 1_000_000 and v.outpps == 10


def test_zero_uses_last_snapshot() -> None:
    s = Stats()
    s.conns = 10
    s.estimate()
    s.conns = 15  # after the last pass
    s.zero()
    assert s.view().conns == 0 and s.view().cps == 0
    s.estimate()
    assert s.view().conns == 5


def test_run_estimation_off_freezes() -> None:
    s = Stats()
    s.conns = 3
    s.estimate(run_estimation=False)
    assert s.view().conns == 0
