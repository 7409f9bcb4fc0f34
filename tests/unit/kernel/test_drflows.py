"""Reading the kernel's DR flows back (nft -j list map)."""

from __future__ import annotations

from builders import ip
from pylvs.dataplane.kernel.drflows import parse_flows, parse_set


def _map(*rows: tuple[str, int, int, int]) -> list[dict[str, object]]:
    elems = [
        [
            {
                "elem": {
                    "val": {"concat": ["10.0.2.50", "10.0.1.100", port, 80]},
                    "timeout": t,
                    "expires": e,
                }
            },
            v,
        ]
        for (_n, port, t, e), v in zip(rows, [5] * len(rows), strict=True)
    ]
    return [{"map": {"family": "netdev", "name": "t4", "table": "pylvs", "elem": elems}}]


def test_states_from_sets_and_timeouts() -> None:
    objs = _map(
        ("a", 1000, 900, 880), ("b", 1001, 60, 59), ("c", 1002, 120, 100), ("d", 1003, 10, 3)
    )
    fin = parse_set(
        [{"set": {"elem": [{"elem": {"val": {"concat": ["10.0.2.50", "10.0.1.100", 1002, 80]}}}]}}]
    )
    rst = parse_set([{"set": {"elem": [{"concat": ["10.0.2.50", "10.0.1.100", 1003, 80]}]}}])
    syn = parse_set([{"set": {"elem": [{"concat": ["10.0.2.50", "10.0.1.100", 1001, 80]}]}}])
    flows = parse_flows("t4", objs, fin, rst, syn)
    assert [f.state for f in flows] == ["ESTABLISHED", "SYN_RECV", "FIN_WAIT", "CLOSE"]
    f = flows[0]
    assert (f.caddr, f.vaddr, f.cport, f.vport, f.dest_id, f.expires) == (
        ip("10.0.2.50"), ip("10.0.1.100"), 1000, 80, 5, 880,
    )  # fmt: skip


def test_udp_and_junk() -> None:
    objs = _map(("a", 53, 300, 299))
    objs[0]["map"]["elem"].append(["junk"])  # type: ignore[index]
    flows = parse_flows("u4", objs, set(), set(), set())
    assert [f.state for f in flows] == ["UDP"]
    assert parse_flows("u4", [{"map": {}}], set(), set(), set()) == []
