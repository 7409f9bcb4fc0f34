"""Reload (HealthPolicy.resume): keepalived's clear_diff_services and
migrate_checkers — what survives a reload keeps its state, what is gone is
released, what is new starts as at a reload (not as at a start)."""

from __future__ import annotations

from dataclasses import replace

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
    table,
    virtual_server,
)

from pylvs.health.actions import Action, AddDest, AddService, RemoveDest, RemoveService, SetWeight
from pylvs.health.compare import same_checker
from pylvs.health.params import (
    GlobalParams,
    HealthParams,
    HttpSpec,
    MiscSpec,
    ScriptParams,
    TcpSpec,
    UrlParams,
    VirtualServerParams,
)
from pylvs.health.policy import HealthPolicy


def reload(sim: Sim, *vss: VirtualServerParams, at: float = 100.0) -> tuple[Sim, list[Action]]:
    """A new engine for ``vss`` taking over from ``sim``'s at ``at``."""
    new = Sim(HealthParams(vss, GlobalParams()), sim.rand)
    new.now = at
    out = new.policy.resume(at, sim.policy)
    return new, out


def up_pool(*rss: object, **vs_kw: object) -> Sim:
    """A pool whose checkers have all run once, successfully."""
    sim = Sim.of(virtual_server(*rss, **vs_kw))  # type: ignore[arg-type]
    for s in sim.next():
        sim.feed(s.checker, OK)
    return sim


def test_unchanged_configuration_changes_nothing() -> None:
    vs = virtual_server(real_server(1, checker()), real_server(2, checker()))
    sim = up_pool(real_server(1, checker()), real_server(2, checker()))
    new, out = reload(sim, vs)
    assert table(out) == []
    assert logs(out) == []  # no "Activating" for checkers that have run, no quorum line
    assert fifo(out) == []
    assert new.policy.table() == sim.policy.table() == {"vs": [("rs1", 1), ("rs2", 1)]}
    assert new.policy.quorum_up("vs")
    # probes go on after the bootstrap delay (warmup 0 in these params)
    assert new.due_at() == 101.0


def test_a_down_server_stays_down_without_starting_afresh() -> None:
    sim = up_pool(real_server(1, checker(retry=2)), real_server(2, checker()))
    sim.run(0, FAIL)
    sim.run(0, FAIL)
    assert "Removing service" in logs(sim.run(0, FAIL))[-1]
    new, out = reload(
        sim, virtual_server(real_server(1, checker(retry=2)), real_server(2, checker()))
    )
    assert table(out) == [] and logs(out) == []
    assert new.policy.table() == {"vs": [("rs2", 1)]}
    assert not new.policy.rs_status("vs", "rs1").alive
    status = new.policy.checker_status(0)
    assert status is not None and not status.is_up and status.has_run
    assert status.retry_it == 3  # retry + 1: already failed
    # still down: a failure says nothing more; a success brings it back
    assert logs(new.run(0, FAIL)) == []
    out = new.run(0, OK)
    assert f"Adding service {rs_name(1)} to VS {VS}" in logs(out)
    assert table(out) == [AddDest("vs", "rs1", 1)]


def test_retry_counter_carries_over_capped_by_the_new_retry() -> None:
    sim = up_pool(real_server(1, checker(retry=3)))
    sim.run(0, FAIL)
    sim.run(0, FAIL)  # two failures counted, still up
    assert sim.policy.checker_status(0).retry_it == 2  # type: ignore[union-attr]
    new, _ = reload(sim, virtual_server(real_server(1, checker(retry=3))))
    assert new.policy.checker_status(0).retry_it == 2  # type: ignore[union-attr]
    new2, _ = reload(sim, virtual_server(real_server(1, checker(retry=1))))
    assert new2.policy.checker_status(0).retry_it == 1  # type: ignore[union-attr]
    # one more failure is then enough
    assert "failed after 1 retries" in logs(new2.run(0, FAIL))[0]


def test_removed_real_server_is_released_with_its_notifications() -> None:
    sim = up_pool(real_server(1, checker()), real_server(2, checker()))
    new, out = reload(sim, virtual_server(real_server(1, checker())))
    assert logs(out) == [
        f"service {rs_name(2)} no longer exist",
        f"Removing service {rs_name(2)} from VS {VS}",
    ]
    assert table(out) == [RemoveDest("vs", "rs2")]
    assert fifo(out) == [f"RS {rs_name(2)} {VS} DOWN"]
    assert new.policy.table() == {"vs": [("rs1", 1)]}


