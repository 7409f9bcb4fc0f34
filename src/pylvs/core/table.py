"""The virtual-service table: services, their dests in kernel list order,
scheduler binding, the dest trash, and the per-packet service lookup
(behaviour reference §1, §2.1).
"""

from __future__ import annotations

from collections.abc import Iterator
from random import Random

from pylvs.core.addr import IPPROTO_TCP
from pylvs.core.model import (
    DEST_F_AVAILABLE,
    DEST_F_OVERLOAD,
    Dest,
    DestKey,
    DestSpec,
    Service,
    ServiceKey,
    ServiceSpec,
)
from pylvs.core.sched import Scheduler, make_scheduler
from pylvs.core.sysctl import Sysctl
from pylvs.core.validate import NAME_MAX

__all__ = ["DEST_TRASH_CHECK", "DEST_TRASH_PERIOD", "ServiceTable"]

FTP_PORT = 21
FTP_DATA_PORT = 20
UNPRIVILEGED_PORT_START = 1024
# A deleted dest stays revivable in the trash; it is freed after being
# unreferenced for DEST_TRASH_PERIOD, checked every DEST_TRASH_CHECK (§1.2).
DEST_TRASH_PERIOD = 120.0
DEST_TRASH_CHECK = 60.0

TrashKey = tuple[ServiceKey, DestKey]


