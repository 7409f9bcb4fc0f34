"""What each keepalived checker does with one probe's result.

Every checker kind has its own epilog in keepalived (check_tcp.c tcp_epilog,
check_http.c epilog/timeout_epilog, check_smtp.c smtp_final, check_dns.c
dns_final, check_misc.c misc_check_child_thread, track_file.c for FILE_CHECK)
and they differ in small ways that show in the logs and the timing: which
failures are retried, whether the first result is decisive, what is logged
and when the next probe runs.  These functions transcribe them; the
reference's §3.6 summary is the common case.
"""

from __future__ import annotations

from typing import cast

from pylvs.health.params import FileSpec, HttpSpec, MiscSpec
from pylvs.health.result import ProbeResult
from pylvs.health.state import IPVS_WEIGHT_FAULT, CheckerState, Engine

__all__ = ["dns", "file", "http", "l4", "misc", "smtp"]

_INT_MIN = -(2**31)
_INT_MAX = 2**31 - 1


def _vs_display(c: CheckerState) -> str:
    return c.rs.vs.display


def l4(e: Engine, c: CheckerState, r: ProbeResult, now: float) -> None:
    """TCP_CHECK, UDP_CHECK and PING_CHECK share one epilog (tcp_epilog,
    udp_epilog, icmp_epilog); only the texts differ."""
    rs = c.rs.display
    p = c.params
    if not r.ok and r.reason and c.is_up and e.log_all_failures(c):
        e.log(_l4_failure_line(c.kind, r.reason, rs, _vs_display(c)))
    delay = p.delay_loop
    if r.ok or ((c.is_up or not c.has_run) and c.retry_it >= p.retry):
        c.retry_it = 0
        if r.ok and (not c.is_up or not c.has_run):
            e.log(_l4_success_line(c.kind, rs))
            e.update_checker_state(c, True)
        elif not r.ok and (c.is_up or not c.has_run):
            e.log(_l4_down_line(c, rs, retries=bool(p.retry and c.has_run)))
            e.update_checker_state(c, False)
    elif c.is_up:
        delay = p.delay_before_retry
        c.retry_it += 1
    c.has_run = True
    e.schedule(c, now + delay)


def _l4_success_line(kind: str, rs: str) -> str:
    if kind == "UDP_CHECK":
        return f"UDP connection to {rs} success."
    if kind == "PING_CHECK":
        return f"ICMP connection to {rs} success."
    return f"TCP connection to {rs} success."


def _l4_down_line(c: CheckerState, rs: str, retries: bool) -> str:
    n = c.params.retry
    if c.kind == "PING_CHECK":
        if retries:
            return f"ICMP CHECK on service {rs} of {_vs_display(c)} failed after {n} retries."
        return f"ICMP CHECK on service {rs} failed."
    name = "UDP_CHECK" if c.kind == "UDP_CHECK" else "TCP_CHECK"
    if retries:
        return f"{name} on service {rs} failed after {n} retries."
    return f"{name} on service {rs} failed."


def _l4_failure_line(kind: str, reason: str, rs: str, vs: str) -> str:
    if kind == "UDP_CHECK":
        if reason == "mismatch":
            return f"UDP check to {rs} reply data mismatch."
        return f"UDP connection to {rs} failed."
    if kind == "PING_CHECK":
        if reason == "timeout":
            return f"ICMP connection to address {rs} timeout."
        return f"ICMP connection to {rs} of {vs} failed."
    return f"TCP connection to {rs} {reason}."


# HTTP_GET / SSL_GET -------------------------------------------------------

_NEW, _RETRY, _FAILED = 0, 1, 2


def http(e: Engine, c: CheckerState, r: ProbeResult, now: float) -> None:
    """check_http.c: one url per probe; see :func:`_http_epilog`."""
    spec = cast(HttpSpec, c.params.spec)
    url_index = c.url_it or 0
    url = spec.urls[url_index]
    rs = c.rs.display
    if r.http_lengths is not None:
        content_len, rx = r.http_lengths
        if content_len is not None and content_len != rx:
            # Logged once per distinct difference (url->len_mismatch).
            if c.len_mismatch[url_index] != content_len - rx:
                e.log(
                    f"http_check for RS {rs} VS {_vs_display(c)} url "
                    f"{url.virtualhost or ''}{url.path}: content_length ({content_len}) "
                    f"does not match received bytes ({rx})"
                )
                c.len_mismatch[url_index] = content_len - rx
        else:
            c.len_mismatch[url_index] = 0
    if r.ok:
        if not c.is_up:
            e.log(f"{r.success_msg} success to {rs} url({url.path})")
        _http_epilog(e, c, _NEW, now)
        return
    # timeout_epilog()
    if c.is_up or not c.has_run:
        if e.log_all_failures(c):
            e.log(f"{r.reason} server {rs}.")
        c.has_run = True
        _http_epilog(e, c, _RETRY, now)
    else:
        _http_epilog(e, c, _FAILED, now)


