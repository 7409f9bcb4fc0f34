"""A tournament tree over a service's dest list for the least-load schedulers.

The kernel walks every dest per decision (lc, wlc, sed, nq, fo, ovf). That
is O(n) per new connection; here each leaf holds one dest in list order and
each inner node the winner of its two children, where the right child wins
only when it is *strictly* better — the same "first in list order wins a
tie" rule as the kernel's scan, so the root is exactly the dest the kernel
would pick. A dest whose load or flags change is marked dirty and its path
to the root is replayed at the next decision: O(changed · log n).
"""

from __future__ import annotations

from collections.abc import Callable

from pylvs.core.model import Dest, LoadListener, Service

__all__ = ["LoadIndex"]


class LoadIndex(LoadListener):
    __slots__ = ("_better", "_dirty", "_eligible", "_nodes", "_pos", "_relayout", "_size", "svc")

    def __init__(
        self,
        svc: Service,
        eligible: Callable[[Dest], bool],
        better: Callable[[Dest, Dest], bool],
    ) -> None:
        self.svc = svc
        self._eligible = eligible
        # better(a, b): a, which comes later in the list, beats b.
        self._better = better
        self._dirty: set[Dest] = set()
        self._nodes: list[Dest | None] = []
        self._pos: dict[Dest, int] = {}
        self._size = 1
        self._relayout = False
        self.rebuild()

    def invalidate(self) -> None:
        """The dest list or a weight changed: re-lay the leaves before the next
        decision (so that adding many dests costs one rebuild, not one each)."""
        self._relayout = True

    def rebuild(self) -> None:
        """Re-lay the leaves after the dest list changed."""
        self._relayout = False
        dests = self.svc.dests
        size = 1
        while size < len(dests):
            size <<= 1
        self._size = size
        nodes: list[Dest | None] = [None] * (2 * size)
        eligible = self._eligible
        self._pos = {}
        for i, d in enumerate(dests):
            self._pos[d] = i
            d.load_listener = self
            nodes[size + i] = d if eligible(d) else None
        better = self._better
        for k in range(size - 1, 0, -1):
            left = nodes[2 * k]
            right = nodes[2 * k + 1]
            if left is None:
                nodes[k] = right
            elif right is None or not better(right, left):
                nodes[k] = left
            else:
                nodes[k] = right
        self._nodes = nodes
        self._dirty.clear()

    def detach(self) -> None:
        for d in self.svc.dests:
            if d.load_listener is self:
                d.load_listener = None
        self._pos = {}

    def load_changed(self, dest: Dest) -> None:
        self._dirty.add(dest)

    def best(self) -> Dest | None:
        if self._relayout:
            self.rebuild()
        elif self._dirty:
            self._replay()
        return self._nodes[1] if self._nodes else None

    def _replay(self) -> None:
        nodes = self._nodes
        better = self._better
        eligible = self._eligible
        size = self._size
        pos = self._pos
        for d in self._dirty:
            i = pos.get(d)
            if i is None:
                continue
            k = size + i
            nodes[k] = d if eligible(d) else None
            k >>= 1
            while k:
                left = nodes[2 * k]
                right = nodes[2 * k + 1]
                if left is None:
                    win = right
                elif right is None or not better(right, left):
                    win = left
                else:
                    win = right
                nodes[k] = win
                k >>= 1
        self._dirty.clear()
