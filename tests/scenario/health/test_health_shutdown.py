"""Shutdown (clear_services): lines, table release, omega scripts."""

from __future__ import annotations

from health_sim import (
    FAIL,
    OK,
    VS,
    Sim,
    checker,
    fifo,
    logs,
    real_server,
    rs_name,
    scripts,
    table,
    virtual_server,
)

from pylvs.health.actions import FlushAll, RemoveDest, RemoveService
from pylvs.health.result import ProbeResult


def two(omega: bool = False, inhibit: bool = False, **kw: object) -> Sim:
    rss = [real_server(i, checker(retry=0), inhibit=inhibit, notify=True) for i in (1, 2)]
    sim = Sim.of(virtual_server(*rss, omega=omega, scripts=True), **kw)  # type: ignore[arg-type]
    sim.next()
    sim.feed(0, OK)
    sim.feed(1, FAIL)
    return sim


def test_every_server_is_shut_down_and_the_service_deleted() -> None:
    out = two().policy.shutdown(100.0)
    assert logs(out) == [
        f"Shutting down service {rs_name(1)} from VS {VS}",
        f"Shutting down service {rs_name(2)} from VS {VS}",
    ]
    assert table(out) == [RemoveDest("vs", "rs1"), RemoveService("vs")]
    assert scripts(out) == [] and fifo(out) == []


def test_inhibited_down_servers_are_marked_and_removed() -> None:
    out = two(inhibit=True).policy.shutdown(100.0)
    assert logs(out)[1] == f"Shutting down (inhibited) service {rs_name(2)} from VS {VS}"
    assert table(out) == [RemoveDest("vs", "rs1"), RemoveDest("vs", "rs2"), RemoveService("vs")]


def test_omega_runs_down_scripts_with_a_timeout() -> None:
    out = two(omega=True).policy.shutdown(100.0)
    assert scripts(out) == [("/bin/down1", "notify_down", 1.0), ("/bin/qdown", "quorum_down", 1.0)]
    assert fifo(out) == [f"RS {rs_name(1)} {VS} DOWN", f"VS {VS} DOWN"]


def test_no_probes_after_shutdown() -> None:
    sim = two()
    starts = sim.next()
    sim.policy.shutdown(100.0)
    assert sim.policy.next_deadline() is None
    assert sim.policy.on_result(101.0, starts[0].checker, ProbeResult(ok=False)) == []


def test_flush_on_stop_full() -> None:
    out = two(omega=True, lvs_flush_on_stop="full").policy.shutdown(100.0)
    assert table(out) == [FlushAll()]
    assert logs(out) == []
    assert scripts(out) == [("/bin/qdown", "quorum_down", 1.0)]


def test_flush_on_stop_vs_deletes_services_whole() -> None:
    out = two(lvs_flush_on_stop="vs").policy.shutdown(100.0)
    assert table(out) == [RemoveService("vs")]
    assert logs(out) == []


def test_dont_release_ipvs_leaves_everything() -> None:
    assert two(omega=True, dont_release_ipvs=True).policy.shutdown(100.0) == []
