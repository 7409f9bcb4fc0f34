"""Listings and saves of arbitrary tables: never fail, keep their columns."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP
from pylvs.core.info import DestInfo, ServiceInfo
from pylvs.core.model import DestSpec, ServiceKey, ServiceSpec
from pylvs.core.stats import StatsView
from pylvs.ipvsadm.command import ListFormat
from pylvs.ipvsadm.lookup import StaticResolver
from pylvs.ipvsadm.render import render_service, render_table
from pylvs.ipvsadm.save import render_save

u64 = st.integers(0, 2**64 - 1)
stats = st.builds(StatsView, u64, u64, u64, u64, u64, u64, u64, u64, u64, u64)


@st.composite
def dests(draw: st.DrawFn) -> DestInfo:
    af = draw(st.sampled_from([AF_INET, AF_INET6]))
    addr = draw(st.integers(0, 2**32 - 1 if af == AF_INET else 2**128 - 1))
    spec = DestSpec(
        af,
        addr,
        draw(st.integers(0, 65535)),
        fwd=draw(st.integers(0, 4)),
        weight=draw(st.integers(0, 2**31 - 1)),
        u_threshold=draw(st.integers(0, 2**31 - 1)),
        l_threshold=draw(st.integers(0, 2**31 - 1)),
        tun_type=draw(st.integers(0, 2)),
        tun_port=draw(st.integers(0, 65535)),
        tun_flags=draw(st.integers(0, 2)),
    )
    n = st.integers(0, 2**32 - 1)
    return DestInfo(spec, draw(n), draw(n), draw(n), draw(stats))


@st.composite
def services(draw: st.DrawFn) -> ServiceInfo:
    af = draw(st.sampled_from([AF_INET, AF_INET6]))
    if draw(st.booleans()):
        key = ServiceKey.fwm(draw(st.integers(1, 2**32 - 1)), af)
    else:
        addr = draw(st.integers(0, 2**32 - 1 if af == AF_INET else 2**128 - 1))
        proto = draw(st.sampled_from([IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP]))
        key = ServiceKey(af, proto, addr, draw(st.integers(0, 65535)))
    spec = ServiceSpec(
        key,
        draw(st.sampled_from(["wlc", "rr", "sh", "mh", "twos"])),
        flags=draw(st.integers(0, 0x3F)),
        timeout=draw(st.integers(0, 2678400)),
        netmask=draw(st.integers(1, 128)) if af == AF_INET6 else draw(st.integers(0, 2**32 - 1)),
        pe_name=draw(st.sampled_from(["", "sip"])),
    )
    return ServiceInfo(spec, draw(stats), tuple(draw(st.lists(dests(), max_size=4))))


formats = st.builds(
    ListFormat,
    numeric=st.booleans(),
    stats=st.booleans(),
    rate=st.booleans(),
    thresholds=st.booleans(),
    persistent_conn=st.booleans(),
    tun_info=st.booleans(),
    nosort=st.booleans(),
    exact=st.booleans(),
)

NAMES = StaticResolver(
    addrs={(AF_INET, 0x7F000001): "localhost"}, ports={(80, "tcp"): "http", (53, "udp"): "domain"}
)


@given(st.lists(services(), max_size=4), formats, st.booleans())
def test_render_never_fails(svcs: list[ServiceInfo], fmt: ListFormat, names: bool) -> None:
    resolver = NAMES if names else StaticResolver()
    text = render_table(svcs, fmt, resolver)
    assert text.endswith("\n")
    assert text.count("\n") == 3 + sum(1 + len(s.dests) for s in svcs)
    for svc in svcs:
        render_service(svc, fmt, resolver)
    saved = render_save(svcs, fmt, resolver)
    assert saved.count("\n") == sum(1 + len(s.dests) for s in svcs)


@given(services(), formats)
def test_ipv4_server_columns_are_fixed(svc: ServiceInfo, fmt: ListFormat) -> None:
    """IPv4 servers are cut to 28 and padded, so column 34 starts the next
    field in every view with a separating space."""
    if fmt.stats or fmt.rate:
        return  # "18446744T" fills its 9 characters
    lines = render_service(svc, fmt, StaticResolver()).splitlines()[3:]
    for line in lines:
        if "[" not in line:
            assert line[33] == " ", line
