"""Scheduling in the kernel, where it gives IPVS's exact result (pure).

rr and wrr choose by position in a fixed cycle: which real server the next
new flow gets depends only on how many flows came before. For a service
with one of them, no persistence, no one-packet scheduling and no
thresholds, the cycle is laid out as an nft ``numgen inc`` map and the
kernel binds new flows without asking the daemon (dataplane-notes §1).

The cycle is read off the core's own scheduler: one full period of picks
(rr: one per eligible real server; wrr: the sum of the weights over their
gcd), after which the scheduler is back where it started. When the table
changes, the daemon advances the core's scheduler by the flows the kernel
scheduled since the last layout (a per-service counter) and lays out the
next cycle from there, so the sequence continues as IPVS's would; flows
that arrive during the change itself may see the old cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from math import gcd

from pylvs.core.addr import AF_INET, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, format_addr
from pylvs.core.model import (
    CONN_F_DROUTE,
    CONN_F_FWD_MASK,
    CONN_F_MASQ,
    DEST_F_OVERLOAD,
    SVC_F_ONEPACKET,
    SVC_F_PERSISTENT,
    Dest,
    Service,
    ServiceKey,
)
from pylvs.dataplane.kernel.ruleset import Timeouts

__all__ = [
    "KERNEL_SCHEDULERS",
    "MAX_CYCLE",
    "KernelLayout",
    "advance",
    "layout",
]

KERNEL_SCHEDULERS = frozenset({"rr", "wrr"})
MAX_CYCLE = 1024
_PROTO = {IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp", IPPROTO_SCTP: "sctp"}
_DR_MAP = {IPPROTO_TCP: "kd4t", IPPROTO_UDP: "kd4u", IPPROTO_SCTP: "kd4s"}


@dataclass(frozen=True)
class KernelLayout:
    """One service's cycle: ``method`` "nat" or "dr", the dests' ids in
    pick order."""

    method: str
    ids: tuple[int, ...]


def cycle_length(svc: Service) -> int:
    eligible = [d.weight for d in svc.dests if d.weight > 0 and not d.flags & DEST_F_OVERLOAD]
    if not eligible:
        return 0
    if svc.sched_name == "rr":
        return len(eligible)
    g = 0
    for w in eligible:
        g = gcd(g, w)
    return sum(eligible) // g


def eligible(svc: Service) -> bool:
    return (
        svc.sched_name in KERNEL_SCHEDULERS
        and not svc.flags & (SVC_F_PERSISTENT | SVC_F_ONEPACKET)
        and not any(d.u_threshold or d.l_threshold for d in svc.dests)
        and 0 < cycle_length(svc) <= MAX_CYCLE
    )


def picks(svc: Service, n: int) -> list[Dest] | None:
    """The next ``n`` choices of the core's scheduler (which moves on)."""
    sched = svc.sched
    if sched is None:
        return None
    out = []
    for _ in range(n):
        d = sched.schedule(0, 0, 0, 0.0)
        if d is None:
            return None
        out.append(d)
    return out


def advance(svc: Service, flows: int, period: int) -> None:
    """The core's scheduler moved on by ``flows`` the kernel scheduled."""
    if period > 0:
        picks(svc, flows % period)


def layout(
    svc: Service, id_of: Callable[[Dest], int], dr_ready: set[int]
) -> tuple[KernelLayout | None, int]:
    """The kernel layout for ``svc`` (None: the daemon schedules) and its
    period. ``dr_ready``: DR dest ids whose MAC is known."""
    if not eligible(svc):
        return None, 0
    period = cycle_length(svc)
    cycle = picks(svc, period)  # a full period: the scheduler is back where it was
    if cycle is None:
        return None, 0
    methods = {d.fwd & CONN_F_FWD_MASK for d in cycle}
    order = tuple(id_of(d) for d in cycle)
    if methods == {CONN_F_MASQ}:
        return KernelLayout("nat", order), period
    key = svc.key
    if (
        methods == {CONN_F_DROUTE}
        and key.af == AF_INET
        and not key.fwmark
        and all(i in dr_ready for i in order)
    ):
        return KernelLayout("dr", order), period
    return None, 0