def test_weight_change_of_a_live_server_is_an_edit() -> None:
    sim = up_pool(real_server(1, checker()), real_server(2, checker()))
    _, out = reload(
        sim, virtual_server(real_server(1, checker(), weight=3), real_server(2, checker()))
    )
    assert logs(out) == [f"Changing weight from 1 to 3 for active service {rs_name(1)} of VS {VS}"]
    assert table(out) == [SetWeight("vs", "rs1", 3)]


def test_weight_change_of_a_down_server_waits_for_it() -> None:
    sim = up_pool(real_server(1, checker(retry=0)), real_server(2, checker()))
    sim.run(0, FAIL)
    new, out = reload(
        sim, virtual_server(real_server(1, checker(retry=0), weight=5), real_server(2, checker()))
    )
    assert logs(out) == [
        f"Changing weight from 1 to 5 for inactive service {rs_name(1)} of VS {VS}"
    ]
    assert table(out) == []
    assert table(new.run(0, OK)) == [AddDest("vs", "rs1", 5)]


def test_new_real_server_is_added_and_announced() -> None:
    sim = up_pool(real_server(1, checker()))
    new, out = reload(sim, virtual_server(real_server(1, checker()), real_server(2, checker())))
    assert table(out) == [AddDest("vs", "rs2", 1)]
    assert logs(out) == [f"Activating healthchecker for service {rs_name(2)} for VS {VS}"]
    # at a reload the first failure of a new checker is not decisive
    status = new.policy.checker_status(1)
    assert status is not None and status.retry_it == 0


def test_new_alpha_real_server_waits_for_its_first_success() -> None:
    sim = up_pool(real_server(1, checker()))
    new, out = reload(
        sim, virtual_server(real_server(1, checker()), real_server(2, checker(alpha=True)))
    )
    assert table(out) == []
    assert new.policy.table() == {"vs": [("rs1", 1)]}
    assert f"Adding service {rs_name(2)} to VS {VS}" in logs(new.run(1, OK))


def test_changed_checker_is_not_migrated() -> None:
    """keepalived compares checkers by what they check: a new url is a new
    checker, and a down server whose checkers are all new comes back up
    (migrate_checkers: no failed checker left)."""
    http = checker("HTTP_GET", HttpSpec(urls=(UrlParams("/a"),)), retry=0)
    sim = up_pool(real_server(1, http), real_server(2, checker()))
    sim.run(0, FAIL)
    assert sim.policy.table() == {"vs": [("rs2", 1)]}
    other = checker("HTTP_GET", HttpSpec(urls=(UrlParams("/b"),)), retry=0)
    assert not same_checker(http, other)
    new, out = reload(sim, virtual_server(real_server(1, other), real_server(2, checker())))
    assert f"Adding service {rs_name(1)} to VS {VS}" in logs(out)
    assert new.policy.table() == {"vs": [("rs1", 1), ("rs2", 1)]}
    assert f"Activating healthchecker for service {rs_name(1)} for VS {VS}" in logs(out)


def test_timing_change_keeps_the_state() -> None:
    sim = up_pool(real_server(1, checker(retry=0)), real_server(2, checker()))
    sim.run(0, FAIL)
    slower = checker(retry=0, delay_loop=30.0)
    assert same_checker(checker(retry=0), slower)
    new, out = reload(sim, virtual_server(real_server(1, slower), real_server(2, checker())))
    assert table(out) == [] and new.policy.table() == {"vs": [("rs2", 1)]}


def test_inhibit_on_failure_added_to_a_down_server_puts_it_in_at_weight_0() -> None:
    sim = up_pool(real_server(1, checker(retry=0)), real_server(2, checker()))
    sim.run(0, FAIL)
    new, out = reload(
        sim,
        virtual_server(real_server(1, checker(retry=0), inhibit=True), real_server(2, checker())),
    )
    assert table(out) == [AddDest("vs", "rs1", 0)]
    assert new.policy.table() == {"vs": [("rs1", 0), ("rs2", 1)]}
    out = new.run(0, OK)
    assert f"Enabling service {rs_name(1)} of VS {VS}" in logs(out)
    assert table(out) == [SetWeight("vs", "rs1", 1)]


def test_inhibit_on_failure_dropped_from_a_down_server_takes_it_out() -> None:
    sim = up_pool(real_server(1, checker(retry=0), inhibit=True), real_server(2, checker()))
    sim.run(0, FAIL)
    assert sim.policy.table() == {"vs": [("rs1", 0), ("rs2", 1)]}
    new, out = reload(
        sim, virtual_server(real_server(1, checker(retry=0)), real_server(2, checker()))
    )
    assert table(out) == [RemoveDest("vs", "rs1")]
    assert new.policy.table() == {"vs": [("rs2", 1)]}