class ServiceTable:
    """Services and dests. Mutators assume the op was validated (validate.py)."""

    def __init__(self, rng: Random, sysctl: Sysctl | None = None) -> None:
        self.rng = rng
        self.sysctl = sysctl if sysctl is not None else Sysctl()
        self.services: dict[ServiceKey, Service] = {}
        self.trash: dict[TrashKey, Dest] = {}
        self.trash_idle: dict[TrashKey, float] = {}
        self.next_trash_check: float | None = None
        # Schedulers with periodic work (lblc, lblcr).
        self.ticking: set[Scheduler] = set()
        self.ftpsvc_counter = 0
        self.nullsvc_counter = 0
        self._seq = 0
        self.sync_running = False

    # --- TableView -----------------------------------------------------
    def service_spec(self, key: ServiceKey) -> ServiceSpec | None:
        svc = self.services.get(key)
        return None if svc is None else svc.spec()

    def has_service(self, key: ServiceKey) -> bool:
        return key in self.services

    def has_dest(self, svc: ServiceKey, dest: DestKey) -> bool:
        s = self.services.get(svc)
        return s is not None and dest in s.dest_index

    def in_trash(self, svc: ServiceKey, dest: DestKey) -> bool:
        return (svc, dest) in self.trash

    # --- lookup --------------------------------------------------------
    def __iter__(self) -> Iterator[Service]:
        return iter(self.services.values())

    def __len__(self) -> int:
        return len(self.services)

    def get(self, key: ServiceKey) -> Service | None:
        return self.services.get(key)

    def lookup(self, af: int, proto: int, vaddr: int, vport: int, mark: int = 0) -> Service | None:
        """The service for a packet, in the kernel's order (§1.1)."""
        services = self.services
        if mark:
            svc = services.get(ServiceKey(af, 0, 0, 0, mark))
            if svc is not None:
                return svc
        svc = services.get(ServiceKey(af, proto, vaddr, vport))
        if svc is not None:
            return svc
        if (
            proto == IPPROTO_TCP
            and self.ftpsvc_counter
            and (vport == FTP_DATA_PORT or vport >= UNPRIVILEGED_PORT_START)
        ):
            svc = services.get(ServiceKey(af, proto, vaddr, FTP_PORT))
            if svc is not None:
                return svc
        if self.nullsvc_counter:
            return services.get(ServiceKey(af, proto, vaddr, 0))
        return None

    # --- services ------------------------------------------------------
    def _bind_scheduler(self, svc: Service, name: str) -> None:
        svc.sched_name = name
        sched = make_scheduler(name, svc, self.rng, self.sysctl)
        svc.sched = sched
        if sched is not None and sched.needs_tick:
            self.ticking.add(sched)

    def _unbind_scheduler(self, svc: Service) -> None:
        if svc.sched is not None:
            svc.sched.done()
            self.ticking.discard(svc.sched)
        svc.sched = None

    def add_service(self, spec: ServiceSpec) -> Service:
        svc = Service(spec)
        self._bind_scheduler(svc, spec.scheduler[:NAME_MAX])
        # The kernel counts by port for every service, fwmark ones (port 0)
        # included; the counters only enable the lookup fallbacks.
        if spec.key.port == FTP_PORT:
            self.ftpsvc_counter += 1
        elif spec.key.port == 0:
            self.nullsvc_counter += 1
        self.services[spec.key] = svc
        return svc

    def edit_service(self, spec: ServiceSpec) -> Service:
        svc = self.services[spec.key]
        name = spec.scheduler[:NAME_MAX]
        if name != svc.sched_name:
            self._unbind_scheduler(svc)
            self._bind_scheduler(svc, name)
        svc.flags = spec.flags
        svc.timeout = spec.timeout
        svc.netmask = spec.netmask
        svc.pe_name = spec.pe_name[:NAME_MAX]
        return svc

    def del_service(self, key: ServiceKey, now: float) -> Service:
        svc = self.services.pop(key)
        if key.port == FTP_PORT:
            self.ftpsvc_counter -= 1
        elif key.port == 0:
            self.nullsvc_counter -= 1
        # The scheduler goes first, then every dest is unlinked (to the
        # trash) without the del_dest hook, as ip_vs_del_service does.
        self._unbind_scheduler(svc)
        for dest in list(svc.dests):
            self._unlink_dest(svc, dest, now, notify=False)
        return svc

    def flush(self, now: float) -> list[Service]:
        return [self.del_service(key, now) for key in list(self.services)]

    # --- dests ---------------------------------------------------------
    def add_dest(self, key: ServiceKey, spec: DestSpec, now: float) -> Dest:
        svc = self.services[key]
        tkey = (key, spec.key)
        dest = self.trash.pop(tkey, None)
        self.trash_idle.pop(tkey, None)
        self._seq += 1
        if dest is None:
            dest = Dest(spec, svc, self._seq)
        else:
            # Revived from the trash, with its counters and statistics, but
            # bound to a re-created service object its statistics restart.
            if dest.svc is not svc:
                dest.stats.zero()
            dest.svc = svc
            dest.seq = self._seq
            dest.trash_since = None
            self._apply_dest_spec(dest, spec)
        dest.last_weight = spec.weight
        dest.flags |= DEST_F_AVAILABLE
        svc.dests.insert(0, dest)
        svc.dest_index[dest.key] = dest
        if svc.sched is not None:
            svc.sched.add_dest(dest)
        return dest

    @staticmethod
    def _apply_dest_spec(dest: Dest, spec: DestSpec) -> None:
        if spec.u_threshold == 0 or spec.u_threshold > dest.u_threshold:
            dest.flags &= ~DEST_F_OVERLOAD
        dest.update(spec)

    def edit_dest(self, key: ServiceKey, spec: DestSpec) -> Dest:
        svc = self.services[key]
        dest = svc.dest_index[spec.key]
        self._apply_dest_spec(dest, spec)
        if svc.sched is not None:
            svc.sched.upd_dest(dest)
        if dest.load_listener is not None:
            dest.load_listener.load_changed(dest)
        return dest

    def del_dest(self, key: ServiceKey, dkey: DestKey, now: float) -> Dest:
        svc = self.services[key]
        return self._unlink_dest(svc, svc.dest_index[dkey], now, notify=True)

    def _unlink_dest(self, svc: Service, dest: Dest, now: float, notify: bool) -> Dest:
        index = svc.dests.index(dest)
        del svc.dests[index]
        del svc.dest_index[dest.key]
        dest.flags &= ~DEST_F_AVAILABLE
        if notify and svc.sched is not None:
            svc.sched.del_dest(dest, index)
        dest.load_listener = None
        dest.trash_since = now
        self.trash[(svc.key, dest.key)] = dest
        if self.next_trash_check is None:
            self.next_trash_check = now + DEST_TRASH_CHECK
        return dest

    def all_dests(self) -> Iterator[Dest]:
        for svc in self.services.values():
            yield from svc.dests

    # --- housekeeping --------------------------------------------------
    def tick(self, now: float) -> list[Dest]:
        """Run due trash checks; return the dests finally freed."""
        freed: list[Dest] = []
        while self.next_trash_check is not None and now >= self.next_trash_check:
            at = self.next_trash_check
            for tkey, dest in list(self.trash.items()):
                if dest.activeconns or dest.inactconns or dest.persistconns:
                    self.trash_idle.pop(tkey, None)
                    continue
                since = self.trash_idle.get(tkey)
                if since is None:
                    self.trash_idle[tkey] = at
                elif at >= since + DEST_TRASH_PERIOD:
                    del self.trash[tkey]
                    del self.trash_idle[tkey]
                    freed.append(dest)
            self.next_trash_check = at + DEST_TRASH_CHECK if self.trash else None
        return freed

    def next_deadline(self) -> float | None:
        return self.next_trash_check
