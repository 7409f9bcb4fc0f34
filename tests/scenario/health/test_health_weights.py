"""MISC_CHECK (exit codes, misc_dynamic, its log lines and timing) and
FILE_CHECK weights (reference §3.4 MISC_CHECK/FILE_CHECK, check_misc.c,
track_file.c)."""

from __future__ import annotations

from health_sim import OK, RS1, VS, Sim, checker, logs, real_server, single, table, virtual_server

from pylvs.health.actions import AddDest, AddService, RemoveDest, SetWeight
from pylvs.health.params import CheckerParams, FileSpec, MiscSpec, ScriptParams
from pylvs.health.result import ProbeResult

HEAD = f"Misc check for [{RS1} VS {VS}] by [/check.sh]"


def misc(dynamic: bool = False, **kw: object) -> CheckerParams:
    spec = MiscSpec(ScriptParams(("/check.sh", "arg")), dynamic=dynamic)
    return checker("MISC_CHECK", spec, **kw)  # type: ignore[arg-type]


def exited(status: int) -> ProbeResult:
    return ProbeResult(ok=status == 0, exit_status=status)


def test_misc_lines_and_retry_disabled_by_default() -> None:
    sim = single(misc())
    assert logs(sim.run(0, exited(0))) == [f"{HEAD} succeeded."]
    assert logs(sim.run(0, exited(0))) == []
    out = sim.run(0, exited(1))
    assert logs(out)[0] == f"{HEAD} failed with retry disabled (exited with status 1)."
    assert table(out) == [RemoveDest("vs", "rs1")]
    assert logs(sim.run(0, exited(1))) == []
    out = sim.run(0, exited(0))
    assert logs(out)[:2] == [f"{HEAD} succeeded.", f"Adding service {RS1} to VS {VS}"]


def test_misc_retry_messages() -> None:
    sim = single(misc(retry=2))
    # keepalived's first-run quirk: the preloaded counter says "after"
    assert (
        logs(sim.run(0, exited(1)))[0] == f"{HEAD} failed after 2 retries (exited with status 1)."
    )
    sim.run(0, exited(0))
    assert logs(sim.run(0, exited(1))) == []
    assert logs(sim.run(0, exited(1))) == []
    assert (
        logs(sim.run(0, exited(3)))[0] == f"{HEAD} failed after 2 retries (exited with status 3)."
    )


def test_misc_retry_messages_with_log_all_failures() -> None:
    sim = single(misc(retry=2, log_all_failures=True))
    sim.run(0, exited(0))
    assert logs(sim.run(0, exited(1))) == [
        f"{HEAD} failed, will do 2 retries (exited with status 1)."
    ]
    assert logs(sim.run(0, exited(1))) == [f"{HEAD} failed on retry 1/2 (exited with status 1)."]
    assert (
        logs(sim.run(0, exited(1)))[0] == f"{HEAD} failed after 2 retries (exited with status 1)."
    )


def test_misc_timeout_and_signal() -> None:
    sim = single(misc())
    sim.run(0, exited(0))
    out = sim.run(0, ProbeResult(ok=False, timed_out=True, signal=15))
    assert logs(out)[0] == f"{HEAD} timed out with retry disabled."
    sim.run(0, exited(0))
    out = sim.run(0, ProbeResult(ok=False, signal=9))
    assert logs(out)[0] == f"{HEAD} failed with retry disabled (due to signal 9)."


def test_misc_next_run_counts_from_the_start_of_the_previous_one() -> None:
    sim = single(misc(delay_loop=10.0))
    start = sim.probe(0).due
    sim.feed(0, exited(0), after=4.0)
    assert sim.due_at() == start + 10.0


def test_misc_dynamic_exit_code_sets_the_weight() -> None:
    sim = Sim.of(virtual_server(real_server(1, misc(dynamic=True), weight=1)))
    out = sim.run(0, ProbeResult(ok=True, exit_status=10, weight=8))
    assert logs(out) == [
        f"Changing weight from 1 to 8 for active service {RS1} of VS {VS}",
        f"{HEAD} succeeded.",
    ]
    assert table(out) == [SetWeight("vs", "rs1", 8)]
    out = sim.run(0, ProbeResult(ok=True, exit_status=255, weight=253))
    assert table(out) == [SetWeight("vs", "rs1", 253)]
    out = sim.run(0, exited(0))  # back to the configured weight
    assert logs(out) == [f"Changing weight from 253 to 1 for active service {RS1} of VS {VS}"]
    assert table(out) == [SetWeight("vs", "rs1", 1)]