def _http_epilog(e: Engine, c: CheckerState, method: int, now: float) -> None:
    """The url walk: each url passes in turn (one per delay_loop); a failing
    url is retried retry times at delay_before_retry and then marks the
    checker down; while down only that url is probed (every
    max(delay_before_retry, delay_loop)); once it passes all urls are walked
    again from the first and the checker comes up after the last."""
    spec = cast(HttpSpec, c.params.spec)
    p = c.params
    n_urls = len(spec.urls)
    if method == _NEW:
        cur = c.url_it or 0
        c.url_it = cur + 1 if cur + 1 < n_urls else None
        c.retry_it = 0
    elif method == _RETRY:
        c.retry_it += 1

    if method == _NEW and c.url_it is None and c.failed_url is None:
        if not c.is_up or not c.has_run:
            e.log(f"Remote Web server {c.rs.display} succeed on service.")
            e.update_checker_state(c, True)
            c.has_run = True
        c.url_it = 0
        c.retry_it = 0
    elif method == _RETRY and c.retry_it > p.retry:
        if c.is_up or not c.has_run:
            proto = "SSL" if c.kind == "SSL_GET" else "HTTP"
            if c.has_run and p.retry:
                e.log(
                    f"{proto}_CHECK on service {c.rs.display} failed after "
                    f"{c.retry_it - 1} retries."
                )
            else:
                e.log(f"{proto}_CHECK on service {c.rs.display} failed.")
            e.update_checker_state(c, False)
        c.failed_url = c.url_it
    elif method == _NEW and c.failed_url is not None:
        c.failed_url = None
        c.url_it = 0
        c.retry_it = 0

    if method == _NEW:
        delay = p.delay_loop
        if not c.has_run:
            c.retry_it = p.retry
    elif c.failed_url is not None:
        delay = max(p.delay_before_retry, p.delay_loop)
    else:
        delay = p.delay_before_retry
    if spec.fast_recovery and (not c.has_run or (not c.is_up and c.failed_url is None)):
        delay = 0.0
    e.schedule(c, now + delay)


# SMTP_CHECK ---------------------------------------------------------------


def smtp(e: Engine, c: CheckerState, r: ProbeResult, now: float) -> None:
    """smtp_final(): retry_it starts at 0 on every fresh check (so, unlike
    TCP, the first failure at start-up is retried too), failures are logged
    only on the last attempt, and retries go on while the server is down."""
    p = c.params
    if not r.ok:
        if (c.is_up or not c.has_run) and (e.log_all_failures(c) or c.retry_it >= p.retry):
            e.log(f"SMTP_CHECK {r.reason}")
        c.retry_it += 1
        if c.retry_it <= p.retry:
            e.schedule(c, now + p.delay_before_retry, smtp_retry=True)
            return
        if c.is_up or not c.has_run:
            e.update_checker_state(c, False)
        e.schedule(c, now + p.delay_loop)
        return
    c.retry_it = 0
    if not c.is_up or not c.has_run:
        e.log(f"Remote SMTP server {c.rs.display} succeed on service.")
        e.update_checker_state(c, True)
    c.has_run = True
    e.schedule(c, now + p.delay_loop)


# DNS_CHECK ----------------------------------------------------------------


def dns(e: Engine, c: CheckerState, r: ProbeResult, now: float) -> None:
    """dns_final(): the retry ladder runs only while up; nothing is retried
    or logged while down; there is no success line."""
    p = c.params
    if not r.ok:
        if c.is_up or not c.has_run:
            if r.reason and (e.log_all_failures(c) or c.retry_it >= p.retry):
                text = r.reason
                if c.has_run and c.retry_it >= p.retry:
                    text += f" after {p.retry} retries"
                e.log(f"DNS_CHECK ({c.rs.display}) {text}")
            if c.retry_it < p.retry:
                c.retry_it += 1
                c.has_run = True
                e.schedule(c, now + p.delay_before_retry)
                return
            e.update_checker_state(c, False)
    elif not c.is_up or not c.has_run:
        e.update_checker_state(c, True)
    c.retry_it = 0
    e.schedule(c, now + p.delay_loop)


# MISC_CHECK ---------------------------------------------------------------


