"""The kernel plane's nftables table, as nft commands (pure: text out).

Everything pylvs puts in the kernel lives in one table, ``inet pylvs``; it
never touches another table and never flushes the ruleset
(dataplane-notes §2: ``flush ruleset`` also wipes iptables-nft's tables).

How a new flow to a virtual service travels (NAT, dataplane-notes §1–§2):

1. ``pre`` (prerouting, after conntrack and after iptables' mangle, so that
   users' fwmark rules have run) sends the first packet of each new flow
   (a packet of an unconfirmed conntrack entry: a retransmitted SYN of a
   bound flow is not a new flow) to the kernel's own cycle for rr/wrr
   services (kernelsched.py) or to the daemon through NFQUEUE (``q``: the nft ``queue`` expression where the
   kernel has it, else the xtables NFQUEUE target).
2. The daemon's core schedules it exactly as IPVS and returns the packet
   with a mark naming the chosen real server (``MARK_BASE | id``).
3. ``nat`` (dstnat) copies the mark to the conntrack entry, sets IPVS's
   timeouts (``ct timeout`` objects) and the events the daemon listens to,
   and DNATs to the real server by mark. Every later packet, both ways, is
   conntrack's.
4. ``fwd`` counts each real server's packets and bytes in and out with
   named counters, found by the conntrack mark.

No destination: the packet comes back with ``MARK_REJECT`` and ``in``
answers ICMP port unreachable, as IPVS does (behaviour reference §2.3).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pylvs.core.addr import AF_INET, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, format_addr
from pylvs.dataplane.kernel.nflog import LOG_GROUP

__all__ = [
    "MARK_BASE",
    "MARK_MASK",
    "MARK_REJECT",
    "TABLE",
    "DestRule",
    "ServiceRule",
    "Timeouts",
    "dest_elements",
    "mark_of",
    "service_elements",
    "skeleton",
    "timeout_update",
]

TABLE = "pylvs"
# Marks pylvs gives packets and conntrack entries: 0x4c ("L") in the top byte.
MARK_BASE = 0x4C000000
MARK_MASK = 0xFF000000
MARK_REJECT = 0x4CFFFFFF
# The conntrack mark's bit 23 says the flow has seen its first FIN or RST
# (accounting.py); the real server's id is below it.
CLOSING = 0x00800000
ID_MASK = 0x007FFFFF
MAX_ID = ID_MASK - 1

_UNFLAG = 0xFFFFFFFF & ~CLOSING
_PROTO = {IPPROTO_TCP: "tcp", IPPROTO_UDP: "udp", IPPROTO_SCTP: "sctp"}


@dataclass(frozen=True)
class Timeouts:
    """IPVS's timeouts for the flows pylvs binds (behaviour reference §4.2,
    §4.3); ``--set tcp tcpfin udp`` changes the first three."""

    established: int = 900
    fin_wait: int = 120
    udp: int = 300
    syn_sent: int = 120
    syn_recv: int = 60
    close_wait: int = 60
    last_ack: int = 30
    time_wait: int = 120
    close: int = 10
    sctp: int = 900  # SCTP ESTABLISHED (behaviour reference §4.3)


@dataclass(frozen=True)
class ServiceRule:
    """A virtual service whose new flows go to the daemon."""

    af: int
    protocol: int  # 0 for a fwmark service
    addr: int
    port: int
    fwmark: int = 0


@dataclass(frozen=True)
class DestRule:
    """A NAT real server: its id (mark), address and, when the port changes,
    its port (``None``: keep the packet's port)."""

    id: int
    af: int
    addr: int
    port: int | None


def mark_of(dest_id: int) -> int:
    return MARK_BASE | dest_id


def _timeout_objects(t: Timeouts, gen: int = 0) -> str:
    tcp = (
        f"syn_sent : {t.syn_sent}, syn_recv : {t.syn_recv}, established : {t.established}, "
        f"fin_wait : {t.fin_wait}, close_wait : {t.close_wait}, last_ack : {t.last_ack}, "
        f"time_wait : {t.time_wait}, close : {t.close}"
    )
    udp = f"unreplied : {t.udp}, replied : {t.udp}"
    out = []
    for fam, l3 in (("4", "ip"), ("6", "ip6")):
        out.append(
            f"  ct timeout tcp{fam}g{gen} {{ protocol tcp; l3proto {l3}; policy = {{ {tcp} }}; }}"
        )
        out.append(
            f"  ct timeout udp{fam}g{gen} {{ protocol udp; l3proto {l3}; policy = {{ {udp} }}; }}"
        )
    return "\n".join(out)


def _bind_rules(gen: int) -> str:
    return f"""    ct mark set meta mark
    meta nfproto ipv4 meta l4proto tcp ct timeout set "tcp4g{gen}"
    meta nfproto ipv4 meta l4proto udp ct timeout set "udp4g{gen}"
    meta nfproto ipv6 meta l4proto tcp ct timeout set "tcp6g{gen}"
    meta nfproto ipv6 meta l4proto udp ct timeout set "udp6g{gen}"
    meta nfproto ipv4 meta l4proto {{ tcp, udp, sctp }} dnat ip addr . port to meta mark map @dnat4
    meta nfproto ipv4 dnat ip to meta mark map @dnat4a
    meta nfproto ipv6 meta l4proto {{ tcp, udp, sctp }} dnat ip6 addr . port to meta mark map @dnat6
    meta nfproto ipv6 dnat ip6 to meta mark map @dnat6a
"""


def skeleton(timeouts: Timeouts, native_queue: int | None) -> str:
    """The table without elements. ``native_queue``: the queue number when
    the kernel has nft's ``queue`` expression; otherwise ``q`` is left empty
    for the xtables target (xtqueue.py)."""
    q = f"    queue num {native_queue}\n" if native_queue is not None else ""
    return f"""table inet {TABLE} {{
{_timeout_objects(timeouts)}
  set svc4 {{ type ipv4_addr . inet_proto . inet_service; }}
  set svc6 {{ type ipv6_addr . inet_proto . inet_service; }}
  set fwm4 {{ type mark; }}
  set fwm6 {{ type mark; }}
  set trk {{ type mark; }}
  map dead {{ type mark : verdict; }}
  map dnat4 {{ type mark : ipv4_addr . inet_service; }}
  map dnat4a {{ type mark : ipv4_addr; }}
  map dnat6 {{ type mark : ipv6_addr . inet_service; }}
  map dnat6a {{ type mark : ipv6_addr; }}
  map ksvc4 {{ type ipv4_addr . inet_proto . inet_service : verdict; }}
  map ksvc6 {{ type ipv6_addr . inet_proto . inet_service : verdict; }}
  map kfwm4 {{ type mark : verdict; }}
  map kfwm6 {{ type mark : verdict; }}
  map cconn {{ type mark : counter; }}
  map cfin {{ type mark : counter; }}
  map crst {{ type mark : counter; }}
  map cin {{ type mark : counter; }}
  map cout {{ type mark : counter; }}
  chain q {{
{q}  }}
  chain pre {{
    type filter hook prerouting priority mangle + 2; policy accept;
    ct state established,related ct mark & {MARK_MASK:#010x} == {MARK_BASE:#010x} ct mark & {_UNFLAG:#010x} vmap @dead
    ct state new ct status & confirmed == 0 jump first
    ct state invalid jump first
  }}
  chain deadrst {{
    ct direction original meta l4proto tcp reject with tcp reset
    ct direction original drop
  }}
  chain first {{
    ct state new ip daddr . meta l4proto . th dport vmap @ksvc4
    ct state new ip6 daddr . meta l4proto . th dport vmap @ksvc6
    ct state new meta nfproto ipv4 meta mark vmap @kfwm4
    ct state new meta nfproto ipv6 meta mark vmap @kfwm6
    ip daddr . meta l4proto . th dport @svc4 jump q
    ip6 daddr . meta l4proto . th dport @svc6 jump q
    meta nfproto ipv4 meta mark @fwm4 jump q
    meta nfproto ipv6 meta mark @fwm6 jump q
  }}
  chain nat {{
    type nat hook prerouting priority dstnat; policy accept;
    meta mark & {MARK_MASK:#010x} == {MARK_BASE:#010x} meta mark != {MARK_REJECT:#010x} jump bind
  }}
  chain bind {{
{_bind_rules(0)}  }}
  chain count {{
    type filter hook forward priority filter - 1; policy accept;
    ct mark & {MARK_MASK:#010x} != {MARK_BASE:#010x} return
    meta mark & {MARK_MASK:#010x} == {MARK_BASE:#010x} return
    tcp flags & (fin|rst) != 0 ct mark & {CLOSING:#010x} == 0 jump closing
    ct direction original counter name ct mark & {_UNFLAG:#010x} map @cin return
    counter name ct mark & {_UNFLAG:#010x} map @cout
  }}
  chain closing {{
    tcp flags & rst == rst ct mark & {_UNFLAG:#010x} @trk meta mark set ct mark ct mark set ct mark | {CLOSING:#010x} log prefix "r" group {LOG_GROUP} snaplen 0 queue-threshold 1 return
    tcp flags & fin == fin ct mark & {_UNFLAG:#010x} @trk meta mark set ct mark ct mark set ct mark | {CLOSING:#010x} log prefix "f" group {LOG_GROUP} snaplen 0 queue-threshold 1 return
    tcp flags & rst == rst ct mark set ct mark | {CLOSING:#010x} counter name ct mark & {_UNFLAG:#010x} map @crst return
    ct mark set ct mark | {CLOSING:#010x} counter name ct mark & {_UNFLAG:#010x} map @cfin
  }}
  chain local {{
    type filter hook input priority filter - 1; policy accept;
    meta mark {MARK_REJECT:#010x} reject with icmpx type port-unreachable
  }}
}}
"""


def _addr(af: int, addr: int) -> str:
    return format_addr(af, addr) if af == AF_INET else f"{format_addr(af, addr)}"


def service_element(s: ServiceRule) -> tuple[str, str]:
    """(set name, element) of a service."""
    fam = "4" if s.af == AF_INET else "6"
    if s.fwmark:
        return f"fwm{fam}", f"{s.fwmark:#010x}"
    return f"svc{fam}", f"{_addr(s.af, s.addr)} . {_PROTO[s.protocol]} . {s.port}"


def service_elements(cmd: str, services: Iterable[ServiceRule]) -> str:
    """``add``/``delete element`` commands for services."""
    lines = []
    for s in services:
        name, elem = service_element(s)
        lines.append(f"{cmd} element inet {TABLE} {name} {{ {elem} }}")
    return "\n".join(lines) + ("\n" if lines else "")


def dest_elements(cmd: str, dests: Iterable[DestRule]) -> str:
    """Commands that add (``add``) or remove (``delete``) NAT real servers:
    the DNAT map entry and the two named counters."""
    lines = []
    for d in dests:
        mark = f"{mark_of(d.id):#010x}"
        fam = "4" if d.af == AF_INET else "6"
        addr = _addr(d.af, d.addr)
        if d.port is None:
            lines.append(f"{cmd} element inet {TABLE} dnat{fam}a {{ {mark} : {addr} }}")
        else:
            lines.append(f"{cmd} element inet {TABLE} dnat{fam} {{ {mark} : {addr} . {d.port} }}")
        counters = (("i", "cin"), ("o", "cout"), ("c", "cconn"), ("f", "cfin"), ("r", "crst"))
        for suffix, cmap in counters:
            if cmd == "add":
                lines.append(f"add counter inet {TABLE} d{d.id}{suffix}")
                lines.append(f'add element inet {TABLE} {cmap} {{ {mark} : "d{d.id}{suffix}" }}')
            else:
                lines.append(f"delete element inet {TABLE} {cmap} {{ {mark} }}")
                lines.append(f"delete counter inet {TABLE} d{d.id}{suffix}")
    return "\n".join(lines) + ("\n" if lines else "")


def track_elements(cmd: str, ids: Iterable[int]) -> str:
    """Real servers whose flows' first FIN/RST is logged to the daemon at
    once (nflog.py), for schedulers that count connections and thresholds."""
    return "".join(f"{cmd} element inet {TABLE} trk {{ {mark_of(i):#010x} }}\n" for i in ids)


def dead_elements(cmd: str, set_name: str, ids: Iterable[int]) -> str:
    """A deleted real server's flows: ``deadrst`` (expire_nodest_conn: the
    client's next packet is answered with a reset, as the director's own
    stack answers once IPVS expired the entry) or ``deaddrop``
    (keep_nodest_conn=0: dropped, as IPVS drops them). ``delete`` ignores
    ``set_name``."""
    verdict = "jump deadrst" if set_name == "deadrst" else "drop"
    out = []
    for i in ids:
        if cmd == "add":
            out.append(f"add element inet {TABLE} dead {{ {mark_of(i):#010x} : {verdict} }}\n")
        else:
            out.append(f"delete element inet {TABLE} dead {{ {mark_of(i):#010x} }}\n")
    return "".join(out)


def timeout_update(t: Timeouts, gen: int) -> str:
    """``--set``: new ct timeout objects (generation ``gen``) and the bind
    chain switched to them. Objects still used by live entries cannot be
    deleted, so older generations stay until the table is recreated."""
    objects = _timeout_objects(t, gen).replace("  ct timeout ", f"add ct timeout inet {TABLE} ")
    rules = "".join(
        f"add rule inet {TABLE} bind {line.strip()}\n" for line in _bind_rules(gen).splitlines()
    )
    return f"{objects}\nflush chain inet {TABLE} bind\n{rules}"
