"""Steady state (reference §3.6): the retry ladder, recovery, the AND of
checkers, inhibit_on_failure, log_all_failures, rescheduling."""

from __future__ import annotations

from health_sim import (
    FAIL,
    OK,
    RS1,
    VS,
    Sim,
    checker,
    logs,
    real_server,
    single,
    table,
    virtual_server,
)

from pylvs.health.actions import AddDest, RemoveDest, SetWeight
from pylvs.health.result import ProbeResult


def up_sim(**kw: object) -> Sim:
    sim = single(checker(**kw))  # type: ignore[arg-type]
    sim.run(0, OK)  # has run, up
    return sim


def test_down_needs_retry_plus_one_consecutive_failures() -> None:
    sim = up_sim(retry=2, delay_before_retry=3.0)
    t0 = sim.probe(0).due
    assert t0 == 11.0
    assert logs(sim.feed(0, FAIL, after=0.5)) == []
    assert sim.due_at() == 11.0 + 0.5 + 3.0  # delay_before_retry after the failed probe ended
    assert logs(sim.run(0, FAIL)) == []
    out = sim.run(0, FAIL)
    assert logs(out)[0] == f"TCP_CHECK on service {RS1} failed after 2 retries."
    assert table(out) == [RemoveDest("vs", "rs1")]
    assert sim.due_at() == sim.now + 10.0


def test_a_success_resets_the_ladder() -> None:
    sim = up_sim(retry=1)
    assert sim.run(0, FAIL) == []
    assert logs(sim.run(0, OK)) == []
    assert sim.run(0, FAIL) == []
    assert table(sim.run(0, FAIL)) == [RemoveDest("vs", "rs1")]


def test_while_down_failures_are_silent_and_probed_every_delay_loop() -> None:
    sim = up_sim(retry=1, delay_before_retry=1.0)
    sim.run(0, FAIL)
    sim.run(0, FAIL)
    for _ in range(3):
        assert sim.run(0, FAIL) == []
        assert sim.due_at() == sim.now + 10.0


def test_first_success_brings_the_server_back() -> None:
    sim = up_sim(retry=0)
    sim.run(0, FAIL)
    out = sim.run(0, OK)
    assert logs(out) == [
        f"TCP connection to {RS1} success.",
        f"Adding service {RS1} to VS {VS}",
        f"Gained quorum 1+0=1 <= 1 for VS {VS}",
    ]
    assert table(out) == [AddDest("vs", "rs1", 1)]


def test_log_all_failures_logs_each_failure_while_up() -> None:
    sim = up_sim(retry=1, log_all_failures=True)
    assert logs(sim.run(0, FAIL)) == [f"TCP connection to {RS1} timeout."]
    out = sim.run(0, ProbeResult(ok=False, reason="failed"))
    assert logs(out)[:2] == [
        f"TCP connection to {RS1} failed.",
        f"TCP_CHECK on service {RS1} failed after 1 retries.",
    ]
    assert logs(sim.run(0, FAIL)) == []  # down: no more


def test_global_checker_log_all_failures() -> None:
    sim = single(checker(retry=1), log_all_failures=True)
    sim.run(0, OK)
    assert logs(sim.run(0, FAIL)) == [f"TCP connection to {RS1} timeout."]


def test_real_server_state_is_the_and_of_its_checkers() -> None:
    sim = single(checker(retry=0), checker(retry=0))
    sim.next()
    sim.feed(0, OK)
    sim.feed(1, OK)
    sim.next()
    out = sim.feed(0, FAIL)
    assert table(out) == [RemoveDest("vs", "rs1")]
    assert table(sim.feed(1, FAIL)) == []
    sim.next()
    out = sim.feed(0, OK)
    assert logs(out) == [f"TCP connection to {RS1} success."]
    assert table(out) == []
    out = sim.feed(1, OK)
    assert table(out) == [AddDest("vs", "rs1", 1)]
    assert sim.policy.rs_status("vs", "rs1").failed_checkers == 0


def test_inhibit_on_failure_sets_weight_zero_instead_of_removing() -> None:
    sim = Sim.of(virtual_server(real_server(1, checker(retry=0), weight=3, inhibit=True)))
    sim.run(0, OK)
    out = sim.run(0, FAIL)
    assert logs(out)[1] == f"Disabling service {RS1} of VS {VS}"
    assert table(out) == [SetWeight("vs", "rs1", 0)]
    out = sim.run(0, OK)
    assert logs(out)[1] == f"Enabling service {RS1} of VS {VS}"
    assert table(out) == [SetWeight("vs", "rs1", 3)]


def test_a_probe_that_could_not_start_is_rescheduled_without_state_change() -> None:
    sim = up_sim(retry=0)
    line = "TCP socket bind failed. Rescheduling."
    out = sim.run(0, ProbeResult(ok=False, reschedule=True, logs=(line,)))
    assert logs(out) == [line]
    assert table(out) == []
    assert sim.due_at() == sim.now + 10.0
    assert sim.policy.rs_status("vs", "rs1").alive


def test_refused_at_once_logs_nothing_extra_even_with_log_all_failures() -> None:
    sim = up_sim(retry=1, log_all_failures=True)
    assert logs(sim.run(0, ProbeResult(ok=False))) == []
