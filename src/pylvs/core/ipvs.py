"""The whole IPVS state of one director, as the kernel keeps it per network
namespace: the service table, the connection table, timeouts, sysctls,
counters and the rate estimator — and the decisions IPVS makes per packet.

Pure: every call takes ``now`` (seconds, any monotonic origin); nothing here
reads a clock, touches a socket or logs by itself (``log`` is a callable the
adapter provides). Data planes call :meth:`Ipvs.process_in` /
:meth:`Ipvs.process_out` for packets (or their connection-level equivalent)
and :meth:`Ipvs.tick` on timers; the control plane calls :meth:`Ipvs.apply`.
"""

from __future__ import annotations

import errno
from collections.abc import Callable, Iterable, Iterator, Sequence
from random import Random

from pylvs.core.addr import (
    AF_INET,
    IPPROTO_IP,
    IPPROTO_SCTP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    format_addr,
    mask_addr,
)
from pylvs.core.conn import Conn, ConnTable, conn_key, decode_key
from pylvs.core.errors import IpvsError
from pylvs.core.info import ConnInfo, DestInfo, ServiceInfo, SyncDaemonInfo, Timeouts
from pylvs.core.model import (
    CONN_F_BYPASS,
    CONN_F_INACTIVE,
    CONN_F_NOOUTPUT,
    CONN_F_ONE_PACKET,
    CONN_F_TEMPLATE,
    DEST_F_AVAILABLE,
    DEST_F_OVERLOAD,
    SVC_F_ONEPACKET,
    SVC_F_PERSISTENT,
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
    StartDaemon,
    StopDaemon,
    SyncDaemonConfig,
    Zero,
)
from pylvs.core.sctpstate import CLOSED as SCTP_CLOSED
from pylvs.core.sctpstate import ESTABLISHED as SCTP_ESTABLISHED
from pylvs.core.sctpstate import EV_ABORT as SCTP_EV_ABORT
from pylvs.core.sctpstate import EV_INIT as SCTP_EV_INIT
from pylvs.core.sctpstate import (
    SCTP_ACTIVE,
    SCTP_DEFAULT_TIMEOUTS,
    SCTP_STATE_NAMES,
    SCTP_TABLE,
)
from pylvs.core.shadow import Shadow
from pylvs.core.stats import ESTIMATOR_INTERVAL, Stats
from pylvs.core.sysctl import Sysctl
from pylvs.core.table import FTP_DATA_PORT, FTP_PORT, ServiceTable
from pylvs.core.tcpstate import (
    CLOSE,
    DIR_INPUT,
    DIR_INPUT_ONLY,
    DIR_OUTPUT,
    ESTABLISHED,
    FIN_WAIT,
    SECURE_TABLE,
    STATE_NAMES,
    SYN,
    TABLE,
    TCP_ACTIVE,
    TCP_DEFAULT_TIMEOUTS,
    TIME_WAIT,
    tcp_event,
)
from pylvs.core.validate import TableView, check_dest_op, check_service_op

__all__ = ["ACCEPT", "BYPASS", "DROP", "FORWARD", "REJECT", "VERDICT_NAMES", "Ipvs"]

# Verdicts of process_in.
ACCEPT = 0  # not IPVS's business: let the normal stack have it
FORWARD = 1  # forward with the entry's method
DROP = 2  # drop silently
REJECT = 3  # no destination: ICMP port unreachable to the client, drop
BYPASS = 4  # cache bypass: route to the original destination unchanged
VERDICT_NAMES = ("ACCEPT", "FORWARD", "DROP", "REJECT", "BYPASS")

# A template state: assured once a controlled entry was established (§4.6).
CTPL_S_NONE = 0
CTPL_S_ASSURED = 1
# An expiring entry that still controls others is re-checked this much later.
EXPIRE_LATER = 60
# Every new entry starts with this timeout until its first transition.
INITIAL_TIMEOUT = 3
# ipvsadm --set values are seconds; the kernel stores them in jiffies and
# refuses more than INT_MAX/HZ. HZ=250 is Debian's (and what lets ipvsadm's
# own limit, 31 days, through).
INT_MAX = 2**31 - 1
HZ = 250
INVALID_PORT = 0xFFFF

UDP_DEFAULT_TIMEOUT = 300
SYNC_DEFAULT_GROUP = "224.0.0.81"
SYNC_DEFAULT_PORT = 8848
SYNC_DEFAULT_TTL = 1

Log = Callable[[str], None]


def _no_log(message: str) -> None:
    return None


def _overload_after_bind(dest: Dest) -> None:
    """§3: a new entry sets OVERLOAD once the dest reaches its upper
    threshold (ip_vs_bind_dest)."""
    if dest.u_threshold and dest.activeconns + dest.inactconns >= dest.u_threshold:
        dest.flags |= DEST_F_OVERLOAD