def _numgen(ids: Sequence[int], base: int) -> str:
    elems = ", ".join(f"{i} : {base | d:#010x}" for i, d in enumerate(ids))
    return f"numgen inc mod {len(ids)} map {{ {elems} }}"


def nat_commands(table: str, sid: int, svc: Service, lay: KernelLayout, mark_base: int) -> str:
    """Create the inet chain ``k<sid>`` and route the service's new flows
    to it (``add``)."""
    key = svc.key
    chain = f"k{sid}"
    rules = [
        f'counter name "k{sid}n"',
        f"meta mark set {_numgen(lay.ids, mark_base)}",
        "counter name meta mark map @cconn",
        "counter name meta mark map @cin",
        "accept",
    ]
    out = f"add counter inet {table} k{sid}n\nadd chain inet {table} {chain}\n"
    out += "".join(f"add rule inet {table} {chain} {r}\n" for r in rules)
    fam = "4" if key.af == AF_INET else "6"
    if key.fwmark:
        out += f"add element inet {table} kfwm{fam} {{ {key.fwmark:#010x} : jump {chain} }}\n"
    else:
        out += (
            f"add element inet {table} ksvc{fam} {{ {format_addr(key.af, key.addr)} . "
            f"{_PROTO[key.protocol]} . {key.port} : jump {chain} }}\n"
        )
    return out


def nat_remove(table: str, sid: int, svc_key: ServiceKey) -> str:
    fam = "4" if svc_key.af == AF_INET else "6"
    if svc_key.fwmark:
        elem = f"delete element inet {table} kfwm{fam} {{ {svc_key.fwmark:#010x} }}\n"
    else:
        elem = (
            f"delete element inet {table} ksvc{fam} {{ {format_addr(svc_key.af, svc_key.addr)} . "
            f"{_PROTO[svc_key.protocol]} . {svc_key.port} }}\n"
        )
    return elem + f"delete chain inet {table} k{sid}\ndelete counter inet {table} k{sid}n\n"


def dr_commands(table: str, sid: int, svc: Service, lay: KernelLayout, timeouts: Timeouts) -> str:
    """Create the netdev chain ``k<sid>``: a new flow's first packet (a SYN
    for TCP) gets its real server from the cycle, is added to the flow map
    and forwarded."""
    key = svc.key
    proto = key.protocol
    k = "ip saddr . ip daddr . th sport . th dport"
    flow_map, timeout = {
        IPPROTO_TCP: ("t4", timeouts.syn_recv),
        IPPROTO_UDP: ("u4", timeouts.udp),
        IPPROTO_SCTP: ("s4", timeouts.sctp),
    }[proto]
    chain = f"k{sid}"
    rules = [f'counter name "k{sid}n"', f"meta mark set {_numgen(lay.ids, 0)}"]
    if proto == IPPROTO_TCP:
        rules.append(
            f"delete @fin4 {{ {k} }} delete @rst4 {{ {k} }} add @syn4 {{ {k} timeout {timeout}s }}"
            f" add @any4 {{ {k} timeout {timeout}s }}"
        )
    rules += [
        f"add @{flow_map} {{ {k} timeout {timeout}s : meta mark }}",
        "counter name meta mark map @cconn",
        "goto out",
    ]
    out = f"add counter netdev {table} k{sid}n\nadd chain netdev {table} {chain}\n"
    out += "".join(f"add rule netdev {table} {chain} {r}\n" for r in rules)
    out += (
        f"add element netdev {table} {_DR_MAP[proto]} {{ {format_addr(AF_INET, key.addr)} . "
        f"{key.port} : jump {chain} }}\n"
    )
    return out


def dr_remove(table: str, sid: int, svc_key: ServiceKey) -> str:
    return (
        f"delete element netdev {table} {_DR_MAP[svc_key.protocol]} "
        f"{{ {format_addr(AF_INET, svc_key.addr)} . {svc_key.port} }}\n"
        f"delete chain netdev {table} k{sid}\ndelete counter netdev {table} k{sid}n\n"
    )
