"""The timer wheel never loses a live entry and never expires one early."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.core.conn import Conn, ConnTable


@settings(max_examples=200, deadline=None)
@given(
    events=st.lists(
        st.tuples(
            st.integers(0, 15),  # which entry
            st.floats(0, 5, allow_nan=False),  # time step
            st.floats(0, 30, allow_nan=False),  # new timeout
        ),
        max_size=80,
    )
)
def test_entries_expire_exactly_when_due(events: list[tuple[int, float, float]]) -> None:
    table = ConnTable()
    live: dict[int, Conn] = {}
    now = 0.0
    for which, step, timeout in events:
        now += step
        for c in table.due(now):
            assert c.expires <= now
            assert live.pop(c.key) is c
        for c in live.values():
            assert c.expires > now  # nothing due was left behind
        conn = live.get(which)
        if conn is None:
            conn = Conn(which, None, 0, 0, 0)
            table.hash(conn)
            live[which] = conn
        conn.timeout = timeout
        table.arm(conn, now)
    now += 100
    assert {c.key for c in table.due(now)} == set(live)
