"""The fast paths of restore splitting, sorting, rendering and checking
against the exact (slow) ways they stand in for; and the written-out
value classes against the dataclasses they replace."""

from __future__ import annotations

import ctypes
import ctypes.util
import dataclasses
import inspect
import pickle
from collections.abc import Iterator, Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP
from pylvs.core.errors import UsageError
from pylvs.core.info import DestInfo, ServiceInfo
from pylvs.core.model import DestSpec, ServiceKey, ServiceSpec
from pylvs.core.stats import StatsView
from pylvs.ipvsadm import checks
from pylvs.ipvsadm.command import Command, ListFormat, View
from pylvs.ipvsadm.cstr import atoi, strtol_whole
from pylvs.ipvsadm.inet import dotted_quad, inet_aton, inet_pton4
from pylvs.ipvsadm.lookup import NO_NAMES, StaticResolver
from pylvs.ipvsadm.options import (
    COMMAND_OPTIONS,
    OPTION_NAMES,
    TUNNEL_OPTION_ORDER,
    TUNNEL_OPTIONS,
)
from pylvs.ipvsadm.render import _dest_line, _numeric_plain_dest_lines
from pylvs.ipvsadm.restore import (
    MAX_TOKEN,
    LineOutcome,
    _drops_unterminated,
    _tokens_exact,
    iter_restore_lines,
    split_restore_input,
)
from pylvs.ipvsadm.sort import (
    _arc_start,
    compare_dests,
    compare_services,
    glibc_msort,
    sort_dests,
    sort_services,
    wrap_diff32,
)

