"""HTTP_GET/SSL_GET url cycling (reference §3.6, check_http.c epilog)."""

from __future__ import annotations

from health_sim import OK, RS1, VS, Sim, checker, logs, single, table

from pylvs.health.actions import Action, AddDest, RemoveDest
from pylvs.health.params import HttpSpec, UrlParams
from pylvs.health.result import ProbeResult

BAD = ProbeResult(ok=False, reason="HTTP status code error to")


def http(n_urls: int = 2, kind: str = "HTTP_GET", fast: bool = False, **kw: object) -> Sim:
    urls = tuple(UrlParams(f"/u{i}", virtualhost="vh" if i == 1 else None) for i in range(n_urls))
    spec = HttpSpec(urls=urls, fast_recovery=fast)
    kw.setdefault("delay_before_retry", 3.0)
    return single(checker(kind, spec, **kw))  # type: ignore[arg-type]


def step(sim: Sim, result: ProbeResult) -> tuple[int, float, list[str], list[Action]]:
    start = sim.probe(0)
    out = sim.feed(0, result)
    return start.url, start.due, logs(out), table(out)


def test_urls_are_probed_one_per_delay_loop_cycling() -> None:
    sim = http(3)
    seen = [step(sim, OK)[:2] for _ in range(5)]
    assert seen == [(0, 1.0), (1, 11.0), (2, 21.0), (0, 31.0), (1, 41.0)]


def test_success_line_after_the_last_url_of_the_first_walk() -> None:
    sim = http(2)
    assert step(sim, OK)[2] == []
    assert step(sim, OK)[2] == [f"Remote Web server {RS1} succeed on service."]
    assert step(sim, OK)[2] == []


def test_failing_url_is_retried_then_marks_down_and_is_probed_alone() -> None:
    sim = http(2, retry=1, delay_loop=10.0)
    step(sim, OK)
    step(sim, OK)
    url, due, out, tab = step(sim, OK)  # url 0
    url, due, out, tab = step(sim, BAD)  # url 1 fails: retry after 3 s
    assert (url, out, tab) == (1, [], [])
    url, due2, out, tab = step(sim, BAD)
    assert url == 1 and due2 == due + 3.0
    assert out[0] == f"HTTP_CHECK on service {RS1} failed after 1 retries."
    assert tab == [RemoveDest("vs", "rs1")]
    # down: only the failed url, every max(delay_before_retry, delay_loop)
    url, due3, out, tab = step(sim, BAD)
    assert (url, due3, out) == (1, due2 + 10.0, [])
    # it passes: "success to ... url(...)" and the walk restarts from url 0
    url, _due4, out, tab = step(sim, OK)
    assert url == 1
    assert out == [f"HTTP status code success to {RS1} url(/u1)"]
    assert tab == []
    url, _, out, tab = step(sim, OK)
    assert (url, out) == (0, [f"HTTP status code success to {RS1} url(/u0)"])
    url, _, out, tab = step(sim, ProbeResult(ok=True, success_msg="MD5 digest"))
    assert url == 1
    assert out == [
        f"MD5 digest success to {RS1} url(/u1)",
        f"Remote Web server {RS1} succeed on service.",
        f"Adding service {RS1} to VS {VS}",
        f"Gained quorum 1+0=1 <= 1 for VS {VS}",
    ]
    assert tab == [AddDest("vs", "rs1", 1)]


def test_single_url_needs_two_passes_to_recover() -> None:
    sim = http(1, retry=0)
    step(sim, OK)
    assert step(sim, BAD)[3] == [RemoveDest("vs", "rs1")]
    assert step(sim, OK)[3] == []
    assert step(sim, OK)[3] == [AddDest("vs", "rs1", 1)]


def test_first_failure_at_start_says_after_n_retries() -> None:
    # timeout_epilog() sets has_run before the epilog looks at it.
    sim = http(1, retry=1)
    out = step(sim, BAD)[2]
    assert out[0] == f"HTTP_CHECK on service {RS1} failed after 1 retries."


def test_ssl_get_says_ssl() -> None:
    sim = http(1, kind="SSL_GET", retry=0)
    assert step(sim, BAD)[2][0] == f"SSL_CHECK on service {RS1} failed."


def test_log_all_failures_line() -> None:
    sim = http(1, retry=1, log_all_failures=True)
    step(sim, OK)
    assert step(sim, ProbeResult(ok=False, reason="Timeout connecting"))[2] == [
        f"Timeout connecting server {RS1}."
    ]


def test_fast_recovery_walks_urls_back_to_back() -> None:
    sim = http(3, fast=True, retry=0)
    dues = [step(sim, OK)[1] for _ in range(3)]
    assert dues == [1.0, 1.0, 1.0]  # start-up: no delay between urls
    assert step(sim, OK)[1] == 11.0
    step(sim, BAD)  # url 1 fails → down
    _, due, _, _ = step(sim, OK)  # failed url passes after max(dbr, dl)
    dues = [step(sim, OK)[1] for _ in range(3)]
    assert dues == [due, due, due]


def test_content_length_mismatch_is_logged_once_per_difference() -> None:
    sim = http(1)
    mismatch = ProbeResult(ok=True, http_lengths=(10, 7))
    line = f"http_check for RS {RS1} VS {VS} url /u0: content_length (10) does not match received bytes (7)"
    assert step(sim, mismatch)[2][0] == line
    assert step(sim, mismatch)[2] == []
    assert step(sim, ProbeResult(ok=True, http_lengths=(10, 10)))[2] == []
    assert step(sim, mismatch)[2] == [line]
