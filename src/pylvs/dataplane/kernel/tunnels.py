"""IP tunnelling (``-i``) for the kernel plane: both paths behind one face.

* The **fast path** (tunbpf/): a tc-bpf program on the director's
  interfaces encapsulates every packet of a bound IPv4-in-IPv4 IPIP flow at
  kernel speed and follows its IPVS state; the daemon binds each flow after
  scheduling its first packet and sweeps idle flows out.
* The **userspace path** (emit.py): the daemon encapsulates the packet
  itself. It carries what the program does not: the first packet of every
  flow, GUE and GRE tunnels, IPv6, packets too big for the tunnel (the
  client gets "fragmentation needed"), and everything when the program
  cannot run here (no clang, no cls_bpf).
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

from pylvs.core.addr import AF_INET, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, format_addr
from pylvs.core.model import Dest
from pylvs.dataplane.kernel.emit import TooBig, TunnelSender
from pylvs.dataplane.kernel.ipip import decrement_ttl
from pylvs.dataplane.kernel.neighbours import Resolution
from pylvs.dataplane.kernel.ruleset import Timeouts

__all__ = ["Tunnels"]

log = logging.getLogger("pylvs.kernel")

TUN_IPIP = 0
SWEEP_MIN = 2.0
SWEEP_SHARE = 20  # a sweep may take at most 1/20 of the time


class Tunnels:
    def __init__(self, devices: list[str]) -> None:
        self.userspace = TunnelSender()
        self.fast: Any = None
        self.reason = ""
        self.ready: set[int] = set()
        # Flows the program holds, per real server: (active, inactive) as of
        # the last sweep plus the flows bound since.
        self.counts: dict[int, tuple[int, int]] = {}
        self.next_sweep = 0.0
        self._counters: dict[int, tuple[int, int]] = {}
        self._options: tuple[bool, bool, int] | None = None
        from pylvs.dataplane.kernel import tunbpf

        why = tunbpf.probe()
        if why:
            self.reason = why
            return
        try:
            self.fast = tunbpf.TunFastPath(devices, adopt=True)
        except Exception as e:  # a program the kernel refuses: the userspace path stays
            self.reason = f"the tc-bpf program could not be loaded ({e})"

    @property
    def kind(self) -> str:
        if self.fast is None:
            return f"userspace ({self.reason})"
        return "tc-bpf for IPIP over IPv4, userspace for the rest"

    def close(self) -> None:
        self.userspace.close()
        if self.fast is not None:
            # The program keeps forwarding the bound flows for a successor.
            self.fast.close(detach=False)

    def set_devices(self, devices: list[str]) -> None:
        if self.fast is not None:
            self.fast.set_devices(devices)

    def set_options(self, pmtu_disc: bool, secure_tcp: bool, conn_reuse_mode: int) -> None:
        options = (pmtu_disc, secure_tcp, conn_reuse_mode)
        if self.fast is not None and options != self._options:
            self._options = options
            self.fast.set_options(
                pmtu_disc=pmtu_disc, secure_tcp=secure_tcp, conn_reuse_mode=conn_reuse_mode
            )

    def set_dest(self, ident: int, dest: Dest, res: Resolution) -> None:
        """A tunnel real server the program can take: IPIP to an IPv4
        address whose next hop's MAC is known."""
        if self.fast is None:
            return
        if (
            dest.af == AF_INET
            and dest.tun_type == TUN_IPIP
            and res.link is not None
            and res.mac
            and res.src
            and not res.local
        ):
            self.fast.set_dest(
                ident, dest.addr, res.src, res.link.index, res.link.mac, res.mac, res.mtu
            )
            self.ready.add(ident)

    # --- packets ---------------------------------------------------------------
    def bind(
        self,
        af: int,
        proto: int,
        saddr: int,
        daddr: int,
        sport: int,
        dport: int,
        ident: int,
        state: str,
        controlled: bool,
    ) -> bool:
        """Hand a flow to the program (True) after its first packet."""
        if self.fast is None or ident not in self.ready or af != AF_INET:
            return False
        if proto not in (IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP):
            return False
        try:
            self.fast.add_flow(
                saddr, daddr, sport, dport, proto, ident, state if state != "UDP" else None,
                controlled=controlled,
            )  # fmt: skip
        except OSError as e:
            log.warning("cannot bind a flow in the tc-bpf program: %s", e)
            return False
        active = proto != IPPROTO_UDP
        a, i = self.counts.get(ident, (0, 0))
        self.counts[ident] = (a + active, i + (not active))
        return True

    def flow_dest(
        self, af: int, proto: int, saddr: int, daddr: int, sport: int, dport: int
    ) -> int | None:
        """The real server of a flow the program holds (for its packets it
        passes up: too big, TTL, ...)."""
        if self.fast is None or af != AF_INET:
            return None
        try:
            dest: int | None = self.fast.flow_dest(saddr, daddr, sport, dport, proto)
        except OSError:
            return None
        return dest

    def send(self, payload: bytes, dest: Dest, res: Resolution | None, pmtu_disc: bool) -> str:
        """Encapsulate one packet in userspace; "" when sent, else why not."""
        inner = bytearray(payload)
        if not decrement_ttl(inner):
            return "ttl"
        mtu = res.mtu if res is not None else 1500
        try:
            self.userspace.send(
                dest.af, format_addr(dest.af, dest.addr), inner,
                pmtu_disc=pmtu_disc, mtu=mtu, tun_type=dest.tun_type,
                tun_port=dest.tun_port, tun_flags=dest.tun_flags,
            )  # fmt: skip
        except TooBig as e:
            if payload[0] >> 4 == 4:
                client = format_addr(AF_INET, int.from_bytes(payload[12:16], "big"))
                vip = format_addr(AF_INET, int.from_bytes(payload[16:20], "big"))
                with contextlib.suppress(OSError):
                    self.userspace.frag_needed(payload, e.mtu, client, vip)
            return "too big"
        except OSError as e:
            return str(e)
        return ""

    # --- the program's flows ---------------------------------------------------------
    def sweep(self, now: float, timeouts: Timeouts) -> dict[int, tuple[int, int]]:
        """End idle flows; the change of each real server's (active,
        inactive) counts since the last sweep."""
        if self.fast is None or now < self.next_sweep:
            return {}
        started = time.monotonic()
        found = self.fast.expire(timeouts=timeouts)
        took = time.monotonic() - started
        self.next_sweep = now + max(SWEEP_MIN, took * SWEEP_SHARE)
        changes = {}
        for ident in set(found.counts) | set(self.counts):
            a, i = found.counts.get(ident, (0, 0))
            oa, oi = self.counts.get(ident, (0, 0))
            if (a, i) != (oa, oi):
                changes[ident] = (a - oa, i - oi)
        self.counts = dict(found.counts)
        return changes

    def counter_deltas(self) -> dict[int, tuple[int, int]]:
        """Packets and bytes the program forwarded per real server since the
        last call (InPkts/InBytes)."""
        if self.fast is None:
            return {}
        now = self.fast.counters()
        out = {}
        for ident, (p, b) in now.items():
            lp, lb = self._counters.get(ident, (0, 0))
            if p > lp or b > lb:
                out[ident] = (p - lp, b - lb)
        self._counters = now
        return out

    def flows(self, timeouts: Timeouts) -> list[Any]:
        if self.fast is None:
            return []
        return list(self.fast.flows(timeouts=timeouts))

    def end_flows_of(self, ident: int, timeouts: Timeouts) -> None:
        if self.fast is None:
            return
        for f in self.fast.flows(timeouts=timeouts):
            if f.dest_id == ident:
                self.fast.del_flow(f.caddr, f.vaddr, f.cport, f.vport, f.proto)
