"""Counters the runner keeps: probes started/finished and how late each
started (actual start minus scheduled time), in a fixed-size histogram so
the cost stays constant however long the daemon runs."""

from __future__ import annotations

from array import array
from dataclasses import dataclass

__all__ = ["LatenessHistogram", "RunnerStats"]


class LatenessHistogram:
    """10 µs buckets up to 1 s; later starts land in the last bucket (the
    exact maximum is kept separately)."""

    BUCKET = 1e-5
    BUCKETS = 100_000

    def __init__(self) -> None:
        self.counts = array("q", bytes(8 * (self.BUCKETS + 1)))
        self.total = 0
        self.max = 0.0

    def add(self, lateness: float) -> None:
        if lateness < 0.0:
            lateness = 0.0
        i = int(lateness / self.BUCKET)
        self.counts[i if i < self.BUCKETS else self.BUCKETS] += 1
        self.total += 1
        if lateness > self.max:
            self.max = lateness

    def quantile(self, q: float) -> float:
        """The upper edge of the bucket holding quantile ``q`` (0..1)."""
        if not self.total:
            return 0.0
        rank = q * self.total
        seen = 0
        for i, n in enumerate(self.counts):
            seen += n
            if seen >= rank and n:
                return min((i + 1) * self.BUCKET, self.max)
        return self.max


@dataclass
class RunnerStats:
    started: int = 0
    finished: int = 0
    crashed: int = 0
    queued_peak: int = 0

    def __post_init__(self) -> None:
        self.lateness = LatenessHistogram()
