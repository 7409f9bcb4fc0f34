"""The TUN fast path as the kernel plane drives it.

``TunFastPath(devices)`` compiles tun_encap.c (once per source version),
loads it and puts it on each device's ingress. The daemon then:

- describes each tunnel real server with :meth:`set_dest` (its address, the
  director's source address and interface for the route, the next hop's
  MAC, the route's MTU) and forgets it with :meth:`del_dest`;
- binds a flow with :meth:`add_flow` after it scheduled and sent the
  flow's first packet itself; every later client packet of the flow is
  encapsulated and sent in the kernel (tun_encap.c says exactly how);
- sweeps: :meth:`expire` deletes the flows idle past their state's IPVS
  timeout and returns each real server's active/inactive counts; the
  program only stamps a flow's state and last-seen time;
- reads :meth:`counters` (InPkts/InBytes per real server; OutPkts stay 0
  in TUN) and :meth:`flows` (``-Lnc``).

Packets the program does not forward go up the stack untouched, to the
daemon's userspace path: an unknown flow or real server, TTL <= 1, too big
for the tunnel (the daemon sends "fragmentation needed" or fragments),
fragments, a SYN/INIT that IPVS would reschedule.

Times: ``now`` is ``time.monotonic()`` (CLOCK_MONOTONIC, the clock of
``bpf_ktime_get_ns``). A restarted daemon that builds a TunFastPath on the
same devices adopts the running program's flows and counters; ``close``
with ``detach=False`` leaves the program forwarding for such a successor.
"""

from __future__ import annotations

import errno
import struct
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from pylvs.core import sctpstate, tcpstate
from pylvs.dataplane.kernel.ruleset import Timeouts
from pylvs.dataplane.kernel.tunbpf import bpfsys, build, loader, records, states
from pylvs.dataplane.kernel.tunbpf.attach import Attacher
from pylvs.dataplane.kernel.tunbpf.bpfsys import BPF_EXIST, BPF_NOEXIST, BpfError, BpfMap
from pylvs.dataplane.kernel.tunbpf.records import Addr

__all__ = ["PROGRAM_NAME", "Sweep", "TunFastPath", "TunFlow"]

PROGRAM = "tun_encap"
PROGRAM_NAME = "pylvs_tun"  # the kernel's program name and the tc filter's
DEFAULT_PRIO = 0x4C56  # "LV"
DEFAULT_HANDLE = 1
FLOW_MAX = 1 << 20
NS = 1_000_000_000
_U32 = struct.Struct("=I")
_U64 = struct.Struct("=Q")
_DEFAULT_STATE = {
    states.IPPROTO_TCP: tcpstate.SYN_RECV,  # the SYN the daemon scheduled
    states.IPPROTO_SCTP: sctpstate.INIT1,  # the INIT
    states.IPPROTO_UDP: 0,
}


class TunFlow(NamedTuple):
    proto: int
    caddr: int
    vaddr: int
    cport: int
    vport: int
    dest_id: int
    state: str
    expires: float  # seconds left (<= 0: the next sweep ends it)
    active: bool


@dataclass
class Sweep:
    """What :meth:`TunFastPath.expire` found: per real server id, the
    (active, inactive) flows left and how many flows it ended."""

    counts: dict[int, tuple[int, int]] = field(default_factory=dict)
    ended: dict[int, int] = field(default_factory=dict)

    @property
    def total_ended(self) -> int:
        return sum(self.ended.values())


def _u32(n: int) -> bytes:
    return _U32.pack(n)


def _state_number(proto: int, state: str | int | None) -> int:
    if state is None:
        return _DEFAULT_STATE.get(proto, 0)
    if isinstance(state, int):
        return state
    if proto == states.IPPROTO_TCP:
        return tcpstate.TCP_S[state]
    if proto == states.IPPROTO_SCTP:
        return sctpstate.SCTP_STATE_NAMES.index(state)
    return 0


