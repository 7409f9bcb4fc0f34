"""ActiveConn/InActConn from the kernel's counters (accounting.py)."""

from __future__ import annotations

from pylvs.dataplane.kernel.accounting import Accounts, Change


def test_tcp_flow_life() -> None:
    a = Accounts()
    assert a.opened(7, 3, udp=False, now=0.0, udp_timeout=300) == Change(7, 3, 0)
    assert a.closed(7, 2, now=10.0, linger=120) == Change(7, -2, 2)
    assert a.due(129.0) == []
    assert a.due(130.0) == [Change(7, 0, -2)]
    assert a.due(1000.0) == []


def test_udp_flows_are_inactive_and_end() -> None:
    a = Accounts()
    assert a.opened(1, 4, udp=True, now=5.0, udp_timeout=300) == Change(1, 0, 4)
    a.end_later(1, 1, 100.0)
    assert a.due(100.0) == [Change(1, 0, -1)]
    assert a.due(305.0) == [Change(1, 0, -4)]


def test_reset_drops_pending_ends() -> None:
    a = Accounts()
    a.closed(1, 1, 0.0, 10)
    a.closed(2, 1, 0.0, 10)
    a.reset({1})
    assert a.due(20.0) == [Change(2, 0, -1)]
    a.closed(3, 1, 0.0, 10)
    a.reset()
    assert a.due(20.0) == []
