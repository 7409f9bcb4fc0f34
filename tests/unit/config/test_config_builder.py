"""From the configuration to the core's table value."""

from __future__ import annotations

from pylvs.config import build_table, initial_table, load_text
from pylvs.config.services import MAX_RANGE
from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_TCP, IPPROTO_UDP, parse_addr
from pylvs.core.diff import ServiceConfig, diff
from pylvs.core.model import (
    CONN_F_DROUTE,
    CONN_F_MASQ,
    CONN_F_TUNNEL,
    SVC_F_ONEPACKET,
    SVC_F_PERSISTENT,
    SVC_F_SCHED1,
    SVC_F_SCHED2,
    TUNNEL_ENCAP_FLAG_CSUM,
    TUNNEL_TYPE_GRE,
    TUNNEL_TYPE_GUE,
    DestSpec,
    ServiceKey,
    ServiceSpec,
)
from pylvs.core.ops import AddDest, AddService


def ip(text: str) -> int:
    return parse_addr(text)[1]


GUIDE = """
virtual_server 10.0.1.100 80 {
    delay_loop 10
    lb_algo rr
    lb_kind DR
    persistence_timeout 60
    protocol TCP
    real_server 10.0.1.11 80 { weight 1 }
    real_server 10.0.1.12 80 { weight 1 }
}
"""


def test_guide_table() -> None:
    table = build_table(load_text(GUIDE).config)
    key = ServiceKey(AF_INET, IPPROTO_TCP, ip("10.0.1.100"), 80)
    spec = ServiceSpec.make(key, "rr", persistent=60)
    dests = tuple(
        DestSpec(AF_INET, ip(a), 80, CONN_F_DROUTE, 1) for a in ("10.0.1.11", "10.0.1.12")
    )
    assert table == {key: ServiceConfig(spec, dests)}
    ops = diff({}, table)
    assert [type(op) for op in ops] == [AddService, AddDest, AddDest]


def test_group_services_and_dest_ports() -> None:
    text = """
virtual_server_group G {
    10.0.0.1 80
    10.0.0.5-6 8080
    fwmark 3
}
virtual_server group G {
    protocol TCP
    lb_algo rr
    lb_kind DR
    persistence_granularity 255.255.255.0
    real_server 10.1.0.1 80 { }
    real_server 10.1.0.2 9000 { lvs_method NAT }
}
"""
    table = build_table(load_text(text).config)
    keys = list(table)
    assert keys == [
        ServiceKey(AF_INET, IPPROTO_TCP, ip("10.0.0.1"), 80),
        ServiceKey(AF_INET, IPPROTO_TCP, ip("10.0.0.5"), 8080),
        ServiceKey(AF_INET, IPPROTO_TCP, ip("10.0.0.6"), 8080),
        ServiceKey.fwm(3, AF_INET),
    ]
    ports = [[d.port for d in table[k].dests] for k in keys]
    assert ports == [[80, 9000], [8080, 9000], [8080, 9000], [0, 9000]]
    # keepalived gives group services the full mask: no granularity.
    assert all(table[k].spec.netmask == 0xFFFFFFFF for k in keys)
    assert all(table[k].spec.flags & SVC_F_PERSISTENT for k in keys)


def test_plain_service_granularity_flags_and_tunnels() -> None:
    text = """
virtual_server 10.0.0.1 53 {
    protocol UDP
    lb_algo sh
    sh-port
    sh-fallback
    ops
    persistence_granularity 255.255.0.0
    persistence_engine sip
    lb_kind TUN type gue port 6080 csum
    real_server 10.1.0.1 53 { weight 3000000000 }
    real_server 10.1.0.2 53 { lvs_method TUN type gre }
}
"""
    result = load_text(text)
    assert [d.message for d in result.errors] == [
        "WARNING - number '3000000000' outside range [0, 2147483647]",
        "Real server weight 3000000000 is outside range 0-2147483647",
    ]
    (cfg,) = build_table(result.config).values()
    assert cfg.spec.key == ServiceKey(AF_INET, IPPROTO_UDP, ip("10.0.0.1"), 53)
    assert cfg.spec.netmask == 0xFFFF0000 and cfg.spec.timeout == 360 and cfg.spec.pe_name == "sip"
    assert cfg.spec.flags == SVC_F_PERSISTENT | SVC_F_ONEPACKET | SVC_F_SCHED1 | SVC_F_SCHED2
    gue, gre = cfg.dests
    assert (gue.fwd, gue.tun_type, gue.tun_port, gue.tun_flags) == (
        CONN_F_TUNNEL,
        TUNNEL_TYPE_GUE,
        6080,
        TUNNEL_ENCAP_FLAG_CSUM,
    )
    assert gre.tun_type == TUNNEL_TYPE_GRE
    assert gue.weight == 1  # the out-of-range weight was ignored