class TunFastPath:
    def __init__(
        self,
        devices: Sequence[str],
        *,
        cache_dir: str | Path = build.DEFAULT_CACHE,
        flow_max: int = FLOW_MAX,
        prio: int = DEFAULT_PRIO,
        handle: int = DEFAULT_HANDLE,
        adopt: bool = True,
    ) -> None:
        obj = build.build(PROGRAM, Path(cache_dir))
        self._attacher = Attacher(PROGRAM_NAME, prio, handle)
        offered: dict[str, BpfMap] = {}
        if adopt:
            for prog_id in self._attacher.running(list(devices)):
                offered = loader.maps_of_program(prog_id)
                if offered:
                    break
        self._loaded = loader.load(obj, PROGRAM_NAME, sizes={"tun_flows": flow_max}, adopt=offered)
        maps = self._loaded.maps
        self._flows = maps["tun_flows"]
        self._dests = maps["tun_dests"]
        self._counts = maps["tun_counts"]
        self._config = maps["tun_config"]
        self._stats = maps["tun_stats"]
        self.adopted = self._loaded.adopted
        if not self.adopted:
            self.set_options()
        try:
            for dev in devices:
                self._attacher.attach(dev, self._loaded.prog_fd)
        except BaseException:
            self.close()
            raise

    # --- devices -----------------------------------------------------------------
    @property
    def devices(self) -> list[str]:
        return list(self._attacher.attached)

    def set_devices(self, devices: Sequence[str]) -> None:
        """Attach to new devices and detach from those no longer listed."""
        for dev in list(self._attacher.attached):
            if dev not in devices:
                self._attacher.detach(dev)
        for dev in devices:
            if dev not in self._attacher.attached:
                self._attacher.attach(dev, self._loaded.prog_fd)

    def close(self, detach: bool = True) -> None:
        """Detach from every device (unless ``detach`` is False: the program
        keeps forwarding for a successor) and drop our references."""
        if detach:
            self._attacher.detach_all()
        self._loaded.close()

    # --- options -------------------------------------------------------------------
    def set_options(
        self, *, pmtu_disc: bool = True, secure_tcp: bool = False, conn_reuse_mode: int = 1
    ) -> None:
        """IPVS's sysctls the program follows (§8)."""
        flags = records.conf_flags(
            pmtu_disc=pmtu_disc, secure_tcp=secure_tcp, conn_reuse_mode=conn_reuse_mode
        )
        self._config.update(_u32(0), records.CONF.pack(flags))

    # --- real servers -------------------------------------------------------------
    def set_dest(
        self,
        dest_id: int,
        rs_addr: Addr,
        src_addr: Addr,
        ifindex: int,
        src_mac: str | bytes,
        dst_mac: str | bytes,
        mtu: int,
        *,
        resched: bool = False,
    ) -> None:
        """A tunnel real server's parameters; ``resched``: its new
        connections go to the daemon (expire_nodest_conn with weight 0)."""
        flags = records.DEST_F_RESCHED if resched else 0
        key = _u32(dest_id)
        value = records.pack_dest(rs_addr, src_addr, ifindex, src_mac, dst_mac, mtu, flags)
        self._dests.update(key, value)
        try:
            self._counts.update(key, bytes(self._counts.value_size), BPF_NOEXIST)
        except BpfError as e:
            if e.errno != errno.EEXIST:
                raise

    def del_dest(self, dest_id: int) -> tuple[int, int]:
        """Forget a real server; its last (packets, bytes). Its flows' packets
        go to the daemon from now on."""
        key = _u32(dest_id)
        last = self._sum(self._counts.lookup(key))
        self._dests.delete(key)
        self._counts.delete(key)
        return last

    # --- flows ---------------------------------------------------------------------
    def add_flow(
        self,
        saddr: Addr,
        daddr: Addr,
        sport: int,
        dport: int,
        proto: int,
        dest_id: int,
        state: str | int | None = None,
        *,
        controlled: bool = False,
    ) -> None:
        """Bind a client's flow to a real server. ``state`` is the flow's IPVS
        state after its first packet (default: SYN_RECV, INIT1, UDP);
        ``controlled``: a persistence template controls it, so a new SYN
        never reschedules it."""
        m = self._flows
        records.FLOW_KEY.pack_into(
            m.key, 0, records.addr_bytes(saddr), records.addr_bytes(daddr), sport, dport, proto
        )
        records.FLOW.pack_into(
            m.value,
            0,
            time.monotonic_ns(),
            dest_id,
            _state_number(proto, state),
            records.FLOW_F_CONTROLLED if controlled else 0,
        )
        m.update_packed()

    def flow_dest(self, saddr: Addr, daddr: Addr, sport: int, dport: int, proto: int) -> int | None:
        """The real server id a flow is bound to, or None."""
        value = self._flows.lookup(records.pack_key(saddr, daddr, sport, dport, proto))
        return None if value is None else int(records.FLOW.unpack(value)[1])

    def del_flow(self, saddr: Addr, daddr: Addr, sport: int, dport: int, proto: int) -> bool:
        return self._flows.delete(records.pack_key(saddr, daddr, sport, dport, proto))

    def flush(self) -> int:
        """Delete every flow; how many there were."""
        n = 0
        for key in list(self._flows.keys()):
            n += self._flows.delete(key)
        return n

    def flows(self, now: float | None = None, timeouts: Timeouts | None = None) -> list[TunFlow]:
        t = timeouts or Timeouts()
        now_ns = time.monotonic_ns() if now is None else int(now * NS)
        out = []
        for kb, vb in self._flows.items():
            k = records.unpack_key(kb)
            seen, dest, state, _flags = records.FLOW.unpack(vb)
            left = seen + states.state_timeout(k.proto, state, t) * NS - now_ns
            out.append(
                TunFlow(
                    k.proto,
                    k.caddr,
                    k.vaddr,
                    k.cport,
                    k.vport,
                    dest,
                    states.state_name(k.proto, state),
                    left / NS,
                    states.is_active(k.proto, state),
                )
            )
        return out

    def expire(self, now: float | None = None, timeouts: Timeouts | None = None) -> Sweep:
        """End the flows idle past their state's timeout; count the rest."""
        t = timeouts or Timeouts()
        now_ns = time.monotonic_ns() if now is None else int(now * NS)
        live: dict[int, list[int]] = defaultdict(lambda: [0, 0])
        ended: dict[int, int] = defaultdict(int)
        for kb, vb in list(self._flows.items()):
            proto = kb[12]
            seen, dest, state, _flags = records.FLOW.unpack(vb)
            if now_ns - seen > states.state_timeout(proto, state, t) * NS:
                old = self._flows.lookup_and_delete(kb)
                if old is None:
                    continue  # gone meanwhile
                if old == vb:
                    ended[dest] += 1
                    continue
                # A packet came between the read and the delete: keep it.
                try:
                    self._flows.update(kb, old, BPF_NOEXIST)
                except BpfError as e:
                    if e.errno != errno.EEXIST:
                        raise
                seen, dest, state, _flags = records.FLOW.unpack(old)
            live[dest][0 if states.is_active(proto, state) else 1] += 1
        return Sweep({d: (a, i) for d, (a, i) in live.items()}, dict(ended))

    # --- counters --------------------------------------------------------------------
    def _sum(self, value: bytes | None) -> tuple[int, int]:
        if value is None:
            return (0, 0)
        pk = by = 0
        for v in self._counts.per_cpu(value):
            p, b = records.COUNTER.unpack(v)
            pk += p
            by += b
        return (pk, by)

    def counters(self) -> dict[int, tuple[int, int]]:
        """Per real server id: (packets, bytes) the program forwarded."""
        return {_U32.unpack(k)[0]: self._sum(v) for k, v in self._counts.items()}

    def zero_counters(self, dest_id: int | None = None) -> None:
        """``ipvsadm -Z``: one real server's counters, or all, back to 0."""
        zero = bytes(self._counts.value_size)
        keys = [_u32(dest_id)] if dest_id is not None else list(self._counts.keys())
        for key in keys:
            try:
                self._counts.update(key, zero, BPF_EXIST)
            except BpfError as e:
                if e.errno != errno.ENOENT:
                    raise

    def run_stats(self) -> tuple[int, int]:
        """(nanoseconds, runs) the kernel measured for the program: counted
        while a process holds ``bpfsys.enable_stats()`` open."""
        return bpfsys.prog_run_stats(self._loaded.prog_fd)

    def stats(self) -> dict[str, int]:
        """The program's per-CPU event counters, summed (records.STAT_NAMES)."""
        out = {}
        for i, name in enumerate(records.STAT_NAMES):
            v = self._stats.lookup(_u32(i))
            cpus = self._stats.per_cpu(v) if v is not None else []
            out[name] = sum(_U64.unpack(c)[0] for c in cpus)
        return out
