"""keepalived's load-time checks and fix-ups, with their messages
(keepalived.md §3.2, §3.3; check_parser.c, check_data.c, ipwrapper.c)."""

from __future__ import annotations

from pylvs.config import Level, load_text
from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_UDP


def msgs(text: str) -> list[str]:
    return [d.message for d in load_text(text).diagnostics]


def test_no_protocol_scheduler_or_method() -> None:
    result = load_text("virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80 { }\n}\n")
    assert [d.message for d in result.diagnostics] == [
        "Virtual server [10.0.0.1]:none:80: no protocol set - defaulting to UDP",
        "Virtual server [10.0.0.1]:udp:80: no scheduler set, setting default 'wlc'",
        "Virtual server [10.0.0.1]:udp:80: no forwarding method set, setting default NAT",
    ]
    assert all(d.file.endswith("keepalived.conf") and d.line == 1 for d in result.diagnostics)
    assert [d.keyword for d in result.diagnostics] == ["protocol", "lb_algo", "lb_kind"]
    vs = result.config.virtual_servers[0]
    assert (vs.protocol, vs.scheduler, vs.forwarding.method) == (IPPROTO_UDP, "wlc", "NAT")


def test_address_family_mismatches() -> None:
    text = """virtual_server 10.0.0.1 80 {
 protocol TCP
 lb_algo rr
 lb_kind NAT
 sorry_server 2001:db8::9 80
 real_server 2001:db8::2 80 { }
 real_server 10.0.0.2 80 { }
 real_server 2001:db8::3 80 { lvs_method TUN }
}
"""
    result = load_text(text)
    assert [d.message for d in result.diagnostics] == [
        "Address family of virtual server and real server 2001:db8::2 don't match - skipping real server.",
        "Address family of virtual server and sorry server 2001:db8::9 don't match - skipping sorry server.",
    ]
    vs = result.config.virtual_servers[0]
    # Tunnelled servers may be of the other family.
    assert [rs.af for rs in vs.real_servers] == [AF_INET, AF_INET6]
    assert vs.sorry_server is None


def test_fwmark_family_from_the_servers() -> None:
    text = "virtual_server fwmark 4 {\n lb_algo rr\n lb_kind DR\n real_server 2001:db8::2 { }\n}\n"
    assert load_text(text).config.virtual_servers[0].af == AF_INET6
    text = "virtual_server fwmark 4 {\n lb_algo rr\n lb_kind TUN\n ip_family inet6\n"
    text += " real_server 10.0.0.2 { }\n}\n"
    assert load_text(text).config.virtual_servers[0].af == AF_INET6


def test_group_link_messages_are_logged_only() -> None:
    text = "virtual_server group NOPE {\n lb_algo rr\n real_server 10.0.0.2 80 { }\n}\n"
    result = load_text(text)
    assert [(d.level, d.message) for d in result.diagnostics] == [
        (
            Level.LOG,
            "Virtual server group NOPE specified but not configured - ignoring virtual server [NOPE]:0",
        )
    ]
    assert result.status == 0 and result.config.virtual_servers == ()


def test_ha_suspend_with_fwmark_is_cleared() -> None:
    text = "virtual_server fwmark 3 {\n lb_algo rr\n lb_kind DR\n ha_suspend\n"
    text += " real_server 10.0.0.2 { }\n}\n"
    result = load_text(text)
    assert result.diagnostics[0].message == (
        "Virtual server FWM 3: cannot use ha_suspend with fwmarks - clearing ha_suspend"
    )
    assert not result.config.virtual_servers[0].ha_suspend


def test_group_port_checks() -> None:
    text = """virtual_server_group G {
 10.0.0.1 80
 10.0.0.2 0
}
virtual_server group G {
 protocol TCP
 lb_algo rr
 lb_kind DR
 real_server 10.1.0.1 8080 { }
}
"""
    assert msgs(text) == [
        "Virtual server [G]:0: zero port only valid for persistent services - setting",
        "virtual server [G]:0:[10.0.0.1,80] and real server [10.1.0.1]:tcp:8080 ports don't match",
        "virtual server [G]:0:[10.0.0.2,0] and real server [10.1.0.1]:tcp:8080 ports don't match",
    ]


def test_group_entry_errors() -> None:
    text = """virtual_server_group G {
 fwmark 1 ipx
 fwmark x inet
 10.0.0.0/33 80
 10.0.0.1-300 80
 10.0.0.1-2x 80
 2001:db8::1-ff 80
 10.0.0.9-10.0.0.3 80
 10.0.0.1-2001:db8::1 80
}
"""
    assert msgs(text) == [
        "(G): fwmark '1' family ipx unknown - ignoring",
        "WARNING - invalid number 'x'",
        "Invalid netmask - 10.0.0.0/33 - skipping",
        "Virtual server group range '10.0.0.1-300' end '300' too large",
        "WARNING - Virtual server group range '10.0.0.1-2x' has extra characters at end 'x'",
        "Address range end is less than address range start - 10.0.0.9-10.0.0.3 - skipping",
        "Invalid virtual server group IP address 10.0.0.1-2001:db8::1 /port/80 - skipping",
    ]
    # Outside -t a malformed number with a usable prefix is taken: "x" is
    # fwmark 0 and "2x" ends the range at 2. The IPv6 range is in hex.
    group = load_text(text).config.groups[0]
    assert [(e.start & 0xFFFF, e.end & 0xFFFF) for e in group.entries] == [(1, 2), (1, 0xFF)]
    assert [e.fwmark for e in group.fwmarks] == [0]


def test_sorry_server_port_and_forwarding() -> None:
    text = """virtual_server 10.0.0.1 80 {
 protocol TCP
 lb_algo rr
 lb_kind DR
 sorry_server 10.0.0.9 8080
 real_server 10.0.0.2 80 { }
}
"""
    result = load_text(text)
    assert result.diagnostics[0].message == (
        "WARNING - virtual server [10.0.0.1]:tcp:80 and sorry server ports don't match - resetting"
    )
    sorry = result.config.virtual_servers[0].sorry_server
    assert sorry is not None and (sorry.port, sorry.forwarding.method) == (80, "DR")


def test_scheduler_flags_need_their_scheduler_first() -> None:
    text = "virtual_server 10.0.0.1 80 {\n protocol TCP\n sh-port\n lb_algo sh\n sh-fallback\n"
    text += " mh-port\n hashed\n lb_kind DR\n real_server 10.0.0.2 80 { }\n}\n"
    assert msgs(text) == ["sh-port only applies to sh scheduler - ignoring"]
