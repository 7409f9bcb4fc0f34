"""The scheduler interface.

One instance per service, like the kernel's ``sched_data``. The table calls
the hooks at the same moments the kernel does (after the dest list changed),
and ``schedule`` picks a destination or returns ``None`` ("no destination").
"""

from __future__ import annotations

from random import Random
from typing import ClassVar

from pylvs.core.model import DEST_F_OVERLOAD, Dest, Service
from pylvs.core.sysctl import Sysctl

__all__ = ["NO_DEST_MSG", "Scheduler", "usable"]

NO_DEST_MSG = "no destination available"


def usable(dest: Dest) -> bool:
    """The common eligibility test: weight > 0 and not OVERLOAD."""
    return dest.weight > 0 and not dest.flags & DEST_F_OVERLOAD


class Scheduler:
    """Base class: a scheduler bound to one service."""

    name: ClassVar[str]
    # Whether tick() does anything (lblc, lblcr): the table only ticks those.
    needs_tick: ClassVar[bool] = False

    def __init__(self, svc: Service, rng: Random, sysctl: Sysctl | None = None) -> None:
        self.svc = svc
        self.rng = rng
        # The namespace's sysctls, read when they matter (lblc expiration).
        self.sysctl = sysctl if sysctl is not None else Sysctl()
        # Message logged when schedule() returns None (§2.3); wrr changes it
        # when it gave up because every dest was overloaded.
        self.last_error = NO_DEST_MSG

    # Hooks, run after the service's dest list was changed.
    def add_dest(self, dest: Dest) -> None:
        """A dest was inserted at the head of the list."""

    def del_dest(self, dest: Dest, index: int) -> None:
        """``dest`` was unlinked; it used to be at ``index``."""

    def upd_dest(self, dest: Dest) -> None:
        """A dest's attributes were edited."""

    def schedule(self, caddr: int, cport: int, daddr: int, now: float) -> Dest | None:
        """Pick a destination for a new connection from ``caddr:cport`` to ``daddr``."""
        raise NotImplementedError

    def tick(self, now: float) -> None:
        """Periodic housekeeping (lblc/lblcr cache collection)."""

    def done(self) -> None:
        """The scheduler is being unbound from the service."""
