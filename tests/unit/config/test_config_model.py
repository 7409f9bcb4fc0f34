"""The typed model: inheritance checker → real server → virtual server →
built-in defaults (keepalived.md §3.5), checker specs, scripts."""

from __future__ import annotations

import pytest

from pylvs.config import load_text
from pylvs.config.model import (
    Checker,
    DnsCheck,
    HttpCheck,
    MiscCheck,
    RealServer,
    Script,
    SmtpCheck,
    UdpCheck,
    VirtualServer,
)
from pylvs.core.addr import AF_INET6, IPPROTO_TCP, parse_addr


def vs_of(body: str, head: str = "virtual_server 10.0.0.1 80") -> VirtualServer:
    text = f"{head} {{\n protocol TCP\n lb_algo rr\n lb_kind NAT\n{body}\n}}\n"
    result = load_text(text)
    assert [d.message for d in result.errors] == []
    return result.config.virtual_servers[0]


def rs_of(body: str, vs_body: str = "", rs_head: str = "real_server 10.0.0.2 8080") -> RealServer:
    return vs_of(f"{vs_body}\n {rs_head} {{\n{body}\n }}").real_servers[0]


def one_checker(block: str, rs_body: str = "", vs_body: str = "") -> Checker:
    rs = rs_of(f"{rs_body}\n{block}", vs_body)
    assert len(rs.checkers) == 1
    return rs.checkers[0]


@pytest.mark.parametrize(
    ("block", "retry", "delay_before_retry"),
    [
        ("HTTP_GET { url { path / } }", 1, 3.0),
        ("SSL_GET { url { path / } }", 1, 3.0),
        ("TCP_CHECK { }", 1, 1.0),
        ("SMTP_CHECK { }", 1, 1.0),
        ("UDP_CHECK { }", 1, 1.0),
        ("PING_CHECK { }", 1, 1.0),
        ("DNS_CHECK { }", 3, 60.0),  # delay_before_retry = delay_loop
        ("MISC_CHECK { misc_path /bin/true }", 0, 1.0),
    ],
)
def test_per_checker_defaults(block: str, retry: int, delay_before_retry: float) -> None:
    c = one_checker(block)
    assert (c.retry, c.delay_before_retry) == (retry, delay_before_retry)
    assert (c.delay_loop, c.warmup, c.alpha) == (60.0, 60.0, False)
    if c.conn is not None:
        assert c.conn.connect_timeout == 5.0


def test_dns_delay_before_retry_follows_its_delay_loop() -> None:
    c = one_checker("DNS_CHECK { delay_loop 7 }")
    assert (c.delay_before_retry, c.warmup) == (7.0, 7.0)


def timing(c: Checker) -> tuple[int, float, float, float, float]:
    """retry, delay_before_retry, delay_loop, warmup, connect_timeout."""
    assert c.conn is not None
    return (c.retry, c.delay_before_retry, c.delay_loop, c.warmup, c.conn.connect_timeout)


def test_inheritance_checker_rs_vs() -> None:
    vs_body = " retry 5\n delay_before_retry 2\n delay_loop 30\n connect_timeout 4\n warmup 9"
    assert timing(one_checker("TCP_CHECK { }", vs_body=vs_body)) == (5, 2.0, 30.0, 9.0, 4.0)
    rs_body = " retry 6\n delay_before_retry 3\n delay_loop 20\n connect_timeout 1.5\n warmup 0"
    c = one_checker("TCP_CHECK { }", rs_body=rs_body, vs_body=vs_body)
    assert timing(c) == (6, 3.0, 20.0, 0.0, 1.5)
    block = (
        "TCP_CHECK {\n retry 0\n delay_before_retry 0.5\n delay_loop 2\n connect_timeout 0.25\n}"
    )
    c = one_checker(block, rs_body=rs_body, vs_body=vs_body)
    assert timing(c) == (0, 0.5, 2.0, 0.0, 0.25)


def test_warmup_defaults_to_the_checkers_delay_loop() -> None:
    assert one_checker("TCP_CHECK { delay_loop 11 }").warmup == 11.0


def test_real_server_resolved_options() -> None:
    rs = rs_of(" weight 4\n alpha\n", vs_body=" inhibit_on_failure\n weight 9\n delay_loop 15")
    assert (rs.weight, rs.alpha, rs.inhibit_on_failure, rs.delay_loop) == (4, True, True, 15.0)
    assert (rs.retry, rs.delay_before_retry, rs.warmup, rs.connect_timeout) == (
        None,
        None,
        None,
        5.0,
    )
    assert rs_of("").weight == 1
    assert rs_of("", vs_body=" weight 9").weight == 9
    assert rs_of("", vs_body=" alpha").alpha is True


