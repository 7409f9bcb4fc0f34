"""diff(a, b) applied to a gives b (design: reload as a diff)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from builders import make_ipvs
from pylvs.core.addr import AF_INET, IPPROTO_TCP, IPPROTO_UDP
from pylvs.core.diff import ServiceConfig, diff, snapshot
from pylvs.core.model import (
    CONN_F_DROUTE,
    CONN_F_MASQ,
    CONN_F_TUNNEL,
    SVC_F_PERSISTENT,
    DestSpec,
    ServiceKey,
    ServiceSpec,
)

schedulers = st.sampled_from(["rr", "wrr", "wlc", "sh", "mh", "lblc"])
svc_keys = st.builds(
    ServiceKey,
    st.just(AF_INET),
    st.sampled_from([IPPROTO_TCP, IPPROTO_UDP]),
    st.sampled_from([0x0A000164, 0x0A000165]),
    st.sampled_from([80, 443]),
)


@st.composite
def service_configs(draw: st.DrawFn) -> ServiceConfig:
    key = draw(svc_keys)
    persistent = draw(st.booleans())
    spec = ServiceSpec(
        key=key,
        scheduler=draw(schedulers),
        flags=SVC_F_PERSISTENT if persistent else 0,
        timeout=draw(st.integers(1, 600)) if persistent else 0,
        netmask=draw(st.sampled_from([0xFFFFFFFF, 0xFFFFFF00])),
    )
    addrs = draw(st.lists(st.integers(1, 20), unique=True, max_size=6))
    dests = tuple(
        DestSpec(
            AF_INET,
            0x0A000100 + a,
            key.port,
            fwd=draw(st.sampled_from([CONN_F_MASQ, CONN_F_DROUTE, CONN_F_TUNNEL])),
            weight=draw(st.integers(0, 10)),
            u_threshold=draw(st.integers(0, 5)),
        )
        for a in addrs
    )
    return ServiceConfig(spec, dests)


tables = st.lists(service_configs(), max_size=4).map(lambda cs: {c.spec.key: c for c in cs})


def build(table: dict[ServiceKey, ServiceConfig]):  # type: ignore[no-untyped-def]
    ipvs = make_ipvs()
    ipvs.apply_batch(diff({}, table), 0)
    return ipvs


def same(a: dict[ServiceKey, ServiceConfig], b: dict[ServiceKey, ServiceConfig]) -> bool:
    return a.keys() == b.keys() and all(a[k].same_as(b[k]) for k in a)


@settings(max_examples=200, deadline=None)
@given(a=tables, b=tables)
def test_apply_diff_gives_target(
    a: dict[ServiceKey, ServiceConfig], b: dict[ServiceKey, ServiceConfig]
) -> None:
    ipvs = build(a)
    assert same(snapshot(ipvs.table), a)
    ipvs.apply_batch(diff(snapshot(ipvs.table), b), 1)
    assert same(snapshot(ipvs.table), b)
    assert diff(snapshot(ipvs.table), b) == []


def test_unchanged_dest_is_untouched() -> None:
    a = {
        k.spec.key: k
        for k in [
            ServiceConfig(
                ServiceSpec.make(ServiceKey(AF_INET, IPPROTO_TCP, 1, 80), "wrr"),
                (DestSpec(AF_INET, 0x0A000101, 80, weight=3), DestSpec(AF_INET, 0x0A000102, 80)),
            )
        ]
    }
    ipvs = build(a)
    svc = ipvs.table.get(ServiceKey(AF_INET, IPPROTO_TCP, 1, 80))
    assert svc is not None
    kept = svc.dests[1]
    b = {k: ServiceConfig(c.spec, c.dests[:1]) for k, c in a.items()}
    ops = diff(snapshot(ipvs.table), b)
    assert [type(op).__name__ for op in ops] == ["DelDest"]
    ipvs.apply_batch(ops, 1)
    assert svc.dests == [kept]
