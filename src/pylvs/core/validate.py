"""The kernel's checks for table commands, as a pure function of the op and a
view of the table (behaviour reference §1; ipvsadm-cli reference §4.3).

Checking is separate from applying so that a batch of ops (a reload diff, a
multi-op control request) can be checked in full against a shadow of the
table before any of it is applied: a bad batch changes nothing.
"""

from __future__ import annotations

import errno
from typing import Protocol

from pylvs.core.addr import AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP, is_unicast
from pylvs.core.errors import IpvsError
from pylvs.core.model import (
    CONN_F_FWD_MASK,
    CONN_F_TUNNEL,
    TUNNEL_TYPE_GRE,
    TUNNEL_TYPE_GUE,
    TUNNEL_TYPE_IPIP,
    DestKey,
    DestSpec,
    ServiceKey,
    ServiceSpec,
)
from pylvs.core.ops import AddDest, AddService, DelDest, DelService, EditDest, EditService
from pylvs.core.sched import is_known

__all__ = ["TableView", "check_dest_op", "check_service_op", "check_service_spec"]

KNOWN_PERSISTENCE_ENGINES = frozenset({"sip"})
# Scheduler, PE and interface names: 16 bytes with the NUL (§1.3).
NAME_MAX = 15


class TableView(Protocol):
    """What validation needs to know about the table."""

    def service_spec(self, key: ServiceKey) -> ServiceSpec | None: ...

    def has_service(self, key: ServiceKey) -> bool: ...

    def has_dest(self, svc: ServiceKey, dest: DestKey) -> bool: ...

    def in_trash(self, svc: ServiceKey, dest: DestKey) -> bool: ...

    @property
    def sync_running(self) -> bool: ...


def check_service_spec(command: str, spec: ServiceSpec) -> None:
    """Scheduler, persistence engine and netmask checks of add/edit service."""
    key = spec.key
    if not key.fwmark and key.protocol not in (IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP):
        raise IpvsError(command, errno.EPROTONOSUPPORT)
    if not is_known(spec.scheduler[:NAME_MAX]):
        raise IpvsError(command, errno.ENOENT)
    if spec.pe_name and spec.pe_name[:NAME_MAX] not in KNOWN_PERSISTENCE_ENGINES:
        raise IpvsError(command, errno.ENOENT)
    if key.af == AF_INET6 and not 1 <= spec.netmask <= 128:
        raise IpvsError(command, errno.EINVAL)


def check_service_op(op: AddService | EditService | DelService, view: TableView) -> None:
    if isinstance(op, AddService):
        if view.has_service(op.spec.key):
            raise IpvsError(op.command, errno.EEXIST)
        check_service_spec(op.command, op.spec)
    elif isinstance(op, EditService):
        if not view.has_service(op.spec.key):
            raise IpvsError(op.command, errno.ESRCH)
        check_service_spec(op.command, op.spec)
    elif not view.has_service(op.key):
        raise IpvsError(op.command, errno.ESRCH)


def _check_dest_attrs(command: str, d: DestSpec) -> None:
    if d.weight < 0:
        raise IpvsError(command, errno.ERANGE)
    if d.l_threshold > d.u_threshold:
        raise IpvsError(command, errno.ERANGE)
    if d.tun_type not in (TUNNEL_TYPE_IPIP, TUNNEL_TYPE_GUE, TUNNEL_TYPE_GRE):
        raise IpvsError(command, errno.EINVAL)
    if d.tun_type == TUNNEL_TYPE_GUE and d.tun_port == 0:
        raise IpvsError(command, errno.EINVAL)


def check_dest_op(op: AddDest | EditDest | DelDest, view: TableView) -> None:
    if not view.has_service(op.service):
        raise IpvsError(op.command, errno.ESRCH)
    if isinstance(op, DelDest):
        if not view.has_dest(op.service, op.dest):
            raise IpvsError(op.command, errno.ENOENT)
        return
    d = op.dest
    if d.af != op.service.af:
        # Mixed families only with tunnelling, and never while sync runs.
        if view.sync_running or (d.fwd & CONN_F_FWD_MASK) != CONN_F_TUNNEL:
            raise IpvsError(op.command, errno.EINVAL)
    _check_dest_attrs(op.command, d)
    exists = view.has_dest(op.service, d.key)
    if isinstance(op, EditDest):
        if not exists:
            raise IpvsError(op.command, errno.ENOENT)
        return
    if exists:
        raise IpvsError(op.command, errno.EEXIST)
    if not view.in_trash(op.service, d.key) and not is_unicast(d.af, d.addr):
        raise IpvsError(op.command, errno.EINVAL)