def test_alpha_per_checker() -> None:
    rs = rs_of(" alpha\n TCP_CHECK { alpha off }\n PING_CHECK { }")
    assert [c.alpha for c in rs.checkers] == [False, True]


def test_misc_timeout_defaults_to_the_virtual_servers_delay_loop() -> None:
    c = one_checker(
        "MISC_CHECK { misc_path /bin/true }", rs_body=" delay_loop 5", vs_body=" delay_loop 42"
    )
    assert isinstance(c, MiscCheck)
    assert (c.timeout, c.delay_loop) == (42.0, 5.0)
    c = one_checker("MISC_CHECK {\n misc_path /bin/true\n misc_timeout 3\n}")
    assert isinstance(c, MiscCheck) and c.timeout == 3.0


def test_misc_script_and_user() -> None:
    block = 'MISC_CHECK {\n misc_path "/bin/check -x \'two words\' \\"q\\""\n misc_dynamic\n user nobody nogroup\n}'
    c = one_checker(block)
    assert isinstance(c, MiscCheck)
    assert c.script == Script(("/bin/check", "-x", "two words", '"q"'), "nobody", "nogroup")
    assert c.dynamic


def test_notify_scripts() -> None:
    rs = rs_of(
        " notify_up \"/usr/bin/logger -t lb 'rs up'\" alice staff\n notify_down /bin/down.sh"
    )
    assert rs.notify_up == Script(("/usr/bin/logger", "-t", "lb", "rs up"), "alice", "staff")
    assert rs.notify_down == Script(("/bin/down.sh",))
    vs = vs_of(' quorum_up /bin/up\n quorum_down "/bin/down now"\n real_server 10.0.0.2 80 { }')
    assert vs.quorum_up == Script(("/bin/up",))
    assert vs.quorum_down == Script(("/bin/down", "now"))


def test_connect_destination_defaults_to_the_real_server_as_written() -> None:
    c = one_checker("TCP_CHECK { }")
    assert c.conn is not None and c.conn.dst.port == 8080
    c = one_checker("TCP_CHECK {\n connect_ip 192.0.2.9\n connect_port 81\n}")
    assert c.conn is not None
    assert (c.conn.dst.addr, c.conn.dst.port) == (parse_addr("192.0.2.9")[1], 81)
    # keepalived copies the address before it gives the real server the
    # virtual server's port: no port written means port 0 for the checker.
    rs = rs_of("TCP_CHECK { }", rs_head="real_server 10.0.0.2")
    assert rs.port == 80
    assert rs.checkers[0].conn is not None and rs.checkers[0].conn.dst.port == 0


def test_connection_options() -> None:
    block = "TCP_CHECK {\n bindto 10.0.0.9\n bind_port 4000\n bind_if eth1\n fwmark 7\n}"
    c = one_checker(block)
    assert c.conn is not None
    assert c.conn.bindto == parse_addr("10.0.0.9")
    assert (c.conn.bind_port, c.conn.bind_if, c.conn.fwmark) == (4000, "eth1", 7)


def test_http_urls_status_codes_and_hosts() -> None:
    block = """HTTP_GET {
        url { path /a }
        url {
            path /b
            status_code 200 204 300-302
            digest 5D41402ABC4B2A76B9719D911017C592
            virtualhost url.example
        }
        http_protocol 1.1
    }"""
    c = one_checker(block)
    assert isinstance(c, HttpCheck)
    a, b = c.urls
    assert a.status_codes == ((200, 299),) and a.accepts(204) and not a.accepts(300)
    assert b.status_codes == ((200, 200), (204, 204), (300, 302))
    assert b.digest == "5d41402abc4b2a76b9719d911017c592"
    assert (a.host, b.host) == ("10.0.0.2:8080", "url.example")
    assert c.http_protocol == "1.1"


@pytest.mark.parametrize(
    ("url", "checker", "rs", "vs", "host"),
    [
        ("u", "c", "r", "v", "u"),
        (None, "c", "r", "v", "c"),
        (None, None, "r", "v", "r"),
        (None, None, None, "v", "v"),
        (None, None, None, None, "10.0.0.2:8080"),
    ],
)
def test_virtualhost_precedence(
    url: str | None, checker: str | None, rs: str | None, vs: str | None, host: str
) -> None:
    url_line = f"virtualhost {url}" if url else ""
    chk_line = f"virtualhost {checker}" if checker else ""
    block = f"HTTP_GET {{\n url {{\n path /\n {url_line}\n }}\n {chk_line}\n}}"
    c = one_checker(block, f" virtualhost {rs}" if rs else "", f" virtualhost {vs}" if vs else "")
    assert isinstance(c, HttpCheck) and c.urls[0].host == host


