"""ipvsadm's listings, byte for byte (reference §2).

Each function returns the complete stdout text. Input order is the
kernel's (services in table order, servers newest first); sorting is
applied here unless ``--nosort``. Names come from the resolver unless the
format is numeric.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_IP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP
from pylvs.core.model import (
    CONN_F_FWD_MASK,
    IPV4_FULL_MASK,
    IPV6_FULL_PREFIX,
    SVC_F_ONEPACKET,
    SVC_F_SCHED_MASK,
)
from pylvs.ipvsadm.command import ListFormat, View
from pylvs.ipvsadm.cstr import cut_bytes, to_int32, to_uint32
from pylvs.ipvsadm.fields import (
    ADDRPORT_MAX,
    addr_port,
    fwd_name,
    large_number,
    sched_flags_text,
    tunnel_info,
)
from pylvs.ipvsadm.inet import inet_ntop4, inet_ntop6
from pylvs.ipvsadm.lookup import NO_NAMES, Resolver
from pylvs.ipvsadm.sort import sort_dests, sort_services
from pylvs.ipvsadm.usage import usage_text, version_text

if TYPE_CHECKING:
    from pylvs.core.info import ConnInfo, DestInfo, ServiceInfo, SyncDaemonInfo, Timeouts

__all__ = [
    "CONN_TAB_SIZE",
    "IPVS_VERSION",
    "render_connections",
    "render_daemons",
    "render_service",
    "render_table",
    "render_timeouts",
    "usage_text",
    "version_text",
]

# What a stock kernel reports: IPVS 1.2.1 and 2^12 connection buckets (§2.2).
IPVS_VERSION = 0x010201
CONN_TAB_SIZE = 4096

_PROTO_NAMES = {IPPROTO_TCP: "TCP", IPPROTO_UDP: "UDP", IPPROTO_SCTP: "SCTP"}

_TITLES = {
    View.PLAIN: "Prot LocalAddress:Port Scheduler Flags\n"
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n",
    View.TUN_INFO: "Prot LocalAddress:Port Scheduler Flags\n"
    "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n",
    View.STATS: "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n"
    "  -> RemoteAddress:Port\n",
    View.RATE: "Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n"
    "  -> RemoteAddress:Port\n",
    View.THRESHOLDS: "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n"
    "  -> RemoteAddress:Port\n",
    View.PERSISTENT_CONN: "Prot LocalAddress:Port            Weight    PersistConn ActiveConn InActConn \n"
    "  -> RemoteAddress:Port\n",
}


def _ljust(text: str, width: int) -> str:
    """printf ``%-Ns``: pad to ``width`` bytes, never cut."""
    if text.isascii():
        return text.ljust(width)
    return text + " " * (width - len(text.encode("utf-8", "surrogateescape")))


def _u(value: int, width: int) -> str:
    """printf ``%-Nu``."""
    return _ljust(str(to_uint32(value)), width)


def _d(value: int, width: int) -> str:
    """printf ``%-Nd``."""
    return _ljust(str(to_int32(value)), width)


def header(version: int = IPVS_VERSION, size: int = CONN_TAB_SIZE) -> str:
    major, minor, patch = version >> 16 & 0xFF, version >> 8 & 0xFF, version & 0xFF
    return f"IP Virtual Server version {major}.{minor}.{patch} (size={size})\n"


def service_name(svc: ServiceInfo, fmt: ListFormat, resolver: Resolver) -> str:
    """The ``Prot LocalAddress:Port`` text: ``TCP  10.0.1.100:80``, ``FWM  2 IPv6``;
    IPv4 is cut to 33 bytes (§2.4)."""
    key = svc.spec.key
    if key.fwmark:
        return f"FWM  {to_int32(key.fwmark)}" + (" IPv6" if key.af == AF_INET6 else "")
    vname = addr_port(key.af, key.addr, key.port, key.protocol, fmt.numeric, resolver)
    text = f"{_ljust(_PROTO_NAMES.get(key.protocol, '?'), 4)} {vname}"
    return text if key.af == AF_INET6 else cut_bytes(text, 33)


def _service_attrs(svc: ServiceInfo) -> str:
    """`` <sched> (flags) persistent T mask M pe P ops`` of a non-stats view."""
    spec = svc.spec
    out = f" {spec.scheduler}"
    if spec.flags & SVC_F_SCHED_MASK:
        out += f" ({sched_flags_text(spec.scheduler, spec.flags)})"
    if spec.persistent:
        out += f" persistent {to_uint32(spec.timeout)}"
        if spec.key.af == AF_INET6:
            if spec.netmask != IPV6_FULL_PREFIX:
                out += f" mask {to_int32(spec.netmask)}"
        elif spec.netmask != IPV4_FULL_MASK:
            out += f" mask {inet_ntop4(spec.netmask)}"
        if spec.pe_name:
            out += f" pe {spec.pe_name}"
    if spec.flags & SVC_F_ONEPACKET:
        out += " ops"
    return out


def _service_line(svc: ServiceInfo, name: str, fmt: ListFormat, view: View) -> str:
    st = svc.stats
    if view is View.STATS:
        values = (st.conns, st.inpkts, st.outpkts, st.inbytes, st.outbytes)
    elif view is View.RATE:
        values = (st.cps, st.inpps, st.outpps, st.inbps, st.outbps)
    else:
        return name + _service_attrs(svc) + "\n"
    return _ljust(name, 33) + "".join(large_number(v, fmt.exact) for v in values) + "\n"


# The Forward column of the plain view, padded: by fwd & CONN_F_FWD_MASK.
_FWD_COLUMN = tuple(_ljust(fwd_name(fwd), 7) for fwd in range(CONN_F_FWD_MASK + 1))


def _numeric_plain_dest_lines(dests: Sequence[DestInfo]) -> str:
    """The plain view's server lines with ``-n``: what :func:`_dest_line`
    writes, without its generality (numeric text is ASCII, so bytes are
    characters; IPv4 ``a.b.c.d:port`` never reaches the 28-byte cut
    unless the port is absurd, and cutting is kept for that)."""
    out = []
    for dest in dests:
        spec = dest.spec
        if spec.af == AF_INET:
            rs = f"{inet_ntop4(spec.addr)}:{spec.port}"
            if len(rs) > 28:
                rs = rs[:28]
        else:
            rs = f"[{inet_ntop6(spec.addr)}]:{spec.port}"
            if len(rs) > ADDRPORT_MAX:
                rs = rs[:ADDRPORT_MAX]
            if spec.af != AF_INET6 and len(rs) > 28:
                rs = rs[:28]
        weight = spec.weight & 0xFFFFFFFF
        if weight >= 0x80000000:
            weight -= 0x100000000
        out.append(
            f"  -> {rs:<28} {_FWD_COLUMN[spec.fwd & CONN_F_FWD_MASK]} {weight:<6} "
            f"{dest.activeconns & 0xFFFFFFFF:<10} {dest.inactconns & 0xFFFFFFFF:<10}\n"
        )
    return "".join(out)


def _dest_line(
    dest: DestInfo, protocol: int, fmt: ListFormat, view: View, resolver: Resolver
) -> str:
    spec = dest.spec
    rs = addr_port(spec.af, spec.addr, spec.port, protocol, fmt.numeric, resolver)
    if spec.af != AF_INET6:
        rs = cut_bytes(rs, 28)
    head = f"  -> {_ljust(rs, 28)}"
    st = dest.stats
    if view is View.STATS:
        # libipvs reads the servers' 64-bit packet and connection counters
        # as 32-bit (§2.6.1); byte counters stay whole.
        values = (to_uint32(st.conns), to_uint32(st.inpkts), to_uint32(st.outpkts))
        nums = (*values, st.inbytes, st.outbytes)
        return head + "".join(large_number(v, fmt.exact) for v in nums) + "\n"
    if view is View.RATE:
        plain = "".join(f" {to_uint32(v):8d}" for v in (st.cps, st.inpps, st.outpps))
        big = "".join(large_number(to_uint32(v), fmt.exact) for v in (st.inbps, st.outbps))
        return head + plain + big + "\n"
    fields: tuple[str, ...]
    if view is View.THRESHOLDS:
        fields = (
            _u(spec.u_threshold, 10),
            _u(spec.l_threshold, 10),
            _u(dest.activeconns, 10),
            _u(dest.inactconns, 10),
        )
    elif view is View.PERSISTENT_CONN:
        fields = (
            _u(spec.weight, 9),
            _u(dest.persistconns, 11),
            _u(dest.activeconns, 10),
            _u(dest.inactconns, 10),
        )
    elif view is View.TUN_INFO:
        fields = (
            _ljust(fwd_name(spec.fwd), 7),
            _ljust(tunnel_info(spec), 13),
            _d(spec.weight, 6),
            _u(dest.activeconns, 10),
            _u(dest.inactconns, 10),
        )
    else:
        fields = (
            _ljust(fwd_name(spec.fwd), 7),
            _d(spec.weight, 6),
            _u(dest.activeconns, 10),
            _u(dest.inactconns, 10),
        )
    return head + "".join(" " + f for f in fields) + "\n"


def _service_block(svc: ServiceInfo, fmt: ListFormat, view: View, resolver: Resolver) -> str:
    head = _service_line(svc, service_name(svc, fmt, resolver), fmt, view)
    dests = svc.dests if fmt.nosort else sort_dests(svc.dests)
    if fmt.numeric and view is View.PLAIN:
        return head + _numeric_plain_dest_lines(dests)
    # Server ports are named by the service's protocol; fwmark services have none.
    protocol = IPPROTO_IP if svc.spec.key.fwmark else svc.spec.key.protocol
    return head + "".join(_dest_line(d, protocol, fmt, view, resolver) for d in dests)


def render_table(
    services: Sequence[ServiceInfo],
    fmt: ListFormat,
    resolver: Resolver = NO_NAMES,
    *,
    version: int = IPVS_VERSION,
    size: int = CONN_TAB_SIZE,
) -> str:
    """``ipvsadm -L`` (and a bare ``ipvsadm``): header, titles, every service."""
    ordered = services if fmt.nosort else sort_services(services)
    view = fmt.view
    body = "".join([_service_block(s, fmt, view, resolver) for s in ordered])
    return header(version, size) + _TITLES[view] + body


def render_service(svc: ServiceInfo, fmt: ListFormat, resolver: Resolver = NO_NAMES) -> str:
    """``ipvsadm -L -t ...``: like the table, without the version line (§2.8)."""
    view = fmt.view
    return _TITLES[view] + _service_block(svc, fmt, view, resolver)


def _kernel_proto_name(protocol: int) -> str:
    """What /proc/net/ip_vs_conn calls a protocol (the kernel's ip_vs_proto_name)."""
    names = {IPPROTO_IP: "IP", 1: "ICMP", 58: "ICMPv6", **_PROTO_NAMES}
    return names.get(protocol, f"IP_{protocol}")


def _conn_line(conn: ConnInfo, fmt: ListFormat, resolver: Resolver) -> str:
    # ipvsadm re-reads the protocol from its name, so only these three get
    # port names.
    proto = conn.protocol if conn.protocol in _PROTO_NAMES else IPPROTO_IP
    src = addr_port(conn.af, conn.caddr, conn.cport, proto, fmt.numeric, resolver)
    vip = addr_port(conn.af, conn.vaddr, conn.vport, proto, fmt.numeric, resolver)
    dst = addr_port(conn.daf, conn.daddr, conn.dport, proto, fmt.numeric, resolver)
    expires = to_uint32(conn.expires)
    expire = f"{expires // 60:02d}:{expires % 60:02d}"
    head = (
        f"{_ljust(_kernel_proto_name(conn.protocol), 3)} {_ljust(expire, 6)} "
        f"{_ljust(conn.state, 11)} {_ljust(src, 18)} {_ljust(vip, 18)} "
    )
    # ipvsadm scans the proc line with %s: persistence-engine data counts
    # only when both of its words are there.
    pe_data = conn.pe_data.split()
    if fmt.persistent_conn and conn.pe_name and pe_data:
        return f"{head}{_ljust(dst, 16)} {_ljust(conn.pe_name, 18)} {pe_data[0]}\n"
    return f"{head}{dst}\n"


def render_connections(
    conns: Sequence[ConnInfo], fmt: ListFormat, resolver: Resolver = NO_NAMES
) -> str:
    """``ipvsadm -Lc``: two header lines, then connections in kernel order (§2.9)."""
    if fmt.persistent_conn:
        title = (
            "pro expire state       source             virtual            "
            "destination        pe name          pe_data\n"
        )
    else:
        title = "pro expire state       source             virtual            destination\n"
    lines = "".join(_conn_line(c, fmt, resolver) for c in conns)
    return "IPVS connection entries\n" + title + lines


def render_timeouts(timeouts: Timeouts) -> str:
    """``ipvsadm -L --timeout`` (§2.10)."""
    t = timeouts
    return f"Timeout (tcp tcpfin udp): {to_int32(t.tcp)} {to_int32(t.tcpfin)} {to_int32(t.udp)}\n"


def render_daemons(daemons: Sequence[SyncDaemonInfo]) -> str:
    """``ipvsadm -L --daemon``: one line per running daemon, master first (§2.11)."""
    out = []
    for state in ("master", "backup"):
        for d in daemons:
            if d.state != state:
                continue
            line = f"{state} sync daemon (mcast={d.mcast_ifn}, syncid={d.syncid}"
            if d.sync_maxlen:
                line += f", maxlen={d.sync_maxlen}"
            if d.mcast_group:
                line += f", group={d.mcast_group}"
            if d.mcast_port:
                line += f", port={d.mcast_port}"
            if d.mcast_ttl:
                line += f", ttl={d.mcast_ttl}"
            out.append(line + ")\n")
    return "".join(out)
