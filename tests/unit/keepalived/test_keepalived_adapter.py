"""From keepalived.conf to the health engine and back to the table: the
adapter, the server map, the translation of table actions, and the start
table the engine makes compared with pylvs.config.initial_table."""

from __future__ import annotations

import random

import pytest

from pylvs.config import initial_table, load_text
from pylvs.config.model import KeepalivedConfig
from pylvs.core.addr import AF_INET, parse_addr
from pylvs.core.ipvs import Ipvs
from pylvs.core.model import CONN_F_DROUTE, CONN_F_MASQ, DestKey, ServiceKey
from pylvs.core.ops import Flush
from pylvs.health.actions import (
    AddDest,
    AddService,
    FlushAll,
    RemoveDest,
    RemoveService,
    SetWeight,
    TableAction,
)
from pylvs.health.params import HttpSpec, MiscSpec, UdpSpec
from pylvs.health.policy import HealthPolicy
from pylvs.keepalived.adapter import adapt
from pylvs.keepalived.identity import vs_keys
from pylvs.keepalived.tableops import to_ops

GUIDE_STEP6 = """global_defs {
router_id LVS_DIRECTOR
}
virtual_server 10.0.1.100 80 {
delay_loop 10
lb_algo rr
lb_kind DR
persistence_timeout 60
protocol TCP
real_server 10.0.1.11 80 {
weight 1
HTTP_GET {
url {
path /
status_code 200
}
connect_timeout 3
retry 3
delay_before_retry 3
}
}
real_server 10.0.1.12 80 {
weight 1
HTTP_GET {
url {
path /
status_code 200
}
connect_timeout 3
retry 3
delay_before_retry 3
}
}
}
"""


def ip(text: str) -> int:
    return parse_addr(text)[1]


def loaded(text: str) -> KeepalivedConfig:
    """The configuration, read without a complaint but keepalived's default
    fix-ups (no scheduler, no method)."""
    result = load_text(text)
    noise = ("no scheduler set", "no forwarding method set", "port will be ignored")
    errors = [str(d) for d in result.errors if not any(n in d.message for n in noise)]
    assert errors == []
    return result.config


def test_guide_step6_as_health_parameters() -> None:
    a = adapt(loaded(GUIDE_STEP6))
    (vs,) = a.params.virtual_servers
    assert (vs.ip, vs.port, vs.protocol, vs.quorum, vs.delay_loop) == (
        "10.0.1.100",
        80,
        "tcp",
        1,
        10,
    )
    assert [rs.ip for rs in vs.real_servers] == ["10.0.1.11", "10.0.1.12"]
    (c,) = vs.real_servers[0].checkers
    assert c.kind == "HTTP_GET"
    assert (c.delay_loop, c.retry, c.delay_before_retry, c.connect_timeout) == (10, 3, 3, 3)
    assert c.warmup == 10  # = delay_loop
    assert isinstance(c.spec, HttpSpec)
    assert c.spec.urls[0].path == "/" and c.spec.urls[0].status_codes == frozenset({200})
    assert (c.spec.connect.connect_ip, c.spec.connect.connect_port) == ("10.0.1.11", 80)
    assert a.notices == ()


def test_server_map_puts_each_server_in_each_service() -> None:
    a = adapt(loaded(GUIDE_STEP6))
    (key,) = vs_keys(loaded(GUIDE_STEP6).virtual_servers)
    rs = a.params.virtual_servers[0].real_servers[1].id
    ((svc, dest),) = a.servers.dests(key, rs, 7)
    assert svc == ServiceKey(AF_INET, 6, ip("10.0.1.100"), 80)
    assert (dest.addr, dest.port, dest.fwd, dest.weight) == (ip("10.0.1.12"), 80, CONN_F_DROUTE, 7)
    assert a.servers.keys() == {svc}


def _engine_start_table(text: str):  # type: ignore[no-untyped-def]
    config = loaded(text)
    a = adapt(config)
    policy = HealthPolicy(a.params, random=random.Random(1).random)
    policy.start(0.0)
    return a.servers.table(policy.table()), initial_table(config)