Z = StatsView(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

# -- restore input -------------------------------------------------------------


def physical_lines(text: str) -> Iterator[str]:
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            yield text[start:]
            return
        yield text[start : end + 1]
        start = end + 1


def reference_lines(lines: Iterator[str]) -> Iterator[list[str]]:
    """The restore splitting, one character at a time (as it was)."""
    for line in lines:
        terminated = line.endswith("\n")
        body = line[:-1] if terminated else line
        if not terminated and _drops_unterminated(body):
            return
        argv = _tokens_exact(body)
        if argv:
            yield argv


RESTORE_PIECES = [
    " ", "  ", "\t", "\r", "\n", "\n", "\n", "\v", "\f", "\x1c", "\x1f", "\0", "\x7f",
    "\x85", "\xa0", "\u2003", "\u2028", "é", "-A", "-t", "10.0.0.1:80", "-s", "wlc",
    "ipvsadm", "ipvsadm2", "#", "a" * (MAX_TOKEN - 1), "b" * (MAX_TOKEN + 3),
]  # fmt: skip
restore_text = st.lists(st.sampled_from(RESTORE_PIECES), max_size=30).map("".join)


@settings(max_examples=500)
@given(restore_text)
def test_restore_splitting_matches_the_character_scan(text: str) -> None:
    expected = list(reference_lines(physical_lines(text)))
    assert split_restore_input(text) == expected
    assert list(iter_restore_lines(physical_lines(text))) == expected


@given(st.lists(st.text(max_size=8), max_size=5))
def test_restore_lines_given_whole(lines: list[str]) -> None:
    """Lines from any iterable, even with a newline inside, split as the
    character scan splits them."""
    assert list(iter_restore_lines(lines)) == list(reference_lines(iter(lines)))


def test_restore_splitting_leaves_the_collector_as_it_was() -> None:
    import gc

    assert gc.isenabled()
    split_restore_input("-C\n")
    assert gc.isenabled()
    gc.disable()
    try:
        split_restore_input("-C\n")
        assert not gc.isenabled()
    finally:
        gc.enable()


# -- sorting -------------------------------------------------------------------

# 32-bit values near the places where the wrapped comparison turns.
word = st.one_of(
    st.integers(0, 2**32 - 1),
    st.sampled_from([0, 1, 2**31 - 1, 2**31, 2**31 + 1, 2**32 - 1, 0x0A000001, 0xC0A80101]),
    st.integers(0x0A000000, 0x0A0000FF),
)
addr6 = st.tuples(word, word, word, word).map(lambda w: w[0] << 96 | w[1] << 64 | w[2] << 32 | w[3])


@st.composite
def service_keys(draw: st.DrawFn, af: int | None = None) -> ServiceKey:
    af = draw(st.sampled_from([AF_INET, AF_INET6])) if af is None else af
    if draw(st.integers(0, 3)) == 0:
        return ServiceKey.fwm(draw(word), af)
    return ServiceKey(
        af,
        draw(st.sampled_from([IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP])),
        draw(word if af == AF_INET else addr6),
        draw(st.sampled_from([0, 80, 443, 65535])),
    )


def service(key: ServiceKey) -> ServiceInfo:
    return ServiceInfo(ServiceSpec(key), Z, ())


def dest(af: int, addr: int, port: int) -> DestInfo:
    return DestInfo(DestSpec(af, addr, port), 0, 0, 0, Z)


def ids(items: list[object]) -> list[int]:
    return [id(x) for x in items]


@settings(max_examples=400)
@given(
    st.one_of(
        st.lists(service_keys(), max_size=24),
        st.lists(service_keys(AF_INET), max_size=24),
        st.lists(service_keys(AF_INET6), max_size=24),
        st.lists(st.integers(0x0A000000, 0x0A0000FF), max_size=24).map(
            lambda addrs: [ServiceKey(AF_INET, IPPROTO_TCP, a, 80) for a in addrs]
        ),
    )
)
def test_sort_services_is_glibc_msort(keys: list[ServiceKey]) -> None:
    # Equal keys in distinct objects: the order of equals shows too.
    svcs = [service(k) for k in keys + keys[:3]]
    expected = glibc_msort(svcs, lambda a, b: compare_services(a.spec.key, b.spec.key))
    assert ids(sort_services(svcs)) == ids(expected)  # type: ignore[arg-type]


@settings(max_examples=400)
@given(
    st.one_of(
        st.lists(st.tuples(st.just(AF_INET), word), max_size=16),
        st.lists(st.tuples(st.just(AF_INET6), addr6), max_size=16),
        st.lists(st.tuples(st.sampled_from([AF_INET, AF_INET6]), addr6), max_size=16),
        st.lists(st.tuples(st.just(AF_INET), st.integers(0xC0A80000, 0xC0A800FF)), max_size=16),
    ),
    st.lists(st.sampled_from([0, 80, 8080]), min_size=16, max_size=16),
)
def test_sort_dests_is_glibc_msort(addrs: list[tuple[int, int]], ports: list[int]) -> None:
    dests = [dest(af, a, p) for (af, a), p in zip(addrs, ports, strict=False)]
    dests += [dest(d.spec.af, d.spec.addr, d.spec.port) for d in dests[:3]]
    expected = glibc_msort(dests, compare_dests)
    assert ids(sort_dests(dests)) == ids(expected)  # type: ignore[arg-type]


_libc_name = ctypes.util.find_library("c")


@pytest.mark.skipif(_libc_name is None, reason="no C library to compare with")
@settings(max_examples=150)
@given(st.lists(service_keys(), max_size=20))
def test_sort_services_is_this_glibc_qsort(keys: list[ServiceKey]) -> None:
    """Fast path or not, the order is the one glibc's qsort gives with
    libipvs's comparator (on the indexes of the entries)."""
    libc = ctypes.CDLL(_libc_name)
    cmp_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)

    def cmp(pa: int, pb: int) -> int:
        ia = ctypes.c_uint32.from_address(pa).value
        ib = ctypes.c_uint32.from_address(pb).value
        return compare_services(keys[ia], keys[ib])

    arr = (ctypes.c_uint32 * len(keys))(*range(len(keys)))
    libc.qsort(arr, len(keys), ctypes.sizeof(ctypes.c_uint32), cmp_type(cmp))
    svcs = [service(k) for k in keys]
    assert ids(sort_services(svcs)) == ids([svcs[i] for i in arr])  # type: ignore[arg-type]