def test_ipv6_host_header() -> None:
    rs = vs_of(
        " real_server 2001:db8::2 80 {\n HTTP_GET { url { path / } }\n }",
        "virtual_server 2001:db8::1 80",
    ).real_servers[0]
    c = rs.checkers[0]
    assert isinstance(c, HttpCheck) and c.urls[0].host == "[2001:db8::2]:80"
    assert rs.af == AF_INET6


def test_sni_skips_the_real_server_virtualhost() -> None:
    block = "SSL_GET {\n url { path / }\n enable_sni\n}"
    c = one_checker(block, " virtualhost rs.example", " virtualhost vs.example")
    assert isinstance(c, HttpCheck) and c.ssl
    assert c.urls[0].sni == "vs.example" and c.urls[0].host == "rs.example"
    c = one_checker("SSL_GET {\n url { path / }\n sni_name sni.example\n}")
    assert isinstance(c, HttpCheck) and c.enable_sni and c.urls[0].sni == "sni.example"
    c = one_checker("SSL_GET { url { path / } }", " virtualhost rs.example")
    assert isinstance(c, HttpCheck) and c.urls[0].sni is None


def test_regex_url() -> None:
    block = 'HTTP_GET {\n url {\n path /\n regex "^OK\\\\s"\n regex_options caseless dotall\n regex_min_offset 1\n regex_max_offset 9\n regex_no_match\n }\n}'
    c = one_checker(block)
    assert isinstance(c, HttpCheck)
    u = c.urls[0]
    assert (u.regex, u.regex_options, u.regex_min_offset, u.regex_max_offset, u.regex_no_match) == (
        "^OK\\s",
        ("caseless", "dotall"),
        1,
        10,
        True,
    )


def test_smtp_dns_udp_specs() -> None:
    c = one_checker("SMTP_CHECK { helo_name probe.example }")
    assert isinstance(c, SmtpCheck) and c.helo_name == "probe.example"
    assert c.conn is not None and c.conn.dst.port == 8080
    c = one_checker("DNS_CHECK {\n type aaaa\n name www.example.org\n}")
    assert isinstance(c, DnsCheck) and (c.type, c.type_code, c.name) == (
        "AAAA",
        28,
        "www.example.org",
    )
    c = one_checker("UDP_CHECK {\n payload 01 02\n require_reply 0x 02\n max_reply_length 64\n}")
    assert isinstance(c, UdpCheck)
    assert (c.payload, c.reply_data, c.reply_mask) == (b"\x01\x02", b"\x00\x02", b"\x0f\x00")
    assert (c.require_reply, c.min_reply_length, c.max_reply_length) == (True, 0, 64)


def test_smtp_timeout_is_taken_when_its_block_ends() -> None:
    # keepalived resolves SMTP_CHECK's connect_timeout at the end of the
    # checker block, from what the real/virtual server said *so far*.
    vs = vs_of(
        " real_server 10.0.0.2 80 {\n SMTP_CHECK { }\n TCP_CHECK { }\n connect_timeout 9\n }"
    )
    smtp, tcp = vs.real_servers[0].checkers
    assert smtp.conn is not None and tcp.conn is not None
    assert (smtp.conn.connect_timeout, tcp.conn.connect_timeout) == (5.0, 9.0)


def test_smtp_host_blocks_become_checkers() -> None:
    block = """SMTP_CHECK {
        retry 4
        host { connect_ip 192.0.2.1 }
        host {
            connect_ip 192.0.2.2
            connect_port 587
            retry 1
        }
    }"""
    rs = rs_of(block)
    assert [(c.conn.dst.port, c.retry) for c in rs.checkers if c.conn] == [(8080, 4), (587, 1)]


def test_log_all_failures_global() -> None:
    text = "global_defs { checker_log_all_failures }\n" + (
        "virtual_server 10.0.0.1 80 {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n"
        " real_server 10.0.0.2 80 { TCP_CHECK { } }\n}\n"
    )
    assert load_text(text).config.virtual_servers[0].real_servers[0].checkers[0].log_all_failures


def test_names_in_keepalived_format() -> None:
    vs = vs_of(" real_server 10.0.0.2 80 { }")
    assert (vs.name, vs.real_servers[0].name, vs.protocol) == (
        "[10.0.0.1]:tcp:80",
        "[10.0.0.2]:tcp:80",
        IPPROTO_TCP,
    )
    text = "virtual_server_group G {\n 10.0.0.1 80\n}\n"
    text += (
        "virtual_server group G {\n protocol TCP\n lb_algo rr\n lb_kind NAT\n real_server 10.0.0.2 80 { }\n}\n"
        * 2
    )
    text += "virtual_server fwmark 7 {\n lb_algo rr\n lb_kind DR\n real_server 10.0.0.2 80 { }\n}\n"
    names = [v.name for v in load_text(text).config.virtual_servers]
    assert names == ["[G]:0", "[G]:1", "FWM 7"]