@pytest.mark.parametrize(
    "text",
    [
        GUIDE_STEP6,
        # alpha with and without inhibit_on_failure
        """virtual_server 10.0.0.1 80 {
             protocol TCP
             lb_kind NAT
             real_server 10.0.0.2 8080 {
               weight 3
               TCP_CHECK { alpha }
             }
             real_server 10.0.0.3 8080 {
               inhibit_on_failure
               TCP_CHECK { alpha }
             }
             real_server 10.0.0.4 80 { weight 2 }
           }""",
        # quorum not reached at start: the sorry server in, inhibited servers at 0
        """virtual_server 10.0.0.1 80 {
             protocol TCP
             quorum 3
             alpha
             sorry_server 10.0.0.9 80
             real_server 10.0.0.2 80 { TCP_CHECK { } }
             real_server 10.0.0.3 80 {
               weight 2
               inhibit_on_failure
               TCP_CHECK { }
             }
           }""",
        # inhibited sorry server waiting at weight 0
        """virtual_server 10.0.0.1 80 {
             protocol TCP
             sorry_server 10.0.0.9 80
             sorry_server_inhibit
             real_server 10.0.0.2 80 { TCP_CHECK { } }
           }""",
        # a group: every address is a service; fwmark
        """virtual_server_group G {
             10.0.0.10-12 80
             fwmark 3
           }
           virtual_server group G {
             protocol TCP
             lb_kind DR
             real_server 10.0.0.2 80 { TCP_CHECK { } }
           }
           virtual_server fwmark 7 {
             lb_kind TUN
             real_server 10.0.0.5 0 { weight 4 }
           }""",
    ],
)
def test_engine_starts_with_keepalived_start_table(text: str) -> None:
    """Two implementations of keepalived's start state agree: the health
    engine's (ipwrapper.c transcribed) and pylvs.config.initial_table."""
    from_engine, from_config = _engine_start_table(text)
    assert from_engine == from_config


def test_udp_payload_and_reply_mask_round_trip() -> None:
    a = adapt(
        loaded(
            """virtual_server 10.0.0.1 53 {
                 protocol UDP
                 real_server 10.0.0.2 53 {
                   UDP_CHECK {
                     payload 0a1B
                     require_reply 0aXx ff
                     min_reply_length 2
                   }
                 }
               }"""
        )
    )
    spec = a.params.virtual_servers[0].real_servers[0].checkers[0].spec
    assert isinstance(spec, UdpSpec)
    assert spec.payload == "0a1b"
    assert spec.reply == "0aXXff"
    assert spec.require_reply and spec.min_reply_length == 2


def test_misc_check_and_scripts() -> None:
    a = adapt(
        loaded(
            """virtual_server 10.0.0.1 80 {
                 protocol TCP
                 delay_loop 7
                 quorum_up "/bin/q up"
                 real_server 10.0.0.2 80 {
                   notify_down /bin/down
                   MISC_CHECK {
                     misc_path "/bin/check -x"
                     misc_dynamic
                   }
                 }
               }"""
        )
    )
    vs = a.params.virtual_servers[0]
    assert vs.quorum_up is not None and vs.quorum_up.argv == ("/bin/q", "up")
    rs = vs.real_servers[0]
    assert rs.notify_down is not None and rs.notify_down.argv == ("/bin/down",)
    spec = rs.checkers[0].spec
    assert isinstance(spec, MiscSpec)
    assert spec.script.argv == ("/bin/check", "-x") and spec.dynamic and spec.timeout == 7


def test_things_pylvs_does_not_do_are_said() -> None:
    a = adapt(
        loaded(
            """global_defs { smtp_server 10.0.0.25 }
               virtual_server 10.0.0.1 80 {
                 protocol TCP
                 ha_suspend
                 sorry_server 10.0.0.2 80
                 real_server 10.0.0.2 80 { weight 1 }
               }"""
        )
    )
    assert any("ha_suspend" in n for n in a.notices)
    assert any("sorry server is also a real server" in n for n in a.notices)
    assert any("SMTP" in n for n in a.notices)
    assert a.params.virtual_servers[0].sorry_server is None