@given(st.lists(word, min_size=1, max_size=12))
def test_arc_start_makes_the_wrapped_difference_exact(values: list[int]) -> None:
    start = _arc_start(values)
    if start is None:
        # No half-circle holds them: some pair is 2**31 or more apart both ways.
        assert any(
            (a - b) & 0xFFFFFFFF >= 2**31 and (b - a) & 0xFFFFFFFF >= 2**31
            for a in values
            for b in values
        ) or not _fits_any_arc(values)
        return
    for a in values:
        for b in values:
            rebased = ((a - start) & 0xFFFFFFFF) - ((b - start) & 0xFFFFFFFF)
            assert wrap_diff32(a, b) == rebased


def _fits_any_arc(values: list[int]) -> bool:
    return any(all((v - s) & 0xFFFFFFFF < 2**31 for v in values) for s in values)


def test_sort_falls_back_across_the_half_circle() -> None:
    # 10/8 and 192.168/16 and 127/8 are no total order (reference §2.7).
    keys = [ServiceKey(AF_INET, IPPROTO_TCP, a, 80) for a in (0xC0A80101, 0x7F000001, 0x0A000001)]
    assert _arc_start([k.addr for k in keys]) is None
    svcs = [service(k) for k in keys]
    assert [s.spec.key for s in sort_services(svcs)] == [keys[0], keys[2], keys[1]]


# -- rendering -----------------------------------------------------------------


@st.composite
def odd_dests(draw: st.DrawFn) -> DestInfo:
    af = draw(st.sampled_from([AF_INET, AF_INET6, 0, 7]))
    spec = DestSpec(
        af,
        draw(st.one_of(word, addr6, st.integers(-5, 2**140))),
        draw(st.one_of(st.integers(0, 65535), st.integers(-(2**70), 2**70))),
        fwd=draw(st.integers(-3, 20)),
        weight=draw(st.one_of(st.integers(0, 65535), st.integers(-(2**40), 2**40))),
    )
    big = st.one_of(st.integers(0, 2**32 - 1), st.integers(-(2**40), 2**40))
    return DestInfo(spec, draw(big), draw(big), draw(big), Z)


@given(st.lists(odd_dests(), max_size=4))
def test_numeric_plain_lines_are_the_general_ones(dests: list[DestInfo]) -> None:
    fmt = ListFormat(numeric=True)
    expected = "".join(_dest_line(d, IPPROTO_TCP, fmt, View.PLAIN, NO_NAMES) for d in dests)
    assert _numeric_plain_dest_lines(dests) == expected


# -- option checks -----------------------------------------------------------------


def scan_passes(rules: Mapping[str, str], order: tuple[str, ...], given: set[str]) -> bool:
    try:
        checks._scan(rules, order, given, "x")
    except UsageError:
        return False
    return True


@given(st.sets(st.sampled_from([*OPTION_NAMES, "unknown"])))
def test_check_summaries_pass_what_the_scan_passes(given_names: set[str]) -> None:
    for command, rules in COMMAND_OPTIONS.items():
        summary = checks._COMMAND_SUMMARIES[command]
        assert checks._passes(summary, given_names) == scan_passes(rules, OPTION_NAMES, given_names)
    for tun_type, rules in TUNNEL_OPTIONS.items():
        summary = checks._TUNNEL_SUMMARIES[tun_type]
        assert checks._passes(summary, given_names) == scan_passes(
            rules, TUNNEL_OPTION_ORDER, given_names
        )


# -- numbers and addresses -----------------------------------------------------------


@given(
    st.one_of(
        st.tuples(*[st.integers(0, 300)] * 4).map(lambda t: ".".join(map(str, t))),
        st.text(alphabet="0123456789.x ", max_size=16),
        st.text(max_size=8),
    )
)
def test_dotted_quad_is_what_aton_and_pton_read(text: str) -> None:
    quad = dotted_quad(text)
    if quad is not None:
        assert inet_aton(text) == inet_pton4(text) == quad
        assert ".".join(str(quad >> s & 255) for s in (24, 16, 8, 0)) == text


def test_long_numbers_are_out_of_range_not_errors() -> None:
    """Past Python's limit on decimal strings (4300 digits): strtol's ERANGE."""
    long = "9" * 5000
    assert strtol_whole(long) is None
    assert strtol_whole("0" * 5000 + "7") == 7
    assert atoi(long) == -1  # LONG_MAX, cut to an int
    assert atoi("-" + long) == 0  # LONG_MIN, cut to an int
    assert inet_aton(long + ".1") is None
    assert inet_aton("1" * 5000) is None


