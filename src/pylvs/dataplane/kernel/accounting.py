"""ActiveConn/InActConn of the flows the kernel carries, from counters (pure).

IPVS counts a connection active from its SYN until it leaves the
SYN/ESTABLISHED states, then inactive until its entry expires (behaviour
reference §4.4); UDP entries are inactive for life. The kernel plane does
not watch every flow for this (a conntrack event costs the daemon about
15 µs, several per connection); instead the kernel counts, per real server,
the flows it binds, the flows whose first FIN or RST it sees, and the daemon
turns counter deltas into IPVS's counts:

* a new TCP/SCTP flow: active; a new UDP flow: inactive;
* a first FIN: active → inactive, gone after the TIME_WAIT (NAT) or
  FIN_WAIT (DR) timeout; a first RST: the same, gone after CLOSE's;
* a UDP flow: gone after the UDP timeout.

Flows that end without FIN or RST (idle timeout) and long UDP flows are
what the model cannot see; a periodic reconciliation with the kernel's real
entries (``reset``) corrects them.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

__all__ = ["Accounts", "Change"]


@dataclass(frozen=True)
class Change:
    dest_id: int
    active: int
    inactive: int


@dataclass
class Accounts:
    # (when, dest id, how many inactive flows end then)
    _ends: list[tuple[float, int, int]] = field(default_factory=list)

    def opened(self, dest_id: int, n: int, udp: bool, now: float, udp_timeout: float) -> Change:
        if udp:
            heapq.heappush(self._ends, (now + udp_timeout, dest_id, n))
            return Change(dest_id, 0, n)
        return Change(dest_id, n, 0)

    def end_later(self, dest_id: int, n: int, when: float) -> None:
        """``n`` inactive flows, already counted, end at ``when``."""
        heapq.heappush(self._ends, (when, dest_id, n))

    def closed(self, dest_id: int, n: int, now: float, linger: float) -> Change:
        """``n`` flows saw their first FIN or RST; their entries last
        ``linger`` seconds more."""
        heapq.heappush(self._ends, (now + linger, dest_id, n))
        return Change(dest_id, -n, n)

    def due(self, now: float) -> list[Change]:
        out = []
        ends = self._ends
        while ends and ends[0][0] <= now:
            _when, dest_id, n = heapq.heappop(ends)
            out.append(Change(dest_id, 0, -n))
        return out

    def reset(self, dest_ids: set[int] | None = None) -> None:
        """The counts were just read from the kernel's entries: pending ends
        are in them already."""
        if dest_ids is None:
            self._ends.clear()
            return
        self._ends = [e for e in self._ends if e[1] not in dest_ids]
        heapq.heapify(self._ends)
