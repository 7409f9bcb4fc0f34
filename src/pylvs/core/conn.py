"""Connection entries and the connection table (behaviour reference §4).

An entry's in-lookup key packs (family, protocol, client addr, client port,
virtual addr, virtual port) into one ``int``: cheap to hash and small, so a
million entries fit in well under 300 bytes each. Templates (persistence)
live in their own map under the same kind of key (client port 0, masked
client address).

Timers: every entry has an absolute ``expires``. The table keeps a wheel of
one-second buckets (a dict of lists plus a heap of bucket times). Restarting
a timer to a *later* time costs nothing: the entry stays in its bucket and
is moved only when that bucket comes due. An earlier time puts it in the
earlier bucket as well (the old bucket entry is then stale and skipped).
So expiry work is proportional to the entries that come due, not to the
table.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from math import ceil

from pylvs.core.addr import AF_INET, AF_INET6
from pylvs.core.model import CONN_F_FWD_MASK, CONN_F_TEMPLATE, Dest

__all__ = ["Conn", "ConnTable", "conn_key", "decode_key"]

_V6_TAG = 1 << 400


def conn_key(af: int, proto: int, caddr: int, cport: int, vaddr: int, vport: int) -> int:
    """The in-lookup key of an entry, as one integer."""
    if af == AF_INET:
        return (proto << 96) | (caddr << 64) | (cport << 48) | (vaddr << 16) | vport
    return _V6_TAG | (proto << 288) | (caddr << 160) | (cport << 144) | (vaddr << 16) | vport


def decode_key(key: int) -> tuple[int, int, int, int, int, int]:
    """``(af, proto, caddr, cport, vaddr, vport)`` of a key."""
    if key & _V6_TAG:
        return (
            AF_INET6,
            (key >> 288) & 0xFF,
            (key >> 160) & ((1 << 128) - 1),
            (key >> 144) & 0xFFFF,
            (key >> 16) & ((1 << 128) - 1),
            key & 0xFFFF,
        )
    return (
        AF_INET,
        (key >> 96) & 0xFF,
        (key >> 64) & 0xFFFFFFFF,
        (key >> 48) & 0xFFFF,
        (key >> 16) & 0xFFFFFFFF,
        key & 0xFFFF,
    )


class Conn:
    """One connection entry or persistence template."""

    __slots__ = (
        "bucket",
        "control",
        "daddr",
        "dest",
        "dport",
        "expires",
        "flags",
        "fwmark",
        "in_pkts",
        "key",
        "n_control",
        "state",
        "timeout",
    )

    def __init__(
        self,
        key: int,
        dest: Dest | None,
        daddr: int,
        dport: int,
        flags: int,
        fwmark: int = 0,
    ) -> None:
        self.key = key
        self.dest = dest
        self.daddr = daddr
        self.dport = dport
        self.flags = flags
        self.fwmark = fwmark
        self.state = 0
        self.timeout: float = 0
        self.expires: float = 0.0
        self.control: Conn | None = None
        self.n_control = 0
        self.in_pkts = 0
        # The wheel bucket this entry is filed under, None when not armed.
        self.bucket: int | None = None

    @property
    def af(self) -> int:
        return AF_INET6 if self.key & _V6_TAG else AF_INET

    @property
    def protocol(self) -> int:
        return decode_key(self.key)[1]

    @property
    def caddr(self) -> int:
        return decode_key(self.key)[2]

    @property
    def cport(self) -> int:
        return decode_key(self.key)[3]

    @property
    def vaddr(self) -> int:
        return decode_key(self.key)[4]

    @property
    def vport(self) -> int:
        return decode_key(self.key)[5]

    @property
    def daf(self) -> int:
        return self.dest.af if self.dest is not None else self.af

    @property
    def fwd(self) -> int:
        return self.flags & CONN_F_FWD_MASK

    @property
    def is_template(self) -> bool:
        return bool(self.flags & CONN_F_TEMPLATE)

    def __repr__(self) -> str:
        _af, proto, caddr, cport, vaddr, vport = decode_key(self.key)
        return f"<Conn p={proto} {caddr:x}:{cport}->{vaddr:x}:{vport} s={self.state} f={self.flags:#x}>"


class ConnTable:
    """Entries by key, templates by template key, and their timers."""

    def __init__(self) -> None:
        self.conns: dict[int, Conn] = {}
        self.templates: dict[int, Conn] = {}
        self._wheel: dict[int, list[Conn]] = {}
        self._heap: list[int] = []

    def __len__(self) -> int:
        return len(self.conns) + len(self.templates)

    def __iter__(self) -> Iterator[Conn]:
        yield from self.conns.values()
        yield from self.templates.values()

    def get(self, key: int) -> Conn | None:
        return self.conns.get(key)

    def get_template(self, key: int) -> Conn | None:
        return self.templates.get(key)

    def hash(self, conn: Conn) -> None:
        if conn.flags & CONN_F_TEMPLATE:
            self.templates[conn.key] = conn
        else:
            self.conns[conn.key] = conn

    def unhash(self, conn: Conn) -> bool:
        """Remove from the lookup maps; False if it was not there."""
        table = self.templates if conn.flags & CONN_F_TEMPLATE else self.conns
        if table.get(conn.key) is conn:
            del table[conn.key]
            return True
        return False

    def rehash(self, conn: Conn, new_key: int) -> None:
        self.unhash(conn)
        conn.key = new_key
        self.hash(conn)

    # --- timers --------------------------------------------------------
    def arm(self, conn: Conn, now: float) -> None:
        """(Re)start the entry's timer at ``now + timeout``."""
        expires = now + conn.timeout
        conn.expires = expires
        current = conn.bucket
        if current is not None and current <= expires:
            return  # re-filed lazily when its bucket comes due
        b = ceil(expires)
        conn.bucket = b
        self._file(conn, b)

    def _file(self, conn: Conn, b: int) -> None:
        lst = self._wheel.get(b)
        if lst is None:
            self._wheel[b] = [conn]
            heapq.heappush(self._heap, b)
        else:
            lst.append(conn)

    def disarm(self, conn: Conn) -> None:
        conn.bucket = None

    def due(self, now: float) -> list[Conn]:
        """Entries whose timer has fired by ``now`` (each disarmed).

        Bucket ``b`` holds entries expiring in (b-1, b], so every bucket below
        ``now + 1`` may hold due entries; the last one may also hold some that
        are not due yet, which stay where they are.
        """
        fired: list[Conn] = []
        heap = self._heap
        wheel = self._wheel
        while heap and heap[0] - 1 < now:
            b = heap[0]
            keep: list[Conn] = []
            for conn in wheel[b]:
                if conn.bucket != b:
                    continue
                if conn.expires <= now:
                    conn.bucket = None
                    fired.append(conn)
                    continue
                nb = ceil(conn.expires)
                if nb == b:
                    keep.append(conn)
                else:
                    conn.bucket = nb
                    self._file(conn, nb)
            if keep:
                wheel[b] = keep
                break
            heapq.heappop(heap)
            del wheel[b]
        return fired

    def next_deadline(self) -> float | None:
        return float(self._heap[0]) if self._heap else None
