"""The per-checker epilogs that differ from TCP_CHECK's: SMTP, DNS, UDP,
PING (check_smtp.c, check_dns.c, check_udp.c, check_ping.c)."""

from __future__ import annotations

from health_sim import OK, RS1, VS, Sim, checker, logs, single, table

from pylvs.health.actions import AddDest, RemoveDest
from pylvs.health.params import DnsSpec, PingSpec, SmtpSpec, UdpSpec
from pylvs.health.result import ProbeResult


def one(kind: str, spec: object, **kw: object) -> Sim:
    return single(checker(kind, spec, **kw))  # type: ignore[arg-type]


SMTP_FAIL = ProbeResult(ok=False, reason="Connection timeout to server [10.0.1.11]:25")


def test_smtp_first_failure_is_retried_and_logged_on_the_last_attempt() -> None:
    sim = one("SMTP_CHECK", SmtpSpec(), retry=1, delay_before_retry=2.0)
    assert sim.run(0, SMTP_FAIL) == []
    assert sim.due_at() == 3.0
    out = sim.run(0, SMTP_FAIL)
    assert logs(out)[:2] == [
        "SMTP_CHECK Connection timeout to server [10.0.1.11]:25",
        f"Removing service {RS1} from VS {VS}",
    ]
    assert sim.due_at() == 13.0


def test_smtp_retries_go_on_while_down_and_success_line() -> None:
    sim = one("SMTP_CHECK", SmtpSpec(), retry=1, delay_before_retry=2.0)
    sim.run(0, SMTP_FAIL)
    sim.run(0, SMTP_FAIL)
    assert sim.run(0, SMTP_FAIL) == []
    assert sim.due_at() == sim.now + 2.0  # retry even though down
    assert sim.run(0, SMTP_FAIL) == []
    out = sim.run(0, OK)
    assert logs(out)[:2] == [
        f"Remote SMTP server {RS1} succeed on service.",
        f"Adding service {RS1} to VS {VS}",
    ]


def test_smtp_first_success_line() -> None:
    sim = one("SMTP_CHECK", SmtpSpec())
    assert logs(sim.run(0, OK)) == [f"Remote SMTP server {RS1} succeed on service."]
    assert logs(sim.run(0, OK)) == []


DNS_TIMEOUT = ProbeResult(ok=False, reason="read timeout from socket")


def test_dns_first_failure_is_decisive_then_the_ladder_uses_delay_loop() -> None:
    sim = one("DNS_CHECK", DnsSpec(), retry=None, delay_before_retry=None, delay_loop=5.0)
    out = sim.run(0, DNS_TIMEOUT)
    assert logs(out)[:2] == [
        f"DNS_CHECK ({RS1}) read timeout from socket",
        f"Removing service {RS1} from VS {VS}",
    ]
    assert logs(sim.run(0, DNS_TIMEOUT)) == []  # silent while down
    out = sim.run(0, OK)  # no success line for DNS
    assert logs(out)[0] == f"Adding service {RS1} to VS {VS}"
    for _ in range(3):  # retry 3 by default, each after delay_loop
        assert sim.run(0, DNS_TIMEOUT) == []
        assert sim.due_at() == sim.now + 5.0
    out = sim.run(0, DNS_TIMEOUT)
    assert logs(out)[0] == f"DNS_CHECK ({RS1}) read timeout from socket after 3 retries"
    assert table(out) == [RemoveDest("vs", "rs1")]


def test_udp_texts() -> None:
    sim = one("UDP_CHECK", UdpSpec(), retry=1, log_all_failures=True)
    assert logs(sim.run(0, OK)) == [f"UDP connection to {RS1} success."]
    assert logs(sim.run(0, ProbeResult(ok=False, reason="mismatch"))) == [
        f"UDP check to {RS1} reply data mismatch."
    ]
    assert logs(sim.run(0, ProbeResult(ok=False, reason="failed")))[:2] == [
        f"UDP connection to {RS1} failed.",
        f"UDP_CHECK on service {RS1} failed after 1 retries.",
    ]


def test_ping_texts() -> None:
    sim = one("PING_CHECK", PingSpec(), retry=1, log_all_failures=True)
    assert logs(sim.run(0, OK)) == [f"ICMP connection to {RS1} success."]
    assert logs(sim.run(0, ProbeResult(ok=False, reason="timeout"))) == [
        f"ICMP connection to address {RS1} timeout."
    ]
    assert logs(sim.run(0, ProbeResult(ok=False, reason="failed")))[:2] == [
        f"ICMP connection to {RS1} of {VS} failed.",
        f"ICMP CHECK on service {RS1} of {VS} failed after 1 retries.",
    ]
    out = sim.run(0, OK)
    assert table(out) == [AddDest("vs", "rs1", 1)]
    sim2 = one("PING_CHECK", PingSpec(), retry=1)
    assert logs(sim2.run(0, ProbeResult(ok=False, reason="timeout")))[0] == (
        f"ICMP CHECK on service {RS1} failed."
    )
