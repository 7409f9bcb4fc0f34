"""From a loaded configuration to the core's table value
``dict[ServiceKey, ServiceConfig]`` (pylvs.core.diff).

``build_table``: every real server in with its configured weight — the table
keepalived builds at start for configurations without ``alpha``, before any
check has run. ``initial_table``: the exact start state of keepalived.md
§3.6 step 1 (check/ipwrapper.c ``init_service_vs``): real servers with an
``alpha`` checker are left out (kept at weight 0 with
``inhibit_on_failure``), then the quorum is evaluated and, if it is not
reached and there is a sorry server, the live servers make way for it; an
inhibited sorry server otherwise sits in the table at weight 0.

Tracked files (FILE_CHECK) are not read here: the health engine applies them.
"""

from __future__ import annotations

from pylvs.config.model import Forwarding, KeepalivedConfig, RealServer, VirtualServer
from pylvs.config.numbers import UINT_MAX
from pylvs.config.services import dest_port
from pylvs.core.diff import ServiceConfig
from pylvs.core.model import DestKey, DestSpec, ServiceKey, ServiceSpec

__all__ = ["build_table", "dest_spec", "initial_table", "real_weight"]

_WEIGHT_MAX = (1 << 31) - 1


def real_weight(weight: int) -> int:
    """keepalived's ``real_weight``: clamp to what IPVS takes."""
    return max(0, min(weight, _WEIGHT_MAX))


def dest_spec(
    key: ServiceKey,
    af: int,
    addr: int,
    port: int,
    forwarding: Forwarding,
    weight: int,
    u_threshold: int = 0,
    l_threshold: int = 0,
) -> DestSpec:
    """The destination a server becomes in the service ``key``."""
    return DestSpec(
        af=af,
        addr=addr,
        port=dest_port(key, port, forwarding.method == "NAT"),
        fwd=forwarding.conn_flags,
        weight=real_weight(weight),
        u_threshold=u_threshold,
        l_threshold=l_threshold,
        tun_type=forwarding.tun_type_code,
        tun_port=forwarding.tun_port,
        tun_flags=forwarding.tun_flags,
    )


def _rs_dest(key: ServiceKey, rs: RealServer, weight: int) -> DestSpec:
    return dest_spec(
        key, rs.af, rs.addr, rs.port, rs.forwarding, weight, rs.u_threshold, rs.l_threshold
    )


class _Table:
    """Services in order; dests per service in add order (later adds of an
    existing destination replace it, as an edit would)."""

    def __init__(self) -> None:
        self.specs: dict[ServiceKey, ServiceSpec] = {}
        self.dests: dict[ServiceKey, dict[DestKey, DestSpec]] = {}

    def service(self, spec: ServiceSpec) -> None:
        if spec.key not in self.specs:
            self.specs[spec.key] = spec
            self.dests[spec.key] = {}

    def put(self, key: ServiceKey, dest: DestSpec) -> None:
        self.dests[key][dest.key] = dest

    def drop(self, key: ServiceKey, dest: DestKey) -> None:
        self.dests[key].pop(dest, None)

    def value(self) -> dict[ServiceKey, ServiceConfig]:
        return {k: ServiceConfig(s, tuple(self.dests[k].values())) for k, s in self.specs.items()}


def build_table(config: KeepalivedConfig) -> dict[ServiceKey, ServiceConfig]:
    table = _Table()
    for vs in config.virtual_servers:
        for spec in vs.services:
            table.service(spec)
            for rs in vs.real_servers:
                table.put(spec.key, _rs_dest(spec.key, rs, rs.weight))
    return table.value()


def _starts_failed(rs: RealServer) -> bool:
    return any(c.alpha for c in rs.checkers) or any(b.alpha for b in rs.bfd_checks)


def initial_table(config: KeepalivedConfig) -> dict[ServiceKey, ServiceConfig]:
    table = _Table()
    for vs in config.virtual_servers:
        for spec in vs.services:
            table.service(spec)
        _start_vs(table, vs)
    return table.value()


def _start_vs(table: _Table, vs: VirtualServer) -> None:
    keys = [spec.key for spec in vs.services]
    alive: list[RealServer] = []
    for rs in vs.real_servers:
        if not _starts_failed(rs):
            weight = rs.weight
            alive.append(rs)
        elif rs.inhibit_on_failure:
            weight = 0
        else:
            continue
        for k in keys:
            table.put(k, _rs_dest(k, rs, weight))
    sorry = vs.sorry_server
    if sorry is None:
        return
    weight_sum = sum(real_weight(rs.weight) for rs in alive)
    if weight_sum < (vs.quorum + vs.hysteresis) & UINT_MAX:
        # "Starting with quorum down": live servers out, the sorry server in.
        for k in keys:
            for rs in alive:
                d = _rs_dest(k, rs, 0)
                if rs.inhibit_on_failure:
                    table.put(k, d)
                else:
                    table.drop(k, d.key)
            table.put(k, dest_spec(k, sorry.af, sorry.addr, sorry.port, sorry.forwarding, 1))
    elif sorry.inhibit and not sorry.duplicates_rs:
        for k in keys:
            table.put(k, dest_spec(k, sorry.af, sorry.addr, sorry.port, sorry.forwarding, 0))
