"""``--dataplane kernel``: Python decides, the kernel forwards.

The first packet of each new flow to a virtual service is queued to the
daemon (NFQUEUE); the core schedules it with full IPVS semantics and the
verdict binds the flow by its real server's forwarding method:

* **Masq (NAT)**: the verdict's mark makes conntrack DNAT the flow; every
  later packet, both ways, is conntrack's (ruleset.py).
* **Route (DR), IPv4**: the daemon sends the unchanged packet to the real
  server's MAC; the netdev table's egress hook binds the flow and its
  ingress hook forwards every later packet (drtable.py).
* **Tunnel, and DR over IPv6**: the userspace path: every packet of the flow
  reaches the daemon, whose core entry follows it as IPVS's would, and is
  sent on encapsulated (emit.py) or in a new frame.

The daemon follows the kernel's flows where the core needs live counts
(load-aware schedulers, thresholds): the kernel's named counters (new and
closing flows, packets and bytes; counters.py), the first FIN/RST of a
flow noted at once (nflog.py), and a periodic re-read of the real entries
(flows.py). ``-Lnc`` and ActiveConn/InActConn come from
the kernel's real entries. Killing the daemon loses no established flow; a
restarted daemon takes over the tables and flows without flushing them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Callable
from typing import Any

from pylvs.core.addr import AF_INET, IPPROTO_UDP, format_addr
from pylvs.core.conn import decode_key
from pylvs.core.info import ConnInfo
from pylvs.core.ipvs import DROP, FORWARD, REJECT, Ipvs
from pylvs.core.model import (
    CONN_F_DROUTE,
    CONN_F_FWD_MASK,
    CONN_F_MASQ,
    CONN_F_TEMPLATE,
    CONN_F_TUNNEL,
    Dest,
    DestKey,
    Service,
    ServiceKey,
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
)
from pylvs.core.tcpstate import TCP_S
from pylvs.dataplane.base import Capabilities, DataPlane
from pylvs.dataplane.kernel import counters, flows
from pylvs.dataplane.kernel import drtable as dr
from pylvs.dataplane.kernel import kernelsched as ks
from pylvs.dataplane.kernel import ruleset as rs
from pylvs.dataplane.kernel.accounting import Accounts, Change
from pylvs.dataplane.kernel.ctnetlink import ConntrackSocket, CtEntry
from pylvs.dataplane.kernel.drflows import DrFlow, parse_flows, parse_set
from pylvs.dataplane.kernel.emit import FrameSender
from pylvs.dataplane.kernel.neighbours import Neighbours, Resolution
from pylvs.dataplane.kernel.nflog import NflogSocket
from pylvs.dataplane.kernel.nft import Nft, NftError, nft_available
from pylvs.dataplane.kernel.nftobj import NFPROTO_INET, NFPROTO_NETDEV, CounterReader
from pylvs.dataplane.kernel.packet import parse_head
from pylvs.dataplane.kernel.state import PlaneState
from pylvs.dataplane.kernel.tunnels import Tunnels
from pylvs.dataplane.kernel.xtqueue import add_xt_queue_rule

__all__ = ["KernelPlane", "KernelUnavailable", "probe"]

log = logging.getLogger("pylvs.kernel")

QUEUE_NUM = 0x4C56 & 0xFFFF  # "LV"
QUEUE_MAXLEN = 8192
# The kernel's real entries re-read for ActiveConn/InActConn (accounting.py):
# at least this often, and never taking more than 1/RECONCILE_SHARE of the time.
RECONCILE_EVERY = 60.0
RECONCILE_SHARE = 50
REFRESH_EVERY = 0.02
# Schedulers whose choice depends on connection counts: the counters are
# read again before they choose (refresh).
LOAD_AWARE = frozenset({"lc", "wlc", "sed", "nq", "fo", "ovf", "twos", "lblc", "lblcr"})
LINKS_REFRESH = 5.0
RESOLVE_RETRY = 1.0
RESOLVE_FAST = 0.01
RESOLVE_FRESH = 0.3  # a new real server: fast retries this long
RESOLVE_GIVE_UP = 3.0  # the kernel's neighbour code: 3 probes, 1 s apart
WAIT_MAX = 64  # packets held per real server while it is resolved


class KernelUnavailable(RuntimeError):
    """The kernel plane cannot run here; the message says what is missing."""


def probe() -> str:
    """ "" when the kernel plane can run, else what is missing."""
    if os.geteuid() != 0:
        return "the kernel plane needs root (CAP_NET_ADMIN)"
    why = nft_available()
    if why:
        return why
    try:
        import netfilterqueue  # noqa: F401
        import pyroute2  # noqa: F401
    except ImportError as e:
        return f"the Python package {e.name} is missing (pip install 'pylvs[kernel]')"
    return ""


def _mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


class KernelPlane(DataPlane):
    name = "kernel"
    reason = "asked for: --dataplane kernel"

    def __init__(self, state_path: str | None = None) -> None:
        self.nft: Nft | None = None
        self.state = PlaneState(state_path)
        self.ids: dict[tuple[ServiceKey, DestKey], int] = {}
        self.queue_kind = ""
        self.timeout_gen = 0
        self.counters: dict[str, tuple[int, int]] = {}
        self.accounts = Accounts()
        self.next_reconcile = 0.0
        self.reconcile_every = RECONCILE_EVERY
        self._reader: CounterReader | None = None
        self._notes: NflogSocket | None = None
        self.next_links = 0.0
        self.queued = 0
        self.emitted = 0
        self.dropped = 0
        self.warnings: list[str] = []
        self.devices: list[str] = []
        self.local: set[tuple[int, int]] = set()
        # Real servers reached by DR/TUN: id -> how.
        self.reach: dict[int, Resolution] = {}
        self.unresolved: set[int] = set()
        self.waiting: dict[int, list[tuple[Any, bytes, int, Any, Dest, float]]] = {}
        self.resolving_since: dict[int, float] = {}
        self._resolve_handle: asyncio.TimerHandle | None = None
        self._nfq: Any = None
        self._ct: ConntrackSocket | None = None
        self._nb: Neighbours | None = None
        self._frames = FrameSender()
        self._tunnels: Tunnels | None = None
        self._noted: set[str] = set()
        self._pending: list[str] = []
        self._flush_scheduled = False
        self._dirty_layouts: set[ServiceKey] = set()
        self.buried: set[int] = set()
        self._refreshed = -1.0
        self._load_aware = 0
        self._by_id: dict[int, Dest] | None = None
        self._next_id = 0  # 0: not known yet (max of the ids + 1)
        self._next_sid = 1
        self._journal_ids: dict[tuple[ServiceKey, DestKey], int] = {}
        # Services scheduled in the kernel: key -> (chain id, layout, period).
        self.klayout: dict[ServiceKey, tuple[int, ks.KernelLayout, int]] = {}
        self.sids: dict[ServiceKey, int] = {}

    def capabilities(self) -> Capabilities:
        return Capabilities(["Masq", "Route", "Tunnel"], ["TCP", "UDP", "SCTP"])

    # --- lifecycle ---------------------------------------------------------
    async def start(self, ipvs: Ipvs, clock: Callable[[], float]) -> None:
        await super().start(ipvs, clock)
        why = probe()
        if why:
            raise KernelUnavailable(why)
        self.loop = asyncio.get_running_loop()
        self.nft = Nft()
        self._nb = Neighbours()
        self.devices = self._nb.forwarding_devices()
        self.local = self._nb.local_addresses()
        self._tunnels = Tunnels(self.devices)
        self._tun_options()
        log.info("tunnelling (-i): %s", self._tunnels.kind)
        taking_over = self._table_exists()
        if taking_over:  # the marks in the kernel are the previous daemon's ids
            self.ids = self.state.load_ids()
            self.ids.update(self._journal_ids)
            self.timeout_gen = self.state.timeout_gen
            self.buried = self.state.load_buried()
        if not taking_over:
            self._create_tables()
        else:
            log.info("taking over the existing nftables tables inet/netdev %s", rs.TABLE)
            self.queue_kind = "taken over"
            self._ensure_dr_table()
            self._drop_kernel_cycles()
        self._sync_all()
        self._open_queue()
        self._ct = ConntrackSocket()
        self._reader = CounterReader()
        # Read before each decision that counts flows, each listing and each
        # tick, never on its own wakeup: a close costs no extra loop turn.
        self._notes = NflogSocket()
        if taking_over:
            # The kernel's counters carry the services' history (as IPVS's
            # kernel table would); the flows' counts come from their entries.
            self._read_counters(self.clock())
            self._reconcile(self.clock())

    async def stop(self) -> None:
        # The tables stay: established flows keep flowing, and a restarted
        # daemon takes them over. New flows wait in the queue meanwhile.
        if self._nfq is not None:
            self.loop.remove_reader(self._nfq_fd)
            self._nfq.unbind()
        if self._ct is not None:
            self._ct.close()
        if self._reader is not None:
            self._reader.close()
        if self._notes is not None:
            self._notes.close()
        self._save_state()
        self._frames.close()
        if self._tunnels is not None:
            self._tunnels.close()
        if self._nb is not None:
            self._nb.close()
        if self.nft is not None:
            self.nft.close()

    def _save_state(self) -> None:
        self.state.save(self.ids, self.timeout_gen, rules=self._rules_text(), buried=self.buried)

    def _table_exists(self) -> bool:
        assert self.nft is not None
        try:
            self.nft.list_json(f"table inet {rs.TABLE}")
        except NftError:
            return False
        return True

    def _create_tables(self) -> None:
        assert self.nft is not None
        native = self._native_queue_works()
        timeouts = self._timeouts()
        with contextlib.suppress(NftError):  # a netdev table left alone
            self.nft.run(f"delete table netdev {dr.TABLE}")
        self.nft.run(
            rs.skeleton(timeouts, QUEUE_NUM if native else None)
            + dr.skeleton(timeouts, self.devices)
        )
        if native:
            self.queue_kind = "nft queue"
        else:
            try:
                add_xt_queue_rule(rs.TABLE, "q", QUEUE_NUM)
            except OSError as e:
                with contextlib.suppress(NftError):
                    self.nft.run(f"delete table inet {rs.TABLE}\ndelete table netdev {dr.TABLE}")
                raise KernelUnavailable(
                    "this kernel can queue packets to the daemon neither with nft's queue "
                    f"expression nor with the xtables NFQUEUE target ({e}); it needs "
                    "CONFIG_NFT_QUEUE or CONFIG_NETFILTER_XT_TARGET_NFQUEUE with "
                    "CONFIG_NFT_COMPAT. --dataplane proxy works without them"
                ) from e
            self.queue_kind = "xtables NFQUEUE target (this kernel has no nft queue expression)"
        self.timeout_gen = 0
        log.info(
            "nftables tables inet/netdev %s created; new flows reach the daemon by %s; "
            "DR hooks on %s",
            rs.TABLE,
            self.queue_kind,
            ", ".join(self.devices) or "no interface",
        )

    def _ensure_dr_table(self) -> None:
        assert self.nft is not None
        try:
            self.nft.list_json(f"table netdev {dr.TABLE}")
        except NftError:
            self.nft.run(dr.skeleton(self._timeouts(), self.devices))
            return
        self._run(dr.devices_update(self.devices, had_hooks=True))

    def _native_queue_works(self) -> bool:
        assert self.nft is not None
        probe_table = "pylvs_probe"
        try:
            self.nft.run(
                f"add table inet {probe_table}\n"
                f"add chain inet {probe_table} c\n"
                f"add rule inet {probe_table} c queue num {QUEUE_NUM}\n"
            )
            return True
        except NftError:
            return False
        finally:
            with contextlib.suppress(NftError):
                self.nft.run(f"delete table inet {probe_table}")

    def _open_queue(self) -> None:
        from netfilterqueue import NetfilterQueue

        nfq = NetfilterQueue()
        nfq.bind(QUEUE_NUM, self._on_packet, max_len=QUEUE_MAXLEN)
        self._nfq = nfq
        self._nfq_fd = nfq.get_fd()
        self.loop.add_reader(self._nfq_fd, self._drain_queue)

    def _drain_queue(self) -> None:
        try:
            self._nfq.run(block=False)
        except Exception:  # a callback bug must not stop the queue
            log.exception("error while handling queued packets")

    # --- the table -----------------------------------------------------------
    def _timeouts(self) -> rs.Timeouts:
        ipvs = self.ipvs
        t = ipvs.tcp_timeouts
        return rs.Timeouts(
            established=t[TCP_S["ESTABLISHED"]],
            fin_wait=t[TCP_S["FIN_WAIT"]],
            udp=ipvs.udp_timeout,
            syn_sent=t[TCP_S["SYN_SENT"]],
            syn_recv=t[TCP_S["SYN_RECV"]],
            close_wait=t[TCP_S["CLOSE_WAIT"]],
            last_ack=t[TCP_S["LAST_ACK"]],
            time_wait=t[TCP_S["TIME_WAIT"]],
            close=t[TCP_S["CLOSE"]],
        )

    def _run(self, commands: str) -> None:
        """Queue commands; they run as one nftables transaction at the end
        of this loop iteration (a restore of many rules is one batch), or
        before the next queued packet, whichever comes first."""
        if not commands.strip():
            return
        self._pending.append(commands)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        dirty, self._dirty_layouts = self._dirty_layouts, set()
        for key in dirty:
            self._relayout(key)
        if not self._pending or self.nft is None:
            return
        groups, self._pending = self._pending, []
        try:
            self.nft.run("".join(groups))
            return
        except NftError:
            pass
        for g in groups:  # find the change nftables refused; apply the rest
            try:
                self.nft.run(g)
            except NftError as e:
                log.error("nftables refused an update: %s", e)
                self.warnings.append(str(e))

    def _sync_all(self) -> None:
        cmds = []
        for svc in self.ipvs.table:
            self._check_vip(svc.key)
            cmds.append(self._service_cmds("add", svc))
            for dest in reversed(svc.dests):
                cmds.append(self._dest_cmds(svc, dest))
        self._run("".join(cmds))
        self._dirty_layouts.update(svc.key for svc in self.ipvs.table)
        self._load_aware = sum(1 for svc in self.ipvs.table if svc.sched_name in LOAD_AWARE)
        self._flush()
        self._save_state()

    def _service_rule(self, key: ServiceKey) -> rs.ServiceRule:
        return rs.ServiceRule(key.af, key.protocol, key.addr, key.port, key.fwmark)

    def _service_cmds(self, cmd: str, svc: Service) -> str:
        return rs.service_elements(cmd, [self._service_rule(svc.key)])

    def _dest_id(self, key: ServiceKey, dkey: DestKey) -> int:
        ident = self.ids.get((key, dkey))
        if ident is None:
            if self._next_id <= 0:
                self._next_id = max(self.ids.values(), default=0) + 1
            ident = self._next_id
            self._next_id += 1
            if ident > rs.MAX_ID:
                raise KernelUnavailable("out of real-server ids")
            self.ids[(key, dkey)] = ident
            self._by_id = None
            self.state.journal_id(key, dkey, ident)
        return ident

    def _nat_rule(self, svc: Service, dest: Dest) -> rs.DestRule:
        ident = self._dest_id(svc.key, dest.key)
        key = svc.key
        port: int | None
        if key.fwmark or key.port == 0 or dest.port in (0, key.port):
            port = None  # the packet's port stays (behaviour reference §2.1, §4.6)
        else:
            port = dest.port
        return rs.DestRule(ident, dest.af, dest.addr, port)

    def _dest_cmds(self, svc: Service, dest: Dest) -> str:
        """Every real server gets its NAT mapping and counters (its method can
        change with -e); DR and TUN ones are also resolved on the link."""
        rule = self._nat_rule(svc, dest)
        out = rs.dest_elements("add", [rule]) + self._unbury(rule.id) + self._track_cmds(svc, dest)
        fwd = dest.fwd & CONN_F_FWD_MASK
        if fwd in (CONN_F_DROUTE, CONN_F_TUNNEL):
            out += self._resolve(rule.id, dest)
        return out

    def _resolve(self, ident: int, dest: Dest) -> str:
        """Commands binding a DR real server to its MAC, when known; else it
        is resolved in the background."""
        assert self._nb is not None
        fwd = dest.fwd & CONN_F_FWD_MASK
        res = self._nb.resolve(dest.af, dest.addr, via_gateway=fwd == CONN_F_TUNNEL)
        old = self.reach.get(ident)
        self.reach[ident] = res
        if res.error:
            self._note(f"real server {format_addr(dest.af, dest.addr)}: {res.error}")
            return ""
        if res.local or res.link is None:
            return ""
        if not res.mac:
            self.unresolved.add(ident)
            self.resolving_since.setdefault(ident, self.clock())
            self._schedule_resolve()
            return ""
        self.unresolved.discard(ident)
        self.resolving_since.pop(ident, None)
        if fwd == CONN_F_TUNNEL and self._tunnels is not None:
            self._tunnels.set_dest(ident, dest, res)
        if fwd != CONN_F_DROUTE:
            return ""
        new = dr.DrDest(ident, res.mac, res.link.mac, res.link.name)
        out = ""
        if (
            old is not None
            and old.mac
            and old.link is not None
            and (old.mac, old.link)
            != (
                res.mac,
                res.link,
            )
        ):
            out += dr.dest_elements("delete", [new])
        if old is None or (old.mac, old.link) != (res.mac, res.link):
            out += dr.dest_elements("add", [new])
            if old is None or not old.mac:
                self._dirty_layouts.add(dest.svc.key)  # a DR cycle is now possible
                self._schedule_flush()
        return out

    def _schedule_resolve(self) -> None:
        """Look again soon: every 10 ms while packets wait for an answer or
        a real server is new, every second once it has failed to answer."""
        now = self.clock()
        fresh = any(now - self.resolving_since.get(i, now) < RESOLVE_FRESH for i in self.unresolved)
        delay = RESOLVE_FAST if any(self.waiting.values()) or fresh else RESOLVE_RETRY
        handle = self._resolve_handle
        if handle is not None:
            if handle.when() <= self.loop.time() + delay:
                return
            handle.cancel()
        self._resolve_handle = self.loop.call_later(delay, self._retry_resolve)

    def _retry_resolve(self) -> None:
        self._resolve_handle = None
        by_id = self._dests_by_id()
        cmds = ""
        now = self.clock()
        for ident in list(self.unresolved):
            dest = by_id.get(ident)
            if dest is None:
                self.unresolved.discard(ident)
                continue
            cmds += self._resolve(ident, dest)
            if ident in self.unresolved:
                started = self.resolving_since.setdefault(ident, now)
                if now - started >= RESOLVE_GIVE_UP:
                    self._give_up(ident, dest)
        self._run(cmds)
        self._flush()
        for ident in [i for i in self.waiting if i not in self.unresolved]:
            self.resolving_since.pop(ident, None)
            for pkt, payload, af, conn, dest, _t in self.waiting.pop(ident):
                self._route(pkt, payload, af, conn, dest, ident, now)
        if self.unresolved:
            self._schedule_resolve()

    def _give_up(self, ident: int, dest: Dest) -> None:
        """No ARP/ND answer: the packets that waited are dropped, as the
        kernel's neighbour code drops them."""
        for pkt, *_rest in self.waiting.pop(ident, []):
            pkt.drop()
            self.dropped += 1
        res = self.reach.get(ident)
        where = res.link.name if res is not None and res.link is not None else "its link"
        self._note(
            f"real server {format_addr(dest.af, dest.addr)} does not answer ARP/ND on {where}: "
            "its flows cannot be forwarded"
        )

    def on_op(self, op: Op) -> None:
        self._by_id = None
        self.state.journal(op)
        self._apply_op(op)
        if isinstance(op, (AddService, EditService, DelService, Flush)):
            self._load_aware = sum(1 for svc in self.ipvs.table if svc.sched_name in LOAD_AWARE)
        dirty = self._dirty_layouts
        if isinstance(op, (Flush, SetTimeouts)):
            dirty.update(self.klayout)  # SetTimeouts: DR cycles carry the SYN timeout
        elif isinstance(op, (AddService, EditService)):
            dirty.add(op.spec.key)
        elif isinstance(op, DelService):
            dirty.add(op.key)
        elif isinstance(op, (AddDest, EditDest, DelDest)):
            dirty.add(op.service)
        if dirty:
            self._schedule_flush()
        self.state.mark_dirty()

    def _apply_op(self, op: Op) -> None:
        ipvs = self.ipvs
        if isinstance(op, AddService):
            svc = ipvs.service(op.spec.key)
            if svc is not None:
                self._check_vip(svc.key)
                self._run(self._service_cmds("add", svc))
        elif isinstance(op, EditService):
            svc = ipvs.service(op.spec.key)
            if svc is not None:  # the scheduler decides which closes are noted at once
                self._run("".join(self._track_cmds(svc, d) for d in svc.dests))
        elif isinstance(op, DelService):
            # New flows to it are no longer queued; its real servers keep
            # their mappings and counters for the flows still using them.
            self._run(self._delete_service_if_present(op.key))
        elif isinstance(op, Flush):
            keys = {k for (k, _d) in self.ids}
            self._run("".join(self._delete_service_if_present(k) for k in keys))
        elif isinstance(op, (AddDest, EditDest)):
            svc = ipvs.service(op.service)
            dest = ipvs.dest(op.service, op.dest.key)
            if svc is not None and dest is not None:
                self._run(self._dest_cmds(svc, dest))
        elif isinstance(op, DelDest):
            sysctl = ipvs.sysctl
            ident = self.ids.get((op.service, op.dest))
            if ident is not None and (sysctl.expire_nodest_conn or not sysctl.keep_nodest_conn):
                self._bury(ident, expire=bool(sysctl.expire_nodest_conn))
        elif isinstance(op, SetTimeouts):
            self.timeout_gen += 1
            t = self._timeouts()
            self._run(rs.timeout_update(t, self.timeout_gen) + dr.state_chains(t))

    # --- scheduling in the kernel (kernelsched.py) ------------------------------
    def _sid(self, key: ServiceKey) -> int:
        sid = self.sids.get(key)
        if sid is None:
            sid = self._next_sid
            self._next_sid += 1
            self.sids[key] = sid
        return sid

    def _relayout(self, key: ServiceKey) -> None:
        """Lay out (again) the kernel's cycle for a service after a change,
        continuing IPVS's sequence from where the kernel had got to."""
        svc = self.ipvs.service(key)
        cur = self.klayout.pop(key, None)
        if cur is not None:
            sid, lay, period = cur
            family, table = ("inet", rs.TABLE) if lay.method == "nat" else ("netdev", dr.TABLE)
            done = self._read_counter(family, table, f"k{sid}n")
            remove = ks.nat_remove if lay.method == "nat" else ks.dr_remove
            self._run(remove(table, sid, key))
            if svc is not None:
                ks.advance(svc, done, period)
        if svc is None:
            return
        dr_ready = {
            i for i, r in self.reach.items() if r.mac and r.link is not None and not r.local
        }
        lay_new, period = ks.layout(svc, lambda d: self._dest_id(key, d.key), dr_ready)
        if lay_new is None:
            return
        sid = self._sid(key)
        if lay_new.method == "nat":
            self._run(ks.nat_commands(rs.TABLE, sid, svc, lay_new, rs.MARK_BASE))
        else:
            self._run(ks.dr_commands(dr.TABLE, sid, svc, lay_new, self._timeouts()))
        self.klayout[key] = (sid, lay_new, period)

    def _read_counter(self, family: str, table: str, name: str) -> int:
        if self._reader is None:
            return 0
        proto = NFPROTO_INET if family == "inet" else NFPROTO_NETDEV
        return self._reader.read(proto, table).get(name, (0, 0))[0]

    def _drop_kernel_cycles(self) -> None:
        """A taken-over table: remove the previous daemon's cycles (they are
        laid out again from the restored table)."""
        assert self.nft is not None
        cmds = []
        for family, table, maps in (
            ("inet", rs.TABLE, ("ksvc4", "ksvc6", "kfwm4", "kfwm6")),
            ("netdev", dr.TABLE, ("kd4t", "kd4u", "kd4s")),
        ):
            try:  # chains and counters only: a rule listing warns about numgen maps
                objs = self.nft.list_json(f"chains {family}")
                objs += self.nft.list_json(f"counters table {family} {table}")
            except NftError:
                continue
            objs = [o for o in objs if next(iter(o.values())).get("table") == table]
            cmds += [f"flush map {family} {table} {m}\n" for m in maps]
            for obj in objs:
                for kind in ("chain", "counter"):
                    body = obj.get(kind)
                    name = body.get("name", "") if body else ""
                    if re.fullmatch(r"k\d+n?", name):
                        cmds.append(f"delete {kind} {family} {table} {name}\n")
        cmds.sort(key=lambda c: (not c.startswith("flush"), "counter" in c))
        try:
            self.nft.run("".join(cmds))
        except NftError as e:
            log.warning("could not clear the previous daemon's kernel cycles: %s", e)

    def _tracked(self, svc: Service, dest: Dest) -> bool:
        """Whether the core needs this real server's closes at once: its
        scheduler counts connections, or it has thresholds (OVERLOAD)."""
        return svc.sched_name in LOAD_AWARE or bool(dest.u_threshold or dest.l_threshold)

    def _track_cmds(self, svc: Service, dest: Dest) -> str:
        ident = self._dest_id(svc.key, dest.key)
        out = rs.track_elements("add", [ident]) + dr.track_elements("add", [ident])
        if not self._tracked(svc, dest):  # add, then delete: absent is no error
            out += rs.track_elements("delete", [ident]) + dr.track_elements("delete", [ident])
        return out

    def _delete_service_if_present(self, key: ServiceKey) -> str:
        rule = [self._service_rule(key)]
        return rs.service_elements("add", rule) + rs.service_elements("delete", rule)

    def _check_vip(self, key: ServiceKey) -> None:
        if key.fwmark or (key.af, key.addr) in self.local:
            return
        self._note(
            f"VIP {format_addr(key.af, key.addr)} is not an address of this director: NAT "
            "works if clients' packets are routed here, but for DR and TUN the director must "
            "answer ARP/ND for it (add it to an interface, as the guide's Step 4 does)"
        )

    def _note(self, message: str) -> None:
        if message not in self._noted:
            self._noted.add(message)
            log.warning("%s", message)
            self.warnings.append(message)

    def _bury(self, ident: int, expire: bool) -> None:
        """A deleted real server's kernel flows, as IPVS treats the entries
        of a dest that is gone: with expire_nodest_conn, the client's next
        packet meets the director's own stack (a reset); with
        keep_nodest_conn=0, its packets are dropped."""
        cmds = self._unbury(ident)
        kind = "deadrst" if expire else "deaddrop"
        cmds += rs.dead_elements("add", kind, [ident]) + dr.dead_elements("add", kind, [ident])
        self._run(cmds)
        self.buried.add(ident)
        if self._tunnels is not None:
            self._tunnels.end_flows_of(ident, self._timeouts())

    def _unbury(self, ident: int) -> str:
        """A real server added again: its flows are its own again."""
        if ident not in self.buried:
            return ""
        self.buried.discard(ident)
        return rs.dead_elements("delete", "", [ident]) + dr.dead_elements("delete", "", [ident])

    # --- the packets that reach the daemon ------------------------------------
    def _on_packet(self, pkt: Any) -> None:
        self.queued += 1
        if self._pending:
            self._flush()  # the verdict may need a mapping not yet in the kernel
        payload = pkt.get_payload()
        head = parse_head(payload)
        if head is None:
            pkt.accept()
            return
        ipvs = self.ipvs
        now = self.clock()
        if self._load_aware:
            self._on_notes()  # closes the kernel saw before this packet
        verdict, conn = ipvs.process_in(
            head.af, head.proto, head.saddr, head.sport, head.daddr, head.dport,
            now, head.event, head.length, pkt.get_mark(),
        )  # fmt: skip
        if verdict == FORWARD and conn is not None:
            dest = conn.dest
            if dest is None:
                pkt.drop()
                return
            ident = self.ids.get((dest.svc.key, dest.key))
            fwd = conn.flags & CONN_F_FWD_MASK
            if ident is None:
                pkt.drop()
            elif fwd == CONN_F_MASQ:
                self._bind_kernel(conn, dest, ident, now)
                pkt.set_mark(rs.mark_of(ident))
                pkt.accept()
            elif (dest.af, dest.addr) in self.local:
                pkt.accept()  # a local real server: delivered unchanged (§6.6)
            elif fwd == CONN_F_DROUTE:
                self._route(pkt, payload, head.af, conn, dest, ident, now)
            elif fwd == CONN_F_TUNNEL:
                self._tunnel(pkt, payload, head, conn, dest, ident, now)
            else:
                pkt.accept()
        elif verdict == REJECT:
            pkt.set_mark(rs.MARK_REJECT)
            pkt.accept()
        elif verdict == DROP:
            pkt.drop()
        elif not self._passed_up(pkt, payload, head, now):
            pkt.accept()

    def _bind_kernel(self, conn: Any, dest: Dest, ident: int, now: float) -> None:
        """The kernel carries the flow from now on: the entry leaves the core,
        its counts stay with the dest and follow the kernel's counters."""
        udp = decode_key(conn.key)[1] == IPPROTO_UDP
        self.ipvs.release(conn, now)
        if udp:  # inactive from the start; ends after the UDP timeout
            self.accounts.end_later(ident, 1, now + self.ipvs.udp_timeout)

    def _route(
        self, pkt: Any, payload: bytes, af: int, conn: Any, dest: Dest, ident: int, now: float
    ) -> None:
        res = self.reach.get(ident)
        if res is None or res.link is None or not res.mac:
            waiting = self.waiting.setdefault(ident, [])
            if (res is not None and res.error) or len(waiting) >= WAIT_MAX:
                self.dropped += 1
                pkt.drop()
                return
            # Held while ARP/ND resolves the real server, as the kernel's
            # neighbour code holds the first packets to a new next hop.
            pkt.retain()
            waiting.append((pkt, payload, af, conn, dest, now))
            self.unresolved.add(ident)
            self._schedule_resolve()
            return
        kernel_path = af == AF_INET
        try:
            self._frames.send(
                res.link.name,
                _mac_bytes(res.mac),
                _mac_bytes(res.link.mac),
                payload,
                dr.MARK_EMIT | ident if kernel_path else 0,
            )
            self.emitted += 1
        except OSError as e:
            self.dropped += 1
            self._note(f"cannot send to {res.link.name}: {e}")
        pkt.drop()
        if kernel_path:
            self._bind_kernel(conn, dest, ident, now)

    def _tunnel(
        self, pkt: Any, payload: bytes, head: Any, conn: Any, dest: Dest, ident: int, now: float
    ) -> None:
        """Send one packet through the tunnel in userspace; a new flow the
        tc-bpf program can carry is then bound there (tunnels.py)."""
        pkt.drop()
        assert self._tunnels is not None
        why = self._tunnels.send(
            payload, dest, self.reach.get(ident), bool(self.ipvs.sysctl.pmtu_disc)
        )
        if why:
            self.dropped += 1
            if why not in ("ttl", "too big"):
                self._note(f"cannot tunnel to {format_addr(dest.af, dest.addr)}: {why}")
            return
        self.emitted += 1
        if conn is not None and self._tunnels.bind(
            head.af, head.proto, head.saddr, head.daddr, head.sport, head.dport, ident,
            self.ipvs.state_name(conn), conn.control is not None,
        ):  # fmt: skip
            # The program follows the flow from now on; the counts the entry
            # added stay, and the program's sweeps move them (tunnels.py).
            self.ipvs.release(conn, now)

    def _passed_up(self, pkt: Any, payload: bytes, head: Any, now: float) -> bool:
        """A packet the tc-bpf program gave back for a flow it holds (too big,
        TTL 1, ...): the userspace path handles it as IPVS would."""
        if self._tunnels is None or self._tunnels.fast is None:
            return False
        ident = self._tunnels.flow_dest(
            head.af, head.proto, head.saddr, head.daddr, head.sport, head.dport
        )
        dest = self._dests_by_id().get(ident) if ident is not None else None
        if dest is None or ident is None:
            return False
        self._tunnel(pkt, payload, head, None, dest, ident, now)
        return True

    def _tun_options(self) -> None:
        if self._tunnels is not None:
            sysctl = self.ipvs.sysctl
            self._tunnels.set_options(
                bool(sysctl.pmtu_disc), sysctl.secure_tcp_active, sysctl.conn_reuse_mode
            )

    # --- counters and views -----------------------------------------------------------
    def before_tick(self, now: float) -> None:
        if self.state.dirty:
            self._save_state()
        if now >= self.next_links and self._nb is not None:
            self.next_links = now + LINKS_REFRESH
            self._refresh_links()
        self._refreshed = -1.0
        self.refresh(now)
        by_id: dict[int, Dest] | None = None
        if self._tunnels is not None:
            self._tun_options()
            changes = self._tunnels.sweep(now, self._timeouts())
            if changes:
                by_id = by_id if by_id is not None else self._dests_by_id()
                for ident, (da, di) in changes.items():
                    self._apply(by_id, Change(ident, da, di))
        if now >= self.next_reconcile:
            self._reconcile(now)

    def _on_notes(self) -> None:
        """First FINs/RSTs of tracked flows (nflog.py): the core moves them
        from active to inactive now, as IPVS does on the packet itself."""
        if self._notes is None:
            return
        try:
            notes = self._notes.read()
        except OSError as err:  # ENOBUFS: the counters and reconciliation catch up
            log.warning("notes from the kernel lost (%s)", err)
            return
        if not notes:
            return
        now = self.clock()
        by_id = self._dests_by_id()
        t = self.ipvs.tcp_timeouts
        for prefix, mark in notes:
            nat = mark & rs.MARK_MASK == rs.MARK_BASE
            ident = mark & rs.ID_MASK
            if prefix == "r":
                linger = t[TCP_S["CLOSE"]]
            else:
                linger = t[TCP_S["TIME_WAIT"]] if nat else t[TCP_S["FIN_WAIT"]]
            self._closed(by_id, ident, 1, now, linger)

    def refresh(self, now: float) -> None:
        """The kernel's counters read again (at most every REFRESH_EVERY
        seconds): before a listing, and before a scheduler that counts
        connections decides, so that a flow opened or closed a moment ago
        counts as IPVS would count it."""
        self._on_notes()
        if now - self._refreshed < REFRESH_EVERY:
            return
        self._refreshed = now
        self._read_counters(now)
        by_id: dict[int, Dest] | None = None
        for change in self.accounts.due(now):
            by_id = by_id if by_id is not None else self._dests_by_id()
            self._apply(by_id, change)

    def _closed(
        self, by_id: dict[int, Dest], ident: int, n: int, now: float, linger: float
    ) -> None:
        """``n`` first FINs/RSTs seen for ``ident``'s flows: that many leave
        ActiveConn, but never more than are active. The kernel can count a
        flow's close twice when both ends' FINs cross on two CPUs (each sees
        the flow's mark before the other sets its closing bit); a flow
        leaves the active states once."""
        dest = by_id.get(ident)
        n = min(n, dest.activeconns) if dest is not None else 0
        if n > 0:
            self._apply(by_id, self.accounts.closed(ident, n, now, linger))

    def _apply(self, by_id: dict[int, Dest], change: Change) -> None:
        dest = by_id.get(change.dest_id)
        if dest is not None:
            self.ipvs.account(dest, change.active, change.inactive)

    def _reconcile(self, now: float) -> None:
        """ActiveConn/InActConn from the kernel's real entries (and the
        core's own, for flows on the userspace path), replacing the model's
        running counts; scheduled again after RECONCILE_EVERY seconds, or
        later when reading takes long (a huge table)."""
        self._on_notes()  # closes the entries below already show
        started = self.clock()
        by_id = self._dests_by_id()
        ids_of = {id(d): i for i, d in by_id.items()}
        core = [
            (ids_of[id(c.dest)], self.ipvs.state_name(c))
            for c in self._core_flows()
            if c.dest is not None and not c.flags & CONN_F_TEMPLATE and id(c.dest) in ids_of
        ]
        tun = self._tunnels.counts if self._tunnels is not None else {}
        exact = flows.exact_counts(self._nat_flows(), self._dr_flows(), tun, core)
        self.accounts.reset()
        for ident, dest in by_id.items():
            active, inactive = exact.get(ident, (0, 0))
            if (active, inactive) != (dest.activeconns, dest.inactconns):
                self.ipvs.account(dest, active - dest.activeconns, inactive - dest.inactconns)
        took = self.clock() - started
        self.next_reconcile = now + max(self.reconcile_every, took * RECONCILE_SHARE)

    def _refresh_links(self) -> None:
        assert self._nb is not None
        try:
            devices = self._nb.forwarding_devices()
            self.local = self._nb.local_addresses()
        except Exception as e:  # netlink trouble must not stop the timers
            log.warning("cannot read the interfaces: %s", e)
            return
        if devices != self.devices:
            log.info("DR hooks move to %s", ", ".join(devices) or "no interface")
            had = bool(self.devices)
            self.devices = devices
            self._run(dr.devices_update(devices, had_hooks=had))
            if self._tunnels is not None:
                self._tunnels.set_devices(devices)
        # Real servers' MACs can change (a replaced host): one neighbour dump
        # for all of them; a full route lookup only for those that moved.
        by_id = self._dests_by_id()
        wanted = {}
        for ident, res in self.reach.items():
            dest = by_id.get(ident)
            if dest is not None and res.link is not None and not res.local:
                wanted[(dest.af, res.gateway or dest.addr, res.link.index)] = ident
        try:
            macs = self._nb.macs(set(wanted))
        except Exception as e:
            log.warning("cannot read the neighbour table: %s", e)
            return
        cmds = ""
        for key, ident in wanted.items():
            res = self.reach[ident]
            if macs.get(key) != res.mac:
                cmds += self._resolve(ident, by_id[ident])
        self._run(cmds)

    def _read_counters(self, now: float) -> None:
        """Counter deltas since the last read: packets and bytes into the
        stats, new and closing flows into the accounts."""
        if self._tunnels is not None:
            tun_deltas = self._tunnels.counter_deltas()
            dests = self._dests_by_id() if tun_deltas else {}
            for ident, (dp, db) in tun_deltas.items():
                dest = dests.get(ident)
                if dest is not None:
                    for st in (dest.stats, dest.svc.stats, self.ipvs.stats):
                        st.inpkts += dp
                        st.inbytes += db
        if self._reader is None:
            return
        values = self._reader.read(NFPROTO_INET, rs.TABLE)
        values.update(self._reader.read(NFPROTO_NETDEV, dr.TABLE))
        last = self.counters
        self.counters = values
        by_id: dict[int, Dest] | None = None
        ipvs = self.ipvs
        t = ipvs.tcp_timeouts
        # New flows before closes: a flow opened and closed since the last
        # read must be active before its close can move it (_closed).
        for d in sorted(counters.deltas(last, values), key=lambda d: d.kind != "c"):
            by_id = by_id if by_id is not None else self._dests_by_id()
            dest = by_id.get(d.dest_id)
            if dest is None:
                continue
            stats = (dest.stats, dest.svc.stats, ipvs.stats)
            if d.kind == "c":  # new flows the kernel scheduled itself
                for st in stats:
                    st.conns += d.packets
                udp = dest.svc.key.protocol == IPPROTO_UDP
                change = self.accounts.opened(d.dest_id, d.packets, udp, now, ipvs.udp_timeout)
                self._apply(by_id, change)
            elif d.kind in ("f", "r"):
                if d.kind == "r":
                    linger = t[TCP_S["CLOSE"]]
                else:
                    linger = t[TCP_S["TIME_WAIT"]] if d.nat else t[TCP_S["FIN_WAIT"]]
                self._closed(by_id, d.dest_id, d.packets, now, linger)
            elif d.kind == "o":
                for st in stats:
                    st.outpkts += d.packets
                    st.outbytes += d.nbytes
            else:
                for st in stats:
                    st.inpkts += d.packets
                    st.inbytes += d.nbytes

    def _dests_by_id(self) -> dict[int, Dest]:
        """id -> real server (deleted ones too, while the trash keeps them);
        rebuilt after each change of the table."""
        if self._by_id is not None:
            return self._by_id
        out: dict[int, Dest] = {}
        for (skey, dkey), ident in self.ids.items():
            d = self.ipvs.dest(skey, dkey)
            if d is None:
                d = self.ipvs.table.trash.get((skey, dkey))
            if d is not None:
                out[ident] = d
        self._by_id = out
        return out

    def _nat_flows(self) -> list[CtEntry]:
        if self._ct is None:
            return []
        try:
            return self._ct.dump(rs.MARK_BASE, rs.MARK_MASK)
        except OSError as err:
            log.warning("conntrack dump failed: %s", err)
            return []

    def _dr_flows(self) -> list[DrFlow]:
        if self.nft is None:
            return []
        try:
            fin, rst, syn = (
                parse_set(self.nft.list_json(f"set netdev {dr.TABLE} {name}"))
                for name in ("fin4", "rst4", "syn4")
            )
            out: list[DrFlow] = []
            for name, _p in dr.FLOW_MAPS:
                objs = self.nft.list_json(f"map netdev {dr.TABLE} {name}")
                out += parse_flows(name, objs, fin, rst, syn)
            return out
        except NftError as e:
            log.warning("cannot read the DR flows: %s", e)
            return []

    def _core_flows(self) -> list[Any]:
        """Entries only the core holds: userspace-path flows and templates."""
        return list(self.ipvs.all_conns())

    def conn_infos(self, now: float) -> list[ConnInfo] | None:
        tun = self._tunnels.flows(self._timeouts()) if self._tunnels is not None else []
        out = flows.conn_infos(self._nat_flows(), self._dr_flows(), tun, self._dests_by_id())
        out.extend(self.ipvs.conn_info(c, now) for c in self._core_flows())
        return out

    def status(self) -> dict[str, Any]:
        return {
            **super().status(),
            "queue": self.queue_kind,
            "queued_packets": self.queued,
            "sent_by_daemon": self.emitted,
            "dropped_by_daemon": self.dropped,
            "next_reconcile_in": round(max(0.0, self.next_reconcile - self.clock()), 1),
            "dr_devices": ", ".join(self.devices) or "-",
            "tunnelling": self._tunnels.kind if self._tunnels is not None else "-",
            "warnings": self.warnings[-5:],
        }

    def saved_ops(self) -> list[Op]:
        """The changes applied after the saved table (saved_rules), from the
        journal; read once, with the ids they gave real servers."""
        ops, self._journal_ids = self.state.load_journal()
        return ops

    def saved_rules(self) -> str | None:
        """The table as it was when a previous daemon last saved it, when the
        kernel still holds that daemon's nftables table (a takeover)."""
        if os.geteuid() != 0 or nft_available():
            return None
        nft = Nft()
        try:
            nft.list_json(f"table inet {rs.TABLE}")
        except NftError:
            return None
        finally:
            nft.close()
        return self.state.load_rules()

    def _rules_text(self) -> str:
        from pylvs.ipvsadm.command import ListFormat
        from pylvs.ipvsadm.save import render_save

        return render_save(self.ipvs.services(), ListFormat(numeric=True))
