"""The DR flows the kernel holds, read back from ``nft -j list map`` (pure).

A flow's IPVS state follows from where the netdev table keeps it
(drtable.py): in ``rst4`` → CLOSE, in ``fin4`` → FIN_WAIT, in ``syn4`` →
SYN_RECV, else ESTABLISHED; UDP flows are "UDP", SCTP ones ESTABLISHED.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any, NamedTuple

from pylvs.core.addr import IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP

__all__ = ["DrFlow", "parse_flows", "parse_set"]

MAP_PROTO = {"t4": IPPROTO_TCP, "u4": IPPROTO_UDP, "s4": IPPROTO_SCTP}
Key = tuple[int, int, int, int]


class DrFlow(NamedTuple):
    proto: int
    caddr: int
    vaddr: int
    cport: int
    vport: int
    dest_id: int
    timeout: int
    expires: int
    state: str


def _key(val: Any) -> Key | None:
    try:
        a, b, c, d = val["concat"]
        return (int(ipaddress.IPv4Address(a)), int(ipaddress.IPv4Address(b)), int(c), int(d))
    except (KeyError, TypeError, ValueError):
        return None


def _elems(objs: Iterable[dict[str, Any]], kind: str) -> list[Any]:
    for obj in objs:
        body = obj.get(kind)
        if body is not None:
            elems = body.get("elem", [])
            return elems if isinstance(elems, list) else []
    return []


def parse_set(objs: Iterable[dict[str, Any]]) -> set[Key]:
    out = set()
    for e in _elems(objs, "set"):
        inner = e.get("elem", {}) if isinstance(e, dict) else {}
        k = _key(inner.get("val", e))
        if k is not None:
            out.add(k)
    return out


def parse_flows(
    name: str,
    objs: Iterable[dict[str, Any]],
    fin: set[Key],
    rst: set[Key],
    syn: set[Key],
) -> list[DrFlow]:
    proto = MAP_PROTO[name]
    out = []
    for row in _elems(objs, "map"):
        try:
            head, value = row
            inner = head["elem"]
            k = _key(inner["val"])
            timeout, expires = int(inner.get("timeout", 0)), int(inner.get("expires", 0))
            dest_id = int(value) & 0x00FFFFFF
        except (KeyError, TypeError, ValueError):
            continue
        if k is None:
            continue
        if proto == IPPROTO_TCP:
            if k in rst:
                state = "CLOSE"
            elif k in fin:
                state = "FIN_WAIT"
            elif k in syn:
                state = "SYN_RECV"
            else:
                state = "ESTABLISHED"
        elif proto == IPPROTO_UDP:
            state = "UDP"
        else:
            state = "ESTABLISHED"
        out.append(DrFlow(proto, k[0], k[1], k[2], k[3], dest_id, timeout, expires, state))
    return out