def misc(e: Engine, c: CheckerState, r: ProbeResult, now: float) -> None:
    """misc_check_child_thread(): exit 0 (or 2..255 with misc_dynamic) is
    success and may change the weight; the next run is due delay_loop (or
    delay_before_retry while retrying) after the *start* of this one."""
    spec = c.params.spec
    assert isinstance(spec, MiscSpec)
    p = c.params
    rs = c.rs
    exit_type: str | None = None
    success = False
    reason: str | None = None
    code = 0
    message_only = False
    status = r.exit_status
    if r.timed_out or status is None:
        if c.is_up or not c.has_run:
            if r.timed_out:
                exit_type = "timed out"
            else:
                exit_type, reason, code = "failed", "due to signal", r.signal or 0
            exit_type, message_only = _misc_failure(e, c, exit_type)
    elif status == 0 or (spec.dynamic and 2 <= status <= 255):
        if status != c.last_exit:
            weight = rs.effective_weight - c.cur_weight
            c.cur_weight = status - 2 - rs.iweight if status else 0
            e.update_weight(rs, weight + c.cur_weight, True)
            c.last_exit = status
        if not c.is_up or not c.has_run:
            exit_type = "succeeded"
            success = True
        c.retry_it = 0
    elif c.is_up or not c.has_run:
        reason, code = "exited with status", status
        exit_type, message_only = _misc_failure(e, c, "failed")
        if not c.retry_it:  # no retry was left: the failure counts
            # keepalived drops the dynamic weight here without a log line.
            rs.effective_weight -= c.cur_weight
            c.cur_weight = 0
            c.last_exit = status
    else:
        c.last_exit = status

    if exit_type is not None:
        message = "" if success else _misc_retry_text(c.retry_it, p.retry)
        head = f"Misc check for [{rs.display} VS {rs.vs.display}] by [{spec.script.argv[0]}]"
        if reason is not None:
            e.log(f"{head} {exit_type}{message} ({reason} {code}).")
        else:
            e.log(f"{head} {exit_type}{message}.")
        if not message_only:
            e.update_checker_state(c, success)
            if not success:
                c.cur_weight = 0

    due = c.last_ran + (p.delay_before_retry if c.retry_it else p.delay_loop)
    e.schedule(c, max(due, now + 1e-6))
    c.has_run = True


def _misc_failure(e: Engine, c: CheckerState, exit_type: str) -> tuple[str | None, bool]:
    """A failed run on the retry ladder: while retries remain, count one and
    log it only with log_all_failures, as a message that changes nothing;
    after the last, restart the ladder and let the failure count.  Returns
    what to log (None: nothing) and whether it is only a message."""
    if c.retry_it < c.params.retry:
        c.retry_it += 1
        return (exit_type, True) if e.log_all_failures(c) else (None, False)
    c.retry_it = 0
    return exit_type, False


def _misc_retry_text(retry_it: int, retry: int) -> str:
    # retry_it is 1 after a regular check failed, n+1 after the n-th retry
    # failed, and back to 0 after the last one.
    if not retry:
        return " with retry disabled"
    if retry_it == 1:
        return f", will do {retry} {'retry' if retry == 1 else 'retries'}"
    if retry_it > 1:
        return f" on retry {retry_it - 1}/{retry}"
    return f" after {retry} {'retry' if retry == 1 else 'retries'}"


# FILE_CHECK ---------------------------------------------------------------


def _clamp_int(value: int) -> int:
    return max(_INT_MIN, min(_INT_MAX, value))


def file_status(spec: FileSpec, value: int) -> int:
    """A track file value as one checker sees it (update_track_file_status):
    with weight 0 any non-zero value (zero with ``reverse``) is a fault,
    otherwise value × weight (negated with ``reverse``), INT_MIN = fault."""
    mult = -1 if spec.reverse else 1
    if not spec.weight:
        return IPVS_WEIGHT_FAULT if (not value) != (mult == 1) else 0
    return _clamp_int(value * spec.weight * mult)


def file(e: Engine, c: CheckerState, r: ProbeResult, now: float) -> None:
    """process_update_checker_track_file_status(): entering the fault level
    marks the checker down, leaving it brings it up with the new weight,
    any other change adjusts the weight."""
    e.schedule(c, now + e.file_poll_interval())
    value = r.file_value
    if value is None or value == c.file_last:
        return
    spec = c.params.spec
    assert isinstance(spec, FileSpec)
    new = file_status(spec, value)
    previous = file_status(spec, c.file_last)
    c.file_last = value
    if previous == new:
        return
    rs = c.rs
    if new == IPVS_WEIGHT_FAULT:
        e.update_checker_state(c, False)
        rs.effective_weight -= c.cur_weight
        c.cur_weight = 0
    elif previous == IPVS_WEIGHT_FAULT:
        c.cur_weight = new
        rs.effective_weight += new
        e.update_checker_state(c, True)
    else:
        e.update_weight(rs, rs.effective_weight + new - previous, True)
        c.cur_weight = new