def test_ipv6_fwmark_and_mixed_families() -> None:
    text = """
virtual_server fwmark 9 {
    lb_algo rr
    lb_kind DR
    real_server 2001:db8::1 { }
}
"""
    (key,) = build_table(load_text(text).config)
    assert key == ServiceKey.fwm(9, AF_INET6)


def test_same_service_from_two_virtual_servers_is_merged() -> None:
    text = """
virtual_server_group G {
    fwmark 5
}
virtual_server group G {
    lb_algo rr
    lb_kind DR
    real_server 10.1.0.1 80 { }
}
virtual_server group G {
    lb_algo wlc
    lb_kind DR
    real_server 10.1.0.2 80 { }
}
"""
    table = build_table(load_text(text).config)
    (cfg,) = table.values()
    assert cfg.spec.scheduler == "rr" and len(cfg.dests) == 2


def test_initial_table_alpha_and_inhibit() -> None:
    text = """
virtual_server 10.0.0.1 80 {
    protocol TCP
    lb_algo rr
    lb_kind NAT
    alpha
    real_server 10.1.0.1 80 { TCP_CHECK { } }
    real_server 10.1.0.2 80 { inhibit_on_failure
        TCP_CHECK { }
    }
    real_server 10.1.0.3 80 { TCP_CHECK { alpha no } }
    real_server 10.1.0.4 80 { }
}
"""
    config = load_text(text).config
    (cfg,) = initial_table(config).values()
    assert [(d.addr & 0xFF, d.weight, d.fwd) for d in cfg.dests] == [
        (2, 0, CONN_F_MASQ),
        (3, 1, CONN_F_MASQ),
        (4, 1, CONN_F_MASQ),
    ]
    (all_in,) = build_table(config).values()
    assert [d.weight for d in all_in.dests] == [1, 1, 1, 1]


def test_initial_table_quorum_down_brings_in_the_sorry_server() -> None:
    text = """
virtual_server 10.0.0.1 80 {
    protocol TCP
    lb_algo rr
    lb_kind NAT
    quorum 2
    hysteresis 1
    sorry_server 10.9.0.9 8080
    real_server 10.1.0.1 80 { weight 1 }
    real_server 10.1.0.2 80 { weight 1
        inhibit_on_failure
    }
}
"""
    (cfg,) = initial_table(load_text(text).config).values()
    # 2 live weight < quorum 2 + hysteresis 1: "Starting with quorum down".
    assert [(d.addr & 0xFF, d.port, d.weight) for d in cfg.dests] == [(2, 80, 0), (9, 8080, 1)]


def test_initial_table_inhibited_sorry_server_waits_at_weight_0() -> None:
    text = """
virtual_server 10.0.0.1 80 {
    protocol TCP
    lb_algo rr
    lb_kind DR
    sorry_server 10.9.0.9
    sorry_server_inhibit
    real_server 10.1.0.1 80 { }
}
"""
    (cfg,) = initial_table(load_text(text).config).values()
    assert [(d.addr & 0xFF, d.port, d.weight, d.fwd) for d in cfg.dests] == [
        (1, 80, 1, CONN_F_DROUTE),
        (9, 80, 0, CONN_F_DROUTE),
    ]


def test_huge_group_range_is_capped() -> None:
    text = """
virtual_server_group BIG {
    10.0.0.0/8 80
}
virtual_server group BIG {
    protocol TCP
    lb_algo rr
    lb_kind DR
    real_server 10.200.0.1 80 { }
}
"""
    result = load_text(text)
    assert len(result.config.virtual_servers[0].services) == MAX_RANGE
    assert any("only the first 65536 are used" in d.message for d in result.diagnostics)