# -- written-out dataclasses -------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class RefListFormat:
    numeric: bool = False
    stats: bool = False
    rate: bool = False
    thresholds: bool = False
    persistent_conn: bool = False
    tun_info: bool = False
    nosort: bool = False
    exact: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class RefCommand:
    name: str
    options: frozenset[str] = frozenset()
    service_key: object = None
    service: object = None
    dest: object = None
    fmt: object = ListFormat()
    timeouts: object = None
    daemon: object = None


@dataclasses.dataclass(frozen=True, slots=True)
class RefLineOutcome:
    status: int
    ends_restore: bool


@dataclasses.dataclass(frozen=True)
class RefStaticResolver:
    hosts: Mapping[str, int] = dataclasses.field(default_factory=dict)
    addrs: Mapping[tuple[int, int], str] = dataclasses.field(default_factory=dict)
    services: Mapping[tuple[str, str], int] = dataclasses.field(default_factory=dict)
    ports: Mapping[tuple[int, str], str] = dataclasses.field(default_factory=dict)


PAIRS: list[tuple[type, type, tuple[object, ...], tuple[object, ...]]] = [
    (ListFormat, RefListFormat, (True, False, True), (True, False, False)),
    (
        Command,
        RefCommand,
        ("add-server", frozenset({"weight"}), ServiceKey(AF_INET, IPPROTO_TCP, 1, 80)),
        ("list",),
    ),
    (LineOutcome, RefLineOutcome, (255, False), (0, True)),
    (StaticResolver, RefStaticResolver, ({"a": 1}, {(2, 1): "a"}), ()),
]


@pytest.mark.parametrize(("cls", "ref", "args", "other"), PAIRS)
def test_written_out_classes_behave_as_dataclasses(
    cls: type, ref: type, args: tuple[object, ...], other: tuple[object, ...]
) -> None:
    fields = [f.name for f in dataclasses.fields(ref)]
    mine = inspect.signature(cls).parameters
    theirs = inspect.signature(ref).parameters
    assert list(mine) == list(theirs) == fields
    factories = {
        f.name for f in dataclasses.fields(ref) if f.default_factory is not dataclasses.MISSING
    }
    for name in fields:  # same defaults (a factory's: checked below)
        if theirs[name].default is inspect.Parameter.empty:
            assert mine[name].default is inspect.Parameter.empty
        elif name not in factories:
            assert mine[name].default == theirs[name].default
    a, b, c = cls(*args), cls(*args), cls(*other)
    ra, rc = ref(*args), ref(*other)
    assert repr(a) == repr(ra).replace(ref.__qualname__, cls.__qualname__)
    assert repr(c) == repr(rc).replace(ref.__qualname__, cls.__qualname__)
    for name in fields:
        assert getattr(a, name) == getattr(ra, name)
        assert getattr(c, name) == getattr(rc, name)
    assert a == b and a != c
    assert not a != b  # noqa: SIM202 (__ne__ from __eq__)
    assert a != ra  # another class is never equal
    assert vars(cls)["__match_args__"] == vars(ref)["__match_args__"]
    if cls is not StaticResolver:  # (mappings are not hashable)
        assert hash(a) == hash(b) == hash(ra)
        assert {a: 1}[b] == 1
    for name in fields:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(a, name, None)
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(a, name)
    assert pickle.loads(pickle.dumps(a)) == a
    if cls is StaticResolver:
        assert cls().hosts is not cls().hosts  # a new dict each


def test_list_format_view_and_command_properties() -> None:
    assert ListFormat().view is View.PLAIN
    assert ListFormat(rate=True, thresholds=True).view is View.RATE
    assert Command("add-service").changes_table
    assert not Command("list").changes_table
    assert Command("list").fmt == ListFormat()
    match Command("list", frozenset({"numeric"})):
        case Command(name="list", options=opts):
            assert opts == {"numeric"}
        case _:
            pytest.fail("no match")
