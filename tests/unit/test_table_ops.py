"""Table commands: the kernel's checks and errors, with ipvsadm's messages
(ipvsadm-cli reference §4.3), trash revival, atomic batches."""

from __future__ import annotations

import errno

import pytest

from builders import AF_INET6, ip, make_ipvs, rs, tcp
from pylvs.core.errors import IpvsError, kernel_message
from pylvs.core.model import (
    CONN_F_TUNNEL,
    DEST_F_OVERLOAD,
    TUNNEL_TYPE_GUE,
    DestSpec,
    ServiceKey,
    ServiceSpec,
)
from pylvs.core.ops import (
    AddDest,
    AddService,
    DelDest,
    DelService,
    EditDest,
    EditService,
    Flush,
    SetTimeouts,
    StartDaemon,
    StopDaemon,
    SyncDaemonConfig,
    Zero,
)

SVC = tcp("10.0.1.100", 80)


def refused(op: object, *, ipvs: object = None) -> IpvsError:
    target = ipvs or make_ipvs()
    with pytest.raises(IpvsError) as info:
        target.apply(op, 0)  # type: ignore[attr-defined]
    return info.value


def populated():  # type: ignore[no-untyped-def]
    ipvs = make_ipvs()
    ipvs.apply(AddService(ServiceSpec.make(SVC, "wrr")), 0)
    ipvs.apply(AddDest(SVC, rs("10.0.1.11", 80, 3)), 0)
    return ipvs


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (AddService(ServiceSpec.make(SVC, "wrr")), "Service already exists"),
        (
            AddService(ServiceSpec.make(tcp("10.0.1.101", 80), "nope")),
            "Scheduler or persistence engine not found",
        ),
        (
            AddService(ServiceSpec.make(tcp("10.0.1.101", 80), "rr", pe_name="xyz")),
            "Scheduler or persistence engine not found",
        ),
        (EditService(ServiceSpec.make(tcp("10.0.1.101", 80))), "No such service"),
        (EditService(ServiceSpec.make(SVC, "nope")), "Scheduler or persistence engine not found"),
        (DelService(tcp("10.0.1.101", 80)), "No such service"),
        (Zero(tcp("10.0.1.101", 80)), "No such service"),
        (AddDest(tcp("10.0.1.101", 80), rs("10.0.1.12")), "Service not defined"),
        (AddDest(SVC, rs("10.0.1.11", 80)), "Destination already exists"),
        (AddDest(SVC, rs("10.0.1.12", 80, -1)), "Numerical result out of range"),
        (AddDest(SVC, rs("10.0.1.12", 80, 1, l_threshold=10)), "Numerical result out of range"),
        (
            AddDest(SVC, rs("224.0.0.1", 80)),
            "Invalid operation.  Possibly wrong module version, address not unicast, ...",
        ),
        (
            AddDest(SVC, rs("0.0.0.24", 80)),
            "Invalid operation.  Possibly wrong module version, address not unicast, ...",
        ),
        (
            AddDest(SVC, rs("2001:db8::1", 80)),
            "Invalid operation.  Possibly wrong module version, address not unicast, ...",
        ),
        (
            AddDest(
                SVC, DestSpec(2, ip("10.0.1.12"), 80, fwd=CONN_F_TUNNEL, tun_type=TUNNEL_TYPE_GUE)
            ),
            "Invalid operation.  Possibly wrong module version, address not unicast, ...",
        ),
        (EditDest(tcp("10.0.1.101", 80), rs("10.0.1.11")), "Service not defined"),
        (EditDest(SVC, rs("10.0.1.12")), "No such destination"),
        (DelDest(SVC, rs("10.0.1.12").key), "No such destination"),
        (DelDest(tcp("10.0.1.101", 80), rs("10.0.1.11").key), "Service not defined"),
        (StopDaemon("master"), "No daemon is running"),
    ],
)
def test_kernel_errors(op: object, message: str) -> None:
    ipvs = populated()
    before = ipvs.services()
    err = refused(op, ipvs=ipvs)
    assert err.message == message and err.exit_status == 255
    assert ipvs.services() == before


def test_messages_table() -> None:
    assert kernel_message("start-daemon", errno.EEXIST) == "Daemon has already run"
    assert kernel_message("add-server", errno.ENODEV) == "No such device"
    assert kernel_message("list", errno.EPERM) == "Permission denied (you must be root)"


def test_ipv6_netmask_and_mixed_family() -> None:
    v6 = ServiceKey(AF_INET6, 6, ip("2001:db8::80"), 80)
    assert (
        refused(AddService(ServiceSpec.make(v6, "rr", persistent=60, netmask=0))).errno
        == errno.EINVAL
    )
    ipvs = make_ipvs()
    ipvs.apply(AddService(ServiceSpec.make(v6, "rr")), 0)
    ipvs.apply(AddDest(v6, rs("10.0.6.1", 80, fwd=CONN_F_TUNNEL)), 0)  # heterogeneous tunnel
    assert refused(AddDest(v6, rs("10.0.6.2", 80)), ipvs=ipvs).errno == errno.EINVAL
    assert (
        refused(AddDest(v6, rs("fe80::1", 80, fwd=CONN_F_TUNNEL)), ipvs=ipvs).errno == errno.EINVAL
    )


