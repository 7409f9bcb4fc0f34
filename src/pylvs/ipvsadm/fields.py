"""How ipvsadm writes single fields, shared by listings and ``-S``
(reference §2.4-§2.6).
"""

from __future__ import annotations

from pylvs.core.addr import AF_INET
from pylvs.core.model import (
    CONN_F_DROUTE,
    CONN_F_FWD_MASK,
    CONN_F_LOCALNODE,
    CONN_F_MASQ,
    CONN_F_TUNNEL,
    FWD_NAMES,
    SVC_F_SCHED1,
    SVC_F_SCHED2,
    SVC_F_SCHED3,
    TUNNEL_TYPE_GRE,
    TUNNEL_TYPE_GUE,
    TUNNEL_TYPE_IPIP,
    DestSpec,
)
from pylvs.ipvsadm.cstr import cut_bytes
from pylvs.ipvsadm.inet import inet_ntop4, inet_ntop6
from pylvs.ipvsadm.lookup import Resolver, proto_for_lookup

__all__ = [
    "ADDRPORT_MAX",
    "NULL_TEXT",
    "addr_port",
    "fwd_name",
    "fwd_switch",
    "large_number",
    "sched_flags_text",
    "tunnel_info",
    "tunnel_rule",
]

# What glibc's printf writes for a NULL string.
NULL_TEXT = "(null)"
# ipvsadm formats host:port into a 60-byte buffer.
ADDRPORT_MAX = 59

_FWD_SWITCHES = {
    CONN_F_MASQ: "-m",
    CONN_F_TUNNEL: "-i",
    CONN_F_LOCALNODE: "-g",
    CONN_F_DROUTE: "-g",
}
_TUN_NAMES = {TUNNEL_TYPE_IPIP: "ipip", TUNNEL_TYPE_GUE: "gue", TUNNEL_TYPE_GRE: "gre"}
# Indexed by the checksum flag value (nocsum 0, csum 1, remcsum 2).
_TUN_CSUM = ("-c", "+c", "r+c")
_TUN_CSUM_OPTIONS = ("--tun-nocsum", "--tun-csum", "--tun-remcsum")


def addr_port(
    af: int, addr: int, port: int, protocol: int, numeric: bool, resolver: Resolver
) -> str:
    """ipvsadm's ``addrport_to_anyname``: ``host:port``, IPv6 hosts bracketed.

    Without ``numeric`` the host is its reverse name if there is one and the
    port its service name for ``protocol`` (none for protocol 0, i.e.
    fwmark services), each falling back to numbers.
    """
    if numeric:  # ASCII: the 60-byte buffer cuts characters
        if af == AF_INET:
            text = f"{inet_ntop4(addr)}:{port}"
        else:
            text = f"[{inet_ntop6(addr)}]:{port}"
        return text if len(text) <= ADDRPORT_MAX else text[:ADDRPORT_MAX]
    text = inet_ntop4(addr) if af == AF_INET else inet_ntop6(addr)
    port_text = str(port)
    name = resolver.host_name(af, addr)
    if name is not None:
        text = name
    proto = proto_for_lookup(protocol)
    service = resolver.service_name(port, proto) if proto is not None else None
    if service is not None:
        port_text = service
    if af != AF_INET:
        text = f"[{text}]"
    return cut_bytes(f"{text}:{port_text}", ADDRPORT_MAX)


def sched_flags_text(scheduler: str, flags: int) -> str:
    """Scheduler flags, comma-joined in bit order; sh and mh name only two
    bits, so their third bit alone gives "" (§2.5)."""
    if scheduler in ("sh", "mh"):
        names = [(SVC_F_SCHED1, f"{scheduler}-fallback"), (SVC_F_SCHED2, f"{scheduler}-port")]
    else:
        names = [(SVC_F_SCHED1, "flag-1"), (SVC_F_SCHED2, "flag-2"), (SVC_F_SCHED3, "flag-3")]
    return ",".join(name for bit, name in names if flags & bit)


def fwd_name(fwd: int) -> str:
    """The Forward column: Masq, Local, Tunnel, Route (no name for Bypass)."""
    return FWD_NAMES.get(fwd & CONN_F_FWD_MASK, NULL_TEXT)


def fwd_switch(fwd: int) -> str:
    """The method option ``-S`` writes: -m, -i or -g (route and local)."""
    return _FWD_SWITCHES.get(fwd & CONN_F_FWD_MASK, NULL_TEXT)


def _csum(flags: int, names: tuple[str, ...] = _TUN_CSUM) -> str:
    return names[flags] if 0 <= flags < len(names) else NULL_TEXT


def tunnel_info(dest: DestSpec) -> str:
    """The TunnelInfo column: n/a, ipip, gue:<port>:<csum>, gre:<csum>."""
    if dest.fwd & CONN_F_FWD_MASK != CONN_F_TUNNEL or dest.tun_type not in _TUN_NAMES:
        return "n/a"
    if dest.tun_type == TUNNEL_TYPE_GUE:
        return f"gue:{dest.tun_port}:{_csum(dest.tun_flags)}"
    if dest.tun_type == TUNNEL_TYPE_GRE:
        return f"gre:{_csum(dest.tun_flags)}"
    return "ipip"


def tunnel_rule(dest: DestSpec) -> str:
    """What ``-S`` appends to a tunnel server: `` --tun-type ...``."""
    csum = _csum(dest.tun_flags, _TUN_CSUM_OPTIONS)
    if dest.tun_type == TUNNEL_TYPE_GRE:
        return f" --tun-type gre {csum}"
    if dest.tun_type == TUNNEL_TYPE_GUE:
        return f" --tun-type gue --tun-port {dest.tun_port} {csum}"
    if dest.tun_type == TUNNEL_TYPE_IPIP:
        return " --tun-type ipip"
    return ""


def large_number(value: int, exact: bool) -> str:
    """A stats/rate number: 9 characters with K/M/G/T above 10^8, or with
    ``exact`` the full value in at least 9 with a leading space (§2.6.1)."""
    value &= 0xFFFFFFFFFFFFFFFF
    if exact:
        digits = str(value)
        return digits.rjust(9 if len(digits) <= 8 else len(digits) + 1)
    if value < 100_000_000:
        return f"{value:9d}"
    if value < 1_000_000_000:
        return f"{value // 1000:8d}K"
    if value < 100_000_000_000:
        return f"{value // 1_000_000:8d}M"
    if value < 100_000_000_000_000:
        return f"{value // 1_000_000_000:8d}G"
    return f"{value // 1_000_000_000_000:8d}T"
