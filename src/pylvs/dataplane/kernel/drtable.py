"""Direct Routing in the kernel: the ``netdev pylvs`` table (pure: text out).

IPv4 DR flows never climb the director's IP stack once bound
(dataplane-notes §4 (b')): the ingress hook of each interface looks the
packet up in a connection map (client . VIP . client port . VIP port, one
map per protocol), refreshes the entry's timeout the way IPVS's INPUT-ONLY
TCP table would (behaviour reference §4.2, §6.4), counts it for its real
server, and forwards the unchanged IP packet to the real server's MAC from
the director's MAC (``fwd``: no routing, no conntrack, no TTL change).

A flow's first packet misses the map and goes up the stack to the daemon
(NFQUEUE, ruleset.py). The daemon schedules it, then sends the frame itself
on the real server's interface through an AF_PACKET socket whose packets
carry the mark ``MARK_EMIT | id``; this table's egress hook sees that mark
and adds the flow to the map. So binding a flow costs the daemon one
``sendmsg``; no nftables transaction per connection.

nft 1.0.6 cannot update a map from the packet path when key and data need
more than five registers, so IPv6 keys (16-byte addresses) do not fit:
IPv6 DR flows take the userspace path (each packet through the daemon).

TCP states (INPUT-ONLY table, client packets only) are kept as set
membership, because a map element's data cannot change from the packet
path (and nft keeps an element's first timeout in its listing): RST seen →
CLOSE, FIN seen → FIN_WAIT, SYN seen and no ACK yet → SYN_RECV, else
ESTABLISHED; each packet sets the entry's expiry to IPVS's timeout for
its state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pylvs.dataplane.kernel.nflog import LOG_GROUP
from pylvs.dataplane.kernel.ruleset import Timeouts

__all__ = [
    "MARK_EMIT",
    "TABLE",
    "DrDest",
    "dest_elements",
    "devices_update",
    "skeleton",
    "state_chains",
]

TABLE = "pylvs"  # family netdev: distinct from ``inet pylvs``
# Frames the daemon sends for a new DR flow: 0x4d ("M") in the top byte.
MARK_EMIT = 0x4D000000
MAP_SIZE = 1048576
_KEY = "ip saddr . ip daddr . th sport . th dport"
_KEY_TYPE = "ipv4_addr . ipv4_addr . inet_service . inet_service"
# (map, protocol) per transport.
FLOW_MAPS = (("t4", "tcp"), ("u4", "udp"), ("s4", "sctp"))


@dataclass(frozen=True)
class DrDest:
    """A DR real server as the forwarding rule needs it."""

    id: int
    mac: str  # the real server's
    src_mac: str  # the director's, on that interface
    ifname: str


def _chain_header(hook: str, devices: Sequence[str], priority: int) -> str:
    devs = ", ".join(f'"{d}"' for d in devices)
    return f"type filter hook {hook} devices = {{ {devs} }} priority {priority}; policy accept;"


_SYN = "tcp flags & (syn|ack) == syn"


def _note(prefix: str) -> str:
    return f'log prefix "{prefix}" group {LOG_GROUP} snaplen 0 queue-threshold 1'


def _tcp_rules(t: Timeouts) -> list[str]:
    """Per packet of a bound flow. A plain ACK of an established flow (most
    packets) meets one map lookup, one set lookup and the refresh."""
    k = _KEY
    return [
        f"meta mark set {k} map @t4",
        # A new flow of a service scheduled in the kernel (kernelsched.py).
        f"meta mark 0 {_SYN} ip daddr . th dport vmap @kd4t",
        "meta mark 0 return",
        "tcp flags & (syn|fin|rst) != 0 jump tflags",
        f"{k} @any4 jump tstate",
        f"update @t4 {{ {k} timeout {t.established}s : meta mark }} goto out",
    ]


def _tflags_rules(t: Timeouts) -> list[str]:
    """A SYN, FIN or RST of a bound flow: its state changes."""
    k = _KEY
    sr = f"add @syn4 {{ {k} timeout {t.syn_recv}s }} add @any4 {{ {k} timeout {t.syn_recv}s }}"
    return [
        # A SYN on a closed entry opens it again (INPUT-ONLY: FW/TW/CL -> SR).
        f"{_SYN} {k} @fin4 delete @fin4 {{ {k} }} {sr}",
        f"{_SYN} {k} @rst4 delete @rst4 {{ {k} }} {sr}",
        # The flow's first FIN or RST: to the daemon at once for real servers
        # it counts for (nflog.py), else counted (accounting.py).
        f"tcp flags & rst == rst {k} != @rst4 {k} != @fin4 meta mark @trk {_note('r')}",
        f"tcp flags & fin == fin {k} != @fin4 {k} != @rst4 meta mark @trk {_note('f')}",
        f"tcp flags & rst == rst {k} != @rst4 {k} != @fin4 meta mark != @trk"
        " counter name meta mark map @crst",
        f"tcp flags & fin == fin {k} != @fin4 {k} != @rst4 meta mark != @trk"
        " counter name meta mark map @cfin",
        f"tcp flags & rst == rst add @rst4 {{ {k} timeout {t.close}s }}"
        f" add @any4 {{ {k} timeout {t.close}s }}",
        f"tcp flags & fin == fin add @fin4 {{ {k} timeout {t.fin_wait}s }}"
        f" add @any4 {{ {k} timeout {t.fin_wait}s }}",
    ]


def _tstate_rules(t: Timeouts) -> list[str]:
    """A flow not in ESTABLISHED: the timeout of its state."""
    k = _KEY
    return [
        f"{k} @rst4 update @rst4 {{ {k} timeout {t.close}s }} update @any4 {{ {k} timeout"
        f" {t.close}s }} update @t4 {{ {k} timeout {t.close}s : meta mark }} goto out",
        f"{k} @fin4 update @fin4 {{ {k} timeout {t.fin_wait}s }} update @any4 {{ {k} timeout"
        f" {t.fin_wait}s }} update @t4 {{ {k} timeout {t.fin_wait}s : meta mark }} goto out",
        f"{_SYN} {k} @syn4 update @t4 {{ {k} timeout {t.syn_recv}s : meta mark }} goto out",
        # SYN_RECV until the client's first ACK, then ESTABLISHED.
        f"{k} @syn4 delete @syn4 {{ {k} }} delete @any4 {{ {k} }}",
    ]


def _udp_rules(name: str, timeout: int) -> list[str]:
    kmap = {"u4": "kd4u", "s4": "kd4s"}[name]
    return [
        f"meta mark set {_KEY} map @{name}",
        f"meta mark 0 ip daddr . th dport vmap @{kmap}",
        "meta mark 0 return",
        f"update @{name} {{ {_KEY} timeout {timeout}s : meta mark }} goto out",
    ]


def _record_rules(t: Timeouts) -> list[str]:
    # The daemon counted this first packet already.
    return [
        f"meta l4proto tcp delete @fin4 {{ {_KEY} }} delete @rst4 {{ {_KEY} }}"
        f" add @syn4 {{ {_KEY} timeout {t.syn_recv}s }} add @any4 {{ {_KEY} timeout {t.syn_recv}s }}"
        f" add @t4 {{ {_KEY} timeout {t.syn_recv}s : meta mark }} return",
        f"meta l4proto udp add @u4 {{ {_KEY} timeout {t.udp}s : meta mark }} return",
        f"meta l4proto sctp add @s4 {{ {_KEY} timeout {t.sctp}s : meta mark }} return",
    ]


def _chain(name: str, rules: Iterable[str], header: str = "") -> str:
    body = "".join(f"    {r}\n" for r in rules)
    head = f"    {header}\n" if header else ""
    return f"  chain {name} {{\n{head}{body}  }}\n"


def skeleton(timeouts: Timeouts, devices: Sequence[str]) -> str:
    """The whole table, empty maps. ``devices``: every interface client
    traffic can arrive on and real servers can be reached through."""
    maps = "".join(
        f"  map {name} {{ type {_KEY_TYPE} : mark; flags dynamic,timeout; size {MAP_SIZE}; }}\n"
        for name, _p in FLOW_MAPS
    )
    sets = "".join(
        f"  set {name} {{ type {_KEY_TYPE}; flags dynamic,timeout; size {MAP_SIZE}; }}\n"
        for name in ("syn4", "fin4", "rst4", "any4")
    )
    return (
        f"table netdev {TABLE} {{\n{maps}{sets}"
        "  map mac { type mark : ether_addr; }\n"
        "  map smac { type mark : ether_addr; }\n"
        "  map dev { type mark : iface_index; }\n"
        "  map cnt { type mark : counter; }\n"
        "  map cconn { type mark : counter; }\n"
        "  set trk { type mark; }\n"
        "  map dead { type mark : verdict; }\n"
        "  map cfin { type mark : counter; }\n"
        "  map crst { type mark : counter; }\n"
        "  map kd4t { type ipv4_addr . inet_service : verdict; }\n"
        "  map kd4u { type ipv4_addr . inet_service : verdict; }\n"
        "  map kd4s { type ipv4_addr . inet_service : verdict; }\n"
        + _chain("tcp4", _tcp_rules(timeouts))
        + _chain("tflags", _tflags_rules(timeouts))
        + _chain("tstate", _tstate_rules(timeouts))
        + _chain("udp4", _udp_rules("u4", timeouts.udp))
        + _chain("sctp4", _udp_rules("s4", timeouts.sctp))
        + _chain(
            "out",
            [
                # A deleted real server's flows (ruleset.dead_elements): up
                # the stack, which resets the client, or dropped.
                "meta mark vmap @dead",
                "counter name meta mark map @cnt",
                "ether saddr set meta mark map @smac ether daddr set meta mark map @mac"
                " fwd to meta mark map @dev",
            ],
        )
        + _chain("rec", _record_rules(timeouts))
        + _hook_chains(devices)
        + "}\n"
    )


def _hook_chains(devices: Sequence[str]) -> str:
    if not devices:
        return ""
    return _chain(
        "in",
        [
            "meta protocol ip meta l4proto tcp goto tcp4",
            "meta protocol ip meta l4proto udp goto udp4",
            "meta protocol ip meta l4proto sctp goto sctp4",
        ],
        _chain_header("ingress", devices, -450),
    ) + _chain(
        "eg",
        [
            f"meta mark & 0xff000000 == {MARK_EMIT:#010x} meta mark set meta mark & 0x00ffffff jump rec"
        ],
        _chain_header("egress", devices, -450),
    )


def devices_update(devices: Sequence[str], had_hooks: bool) -> str:
    """Commands that re-create the hook chains for a new set of devices
    (interfaces come and go), atomically with the rest of the batch."""
    out = ""
    if had_hooks:
        out += f"delete chain netdev {TABLE} in\ndelete chain netdev {TABLE} eg\n"
    chains = _hook_chains(devices)
    if chains:
        out += f"table netdev {TABLE} {{\n{chains}}}\n"
    return out


def state_chains(timeouts: Timeouts) -> str:
    """``--set``: the chains that carry timeouts, rewritten in one batch."""
    out = ""
    for name, rules in (
        ("tcp4", _tcp_rules(timeouts)),
        ("tflags", _tflags_rules(timeouts)),
        ("tstate", _tstate_rules(timeouts)),
        ("udp4", _udp_rules("u4", timeouts.udp)),
        ("sctp4", _udp_rules("s4", timeouts.sctp)),
        ("rec", _record_rules(timeouts)),
    ):
        out += f"flush chain netdev {TABLE} {name}\n"
        out += "".join(f"add rule netdev {TABLE} {name} {r}\n" for r in rules)
    return out


def track_elements(cmd: str, ids: Iterable[int]) -> str:
    return "".join(f"{cmd} element netdev {TABLE} trk {{ {i:#010x} }}\n" for i in ids)


def dead_elements(cmd: str, kind: str, ids: Iterable[int]) -> str:
    """ruleset.dead_elements for DR flows: ``deadrst`` sends the packet up
    the stack (which resets the client), ``deaddrop`` drops it."""
    verdict = "return" if kind == "deadrst" else "drop"
    if cmd == "add":
        return "".join(
            f"add element netdev {TABLE} dead {{ {i:#010x} : {verdict} }}\n" for i in ids
        )
    return "".join(f"delete element netdev {TABLE} dead {{ {i:#010x} }}\n" for i in ids)


def dest_elements(cmd: str, dests: Iterable[DrDest]) -> str:
    """``add``/``delete``: a DR real server's MACs, interface and counter."""
    lines = []
    for d in dests:
        key = f"{d.id:#010x}"
        if cmd == "add":
            lines += [
                f"add counter netdev {TABLE} r{d.id}",
                *(f"add counter netdev {TABLE} r{d.id}{x}" for x in "cfr"),
                f'add element netdev {TABLE} cconn {{ {key} : "r{d.id}c" }}',
                f'add element netdev {TABLE} cfin {{ {key} : "r{d.id}f" }}',
                f'add element netdev {TABLE} crst {{ {key} : "r{d.id}r" }}',
                f"add element netdev {TABLE} mac {{ {key} : {d.mac} }}",
                f"add element netdev {TABLE} smac {{ {key} : {d.src_mac} }}",
                f'add element netdev {TABLE} dev {{ {key} : "{d.ifname}" }}',
                f'add element netdev {TABLE} cnt {{ {key} : "r{d.id}" }}',
            ]
        else:
            lines += [
                f"delete element netdev {TABLE} {m} {{ {key} }}" for m in ("mac", "smac", "dev")
            ]
    return "".join(line + "\n" for line in lines)
