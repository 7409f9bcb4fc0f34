"""The kernel's flow entries as IPVS's connections: the rows of ``-Lnc``
and the exact ActiveConn/InActConn per real server, from conntrack (NAT),
the netdev connection maps (DR) and the tc-bpf program's map (TUN).

Pure: the plane reads the entries, these functions say what IPVS would
show for them.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable, Mapping
from typing import Any

from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP
from pylvs.core.info import ConnInfo
from pylvs.core.model import Dest
from pylvs.dataplane.kernel import ruleset as rs
from pylvs.dataplane.kernel.ctnetlink import CtEntry
from pylvs.dataplane.kernel.drflows import DrFlow

__all__ = ["ACTIVE_STATES", "CT_TO_IPVS", "conn_infos", "exact_counts"]

# Conntrack's TCP states (ctnetlink.TCP_CONNTRACK_NAMES) as IPVS names them.
CT_TO_IPVS = {
    1: "SYN_RECV",  # the client's SYN seen: IPVS is in SYN_RECV after it
    2: "SYN_RECV",
    3: "ESTABLISHED",
    4: "FIN_WAIT",
    5: "CLOSE_WAIT",
    6: "LAST_ACK",
    7: "TIME_WAIT",
    8: "CLOSE",
    9: "SYN_RECV",
}
ACTIVE_STATES = frozenset({"SYN_SENT", "SYN_RECV", "ESTABLISHED", "SYNACK"})  # §4.4
_CORE_AF: dict[int, int] = {int(socket.AF_INET): AF_INET, int(socket.AF_INET6): AF_INET6}


def exact_counts(
    nat: Iterable[CtEntry],
    dr: Iterable[DrFlow],
    tun: Mapping[int, tuple[int, int]],
    core: Iterable[tuple[int, str]],
) -> dict[int, list[int]]:
    """Real server id -> [active, inactive] flows. ``tun``: the program's
    own counts per id; ``core``: (id, IPVS state) of the entries only the
    core holds (userspace-path flows, templates left out by the caller)."""
    exact: dict[int, list[int]] = {}
    for e in nat:
        c = exact.setdefault(e.mark & rs.ID_MASK, [0, 0])
        is_active = e.proto == IPPROTO_TCP and CT_TO_IPVS.get(e.tcp_state) in ACTIVE_STATES
        c[0 if is_active else 1] += 1
    for f in dr:
        c = exact.setdefault(f.dest_id, [0, 0])
        c[0 if f.proto == IPPROTO_TCP and f.state in ACTIVE_STATES else 1] += 1
    for ident, state in core:
        c = exact.setdefault(ident, [0, 0])
        c[0 if state in ACTIVE_STATES else 1] += 1
    for ident, (a, i) in tun.items():
        c = exact.setdefault(ident, [0, 0])
        c[0] += a
        c[1] += i
    return exact


def conn_infos(
    nat: Iterable[CtEntry], dr: Iterable[DrFlow], tun: Iterable[Any], by_id: Mapping[int, Dest]
) -> list[ConnInfo]:
    """``-Lnc`` rows of the kernel's entries whose real server is known.
    ``tun``: the program's flows (tunbpf.fastpath.TunFlow)."""
    out: list[ConnInfo] = []
    for e in nat:
        if e.mark & rs.ID_MASK not in by_id:
            continue
        af = _CORE_AF.get(e.family, AF_INET)
        if e.proto == IPPROTO_TCP:
            state = CT_TO_IPVS.get(e.tcp_state, "NONE")
        elif e.proto == IPPROTO_UDP:
            state = "UDP"
        else:
            state = "ESTABLISHED"
        out.append(
            ConnInfo(
                protocol=e.proto, af=af, caddr=e.src, cport=e.sport, vaddr=e.dst,
                vport=e.dport, daf=af, daddr=e.rsrc, dport=e.rsport, state=state,
                expires=e.timeout,
            )
        )  # fmt: skip
    for f in (*dr, *tun):  # DR and TUN entries: the real server from its id
        dest = by_id.get(f.dest_id)
        if dest is None:
            continue
        out.append(
            ConnInfo(
                protocol=f.proto, af=AF_INET, caddr=f.caddr, cport=f.cport, vaddr=f.vaddr,
                vport=f.vport, daf=dest.af, daddr=dest.addr, dport=dest.port or f.vport,
                state=f.state, expires=max(0, int(f.expires)),
            )
        )  # fmt: skip
    return out