def test_duplicate_virtual_servers_get_distinct_keys() -> None:
    config = load_text(
        """virtual_server 10.0.0.1 80 {
             protocol TCP
             real_server 10.0.0.2 80 { }
           }
           virtual_server 10.0.0.1 80 {
             protocol TCP
             real_server 10.0.0.3 80 { }
           }
           virtual_server 10.0.0.1 80 {
             protocol UDP
             real_server 10.0.0.3 80 { }
           }"""
    ).config
    keys = vs_keys(config.virtual_servers)
    assert len(set(keys)) == 3
    assert keys[0][:-1] == keys[1][:-1] and (keys[0][-1], keys[1][-1]) == (0, 1)
    # two blocks for one service: the table merges them, first settings first
    a = adapt(config)
    policy = HealthPolicy(a.params, random=lambda: 0.0)
    policy.start(0.0)
    table = a.servers.table(policy.table())
    tcp = ServiceKey(AF_INET, 6, ip("10.0.0.1"), 80)
    assert [d.addr for d in table[tcp].dests] == [ip("10.0.0.2"), ip("10.0.0.3")]


# -- table actions -> core ops ---------------------------------------------------


def _ops_world() -> tuple[Ipvs, object, object, object]:
    a = adapt(
        loaded(
            """virtual_server_group G {
                 10.0.0.10-11 80
               }
               virtual_server group G {
                 protocol TCP
                 lb_kind NAT
                 real_server 10.0.0.2 8080 {
                   inhibit_on_failure
                   TCP_CHECK { }
                 }
               }"""
        )
    )
    vs = a.params.virtual_servers[0]
    return Ipvs(), a, vs.id, vs.real_servers[0].id


def test_table_actions_become_ops_for_every_service_of_a_group() -> None:
    ipvs, a, vs, rs = _ops_world()
    servers = a.servers  # type: ignore[attr-defined]

    def run(action: TableAction) -> list[object]:
        ops = to_ops(action, servers, ipvs.table)
        for op in ops:
            ipvs.apply(op, 0.0)
        return [type(op).__name__ for op in ops]

    s10 = ServiceKey(AF_INET, 6, ip("10.0.0.10"), 80)
    s11 = ServiceKey(AF_INET, 6, ip("10.0.0.11"), 80)
    assert run(AddService(vs)) == ["AddService", "AddService"]
    assert run(AddService(vs)) == []  # already there
    assert run(AddDest(vs, rs, 1)) == ["AddDest", "AddDest"]
    d = ipvs.dest(s11, DestKey(AF_INET, ip("10.0.0.2"), 8080))
    assert d is not None and d.spec().fwd == CONN_F_MASQ and d.spec().weight == 1
    assert run(SetWeight(vs, rs, 0)) == ["EditDest", "EditDest"]
    assert run(AddDest(vs, rs, 2)) == ["EditDest", "EditDest"]  # present: an edit
    assert ipvs.dest(s10, DestKey(AF_INET, ip("10.0.0.2"), 8080)).spec().weight == 2  # type: ignore[union-attr]
    assert run(RemoveDest(vs, rs)) == ["DelDest", "DelDest"]
    assert run(RemoveDest(vs, rs)) == []
    assert run(SetWeight(vs, rs, 3)) == []  # nothing to edit
    assert run(RemoveService(vs)) == ["DelService", "DelService"]
    assert len(ipvs.table) == 0
    assert to_ops(FlushAll(), servers, ipvs.table) == [Flush()]


def test_unknown_servers_translate_to_nothing() -> None:
    ipvs, a, vs, _rs = _ops_world()
    servers = a.servers  # type: ignore[attr-defined]
    assert to_ops(AddDest(vs, ("rs", 2, 1, 1), 1), servers, ipvs.table) == []
    assert to_ops(AddService("nope"), servers, ipvs.table) == []