def _overload_after_unbind(dest: Dest) -> None:
    """§3: an entry gone clears OVERLOAD below the lower threshold, or
    below 3/4 of the upper one when there is no lower one, or at once
    without thresholds (ip_vs_unbind_dest)."""
    total = dest.activeconns + dest.inactconns
    if dest.l_threshold:
        if total < dest.l_threshold:
            dest.flags &= ~DEST_F_OVERLOAD
    elif dest.u_threshold:
        if total * 4 < dest.u_threshold * 3:
            dest.flags &= ~DEST_F_OVERLOAD
    else:
        dest.flags &= ~DEST_F_OVERLOAD


class Ipvs:
    """One director's IPVS: table, connections, counters, decisions."""

    def __init__(self, rng: Random | None = None, log: Log | None = None) -> None:
        self.rng = rng if rng is not None else Random(0)
        self.log: Log = log if log is not None else _no_log
        self.sysctl = Sysctl()
        self.table = ServiceTable(self.rng, self.sysctl)
        self.conns = ConnTable()
        self.stats = Stats()
        self.tcp_timeouts = list(TCP_DEFAULT_TIMEOUTS)
        self.udp_timeout = UDP_DEFAULT_TIMEOUT
        self.sctp_timeouts = list(SCTP_DEFAULT_TIMEOUTS)
        self.sync_daemons: dict[str, SyncDaemonConfig] = {}
        self.listeners: list[Callable[[Op], None]] = []
        self.next_estimate: float | None = None
        # Entries unhashed but still alive (invalidated templates, replaced
        # entries that still control others): listed, timed, not looked up.
        self.detached: dict[int, Conn] = {}
        # Expired entries since the last tick() return, for data planes.
        self._expired: list[Conn] = []

    # ------------------------------------------------------------------
    # Control plane
    # ------------------------------------------------------------------
    def check(self, op: Op, view: TableView | None = None, daemons: set[str] | None = None) -> None:
        """Raise the error the kernel would return for ``op``; change nothing."""
        v: TableView = self.table if view is None else view
        running = set(self.sync_daemons) if daemons is None else daemons
        if isinstance(op, AddService | EditService | DelService):
            check_service_op(op, v)
        elif isinstance(op, AddDest | EditDest | DelDest):
            check_dest_op(op, v)
        elif isinstance(op, Zero):
            if op.service is not None and not v.has_service(op.service):
                raise IpvsError(op.command, errno.ESRCH)
        elif isinstance(op, SetTimeouts):
            for value in (op.tcp, op.tcpfin, op.udp):
                if not 0 <= value <= INT_MAX // HZ:
                    raise IpvsError(op.command, errno.EINVAL)
        elif isinstance(op, StartDaemon):
            if op.config.state not in ("master", "backup"):
                raise IpvsError(op.command, errno.EINVAL)
            if op.config.state in running:
                raise IpvsError(op.command, errno.EEXIST)
        elif isinstance(op, StopDaemon):
            if op.state not in running:
                raise IpvsError(op.command, errno.ESRCH)

    def apply(self, op: Op, now: float) -> None:
        """Check and apply one op (nothing changes if it is refused)."""
        self.table.sync_running = bool(self.sync_daemons)
        self.check(op)
        self._mutate(op, now)
        for listener in self.listeners:
            listener(op)

    def apply_batch(self, ops: Sequence[Op], now: float) -> None:
        """Check every op against the state the earlier ones leave, then apply
        them all; if any is refused, nothing is applied."""
        shadow = Shadow(self.table, set(self.sync_daemons))
        for op in ops:
            self.check(op, shadow, shadow.daemons)
            shadow.apply(op)
        for op in ops:
            self._mutate(op, now)
            for listener in self.listeners:
                listener(op)

    def _mutate(self, op: Op, now: float) -> None:
        table = self.table
        if isinstance(op, AddService):
            table.add_service(op.spec)
        elif isinstance(op, EditService):
            table.edit_service(op.spec)
        elif isinstance(op, DelService):
            table.del_service(op.key, now)
        elif isinstance(op, Flush):
            table.flush(now)
        elif isinstance(op, AddDest):
            table.add_dest(op.service, op.dest, now)
        elif isinstance(op, EditDest):
            table.edit_dest(op.service, op.dest)
        elif isinstance(op, DelDest):
            table.del_dest(op.service, op.dest, now)
            if self.sysctl.expire_nodest_conn:
                self._expire_nodest_sweep(now)
        elif isinstance(op, Zero):
            self._zero(op.service)
        elif isinstance(op, SetTimeouts):
            if op.tcp:
                self.tcp_timeouts[ESTABLISHED] = op.tcp
            if op.tcpfin:
                self.tcp_timeouts[FIN_WAIT] = op.tcpfin
            if op.udp:
                self.udp_timeout = op.udp
        elif isinstance(op, StartDaemon):
            self.sync_daemons[op.config.state] = op.config
        elif isinstance(op, StopDaemon):
            del self.sync_daemons[op.state]

    def _zero(self, key: ServiceKey | None) -> None:
        services: Iterable[Service]
        if key is None:
            services = list(self.table)
            self.stats.zero()
        else:
            svc = self.table.get(key)
            services = [] if svc is None else [svc]
        for svc in services:
            for dest in svc.dests:
                dest.stats.zero()
            svc.stats.zero()

    # ------------------------------------------------------------------
    # Views
    # ------------------------------------------------------------------
    def timeouts(self) -> Timeouts:
        return Timeouts(
            self.tcp_timeouts[ESTABLISHED], self.tcp_timeouts[FIN_WAIT], self.udp_timeout
        )

    def service_info(self, svc: Service) -> ServiceInfo:
        return ServiceInfo(
            spec=svc.spec(),
            stats=svc.stats.view(),
            dests=tuple(
                DestInfo(d.spec(), d.activeconns, d.inactconns, d.persistconns, d.stats.view())
                for d in svc.dests
            ),
        )

    def services(self) -> list[ServiceInfo]:
        return [self.service_info(svc) for svc in self.table]

    def daemons(self) -> list[SyncDaemonInfo]:
        out = []
        for state in ("master", "backup"):
            c = self.sync_daemons.get(state)
            if c is None:
                continue
            group = c.mcast_group or SYNC_DEFAULT_GROUP
            headers = 48 if ":" in group else 28  # IP + UDP headers (§2.11)
            # The default fills one 1500-byte frame (a backup: the interface
            # MTU clamped to 1500..65535, which the core takes as 1500); an
            # explicit value is clamped to 1 (master) or 1024 (backup) up to
            # 65535 minus the headers.
            low = 1 if state == "master" else 1024
            maxlen = (
                min(max(c.sync_maxlen, low), 65535 - headers) if c.sync_maxlen else 1500 - headers
            )
            out.append(
                SyncDaemonInfo(
                    state=state,
                    mcast_ifn=c.mcast_ifn,
                    syncid=c.syncid,
                    sync_maxlen=maxlen,
                    mcast_group=group,
                    mcast_port=c.mcast_port or SYNC_DEFAULT_PORT,
                    mcast_ttl=c.mcast_ttl or SYNC_DEFAULT_TTL,
                )
            )
        return out

    def all_conns(self) -> Iterator[Conn]:
        yield from self.conns
        yield from self.detached.values()

    def conn_info(self, conn: Conn, now: float) -> ConnInfo:
        af, proto, caddr, cport, vaddr, vport = decode_key(conn.key)
        left = conn.expires - now
        return ConnInfo(
            protocol=proto,
            af=af,
            caddr=caddr,
            cport=cport,
            vaddr=vaddr,
            vport=vport,
            daf=conn.daf,
            daddr=conn.daddr,
            dport=conn.dport,
            state=self.state_name(conn),
            expires=int(left) if left > 0 else 0,
        )

    def conn_infos(self, now: float) -> list[ConnInfo]:
        return [self.conn_info(c, now) for c in self.all_conns()]

    @staticmethod
    def state_name(conn: Conn) -> str:
        if conn.flags & CONN_F_TEMPLATE:
            return "ASSURED" if conn.state & CTPL_S_ASSURED else "NONE"
        proto = decode_key(conn.key)[1]
        if proto == IPPROTO_TCP:
            return STATE_NAMES[conn.state] if conn.state < len(STATE_NAMES) else "ERR!"
        if proto == IPPROTO_UDP:
            return "UDP"
        if proto == IPPROTO_SCTP:
            return SCTP_STATE_NAMES[conn.state] if conn.state < len(SCTP_STATE_NAMES) else "ERR!"
        return "ERR!"

    # ------------------------------------------------------------------
    # Time
    # ------------------------------------------------------------------
    def tick(self, now: float) -> list[Conn]:
        """Run every timer due by ``now``: connection expiry, the 2 s rate
        estimator, the dest trash and scheduler housekeeping. Returns the
        entries that ceased to exist since the previous call."""
        for conn in self.conns.due(now):
            self._expire(conn, now)
        if self.next_estimate is None:
            self.next_estimate = now + ESTIMATOR_INTERVAL
        while now >= self.next_estimate:
            self._estimate()
            self.next_estimate += ESTIMATOR_INTERVAL
        self.table.tick(now)
        for sched in self.table.ticking:
            sched.tick(now)
        expired = self._expired
        self._expired = []
        return expired

    def next_deadline(self) -> float | None:
        deadlines = [
            d
            for d in (self.conns.next_deadline(), self.next_estimate, self.table.next_deadline())
            if d is not None
        ]
        return min(deadlines) if deadlines else None

    def _estimate(self) -> None:
        run = bool(self.sysctl.run_estimation)
        self.stats.estimate(run)
        for svc in self.table:
            svc.stats.estimate(run)
            for dest in svc.dests:
                dest.stats.estimate(run)

    # ------------------------------------------------------------------
    # Connections: binding, thresholds, expiry
    # ------------------------------------------------------------------
    def _new_conn(
        self,
        af: int,
        proto: int,
        caddr: int,
        cport: int,
        vaddr: int,
        vport: int,
        dest: Dest | None,
        daddr: int,
        dport: int,
        flags: int,
        mark: int,
        now: float,
    ) -> Conn:
        key = conn_key(af, proto, caddr, cport, vaddr, vport)
        conn = Conn(key, None, daddr, dport, flags, mark)
        self._bind_dest(conn, dest, proto)
        conn.timeout = INITIAL_TIMEOUT
        conn.expires = now + INITIAL_TIMEOUT
        if not conn.flags & CONN_F_ONE_PACKET:
            if conn.flags & CONN_F_TEMPLATE:
                self.conns.templates[key] = conn
            else:
                old = self.conns.conns.get(key)
                if old is not None:
                    # A replaced entry that still lives on (it controls others).
                    self.detached[id(old)] = old
                self.conns.conns[key] = conn
        return conn

    @staticmethod
    def _bind_dest(conn: Conn, dest: Dest | None, proto: int) -> None:
        if dest is None:
            return
        cf = dest.conn_flags
        if proto != IPPROTO_UDP:
            cf &= ~CONN_F_ONE_PACKET
        conn.flags |= cf
        conn.dest = dest
        if conn.flags & CONN_F_TEMPLATE:
            dest.persistconns += 1
        elif conn.flags & CONN_F_INACTIVE:
            dest.inactconns += 1
        else:
            dest.activeconns += 1
        _overload_after_bind(dest)
        if dest.load_listener is not None:
            dest.load_listener.load_changed(dest)

    @staticmethod
    def _unbind_dest(conn: Conn) -> None:
        dest = conn.dest
        if dest is None:
            return
        if conn.flags & CONN_F_TEMPLATE:
            dest.persistconns -= 1
        elif conn.flags & CONN_F_INACTIVE:
            dest.inactconns -= 1
        else:
            dest.activeconns -= 1
        _overload_after_unbind(dest)
        if dest.load_listener is not None:
            dest.load_listener.load_changed(dest)

    def _unhash(self, conn: Conn) -> None:
        if not self.conns.unhash(conn):
            self.detached.pop(id(conn), None)

    def _expire(self, conn: Conn, now: float) -> None:
        """The entry's timer fired (ip_vs_conn_expire)."""
        if conn.n_control:
            # Still controls others: look again later.
            conn.timeout = EXPIRE_LATER
            self.conns.arm(conn, now)
            return
        self._unhash(conn)
        self.conns.disarm(conn)
        ct = conn.control
        if ct is not None:
            forced = conn.timeout == 0
            conn.control = None
            ct.n_control -= 1
            if (
                forced
                and not ct.n_control
                and (not ct.flags & CONN_F_TEMPLATE or not ct.state & CTPL_S_ASSURED)
            ):
                self._delete(ct, now)
        self._unbind_dest(conn)
        self._expired.append(conn)

    def _delete(self, conn: Conn, now: float) -> None:
        """Forced removal (ip_vs_conn_del): a non-assured controlling template
        goes with its last entry."""
        if conn.control is not None:
            conn.timeout = 0
        self._expire(conn, now)

    def expire_now(self, conn: Conn, now: float) -> None:
        """Expire an entry at once (ip_vs_conn_expire_now)."""
        self._expire(conn, now)

    def _expire_nodest_sweep(self, now: float) -> None:
        """After a dest is deleted with expire_nodest_conn set: remove every
        entry of an unavailable dest, and its then-idle controller."""
        for conn in list(self.all_conns()):
            dest = conn.dest
            if dest is None or dest.flags & DEST_F_AVAILABLE or conn.n_control:
                continue
            if conn.bucket is None and conn.key not in self.conns.conns:
                continue
            ct = conn.control
            self._delete(conn, now)
            if ct is not None and not ct.n_control and ct.bucket is not None:
                self._delete(ct, now)

    # ------------------------------------------------------------------
    # Per-protocol state transitions
    # ------------------------------------------------------------------
    def _set_state(self, conn: Conn, direction: int, event: int, proto: int) -> None:
        if proto == IPPROTO_TCP:
            self._tcp_transition(conn, direction, event)
        elif proto == IPPROTO_UDP:
            if direction == DIR_OUTPUT:
                self._assure(conn)
            conn.timeout = self.udp_timeout
        elif proto == IPPROTO_SCTP:
            self._sctp_transition(conn, direction, event)

    def _direction(self, conn: Conn, direction: int) -> int:
        if conn.flags & CONN_F_NOOUTPUT:
            if direction == DIR_OUTPUT:
                conn.flags &= ~CONN_F_NOOUTPUT
            else:
                return DIR_INPUT_ONLY
        return direction

    def _tcp_transition(self, conn: Conn, direction: int, flags: int) -> None:
        d = self._direction(conn, direction)
        ev = tcp_event(flags)
        if ev < 0:
            new = CLOSE
        else:
            table = SECURE_TABLE if self.sysctl.secure_tcp_active else TABLE
            new = table[d][ev][conn.state]
        if new != conn.state:
            self._move_activity(conn, new in TCP_ACTIVE)
            if new == ESTABLISHED:
                self._assure(conn)
        conn.state = new
        conn.timeout = self.tcp_timeouts[new]

    def _sctp_transition(self, conn: Conn, direction: int, event: int) -> None:
        d = self._direction(conn, direction)
        new = SCTP_TABLE[d][event][conn.state]
        if new != conn.state:
            self._move_activity(conn, new in SCTP_ACTIVE)
            if new == SCTP_ESTABLISHED:
                self._assure(conn)
        conn.state = new
        conn.timeout = self.sctp_timeouts[new]

    @staticmethod
    def _move_activity(conn: Conn, active: bool) -> None:
        dest = conn.dest
        if dest is None:
            return
        inactive = conn.flags & CONN_F_INACTIVE
        if not inactive and not active:
            dest.activeconns -= 1
            dest.inactconns += 1
            conn.flags |= CONN_F_INACTIVE
        elif inactive and active:
            dest.activeconns += 1
            dest.inactconns -= 1
            conn.flags &= ~CONN_F_INACTIVE
        else:
            return
        if dest.load_listener is not None:
            dest.load_listener.load_changed(dest)

    @staticmethod
    def _assure(conn: Conn) -> None:
        ct = conn.control
        if ct is not None and ct.flags & CONN_F_TEMPLATE:
            ct.state |= CTPL_S_ASSURED

    # ------------------------------------------------------------------
    # Scheduling (ip_vs_schedule, ip_vs_sched_persist, ip_vs_leave)
    # ------------------------------------------------------------------
    def _pick(self, svc: Service, caddr: int, cport: int, vaddr: int, now: float) -> Dest | None:
        sched = svc.sched
        if sched is None:
            return None
        dest = sched.schedule(caddr, cport, vaddr, now)
        if dest is None and sched.last_error:
            self._log_no_dest(svc, sched.name, sched.last_error)
        return dest

    def _log_no_dest(self, svc: Service, sched: str, msg: str) -> None:
        key = svc.key
        if key.fwmark:
            where = f"FWM {key.fwmark} 0x{key.fwmark:08x}"
        else:
            proto = {IPPROTO_TCP: "TCP", IPPROTO_UDP: "UDP", IPPROTO_SCTP: "SCTP"}[key.protocol]
            addr = format_addr(key.af, key.addr)
            if key.af != AF_INET:
                addr = f"[{addr}]"
            where = f"{proto} {addr}:{key.port}"
        self.log(f"IPVS: {sched}: {where} - {msg}")

    def _count_conn(self, dest: Dest, svc: Service) -> None:
        dest.stats.conns += 1
        svc.stats.conns += 1
        self.stats.conns += 1

    def schedule(
        self,
        svc: Service,
        af: int,
        proto: int,
        caddr: int,
        cport: int,
        vaddr: int,
        vport: int,
        now: float,
        mark: int = 0,
    ) -> tuple[Conn | None, int]:
        """Create an entry for a new flow. Returns ``(conn, ignored)`` with the
        kernel's meaning of ``ignored``: 1 = not scheduled, let it pass;
        0 = no destination; -1 = drop."""
        if cport == FTP_DATA_PORT:
            return None, 1
        ops = SVC_F_ONEPACKET if proto == IPPROTO_UDP else 0
        flags = CONN_F_ONE_PACKET if svc.flags & ops else 0
        if svc.flags & SVC_F_PERSISTENT:
            return self._schedule_persist(
                svc, af, proto, caddr, cport, vaddr, vport, flags, now, mark
            )
        if not svc.key.fwmark and vport != svc.key.port:
            if not svc.key.port:
                self.log(
                    "IPVS: Schedule: port zero only supported in persistent services, "
                    "check your ipvs configuration"
                )
            return None, 0
        dest = self._pick(svc, caddr, cport, vaddr, now)
        if dest is None:
            return None, 0
        conn = self._new_conn(
            af, proto, caddr, cport, vaddr, vport, dest, dest.addr,
            dest.port or vport, flags, mark, now,
        )  # fmt: skip
        self._count_conn(dest, svc)
        return conn, 0

    def template_key(
        self, svc: Service, af: int, proto: int, caddr: int, vaddr: int, vport: int
    ) -> int:
        snet = mask_addr(af, caddr, svc.netmask)
        tproto = proto
        tvaddr = vaddr
        tvport = 0
        if vport == svc.key.port:
            if svc.key.port != FTP_PORT:
                tvport = vport
        elif svc.key.fwmark:
            tproto = IPPROTO_IP
            tvaddr = svc.key.fwmark if af == AF_INET else svc.key.fwmark << 96
        return conn_key(af, tproto, snet, 0, tvaddr, tvport)

    def _template_valid(self, ct: Conn) -> bool:
        dest = ct.dest
        if (
            dest is None
            or not dest.flags & DEST_F_AVAILABLE
            or (self.sysctl.expire_quiescent_template and dest.weight == 0)
        ):
            # Invalidate: re-key so that it never matches again; it lives on
            # its own timer (and keeps controlling its entries).
            if self.conns.templates.get(ct.key) is ct:
                del self.conns.templates[ct.key]
                af, proto, caddr, _cport, vaddr, _vport = decode_key(ct.key)
                ct.key = conn_key(af, proto, caddr, 0, vaddr, INVALID_PORT)
                ct.dport = INVALID_PORT
                self.detached[id(ct)] = ct
            return False
        return True

    def _schedule_persist(
        self,
        svc: Service,
        af: int,
        proto: int,
        caddr: int,
        cport: int,
        vaddr: int,
        vport: int,
        flags: int,
        now: float,
        mark: int,
    ) -> tuple[Conn | None, int]:
        tkey = self.template_key(svc, af, proto, caddr, vaddr, vport)
        ct = self.conns.templates.get(tkey)
        if ct is None or not self._template_valid(ct):
            dest = self._pick(svc, caddr, cport, vaddr, now)
            if dest is None:
                return None, 0
            tdport = dest.port if vport == svc.key.port and svc.key.port != FTP_PORT else 0
            _, tproto, snet, _, tvaddr, tvport = decode_key(tkey)
            ct = self._new_conn(
                af, tproto, snet, 0, tvaddr, tvport, dest, dest.addr, tdport,
                CONN_F_TEMPLATE, mark, now,
            )  # fmt: skip
            ct.timeout = svc.timeout
        else:
            dest = ct.dest
            assert dest is not None
        dport = dest.port if vport == svc.key.port and dest.port else vport
        conn = self._new_conn(
            af, proto, caddr, cport, vaddr, vport, dest, dest.addr, dport, flags, mark, now
        )
        conn.control = ct
        ct.n_control += 1
        self.conns.arm(ct, now)
        self._count_conn(dest, svc)
        return conn, 0

    def _leave(self, svc: Service, af: int, proto: int, caddr: int, cport: int,
               vaddr: int, vport: int, mark: int, now: float) -> tuple[int, Conn | None]:  # fmt: skip
        """No destination (§2.3)."""
        if self.sysctl.cache_bypass and svc.key.fwmark:
            # The caller must know the destination is a non-local unicast address.
            flags = CONN_F_BYPASS | (
                CONN_F_ONE_PACKET if svc.flags & SVC_F_ONEPACKET and proto == IPPROTO_UDP else 0
            )
            conn = self._new_conn(
                af, proto, caddr, cport, vaddr, vport, None, 0, 0, flags, mark, now
            )
            return BYPASS, conn
        if svc.key.port == FTP_PORT and vport != FTP_PORT:
            return ACCEPT, None
        return REJECT, None

    # ------------------------------------------------------------------
    # Packets
    # ------------------------------------------------------------------
    def process_in(
        self,
        af: int,
        proto: int,
        caddr: int,
        cport: int,
        vaddr: int,
        vport: int,
        now: float,
        event: int = 0,
        nbytes: int = 0,
        mark: int = 0,
        old_conntrack: bool = False,
    ) -> tuple[int, Conn | None]:
        """A client-to-director packet (ip_vs_in).

        ``event``: the TCP flags byte for TCP, the event of
        :func:`pylvs.core.sctpstate.sctp_event` for SCTP, unused for UDP.
        ``old_conntrack``: the packet belongs to an already confirmed
        netfilter conntrack (known only to a kernel data plane).
        Returns the verdict and the entry it concerns.
        """
        key = conn_key(af, proto, caddr, cport, vaddr, vport)
        conn = self.conns.conns.get(key)
        sysctl = self.sysctl
        if conn is not None and self._is_new_conn(proto, event):
            resched = False
            dest = conn.dest
            if sysctl.expire_nodest_conn and dest is not None and dest.weight == 0:
                resched = True
            elif sysctl.conn_reuse_mode and self._reuse_expected(conn, proto):
                resched = not conn.n_control or not old_conntrack
            if resched:
                if not conn.n_control:
                    self.expire_now(conn, now)
                if old_conntrack:
                    return DROP, None
                conn = None
        if conn is not None and conn.dest is not None and not conn.dest.flags & DEST_F_AVAILABLE:
            if sysctl.expire_nodest_conn:
                self.expire_now(conn, now)
                if old_conntrack:
                    return DROP, None
                conn = None
            elif not sysctl.keep_nodest_conn:
                return DROP, conn
        if conn is None:
            if not self._schedulable(proto, event):
                return ACCEPT, None
            svc = self.table.lookup(af, proto, vaddr, vport, mark)
            if svc is None:
                return ACCEPT, None
            conn, ignored = self.schedule(svc, af, proto, caddr, cport, vaddr, vport, now, mark)
            if conn is None:
                if ignored > 0:
                    return ACCEPT, None
                if ignored < 0:
                    return DROP, None
                verdict, conn = self._leave(svc, af, proto, caddr, cport, vaddr, vport, mark, now)
                if conn is None:
                    return verdict, None
                self._set_state(conn, DIR_INPUT, event, proto)
                self._finish_packet(conn, now)
                return verdict, conn
        self._count_in(conn, nbytes)
        self._set_state(conn, DIR_INPUT, event, proto)
        self._finish_packet(conn, now)
        return FORWARD, conn

    def packet_in(self, conn: Conn, now: float, event: int = 0, nbytes: int = 0) -> int:
        """A later client-to-director packet of an entry the plane holds (the
        part of :meth:`process_in` after the lookup; never for a new flow).

        Returns FORWARD, DROP (deleted dest, kernel behaviour) or ACCEPT when
        the entry is gone (expired: the plane should close the flow)."""
        if conn.bucket is None and not conn.flags & CONN_F_ONE_PACKET:
            return ACCEPT
        dest = conn.dest
        if dest is not None and not dest.flags & DEST_F_AVAILABLE:
            if self.sysctl.expire_nodest_conn:
                self.expire_now(conn, now)
                return ACCEPT
            if not self.sysctl.keep_nodest_conn:
                return DROP
        self._count_in(conn, nbytes)
        self._set_state(conn, DIR_INPUT, event, decode_key(conn.key)[1])
        self._finish_packet(conn, now)
        return FORWARD

    def process_out(self, conn: Conn, now: float, event: int = 0, nbytes: int = 0) -> None:
        """A real-server-to-client packet of ``conn`` (ip_vs_out)."""
        dest = conn.dest
        if dest is not None and dest.flags & DEST_F_AVAILABLE:
            dest.stats.outpkts += 1
            dest.stats.outbytes += nbytes
            svc = dest.svc
            svc.stats.outpkts += 1
            svc.stats.outbytes += nbytes
            self.stats.outpkts += 1
            self.stats.outbytes += nbytes
        self._set_state(conn, DIR_OUTPUT, event, decode_key(conn.key)[1])
        if not conn.flags & CONN_F_ONE_PACKET:
            self.conns.arm(conn, now)

    # --- flows a kernel data plane carries --------------------------------
    def release(self, conn: Conn, now: float) -> None:
        """The data plane carries this flow from now on and keeps its dest's
        counts itself (:meth:`account`): the entry leaves the table as if it
        expired, but the counts it added stay. A controlling template stops
        counting it and lives on its own timer."""
        self._unhash(conn)
        self.conns.disarm(conn)
        ct = conn.control
        if ct is not None:
            conn.control = None
            ct.n_control -= 1

    def account(self, dest: Dest, active: int, inactive: int) -> None:
        """Flows the data plane carries for ``dest`` opened, changed state or
        ended: deltas to its ActiveConn/InActConn, with the threshold rules
        of §3 (OVERLOAD set at the upper threshold as a bind sets it, cleared
        as an expiry would clear it)."""
        dest.activeconns = max(0, dest.activeconns + active)
        dest.inactconns = max(0, dest.inactconns + inactive)
        if active + inactive > 0:
            _overload_after_bind(dest)
        else:
            _overload_after_unbind(dest)
        if dest.load_listener is not None:
            dest.load_listener.load_changed(dest)

    # --- TCP fast paths -------------------------------------------------
    # A proxying plane calls these for every event of every connection.
    # They do what packet_in / process_out do for a live TCP entry of an
    # available dest, inline (tests/property/test_tcp_fast_path.py holds them
    # to it); anything unusual takes the general path.
    def tcp_in(self, conn: Conn, now: float, flags: int, nbytes: int) -> int:
        """:meth:`packet_in` for a TCP entry."""
        dest = conn.dest
        if conn.bucket is None or dest is None or not dest.flags & DEST_F_AVAILABLE:
            return self.packet_in(conn, now, flags, nbytes)
        st = dest.stats
        st.inpkts += 1
        st.inbytes += nbytes
        st = dest.svc.stats
        st.inpkts += 1
        st.inbytes += nbytes
        st = self.stats
        st.inpkts += 1
        st.inbytes += nbytes
        cf = conn.flags
        self._tcp_move(
            conn, dest, cf, DIR_INPUT_ONLY if cf & CONN_F_NOOUTPUT else DIR_INPUT, flags, now
        )
        conn.in_pkts += 1
        return FORWARD

    def tcp_out(self, conn: Conn, now: float, flags: int, nbytes: int) -> None:
        """:meth:`process_out` for a TCP entry."""
        dest = conn.dest
        if conn.bucket is None or dest is None or not dest.flags & DEST_F_AVAILABLE:
            self.process_out(conn, now, flags, nbytes)
            return
        st = dest.stats
        st.outpkts += 1
        st.outbytes += nbytes
        st = dest.svc.stats
        st.outpkts += 1
        st.outbytes += nbytes
        st = self.stats
        st.outpkts += 1
        st.outbytes += nbytes
        cf = conn.flags
        if cf & CONN_F_NOOUTPUT:
            cf &= ~CONN_F_NOOUTPUT  # replies seen: the normal tables from now on
            conn.flags = cf
        self._tcp_move(conn, dest, cf, DIR_OUTPUT, flags, now)

    def _tcp_move(
        self, conn: Conn, dest: Dest, cf: int, direction: int, flags: int, now: float
    ) -> None:
        """The TCP transition, activity counters and timer of one packet."""
        ev = tcp_event(flags)
        state = conn.state
        if ev < 0:
            new = CLOSE
        else:
            new = (SECURE_TABLE if self.sysctl.secure_tcp_active else TABLE)[direction][ev][state]
        if new != state:
            active = new in TCP_ACTIVE
            if cf & CONN_F_INACTIVE:
                if active:
                    dest.activeconns += 1
                    dest.inactconns -= 1
                    conn.flags = cf & ~CONN_F_INACTIVE
                    if dest.load_listener is not None:
                        dest.load_listener.load_changed(dest)
            elif not active:
                dest.activeconns -= 1
                dest.inactconns += 1
                conn.flags = cf | CONN_F_INACTIVE
                if dest.load_listener is not None:
                    dest.load_listener.load_changed(dest)
            if new == ESTABLISHED:
                ct = conn.control
                if ct is not None and ct.flags & CONN_F_TEMPLATE:
                    ct.state |= CTPL_S_ASSURED
            conn.state = new
        timeout = self.tcp_timeouts[new]
        conn.timeout = timeout
        expires = now + timeout
        bucket = conn.bucket
        if bucket is None or bucket > expires:
            self.conns.arm(conn, now)
        else:
            conn.expires = expires

    def _count_in(self, conn: Conn, nbytes: int) -> None:
        dest = conn.dest
        if dest is not None and dest.flags & DEST_F_AVAILABLE:
            dest.stats.inpkts += 1
            dest.stats.inbytes += nbytes
            svc = dest.svc
            svc.stats.inpkts += 1
            svc.stats.inbytes += nbytes
            self.stats.inpkts += 1
            self.stats.inbytes += nbytes

    def _finish_packet(self, conn: Conn, now: float) -> None:
        if conn.flags & CONN_F_ONE_PACKET:
            # One-packet entries live only for their packet (§4.8).
            ct = conn.control
            if ct is not None:
                ct.in_pkts += 1
            self._expire(conn, now)
            return
        conn.in_pkts += 1
        self.conns.arm(conn, now)

    def _is_new_conn(self, proto: int, event: int) -> bool:
        if proto == IPPROTO_TCP:
            return bool(event & SYN)
        if proto == IPPROTO_SCTP:
            return event == SCTP_EV_INIT
        return False

    def _reuse_expected(self, conn: Conn, proto: int) -> bool:
        if conn.control is not None:
            return False
        if proto == IPPROTO_TCP:
            return conn.state in (TIME_WAIT, CLOSE) or (
                bool(self.sysctl.conn_reuse_mode & 2)
                and conn.state == FIN_WAIT
                and bool(conn.flags & CONN_F_NOOUTPUT)
            )
        if proto == IPPROTO_SCTP:
            return conn.state == SCTP_CLOSED
        return False

    def _schedulable(self, proto: int, event: int) -> bool:
        if proto == IPPROTO_TCP:
            rst = event & 0x04
            if rst:
                return False
            return bool(event & SYN) or bool(self.sysctl.sloppy_tcp)
        if proto == IPPROTO_SCTP:
            if event == SCTP_EV_ABORT:
                return False
            return event == SCTP_EV_INIT or bool(self.sysctl.sloppy_sctp)
        return True

    # ------------------------------------------------------------------
    # Conveniences
    # ------------------------------------------------------------------
    def service(self, key: ServiceKey) -> Service | None:
        return self.table.get(key)

    def dest(self, key: ServiceKey, dkey: DestKey) -> Dest | None:
        svc = self.table.get(key)
        return None if svc is None else svc.dest_index.get(dkey)
