"""Read-only views of the table, as ipvsadm lists them.

These are plain values (named tuples: cheap to build by the hundred
thousand): the control protocol serialises them, ``pylvsadm``
formats them, and nothing here refers back to live objects.
"""

from __future__ import annotations

from typing import NamedTuple

from pylvs.core.model import DestSpec, ServiceSpec
from pylvs.core.stats import StatsView

__all__ = ["ConnInfo", "DestInfo", "ServiceInfo", "SyncDaemonInfo", "Timeouts"]


class DestInfo(NamedTuple):
    spec: DestSpec
    activeconns: int
    inactconns: int
    persistconns: int
    stats: StatsView


class ServiceInfo(NamedTuple):
    spec: ServiceSpec
    stats: StatsView
    # Kernel list order: newest first (what --nosort prints).
    dests: tuple[DestInfo, ...]


class ConnInfo(NamedTuple):
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


class Timeouts(NamedTuple):
    tcp: int
    tcpfin: int
    udp: int


class SyncDaemonInfo(NamedTuple):
    state: str
    mcast_ifn: str
    syncid: int
    sync_maxlen: int
    mcast_group: str
    mcast_port: int
    mcast_ttl: int
