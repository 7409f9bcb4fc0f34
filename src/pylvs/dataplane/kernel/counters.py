"""The kernel's named counters, read as what they count. pylvs names each
counter after the real server it belongs to (ruleset.py, drtable.py):
``d<id>`` NAT, ``r<id>`` DR, followed by what it counts — ``i`` packets and
bytes in, ``o`` out, ``c`` new flows the kernel scheduled itself, ``f``/``r``
first FINs/RSTs (the flow leaves ActiveConn).

Pure: deltas between two reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import NamedTuple

__all__ = ["CounterDelta", "deltas"]

_NAME = re.compile(r"^([dr])(\d+)([iocfr]?)$")


class CounterDelta(NamedTuple):
    nat: bool  # d<id> (NAT) rather than r<id> (DR)
    dest_id: int
    kind: str  # "i", "o", "c", "f" or "r"
    packets: int
    nbytes: int


def deltas(
    last: Mapping[str, tuple[int, int]], now: Mapping[str, tuple[int, int]]
) -> Iterator[CounterDelta]:
    """What moved between two reads (name -> (packets, bytes)), for the
    counters pylvs names; others (the kernel cycles' k<sid>n) are skipped."""
    for name, (pkts, nbytes) in now.items():
        lp, lb = last.get(name, (0, 0))
        dp, db = pkts - lp, nbytes - lb
        if dp <= 0 and db <= 0:
            continue
        m = _NAME.match(name)
        if m is None:
            continue
        yield CounterDelta(m.group(1) == "d", int(m.group(2)), m.group(3) or "i", dp, db)