def test_daemons() -> None:
    ipvs = make_ipvs()
    ipvs.apply(StartDaemon(SyncDaemonConfig("master", "lo", 5)), 0)
    assert (
        refused(StartDaemon(SyncDaemonConfig("master", "lo")), ipvs=ipvs).message
        == "Daemon has already run"
    )
    info = ipvs.daemons()
    assert (info[0].state, info[0].syncid, info[0].sync_maxlen, info[0].mcast_group) == (
        "master",
        5,
        1472,
        "224.0.0.81",
    )
    ipvs.apply(StopDaemon("master"), 0)
    assert ipvs.daemons() == []


def test_timeouts_limits() -> None:
    assert refused(SetTimeouts(2**31, 0, 0)).errno == errno.EINVAL
    ipvs = make_ipvs()
    ipvs.apply(SetTimeouts(0, 60, 30), 0)
    t = ipvs.timeouts()
    assert (t.tcp, t.tcpfin, t.udp) == (900, 60, 30)


def test_edit_resets_and_overload_clearing() -> None:
    ipvs = populated()
    d = ipvs.dest(SVC, rs("10.0.1.11").key)
    assert d is not None
    ipvs.apply(EditDest(SVC, rs("10.0.1.11", 80, 3, u_threshold=10)), 0)
    d.flags |= DEST_F_OVERLOAD
    ipvs.apply(EditDest(SVC, rs("10.0.1.11", 80, 3, u_threshold=5)), 0)
    assert d.flags & DEST_F_OVERLOAD  # lowering u never clears it
    ipvs.apply(EditDest(SVC, rs("10.0.1.11", 80, 3, u_threshold=50)), 0)
    assert not d.flags & DEST_F_OVERLOAD
    assert d.last_weight == 3
    ipvs.apply(EditDest(SVC, rs("10.0.1.11", 80, 0)), 0)
    assert d.weight == 0 and d.last_weight == 3


def test_trash_revival_keeps_stats_then_frees() -> None:
    ipvs = populated()
    d = ipvs.dest(SVC, rs("10.0.1.11").key)
    assert d is not None
    d.stats.conns = 7
    ipvs.apply(DelDest(SVC, d.key), 10)
    assert ipvs.table.in_trash(SVC, d.key)
    ipvs.apply(AddDest(SVC, rs("10.0.1.11", 80, 2)), 20)
    d2 = ipvs.dest(SVC, d.key)
    assert d2 is d and d.stats.conns == 7 and d.weight == 2
    ipvs.apply(DelDest(SVC, d.key), 30)
    ipvs.tick(30)
    ipvs.tick(90)  # first check: idle from now on
    assert ipvs.table.in_trash(SVC, d.key)
    ipvs.tick(210)
    assert not ipvs.table.in_trash(SVC, d.key)


def test_revival_into_recreated_service_zeroes_stats() -> None:
    ipvs = populated()
    d = ipvs.dest(SVC, rs("10.0.1.11").key)
    assert d is not None
    d.stats.conns = 7
    ipvs.tick(0)
    ipvs.tick(2)
    ipvs.apply(DelService(SVC), 3)
    ipvs.apply(AddService(ServiceSpec.make(SVC, "rr")), 4)
    ipvs.apply(AddDest(SVC, rs("10.0.1.11", 80, 1)), 4)
    d2 = ipvs.dest(SVC, d.key)
    assert d2 is d and d.stats.view().conns == 0


def test_batch_is_atomic() -> None:
    ipvs = populated()
    before = ipvs.services()
    batch = [
        AddService(ServiceSpec.make(tcp("10.0.1.101", 80), "rr")),
        AddDest(tcp("10.0.1.101", 80), rs("10.0.1.21")),
        AddDest(SVC, rs("10.0.1.11")),  # already exists
    ]
    with pytest.raises(IpvsError):
        ipvs.apply_batch(batch, 0)
    assert ipvs.services() == before
    ipvs.apply_batch([*batch[:2], Flush(), AddService(ServiceSpec.make(SVC, "sh"))], 0)
    assert [s.spec.scheduler for s in ipvs.services()] == ["sh"]


def test_listeners_see_every_applied_op() -> None:
    ipvs = make_ipvs()
    seen: list[object] = []
    ipvs.listeners.append(seen.append)
    op = AddService(ServiceSpec.make(SVC, "rr"))
    ipvs.apply(op, 0)
    with pytest.raises(IpvsError):
        ipvs.apply(op, 0)
    assert seen == [op]
