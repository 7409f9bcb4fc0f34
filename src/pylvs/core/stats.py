"""Counters and the kernel's 2-second EWMA rate estimator (behaviour reference §5).

Each :class:`Stats` keeps live counters that the data path increments, the
snapshot the estimator last took (``ipvsadm`` shows that snapshot, so its
figures move every 2 s, as with the kernel), a zero point set by ``-Z``
(§4.9), and the five rate averages.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ESTIMATOR_INTERVAL", "Stats", "StatsView"]

# The kernel estimates every stats object once per 2 s (ip_vs_est.c).
ESTIMATOR_INTERVAL = 2.0


class StatsView(NamedTuple):
    """What ipvsadm reads: counters since the last zero, and the rates."""

    conns: int
    inpkts: int
    outpkts: int
    inbytes: int
    outbytes: int
    cps: int
    inpps: int
    outpps: int
    inbps: int
    outbps: int


class Stats:
    """Per-service, per-dest or global counters with their estimator."""

    __slots__ = (
        "avg_cps",
        "avg_inbps",
        "avg_inpps",
        "avg_outbps",
        "avg_outpps",
        "conns",
        "inbytes",
        "inpkts",
        "k0",
        "kstats",
        "last",
        "outbytes",
        "outpkts",
    )

    def __init__(self) -> None:
        # Live counters, incremented by the data path.
        self.conns = 0
        self.inpkts = 0
        self.outpkts = 0
        self.inbytes = 0
        self.outbytes = 0
        # Snapshot taken by the last estimator pass, and the -Z zero point.
        self.kstats = (0, 0, 0, 0, 0)
        self.k0 = (0, 0, 0, 0, 0)
        # Estimator: values at the last pass, and scaled averages.
        self.last = (0, 0, 0, 0, 0)
        self.avg_cps = 0
        self.avg_inpps = 0
        self.avg_outpps = 0
        self.avg_inbps = 0
        self.avg_outbps = 0

    def live(self) -> tuple[int, int, int, int, int]:
        return (self.conns, self.inpkts, self.outpkts, self.inbytes, self.outbytes)

    def estimate(self, run_estimation: bool = True) -> None:
        """One estimator pass (every 2 s): refresh the snapshot and the rates.

        Averages are rates per second scaled by 2^10 (packets, connections)
        or 2^5 (bytes); each pass moves them 1/4 of the way to the new rate
        with an arithmetic shift, exactly as ip_vs_est.c.
        """
        if not run_estimation:
            return
        now = self.live()
        if now == self.last and not (
            self.avg_cps or self.avg_inpps or self.avg_outpps or self.avg_inbps or self.avg_outbps
        ):
            self.kstats = now  # idle: nothing moves (most dests of a large table)
            return
        self.kstats = now
        c, ip, op, ib, ob = now
        lc, lip, lop, lib, lob = self.last
        self.last = now
        self.avg_cps += (((c - lc) << 9) - self.avg_cps) >> 2
        self.avg_inpps += (((ip - lip) << 9) - self.avg_inpps) >> 2
        self.avg_outpps += (((op - lop) << 9) - self.avg_outpps) >> 2
        self.avg_inbps += (((ib - lib) << 4) - self.avg_inbps) >> 2
        self.avg_outbps += (((ob - lob) << 4) - self.avg_outbps) >> 2

    def zero(self) -> None:
        """``ipvsadm -Z``: the current snapshot becomes the zero point; rates restart at 0."""
        self.k0 = self.kstats
        self.last = self.kstats
        self.avg_cps = self.avg_inpps = self.avg_outpps = 0
        self.avg_inbps = self.avg_outbps = 0

    def values(self) -> list[int]:
        """The ten figures of :meth:`view`, as a list (for bulk listings)."""
        k = self.kstats
        z = self.k0
        return [
            k[0] - z[0],
            k[1] - z[1],
            k[2] - z[2],
            k[3] - z[3],
            k[4] - z[4],
            (self.avg_cps + 0x1FF) >> 10,
            (self.avg_inpps + 0x1FF) >> 10,
            (self.avg_outpps + 0x1FF) >> 10,
            (self.avg_inbps + 0xF) >> 5,
            (self.avg_outbps + 0xF) >> 5,
        ]

    def view(self) -> StatsView:
        return StatsView(*self.values())
