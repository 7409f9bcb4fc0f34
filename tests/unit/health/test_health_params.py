"""params.py inheritance and defaults (reference §3.3, §3.5), display."""

from __future__ import annotations

import pytest

from pylvs.health.display import fmt_pair, fmt_trio, fmt_vs
from pylvs.health.params import (
    DnsSpec,
    HttpSpec,
    MiscSpec,
    ScriptParams,
    TcpSpec,
    TimingOverrides,
    UrlParams,
    make_checker,
    resolve_timing,
)


def test_builtin_defaults_per_kind() -> None:
    http = make_checker("HTTP_GET", HttpSpec((UrlParams("/"),)))
    assert (http.delay_loop, http.retry, http.delay_before_retry) == (60.0, 1, 3.0)
    assert (http.warmup, http.connect_timeout, http.alpha) == (60.0, 5.0, False)
    tcp = make_checker("TCP_CHECK", TcpSpec())
    assert (tcp.retry, tcp.delay_before_retry) == (1, 1.0)
    dns = make_checker("DNS_CHECK", DnsSpec(), vs=TimingOverrides(delay_loop=7.0))
    assert (dns.retry, dns.delay_before_retry) == (3, 7.0)
    misc = make_checker("MISC_CHECK", MiscSpec(ScriptParams(("/x",))))
    assert (misc.retry, misc.delay_before_retry) == (0, 1.0)


def test_checker_over_real_server_over_virtual_server() -> None:
    t = resolve_timing(
        "TCP_CHECK",
        checker=TimingOverrides(retry=5),
        rs=TimingOverrides(retry=4, delay_loop=20.0, alpha=True),
        vs=TimingOverrides(retry=3, delay_loop=30.0, connect_timeout=2.0, delay_before_retry=9.0),
    )
    assert (t.retry, t.delay_loop, t.alpha, t.connect_timeout) == (5, 20.0, True, 2.0)
    assert t.delay_before_retry == 9.0
    assert t.warmup == 20.0  # = the checker's delay_loop


def test_virtual_server_retry_overrides_kind_default() -> None:
    assert resolve_timing("DNS_CHECK", vs=TimingOverrides(retry=0)).retry == 0
    assert resolve_timing("MISC_CHECK", rs=TimingOverrides(retry=2)).retry == 2


def test_warmup_zero_is_kept() -> None:
    assert resolve_timing("TCP_CHECK", checker=TimingOverrides(warmup=0.0)).warmup == 0.0


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError):
        make_checker("BFD_CHECK", TcpSpec())


def test_address_formats() -> None:
    assert fmt_trio("10.0.0.2", "tcp", 80) == "[10.0.0.2]:tcp:80"
    assert fmt_trio("2001:db8::1", "udp", 53) == "[2001:db8::1]:udp:53"
    assert fmt_pair("10.0.0.2", 25) == "[10.0.0.2]:25"
    assert fmt_vs(group="GROUPNAME") == "[GROUPNAME]:0"
    assert fmt_vs(fwmark=7) == "FWM 7"
    assert fmt_vs(ip="10.0.0.10", port=80, protocol="none") == "[10.0.0.10]:none:80"
