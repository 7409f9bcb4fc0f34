"""Read-only views of the table, as ipvsadm lists them.

These are plain values: the control protocol serialises them, ``pylvsadm``
formats them, and nothing here refers back to live objects.
"""

from __future__ import annotations

from dataclasses import dataclass

from pylvs.core.model import DestSpec, ServiceSpec
from pylvs.core.stats import StatsView

__all__ = ["ConnInfo", "DestInfo", "ServiceInfo", "SyncDaemonInfo", "Timeouts"]


@dataclass(frozen=True, slots=True)
class DestInfo:
    spec: DestSpec
    activeconns: int
    inactconns: int
    persistconns: int
    stats: StatsView


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    spec: ServiceSpec
    stats: StatsView
    # Kernel list order: newest first (what --nosort prints).
    dests: tuple[DestInfo, ...]


@dataclass(frozen=True, slots=True)
class ConnInfo:
    """One line of ``ipvsadm -Lc`` (and of /proc/net/ip_vs_conn)."""

    protocol: int  # IPPROTO_*, 0 (IPPROTO_IP) for fwmark templates
    af: int
    caddr: int
    cport: int
    vaddr: int
    vport: int
    daf: int
    daddr: int
    dport: int
    state: str
    expires: int  # seconds left, rounded down as ipvsadm shows mm:ss
    pe_name: str = ""
    pe_data: str = ""


@dataclass(frozen=True, slots=True)
class Timeouts:
    tcp: int
    tcpfin: int
    udp: int


@dataclass(frozen=True, slots=True)
class SyncDaemonInfo:
    state: str
    mcast_ifn: str
    syncid: int
    sync_maxlen: int
    mcast_group: str
    mcast_port: int
    mcast_ttl: int
