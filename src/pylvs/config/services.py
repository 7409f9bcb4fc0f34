"""The IPVS services a virtual server stands for, and the port each real
server gets in each of them (keepalived/check/ipvswrapper.c
``ipvs_set_srule``, ``ipvs_group_cmd``, ``ipvs_group_range_cmd``, ``ipvs_cmd``).

- ``virtual_server IP PORT`` / ``fwmark N``: one service; persistence
  granularity becomes its netmask.
- ``virtual_server group NAME``: one service per address of every range of
  the group, then one per fwmark; keepalived resets the netmask of group
  services to the full mask, so granularity does not apply to them.
- A NAT real server keeps its own port; any other method gets the service's
  port (0 for a firewall-mark service).

keepalived steps through an IPv4 range by adding 1 to the last octet in
network byte order, which never carries (a range crossing an octet boundary
would not end); pylvs counts through the addresses properly.
"""

from __future__ import annotations

from collections.abc import Iterator

from pylvs.config.model import GroupEntry, VirtualServer
from pylvs.core.addr import AF_INET
from pylvs.core.model import SVC_F_USER_MASK, ServiceKey, ServiceSpec, default_netmask

__all__ = ["MAX_RANGE", "dest_port", "range_addresses", "service_specs"]

MAX_RANGE = 1 << 16  # addresses one group entry may stand for in pylvs


def range_addresses(start: int, end: int) -> Iterator[int]:
    addr = start
    for _ in range(MAX_RANGE):
        yield addr
        if addr >= end:
            return
        addr += 1


def _spec(vs: VirtualServer, key: ServiceKey, group: bool) -> ServiceSpec:
    persistent = vs.persistence_timeout or None
    netmask = None
    if persistent and not group and vs.persistence_granularity is not None:
        netmask = vs.persistence_granularity
    return ServiceSpec.make(
        key,
        vs.scheduler or "wlc",
        persistent=persistent,
        netmask=netmask,
        flags=vs.flags & SVC_F_USER_MASK,
        pe_name=(vs.persistence_engine or "") if persistent else "",
    )


def service_specs(
    vs: VirtualServer, entries: tuple[GroupEntry, ...] = (), fwmarks: tuple[GroupEntry, ...] = ()
) -> list[ServiceSpec]:
    """The services of ``vs``; ``entries``/``fwmarks`` are its group's."""
    if vs.kind == "addr":
        return [_spec(vs, ServiceKey(vs.af, vs.protocol, vs.addr, vs.port), False)]
    if vs.kind == "fwmark":
        return [_spec(vs, ServiceKey.fwm(vs.fwmark, vs.af or AF_INET), False)]
    out: list[ServiceSpec] = []
    for entry in entries:
        for addr in range_addresses(entry.start, entry.end):
            out.append(_spec(vs, ServiceKey(entry.af, vs.protocol, addr, entry.port), True))
    for entry in fwmarks:
        af = entry.af or vs.af or AF_INET
        spec = _spec(vs, ServiceKey.fwm(entry.fwmark, af), True)
        out.append(spec._replace(netmask=default_netmask(af)))
    return out


def dest_port(key: ServiceKey, rs_port: int, nat: bool) -> int:
    """The port a real server is added with to the service ``key``."""
    if nat:
        return rs_port
    return 0 if key.fwmark else key.port
