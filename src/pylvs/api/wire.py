"""JSON forms of the core's values: service keys and specs, dest specs, ops,
and the read-only views (services, connections, timeouts, daemons).

Decoding is strict: anything malformed raises :class:`WireError` naming the
field, and nothing else escapes (the daemon turns it into an error reply).
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP
from pylvs.core.info import ConnInfo, DestInfo, ServiceInfo, SyncDaemonInfo, Timeouts
from pylvs.core.model import (
    CONN_F_DROUTE,
    CONN_F_LOCALNODE,
    CONN_F_MASQ,
    CONN_F_TUNNEL,
    TUNNEL_TYPE_GRE,
    TUNNEL_TYPE_GUE,
    TUNNEL_TYPE_IPIP,
    DestKey,
    DestSpec,
    Service,
    ServiceKey,
    ServiceSpec,
)
from pylvs.core.ops import (
    AddDest,
    AddService,
    DelDest,
    DelService,
    EditDest,
    EditService,
    Flush,
    Op,
    SetTimeouts,
    StartDaemon,
    StopDaemon,
    SyncDaemonConfig,
    Zero,
)
from pylvs.core.stats import StatsView

__all__ = [
    "WireError",
    "conn_from_wire",
    "conn_to_wire",
    "daemon_from_wire",
    "daemon_to_wire",
    "op_from_wire",
    "op_to_wire",
    "service_info_from_wire",
    "service_key_from_wire",
    "service_key_to_wire",
    "service_to_wire",
]

Json = dict[str, Any]


class WireError(ValueError):
    """A message that does not have the documented shape."""


AF_NAMES = {AF_INET: "inet", AF_INET6: "inet6"}
AF_BY_NAME = {v: k for k, v in AF_NAMES.items()}
PROTO_NAMES = {IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp", IPPROTO_SCTP: "sctp"}
PROTO_BY_NAME = {v: k for k, v in PROTO_NAMES.items()}
FWD_NAMES = {
    CONN_F_MASQ: "masq",
    CONN_F_LOCALNODE: "local",
    CONN_F_TUNNEL: "tunnel",
    CONN_F_DROUTE: "route",
}
FWD_BY_NAME = {v: k for k, v in FWD_NAMES.items()}
TUN_NAMES = {TUNNEL_TYPE_IPIP: "ipip", TUNNEL_TYPE_GUE: "gue", TUNNEL_TYPE_GRE: "gre"}
TUN_BY_NAME = {v: k for k, v in TUN_NAMES.items()}

U32 = 0xFFFFFFFF


# --- field readers ------------------------------------------------------------
def _obj(value: Any, where: str) -> Json:
    if not isinstance(value, dict):
        raise WireError(f"{where}: expected an object")
    return value


# These run for every field of every op of a 110,000-line restore: they test
# the common case first and explain only on failure.
def _int(d: Json, name: str, lo: int, hi: int, default: int | None = None) -> int:
    value = d.get(name, default)
    if type(value) is int and lo <= value <= hi:
        return value
    if value is None:
        raise WireError(f"missing field {name!r}")
    if type(value) is not int:
        raise WireError(f"field {name!r}: expected an integer")
    raise WireError(f"field {name!r}: {value} is out of range {lo}..{hi}")


def _str(d: Json, name: str, default: str | None = None, maxlen: int = 255) -> str:
    value = d.get(name, default)
    if type(value) is str and len(value) <= maxlen:
        return value
    if value is None:
        raise WireError(f"missing field {name!r}")
    if not isinstance(value, str):
        raise WireError(f"field {name!r}: expected a string")
    raise WireError(f"field {name!r}: longer than {maxlen} characters")


def _choice(d: Json, name: str, table: dict[str, int], default: str | None = None) -> int:
    value = d.get(name, default)
    found = table.get(value) if type(value) is str else None
    if found is not None:
        return found
    if value is None:
        raise WireError(f"missing field {name!r}")
    raise WireError(f"field {name!r}: expected one of {', '.join(sorted(table))}")


def parse_ip(text: str) -> tuple[int, int] | None:
    """A numeric IPv4 or IPv6 address, strictly (inet_pton), as (af, int)."""
    try:
        if ":" in text:
            return AF_INET6, int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
        return AF_INET, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError):
        return None


def _addr(d: Json, name: str) -> tuple[int, int]:
    text = _str(d, name, maxlen=64)
    parsed = parse_ip(text)
    if parsed is None:
        raise WireError(f"field {name!r}: {text!r} is not an IP address")
    return parsed


def _addr_text(af: int, addr: int) -> str:
    if af == AF_INET:
        return socket.inet_ntop(socket.AF_INET, addr.to_bytes(4, "big"))
    return socket.inet_ntop(socket.AF_INET6, addr.to_bytes(16, "big"))


# --- keys and specs -------------------------------------------------------------
def service_key_to_wire(key: ServiceKey) -> Json:
    if key.fwmark:
        return {"af": AF_NAMES[key.af], "fwmark": key.fwmark}
    return {
        "protocol": PROTO_NAMES.get(key.protocol, str(key.protocol)),
        "addr": _addr_text(key.af, key.addr),
        "port": key.port,
    }


def service_key_from_wire(value: Any) -> ServiceKey:
    d = _obj(value, "service")
    if "fwmark" in d:
        af = _choice(d, "af", AF_BY_NAME, "inet")
        return ServiceKey.fwm(_int(d, "fwmark", 1, U32), af)
    proto = _choice(d, "protocol", PROTO_BY_NAME)
    af, addr = _addr(d, "addr")
    return ServiceKey(af, proto, addr, _int(d, "port", 0, 0xFFFF))


def service_spec_to_wire(spec: ServiceSpec) -> Json:
    return {
        **service_key_to_wire(spec.key),
        "scheduler": spec.scheduler,
        "flags": spec.flags,
        "timeout": spec.timeout,
        "netmask": spec.netmask,
        "pe": spec.pe_name,
    }


def service_spec_from_wire(value: Any) -> ServiceSpec:
    d = _obj(value, "service")
    key = service_key_from_wire(d)
    default_mask = 0xFFFFFFFF if key.af == AF_INET else 128
    return ServiceSpec(
        key=key,
        scheduler=_str(d, "scheduler", "wlc", maxlen=64),
        flags=_int(d, "flags", 0, U32, 0),
        timeout=_int(d, "timeout", 0, U32, 0),
        netmask=_int(d, "netmask", 0, U32, default_mask),
        pe_name=_str(d, "pe", "", maxlen=64),
    )


def dest_spec_to_wire(d: DestSpec) -> Json:
    return {
        "addr": _addr_text(d.af, d.addr),
        "port": d.port,
        "fwd": FWD_NAMES.get(d.fwd, str(d.fwd)),
        "weight": d.weight,
        "u_threshold": d.u_threshold,
        "l_threshold": d.l_threshold,
        "tun_type": TUN_NAMES.get(d.tun_type, str(d.tun_type)),
        "tun_port": d.tun_port,
        "tun_flags": d.tun_flags,
    }


def dest_spec_from_wire(value: Any) -> DestSpec:
    d = _obj(value, "dest")
    af, addr = _addr(d, "addr")
    return DestSpec(
        af=af,
        addr=addr,
        port=_int(d, "port", 0, 0xFFFF),
        fwd=_choice(d, "fwd", FWD_BY_NAME, "route"),
        # Signed like the kernel's int, so that a negative weight reaches the
        # core's ERANGE check rather than a decoding error.
        weight=_int(d, "weight", -(2**31), 2**31 - 1, 1),
        u_threshold=_int(d, "u_threshold", 0, U32, 0),
        l_threshold=_int(d, "l_threshold", 0, U32, 0),
        tun_type=_choice(d, "tun_type", TUN_BY_NAME, "ipip"),
        tun_port=_int(d, "tun_port", 0, 0xFFFF, 0),
        tun_flags=_int(d, "tun_flags", 0, 3, 0),
    )


def dest_key_from_wire(value: Any) -> DestKey:
    d = _obj(value, "dest")
    af, addr = _addr(d, "addr")
    return DestKey(af, addr, _int(d, "port", 0, 0xFFFF))


def daemon_to_wire(c: SyncDaemonConfig) -> Json:
    return {
        "state": c.state,
        "mcast_ifn": c.mcast_ifn,
        "syncid": c.syncid,
        "sync_maxlen": c.sync_maxlen,
        "mcast_group": c.mcast_group,
        "mcast_port": c.mcast_port,
        "mcast_ttl": c.mcast_ttl,
    }


def daemon_from_wire(value: Any) -> SyncDaemonConfig:
    d = _obj(value, "daemon")
    state = _str(d, "state")
    if state not in ("master", "backup"):
        raise WireError("field 'state': expected master or backup")
    return SyncDaemonConfig(
        state=state,
        mcast_ifn=_str(d, "mcast_ifn", "eth0", maxlen=15),
        syncid=_int(d, "syncid", 0, 255, 0),
        sync_maxlen=_int(d, "sync_maxlen", 0, 65535, 0),
        mcast_group=_str(d, "mcast_group", "", maxlen=64),
        mcast_port=_int(d, "mcast_port", 0, 65535, 0),
        mcast_ttl=_int(d, "mcast_ttl", 0, 255, 0),
    )


# --- ops ------------------------------------------------------------------------
def op_to_wire(op: Op) -> Json:
    if isinstance(op, AddService):
        return {"op": "new-service", "service": service_spec_to_wire(op.spec)}
    if isinstance(op, EditService):
        return {"op": "set-service", "service": service_spec_to_wire(op.spec)}
    if isinstance(op, DelService):
        return {"op": "del-service", "service": service_key_to_wire(op.key)}
    if isinstance(op, Flush):
        return {"op": "flush"}
    if isinstance(op, AddDest):
        return {
            "op": "new-dest",
            "service": service_key_to_wire(op.service),
            "dest": dest_spec_to_wire(op.dest),
        }
    if isinstance(op, EditDest):
        return {
            "op": "set-dest",
            "service": service_key_to_wire(op.service),
            "dest": dest_spec_to_wire(op.dest),
        }
    if isinstance(op, DelDest):
        return {
            "op": "del-dest",
            "service": service_key_to_wire(op.service),
            "dest": {"addr": _addr_text(op.dest.af, op.dest.addr), "port": op.dest.port},
        }
    if isinstance(op, Zero):
        return {
            "op": "zero",
            "service": None if op.service is None else service_key_to_wire(op.service),
        }
    if isinstance(op, SetTimeouts):
        return {"op": "set-timeouts", "tcp": op.tcp, "tcpfin": op.tcpfin, "udp": op.udp}
    if isinstance(op, StartDaemon):
        return {"op": "new-daemon", "daemon": daemon_to_wire(op.config)}
    return {"op": "del-daemon", "state": op.state}


def _zero(d: Json) -> Op:
    svc = d.get("service")
    return Zero(None if svc is None else service_key_from_wire(svc))


_OP_READERS: dict[str, Callable[[Json], Op]] = {
    "new-service": lambda d: AddService(service_spec_from_wire(d.get("service"))),
    "set-service": lambda d: EditService(service_spec_from_wire(d.get("service"))),
    "del-service": lambda d: DelService(service_key_from_wire(d.get("service"))),
    "flush": lambda d: Flush(),
    "new-dest": lambda d: AddDest(
        service_key_from_wire(d.get("service")), dest_spec_from_wire(d.get("dest"))
    ),
    "set-dest": lambda d: EditDest(
        service_key_from_wire(d.get("service")), dest_spec_from_wire(d.get("dest"))
    ),
    "del-dest": lambda d: DelDest(
        service_key_from_wire(d.get("service")), dest_key_from_wire(d.get("dest"))
    ),
    "zero": _zero,
    "set-timeouts": lambda d: SetTimeouts(
        _int(d, "tcp", 0, U32, 0), _int(d, "tcpfin", 0, U32, 0), _int(d, "udp", 0, U32, 0)
    ),
    "new-daemon": lambda d: StartDaemon(daemon_from_wire(d.get("daemon"))),
    "del-daemon": lambda d: StopDaemon(_str(d, "state", maxlen=16)),
}


def op_from_wire(value: Any) -> Op:
    d = _obj(value, "op")
    name = _str(d, "op", maxlen=32)
    reader = _OP_READERS.get(name)
    if reader is None:
        raise WireError(f"unknown op {name!r}")
    return reader(d)


# --- views --------------------------------------------------------------------------
# Listings can hold 100,000 dests: stats travel as arrays, in StatsView order.
def _stats_to_wire(s: StatsView) -> list[int]:
    return [
        s.conns,
        s.inpkts,
        s.outpkts,
        s.inbytes,
        s.outbytes,
        s.cps,
        s.inpps,
        s.outpps,
        s.inbps,
        s.outbps,
    ]


def _stats_from_wire(value: Any) -> StatsView:
    if (
        not isinstance(value, list)
        or len(value) != 10
        or not all(isinstance(v, int) for v in value)
    ):
        raise WireError("stats: expected 10 integers")
    return StatsView(*value)


def service_to_wire(svc: Service) -> Json:
    """A live service and its dests, for listings (docs/control-protocol.md).

    Dests travel as flat arrays: a table of 100,000 dests must list in well
    under a second."""
    key = svc.key
    spec = service_key_to_wire(key)
    spec.update(
        scheduler=svc.sched_name,
        flags=svc.flags,
        timeout=svc.timeout,
        netmask=svc.netmask,
        pe=svc.pe_name,
    )
    rows = []
    for d in svc.dests:
        rows.append(
            [
                _addr_text(d.af, d.addr),
                d.port,
                FWD_NAMES.get(d.fwd, str(d.fwd)),
                d.weight,
                d.u_threshold,
                d.l_threshold,
                TUN_NAMES.get(d.tun_type, str(d.tun_type)),
                d.tun_port,
                d.tun_flags,
                d.activeconns,
                d.inactconns,
                d.persistconns,
                *d.stats.values(),
            ]
        )
    return {"service": spec, "stats": svc.stats.values(), "dests": rows}


def _dest_row(row: Any) -> DestInfo:
    """A dest row of a listing reply. Replies come from the daemon, which
    built them from typed objects: only their shape is checked here (the
    daemon is the one that checks every field of every request)."""
    if type(row) is not list or len(row) != 22:
        raise WireError("dests: expected rows of 22 fields")
    addr = row[0]
    parsed = parse_ip(addr) if type(addr) is str else None
    if parsed is None:
        raise WireError(f"dest address {addr!r}")
    spec = DestSpec(
        parsed[0], parsed[1], row[1], FWD_BY_NAME.get(row[2], 3), row[3], row[4], row[5],
        TUN_BY_NAME.get(row[6], 0), row[7], row[8],
    )  # fmt: skip
    return DestInfo(spec, row[9], row[10], row[11], StatsView._make(row[12:]))


def service_info_from_wire(value: Any) -> ServiceInfo:
    d = _obj(value, "service info")
    dests = d.get("dests", [])
    if not isinstance(dests, list):
        raise WireError("dests: expected a list")
    return ServiceInfo(
        spec=service_spec_from_wire(d.get("service")),
        stats=_stats_from_wire(d.get("stats")),
        dests=tuple(_dest_row(row) for row in dests),
    )


def conn_to_wire(c: ConnInfo) -> list[Any]:
    return [
        c.protocol,
        AF_NAMES[c.af],
        _addr_text(c.af, c.caddr),
        c.cport,
        _addr_text(c.af, c.vaddr),
        c.vport,
        _addr_text(c.daf, c.daddr),
        c.dport,
        c.state,
        c.expires,
        c.pe_name,
        c.pe_data,
    ]


def conn_from_wire(value: Any) -> ConnInfo:
    if not isinstance(value, list) or len(value) != 12:
        raise WireError("conn: expected 12 fields")
    proto, af_name, caddr, cport, vaddr, vport, daddr, dport, state, expires, pe_name, pe_data = (
        value
    )
    af = AF_BY_NAME.get(af_name)
    if af is None:
        raise WireError("conn: bad family")
    _c_af, c_addr = _addr({"a": caddr}, "a")
    _, v_addr = _addr({"a": vaddr}, "a")
    d_af, d_addr = _addr({"a": daddr}, "a")
    return ConnInfo(
        protocol=int(proto), af=af, caddr=c_addr, cport=int(cport), vaddr=v_addr, vport=int(vport),
        daf=d_af, daddr=d_addr, dport=int(dport), state=str(state), expires=int(expires),
        pe_name=str(pe_name), pe_data=str(pe_data),
    )  # fmt: skip


def timeouts_to_wire(t: Timeouts) -> Json:
    return {"tcp": t.tcp, "tcpfin": t.tcpfin, "udp": t.udp}


def timeouts_from_wire(value: Any) -> Timeouts:
    d = _obj(value, "timeouts")
    return Timeouts(_int(d, "tcp", 0, U32), _int(d, "tcpfin", 0, U32), _int(d, "udp", 0, U32))


def daemon_info_to_wire(i: SyncDaemonInfo) -> Json:
    return {
        "state": i.state, "mcast_ifn": i.mcast_ifn, "syncid": i.syncid, "sync_maxlen": i.sync_maxlen,
        "mcast_group": i.mcast_group, "mcast_port": i.mcast_port, "mcast_ttl": i.mcast_ttl,
    }  # fmt: skip


def daemon_info_from_wire(value: Any) -> SyncDaemonInfo:
    d = _obj(value, "daemon")
    return SyncDaemonInfo(
        state=_str(d, "state"), mcast_ifn=_str(d, "mcast_ifn"), syncid=_int(d, "syncid", 0, 255),
        sync_maxlen=_int(d, "sync_maxlen", 0, 65535), mcast_group=_str(d, "mcast_group"),
        mcast_port=_int(d, "mcast_port", 0, 65535), mcast_ttl=_int(d, "mcast_ttl", 0, 255),
    )  # fmt: skip