def test_removed_virtual_server_is_released() -> None:
    sim = up_pool(real_server(1, checker()))
    other = replace(virtual_server(real_server(2, checker()), vs_id="vs2"), port=81)
    new, out = reload(sim, other)
    assert logs(out)[:2] == [
        f"Removing Virtual Server {VS}",
        f"Removing service {rs_name(1)} from VS {VS}",
    ]
    assert RemoveService("vs") in table(out)
    assert AddService("vs2") in table(out)
    assert new.policy.table() == {"vs2": [("rs2", 1)]}


def test_quorum_state_carries_over() -> None:
    sim = up_pool(real_server(1, checker()), real_server(2, checker()), quorum=2)
    new, out = reload(
        sim, virtual_server(real_server(1, checker()), real_server(2, checker()), quorum=2)
    )
    assert not any("quorum" in line for line in logs(out))
    assert new.policy.quorum_up("vs")
    # a higher quorum is evaluated at once (init_service_vs: keepalived
    # words it as at a start)
    new, out = reload(
        sim, virtual_server(real_server(1, checker()), real_server(2, checker()), quorum=3)
    )
    assert logs(out)[-1] == f"Starting with quorum down 3-0=3 > 2 for VS {VS}"
    assert fifo(out) == [f"VS {VS} DOWN"]


def test_sorry_server_stays_in_while_quorum_is_lost() -> None:
    sim = up_pool(real_server(1, checker(retry=0)), sorry=True)
    sim.run(0, FAIL)
    assert sim.policy.table() == {"vs": [("sorry", 1)]}
    vs = virtual_server(real_server(1, checker(retry=0)), sorry=True)
    new, out = reload(sim, vs)
    assert table(out) == [] and new.policy.table() == {"vs": [("sorry", 1)]}
    # without the sorry server in the new file it goes and nobody replaces it
    new, out = reload(sim, virtual_server(real_server(1, checker(retry=0))))
    assert f"Removing sorry server [10.0.1.250]:tcp:80 from VS {VS}" in logs(out)
    assert new.policy.table() == {"vs": []}


def test_misc_dynamic_weight_carries_over() -> None:
    misc = checker("MISC_CHECK", MiscSpec(ScriptParams(("/bin/check",)), dynamic=True), retry=0)
    sim = Sim.of(virtual_server(real_server(1, misc)))
    sim.feed(sim.next()[0].checker, replace(OK, exit_status=7, weight=5))
    assert sim.policy.table() == {"vs": [("rs1", 5)]}
    new, out = reload(sim, virtual_server(real_server(1, misc)))
    assert table(out) == [] and new.policy.table() == {"vs": [("rs1", 5)]}


def test_connection_change_is_a_new_checker() -> None:
    a = checker(spec=TcpSpec())
    assert not same_checker(a, checker(connect_timeout=2.0))
    b = replace(a, spec=TcpSpec(connect=replace(TcpSpec().connect, connect_port=81)))
    assert not same_checker(a, b)
    assert not same_checker(a, checker("PING_CHECK"))


def test_table_view_is_what_the_actions_made() -> None:
    """HealthPolicy.table() follows every action: replaying the actions on
    an empty table gives the same view."""
    sim = up_pool(
        real_server(1, checker(retry=0), inhibit=True), real_server(2, checker(retry=0)), sorry=True
    )
    actions = list(sim.started)
    for result in (FAIL, OK, FAIL):
        actions += sim.run(0, result)
        actions += sim.run(1, FAIL)
    view: dict[str, dict[str, int]] = {}
    for a in table(actions):
        if isinstance(a, AddService):
            view[str(a.vs)] = {}
        elif isinstance(a, AddDest | SetWeight):
            view[str(a.vs)][str(a.rs)] = a.weight
        elif isinstance(a, RemoveDest):
            del view[str(a.vs)][str(a.rs)]
    got = {vs: dict(members) for vs, members in sim.policy.table().items()}
    assert got == view


def test_resume_from_an_engine_is_pure() -> None:
    params = HealthParams((virtual_server(real_server(1, checker())),), GlobalParams())
    old = HealthPolicy(params, random=lambda: 0.0)
    old.start(0.0)
    a = HealthPolicy(params, random=lambda: 0.0).resume(5.0, old)
    b = HealthPolicy(params, random=lambda: 0.0).resume(5.0, old)
    assert a == b
