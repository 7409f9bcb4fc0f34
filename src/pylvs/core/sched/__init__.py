"""The scheduler registry: one module per kernel scheduler (§2.4)."""

from __future__ import annotations

from random import Random

from pylvs.core.model import Service
from pylvs.core.sched.base import Scheduler
from pylvs.core.sched.dh import DestinationHashing
from pylvs.core.sched.fo import WeightedFailover
from pylvs.core.sched.lblc import LocalityLeastConnection
from pylvs.core.sched.lblcr import LocalityLeastConnectionReplicated
from pylvs.core.sched.lc import LeastConnection
from pylvs.core.sched.mh import MaglevHashing
from pylvs.core.sched.nq import NeverQueue
from pylvs.core.sched.ovf import Overflow
from pylvs.core.sched.rr import RoundRobin
from pylvs.core.sched.sed import ShortestExpectedDelay
from pylvs.core.sched.sh import SourceHashing
from pylvs.core.sched.twos import PowerOfTwo
from pylvs.core.sched.wlc import WeightedLeastConnection
from pylvs.core.sched.wrr import WeightedRoundRobin
from pylvs.core.sysctl import Sysctl

__all__ = ["NO_SCHEDULER", "SCHEDULERS", "Scheduler", "is_known", "make_scheduler"]

SCHEDULERS: dict[str, type[Scheduler]] = {
    cls.name: cls
    for cls in (
        RoundRobin,
        WeightedRoundRobin,
        LeastConnection,
        WeightedLeastConnection,
        ShortestExpectedDelay,
        NeverQueue,
        WeightedFailover,
        Overflow,
        PowerOfTwo,
        DestinationHashing,
        SourceHashing,
        MaglevHashing,
        LocalityLeastConnection,
        LocalityLeastConnectionReplicated,
    )
}

# The pseudo-scheduler of newer kernels: the service has no scheduler and
# every new connection is "no destination", without a log line (§1.1, §2.3).
NO_SCHEDULER = "none"


def is_known(name: str) -> bool:
    return name in SCHEDULERS or name == NO_SCHEDULER


def make_scheduler(
    name: str, svc: Service, rng: Random, sysctl: Sysctl | None = None
) -> Scheduler | None:
    if name == NO_SCHEDULER:
        return None
    return SCHEDULERS[name](svc, rng, sysctl)
