"""Quorum with hysteresis and the sorry server (reference §3.6 "Quorum")."""

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

from pylvs.health.actions import AddDest, AddService, RemoveDest, SetWeight

SORRY = "[10.0.1.250]:tcp:80"


def pool(n: int, **vs_kw: object) -> Sim:
    rss = [real_server(i, checker(retry=0)) for i in range(1, n + 1)]
    sim = Sim.of(virtual_server(*rss, **vs_kw))  # type: ignore[arg-type]
    starts = sim.next()
    for s in starts:
        sim.feed(s.checker, OK)
    return sim


def fail(sim: Sim, index: int) -> list[str]:
    return logs(sim.run(index, FAIL))


def test_quorum_lost_and_regained() -> None:
    sim = pool(2, quorum=2, scripts=True)
    assert f"Gained quorum 2+0=2 <= 2 for VS {VS}" in logs(sim.started)
    out = sim.run(0, FAIL)
    assert logs(out)[-1] == f"Lost quorum 2-0=2 > 1 for VS {VS}"
    assert scripts(out)[-1] == ("/bin/qdown", "quorum_down", None)
    assert fifo(out)[-1] == f"VS {VS} DOWN"
    # without a sorry server the other server stays in the pool
    assert sim.policy.rs_status("vs", "rs2").in_table
    out = sim.run(0, OK)
    assert logs(out)[-1] == f"Gained quorum 2+0=2 <= 2 for VS {VS}"
    assert fifo(out)[-1] == f"VS {VS} UP"


def test_hysteresis() -> None:
    sim = pool(4, quorum=3, hysteresis=1)
    assert f"Gained quorum 3+1=4 <= 4 for VS {VS}" in logs(sim.started)
    assert not any("quorum" in line for line in fail(sim, 0))  # 3 >= 3-1
    assert not any("quorum" in line for line in fail(sim, 1))  # 2 >= 2
    assert fail(sim, 2)[-1] == f"Lost quorum 3-1=2 > 1 for VS {VS}"
    assert not any("quorum" in line for line in logs(sim.run(0, OK)))  # 2 < 3+1
    assert not any("quorum" in line for line in logs(sim.run(1, OK)))  # 3 < 4
    assert logs(sim.run(2, OK))[-1] == f"Gained quorum 3+1=4 <= 4 for VS {VS}"


def test_weight_sum_counts_only_alive_servers_effective_weights() -> None:
    rss = [real_server(1, checker(retry=0), weight=3), real_server(2, checker(retry=0), weight=2)]
    sim = Sim.of(virtual_server(*rss, quorum=4))
    assert f"Gained quorum 4+0=4 <= 5 for VS {VS}" in logs(sim.started)
    assert logs(sim.run(0, FAIL))[-1] == f"Lost quorum 4-0=4 > 2 for VS {VS}"


def test_sorry_server_replaces_the_pool_while_quorum_is_lost() -> None:
    sim = pool(2, quorum=2, sorry=True)
    out = sim.run(0, FAIL)
    assert logs(out)[1:] == [
        f"Removing service {rs_name(1)} from VS {VS}",
        f"Lost quorum 2-0=2 > 1 for VS {VS}",
        f"Adding sorry server {SORRY} to VS {VS}",
        f"Removing alive servers from the pool for VS {VS}",
    ]
    assert table(out) == [
        RemoveDest("vs", "rs1"),
        RemoveDest("vs", "rs2"),
        AddDest("vs", "sorry", 1),
    ]
    # While the sorry server serves, changes do not touch the table
    out = sim.run(1, FAIL)
    assert logs(out)[1] == f"Removing service {rs_name(2)} from VS {VS}"
    assert table(out) == []
    out = sim.run(0, OK)
    assert logs(out)[1] == f"Adding service {rs_name(1)} to VS {VS}"
    assert table(out) == []
    out = sim.run(1, OK)
    assert logs(out)[1:] == [
        f"Adding service {rs_name(2)} to VS {VS}",
        f"Gained quorum 2+0=2 <= 2 for VS {VS}",
        f"Removing sorry server {SORRY} from VS {VS}",
        f"Adding alive servers to the pool for VS {VS}",
    ]
    assert table(out) == [
        RemoveDest("vs", "sorry"),
        AddDest("vs", "rs1", 1),
        AddDest("vs", "rs2", 1),
    ]


def test_sorry_server_inhibit_is_kept_at_weight_zero() -> None:
    sim = pool(1, sorry=True, sorry_inhibit=True)
    assert table(sim.started)[-1] == AddDest("vs", "sorry", 0)
    out = sim.run(0, FAIL)
    assert f"Enabling sorry server {SORRY} to VS {VS}" in logs(out)
    assert table(out) == [RemoveDest("vs", "rs1"), SetWeight("vs", "sorry", 1)]
    out = sim.run(0, OK)
    assert f"Disabling sorry server {SORRY} from VS {VS}" in logs(out)
    assert table(out) == [SetWeight("vs", "sorry", 0), AddDest("vs", "rs1", 1)]


def test_inhibited_servers_are_zeroed_not_removed_for_the_sorry_server() -> None:
    rss = [real_server(1, checker(retry=0), inhibit=True), real_server(2, checker(retry=0))]
    sim = Sim.of(virtual_server(*rss, quorum=2, sorry=True))
    sim.next()
    sim.feed(0, OK)
    sim.feed(1, OK)
    out = sim.run(1, FAIL)
    assert table(out) == [
        RemoveDest("vs", "rs2"),
        SetWeight("vs", "rs1", 0),
        AddDest("vs", "sorry", 1),
    ]
    out = sim.run(1, OK)
    assert table(out) == [
        RemoveDest("vs", "sorry"),
        SetWeight("vs", "rs1", 1),
        AddDest("vs", "rs2", 1),
    ]


def test_alpha_start_with_a_sorry_server_and_no_live_server() -> None:
    sim = Sim.of(
        virtual_server(real_server(1, checker(alpha=True)), quorum=1, sorry=True, scripts=True)
    )
    assert table(sim.started) == [AddService("vs"), AddDest("vs", "sorry", 1)]
    assert logs(sim.started)[:2] == [
        f"Starting with quorum down 1-0=1 > 0 for VS {VS}",
        f"Adding sorry server {SORRY} to VS {VS}",
    ]
    assert scripts(sim.started) == [("/bin/qdown", "quorum_down", None)]
    out = sim.run(0, OK)
    assert table(out) == [RemoveDest("vs", "sorry"), AddDest("vs", "rs1", 1)]


def test_starting_with_quorum_down_prints_minus_but_compares_with_plus() -> None:
    # keepalived's format string says q-h while the threshold used is q+h.
    rss = [real_server(i, checker(alpha=True)) for i in (1, 2)]
    sim = Sim.of(virtual_server(*rss, quorum=2, hysteresis=1, sorry=True))
    assert logs(sim.started)[0] == f"Starting with quorum down 2-1=3 > 0 for VS {VS}"