def test_misc_dynamic_failure_drops_the_weight_silently() -> None:
    sim = Sim.of(virtual_server(real_server(1, misc(dynamic=True), weight=2)))
    sim.run(0, ProbeResult(ok=True, exit_status=7, weight=5))
    out = sim.run(0, exited(1))
    assert not any("Changing weight" in line for line in logs(out))
    assert table(out) == [RemoveDest("vs", "rs1")]
    out = sim.run(0, ProbeResult(ok=True, exit_status=7, weight=5))
    assert logs(out)[0] == f"Changing weight from 2 to 5 for inactive service {RS1} of VS {VS}"
    assert table(out) == [AddDest("vs", "rs1", 5)]


def test_several_dynamic_checkers_add_up() -> None:
    sim = Sim.of(virtual_server(real_server(1, misc(dynamic=True), misc(dynamic=True), weight=1)))
    sim.next()
    sim.feed(0, ProbeResult(ok=True, exit_status=6, weight=4))  # +3
    out = sim.feed(1, ProbeResult(ok=True, exit_status=12, weight=10))  # +9
    assert logs(out)[0] == f"Changing weight from 4 to 13 for active service {RS1} of VS {VS}"


def test_dynamic_weight_zero_keeps_the_server_but_can_lose_quorum() -> None:
    sim = Sim.of(virtual_server(real_server(1, misc(dynamic=True), weight=1)))
    out = sim.run(0, ProbeResult(ok=True, exit_status=2, weight=0))
    assert logs(out)[:2] == [
        f"Changing weight from 1 to 0 for active service {RS1} of VS {VS}",
        f"Lost quorum 1-0=1 > 0 for VS {VS}",
    ]
    assert table(out) == [SetWeight("vs", "rs1", 0)]


def test_without_misc_dynamic_exit_2_is_a_failure() -> None:
    sim = single(misc())
    out = sim.run(0, ProbeResult(ok=False, exit_status=2))
    assert logs(out)[0] == f"{HEAD} failed with retry disabled (exited with status 2)."


def file_check(weight: int = 0, reverse: bool = False) -> CheckerParams:
    return checker("FILE_CHECK", FileSpec("/run/state", weight=weight, reverse=reverse))


def test_file_check_weight_zero_nonzero_value_is_a_fault() -> None:
    sim = single(file_check(), file_values={0: 0})
    assert table(sim.started) == [AddService("vs"), AddDest("vs", "rs1", 1)]
    assert logs(sim.started)[1:] == []  # no "Activating" line for FILE_CHECK
    out = sim.policy.set_file_value(5.0, 0, 1)
    assert logs(out)[0] == f"Removing service {RS1} from VS {VS}"
    out = sim.policy.set_file_value(6.0, 0, 0)
    assert logs(out)[0] == f"Adding service {RS1} to VS {VS}"


def test_file_check_fault_at_start_holds_the_server_back() -> None:
    sim = single(file_check(), file_values={0: 3})
    assert table(sim.started) == [AddService("vs")]


def test_file_check_value_times_weight_adjusts_the_weight() -> None:
    sim = Sim.of(virtual_server(real_server(1, file_check(weight=2), weight=1)), file_values={0: 3})
    assert table(sim.started) == [AddService("vs"), AddDest("vs", "rs1", 7)]
    out = sim.policy.set_file_value(1.0, 0, 5)
    assert logs(out) == [f"Changing weight from 7 to 11 for active service {RS1} of VS {VS}"]
    out = sim.policy.set_file_value(2.0, 0, -1)  # 1 - 2 → clamped to 0
    assert logs(out)[0] == f"Changing weight from 11 to 0 for active service {RS1} of VS {VS}"


def test_file_check_reverse() -> None:
    sim = Sim.of(
        virtual_server(real_server(1, file_check(weight=1, reverse=True), weight=10)),
        file_values={0: 0},
    )
    out = sim.policy.set_file_value(1.0, 0, 4)
    assert table(out) == [SetWeight("vs", "rs1", 6)]


def test_file_check_polled_value_counts_like_an_event() -> None:
    sim = single(file_check(), file_values={0: 0})
    assert sim.due_at() == 1.0  # file_poll_interval
    out = sim.run(0, ProbeResult(ok=True, file_value=2))
    assert table(out) == [RemoveDest("vs", "rs1")]
    out = sim.run(0, ProbeResult(ok=False, file_value=None))  # unreadable number: ignored
    assert table(out) == []


def test_misc_and_tcp_checkers_combine() -> None:
    sim = single(checker(retry=0), misc())
    sim.next()
    sim.feed(0, OK)
    sim.feed(1, exited(0))
    assert sim.policy.rs_status("vs", "rs1").alive
