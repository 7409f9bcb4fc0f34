"""Block parsing (lib/parser.c process_stream): unknown keywords, brace
errors, skipped blocks, value blocks and the blocks kept as data."""

from __future__ import annotations

from pylvs.config import Level, load_text
from pylvs.config.grammar import Node

VS = """virtual_server 10.0.0.1 80 {
    protocol TCP
    lb_algo rr
    lb_kind NAT
%s
}
"""


def messages(text: str) -> list[tuple[int, str, str]]:
    return [(d.line, d.keyword, d.message) for d in load_text(text).diagnostics]


def test_unknown_keyword_is_skipped_and_parsing_goes_on() -> None:
    result = load_text(VS % "    frobnicate 3\n    real_server 10.0.0.2 80 {\n    }")
    assert (d := result.diagnostics[0]).message == "Unknown keyword 'frobnicate'"
    assert (d.file, d.line, d.keyword, d.level) == (
        "/etc/keepalived/keepalived.conf",
        5,
        "frobnicate",
        Level.UNKNOWN_KEYWORD,
    )
    assert len(result.config.virtual_servers[0].real_servers) == 1


def test_unknown_block_closes_the_enclosing_block() -> None:
    # keepalived's own behaviour: the unknown keyword's "{" is unexpected and
    # its "}" ends the enclosing block.
    text = "global_defs {\n  foo {\n    bar 1\n  }\n  router_id X\n}\n"
    assert messages(text) == [
        (2, "foo", "Unknown keyword 'foo'"),
        (2, "{", "Unexpected '{' - ignoring"),
        (3, "bar", "Unknown keyword 'bar'"),
        (5, "router_id", "Unknown keyword 'router_id'"),
        (6, "}", "Unknown keyword '}'"),
    ]


def test_extra_closing_brace_at_top_level() -> None:
    assert messages("}\n") == [
        (1, "}", "Extra '}' found"),
        (1, "}", "Unknown keyword '}'"),
    ]


def test_missing_opening_brace() -> None:
    text = "virtual_server 10.0.0.1 80\n  protocol TCP\n  real_server 10.0.0.2 80 {\n  }\n}\n"
    result = load_text(text)
    first = result.diagnostics[0]
    assert (first.line, first.message) == (2, "Missing '{' at beginning of configuration block")
    assert result.config.virtual_servers[0].real_servers[0].port == 80


def test_brace_on_its_own_line_and_inline() -> None:
    text = "virtual_server 10.0.0.1 80\n{\n protocol TCP\n lb_algo rr\n lb_kind DR\n"
    text += " real_server 10.0.0.2 80 { weight 4 } }\n"
    result = load_text(text)
    assert result.diagnostics == ()
    assert result.config.virtual_servers[0].real_servers[0].weight == 4


def test_rejected_block_is_skipped_silently() -> None:
    body = "    real_server not-an-ip 80 {\n        nonsense here\n        TCP_CHECK {\n        }\n    }\n"
    body += "    real_server 10.0.0.3 80 {\n    }"
    result = load_text(VS % body)
    assert [d.message for d in result.diagnostics] == [
        "Invalid real server ip address/port not-an-ip/80 - skipping"
    ]
    assert [rs.addr & 0xFF for rs in result.config.virtual_servers[0].real_servers] == [3]


def test_missing_parameter_is_fatal_but_parsing_goes_on() -> None:
    result = load_text(VS % "    delay_loop\n    real_server 10.0.0.2 80 {\n    }")
    d = result.diagnostics[0]
    assert d.level == Level.MISSING_PARAMETER and d.severity == "fatal"
    assert d.message == (
        "*** Configuration line starting `delay_loop` is missing a parameter after keyword "
        "`delay_loop` at word position 2"
    )
    assert result.status == 2
    assert result.config.virtual_servers[0].real_servers


def test_value_blocks() -> None:
    text = 'global_defs {\n notification_email {\n  a@x b@x\n  "C <c@x>"\n }\n}\n'
    g = load_text(text).config.globals
    assert g.notification_email == ("a@x", "b@x", "C <c@x>")
    assert messages("global_defs {\n notification_email {\n }\n}\n") == [
        (3, "notification_email", "Warning - empty notification_email block")
    ]


def test_value_block_without_brace_is_logged() -> None:
    result = load_text("virtual_server_group G\n 10.0.0.1 80\n}\n")
    assert [(d.level, d.message) for d in result.diagnostics] == [
        (Level.LOG, "'{' missing from beginning of block (null)"),
        (Level.UNEXPECTED_EOB, "Extra '}' found"),
    ]
    assert len(result.config.groups[0].entries) == 1


def test_unmatched_quote_allowed_only_for_script_keywords() -> None:
    text = (
        VS % '    real_server 10.0.0.2 80 {\n        notify_up /bin/x "a\n        weight "3\n    }'
    )
    msgs = [m for _, _, m in messages(text)]
    assert "Unmatched quote: 'notify_up /bin/x \"a'" not in msgs
    assert "Unmatched quote: 'weight \"3'" in msgs


def test_vrrp_blocks_are_kept_as_a_tree() -> None:
    text = """vrrp_instance VI_1 {
    state MASTER
    virtual_ipaddress {
        192.0.2.1/24 dev eth0
    }
    authentication
    {
        auth_type PASS
    }
    track_script { chk }
}
vrrp_script chk {
    script "/bin/check --fast"
}
static_routes {
    10.1.0.0/16 via 10.0.0.1
}
"""
    result = load_text(text)
    assert result.diagnostics == ()
    vi, script, routes = result.config.vrrp
    assert (vi.keyword, vi.args, vi.line) == ("vrrp_instance", ("VI_1",), 1)
    assert [c.keyword for c in vi.children] == [
        "state",
        "virtual_ipaddress",
        "authentication",
        "track_script",
    ]
    vip = vi.find("virtual_ipaddress")
    assert isinstance(vip, Node)
    assert vip.children[0] == Node("192.0.2.1/24", ("dev", "eth0"), vip.file, 4)
    auth = vi.find("authentication")
    assert auth is not None and auth.children[0].args == ("PASS",)
    track = vi.find("track_script")
    assert track is not None and track.children[0].keyword == "chk"
    assert script.children[0].args == ("/bin/check --fast",)
    assert routes.children[0].keyword == "10.1.0.0/16"


def test_global_defs_keeps_every_keyword() -> None:
    text = "global_defs {\n router_id R\n vrrp_garp_master_delay 3\n enable_snmp_checker\n}\n"
    g = load_text(text).config.globals
    assert [(n.keyword, n.args, n.line) for n in g.statements] == [
        ("router_id", ("R",), 2),
        ("vrrp_garp_master_delay", ("3",), 3),
        ("enable_snmp_checker", (), 4),
    ]


def test_top_level_one_liners() -> None:
    g = load_text("net_namespace blue\ninstance lb1\nuse_pid_dir\n").config.globals
    assert [(n.keyword, n.args) for n in g.top_level] == [
        ("net_namespace", ("blue",)),
        ("instance", ("lb1",)),
        ("use_pid_dir", ()),
    ]
