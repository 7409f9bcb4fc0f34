"""Start-up (reference §3.6 "Startup"): optimistic adds, alpha, warmup."""

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
    single,
    table,
    virtual_server,
)

from pylvs.health.actions import AddDest, AddService, RemoveDest, SetWeight


def test_non_alpha_servers_are_added_at_once_and_quorum_gained() -> None:
    sim = Sim.of(virtual_server(real_server(1, checker()), real_server(2, checker()), scripts=True))
    assert table(sim.started) == [
        AddService("vs"),
        AddDest("vs", "rs1", 1),
        AddDest("vs", "rs2", 1),
    ]
    assert logs(sim.started) == [
        f"Gained quorum 1+0=1 <= 2 for VS {VS}",
        f"Activating healthchecker for service {rs_name(1)} for VS {VS}",
        f"Activating healthchecker for service {rs_name(2)} for VS {VS}",
    ]
    assert scripts(sim.started) == [("/bin/qup", "quorum_up", None)]
    assert fifo(sim.started) == [f"VS {VS} UP"]


def test_first_probe_after_bootstrap_delay_plus_random_warmup() -> None:
    # warmup defaults to delay_loop: 1 s + 0.25 * 10 s
    sim = single(checker(warmup=None), rand=0.25)
    assert sim.due_at() == 3.5
    sim = single(checker(warmup=4.0), rand=0.5)
    assert sim.due_at() == 3.0
    sim = single(checker(warmup=0.0), rand=0.9)
    assert sim.due_at() == 1.0


def test_no_notify_for_initial_adds_unless_rs_init_notifies() -> None:
    rs = real_server(1, checker(), notify=True)
    assert scripts(Sim.of(virtual_server(rs)).started) == []
    sim = Sim.of(virtual_server(rs), rs_init_notifies=True)
    assert scripts(sim.started) == [("/bin/up1", "notify_up", None)]
    assert fifo(sim.started) == [f"RS {rs_name(1)} {VS} UP", f"VS {VS} UP"]


def test_first_success_of_a_non_alpha_checker_changes_nothing_but_logs() -> None:
    sim = single(checker())
    out = sim.run(0, OK)
    assert logs(out) == [f"TCP connection to {rs_name(1)} success."]
    assert table(out) == []


def test_first_failure_is_decisive() -> None:
    sim = Sim.of(virtual_server(real_server(1, checker(retry=3), notify=True), scripts=True))
    out = sim.run(0, FAIL)
    assert logs(out) == [
        f"TCP_CHECK on service {rs_name(1)} failed.",
        f"Removing service {rs_name(1)} from VS {VS}",
        f"Lost quorum 1-0=1 > 0 for VS {VS}",
    ]
    assert table(out) == [table(out)[0]]
    assert scripts(out) == [
        ("/bin/down1", "notify_down", None),
        ("/bin/qdown", "quorum_down", None),
    ]
    assert fifo(out) == [f"RS {rs_name(1)} {VS} DOWN", f"VS {VS} DOWN"]
    # no retry: next probe a delay_loop later
    assert sim.due_at() == sim.now + 10.0


def test_alpha_server_is_added_only_after_all_checkers_succeed() -> None:
    sim = single(checker(alpha=True), checker(alpha=True))
    assert table(sim.started) == [AddService("vs")]
    assert not any("Gained quorum" in line for line in logs(sim.started))
    sim.next()
    out = sim.feed(0, OK)
    assert logs(out) == [f"TCP connection to {rs_name(1)} success."]
    assert table(out) == []
    out = sim.feed(1, OK)
    assert logs(out) == [
        f"TCP connection to {rs_name(1)} success.",
        f"Adding service {rs_name(1)} to VS {VS}",
        f"Gained quorum 1+0=1 <= 1 for VS {VS}",
    ]
    assert table(out) == [AddDest("vs", "rs1", 1)]


def test_alpha_first_failure_notifies_down_without_a_table_change() -> None:
    sim = Sim.of(virtual_server(real_server(1, checker(alpha=True), notify=True)))
    out = sim.run(0, FAIL)
    assert logs(out) == [f"TCP_CHECK on service {rs_name(1)} failed."]
    assert table(out) == []
    assert scripts(out) == [("/bin/down1", "notify_down", None)]
    assert fifo(out) == [f"RS {rs_name(1)} {VS} DOWN"]


def test_alpha_with_inhibit_is_added_at_weight_zero_then_enabled() -> None:
    sim = Sim.of(virtual_server(real_server(1, checker(alpha=True), weight=5, inhibit=True)))
    assert table(sim.started) == [AddService("vs"), AddDest("vs", "rs1", 0)]
    out = sim.run(0, OK)
    assert logs(out)[1] == f"Enabling service {rs_name(1)} of VS {VS}"
    assert table(out) == [SetWeight("vs", "rs1", 5)]


def test_a_real_server_without_checkers_stays_up() -> None:
    sim = Sim.of(virtual_server(real_server(1)))
    assert table(sim.started) == [AddService("vs"), AddDest("vs", "rs1", 1)]
    assert sim.due_at() is None


def test_the_same_real_server_params_in_two_virtual_servers() -> None:
    rs = real_server(1, checker(retry=0))
    sim = Sim.of(virtual_server(rs, vs_id="a"), virtual_server(rs, vs_id="b"))
    assert [c.vs.id for c in sim.policy.checkers] == ["a", "b"]
    sim.next()
    out = sim.feed(1, FAIL)
    assert [a for a in table(out)] == [RemoveDest("b", "rs1")]
    assert sim.policy.rs_status("a", "rs1").alive


def test_tick_returns_the_due_probes_and_the_next_deadline() -> None:
    sim = Sim.of(
        virtual_server(real_server(1, checker()), real_server(2, checker(warmup=4.0))), rand=0.5
    )
    assert sim.policy.next_deadline() == 1.0
    starts, deadline = sim.policy.tick(1.0)
    assert [s.checker for s in starts] == [0] and deadline == 3.0
    assert sim.policy.tick(2.0) == ([], 3.0)
