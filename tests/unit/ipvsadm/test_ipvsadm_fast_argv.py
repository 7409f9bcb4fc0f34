"""The argv fast path (``parse_fast``) against the full parser.

Wherever the fast path answers, its Command must be the one the full
parser returns (equal and with the same repr, so the same types too); where
the full parser fails, the fast path must decline. Inputs are the lines
``ipvsadm-save -n`` writes for arbitrary tables, and canonical-ish lines
with every option the fast path knows, mutated: near-miss values (names,
leading zeros, signs, spaces, big numbers, NULs, non-ASCII digits), other
spellings of the options, repeats, misses, reordering.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP
from pylvs.core.errors import UsageError
from pylvs.core.info import DestInfo, ServiceInfo
from pylvs.core.model import DestSpec, ServiceKey, ServiceSpec
from pylvs.core.stats import StatsView
from pylvs.ipvsadm.argv import (
    FAST_SERVER_WORDS,
    FAST_SERVICE_WORDS,
    FAST_TUN_TYPES,
    WEIGHT_MAX_DEBIAN,
    WEIGHT_MAX_UPSTREAM,
    parse_argv,
    parse_fast,
)
from pylvs.ipvsadm.argv_full import parse_full
from pylvs.ipvsadm.command import Command, ListFormat
from pylvs.ipvsadm.inet import inet_ntop4, inet_ntop6
from pylvs.ipvsadm.lookup import StaticResolver
from pylvs.ipvsadm.options import COMMAND_OPTIONS, POPT_TABLE, TUNNEL_TYPE_NAMES
from pylvs.ipvsadm.restore import split_restore_input
from pylvs.ipvsadm.save import render_save

# Names that make the full parser succeed where the text is no number: the
# fast path must leave them to it.
RESOLVER = StaticResolver(
    hosts={
        "web": 0x0A000001,
        "localhost": 0x7F000001,
        "10.0.0.1x": 0x0A000002,
        " 10.0.0.1": 0x0A000003,
        "10.0.0.1 ": 0x0A000004,
    },
    services={
        ("http", "tcp"): 80,
        ("domain", "udp"): 53,
        ("70000", "tcp"): 7,
        ("80 ", "tcp"): 8,
        (" 80", "tcp"): 9,
        ("-1", "udp"): 10,
        ("", "tcp"): 11,
    },
)
WEIGHT_MAXES = st.sampled_from([WEIGHT_MAX_UPSTREAM, WEIGHT_MAX_DEBIAN])


def full(args: list[str], weight_max: int) -> Command | tuple[str, int]:
    try:
        return parse_full(
            "ipvsadm",
            args,
            RESOLVER,
            reading_stdin=True,
            posixly_correct=False,
            weight_max=weight_max,
        )
    except UsageError as err:
        return (err.message, err.exit_status)


def check(args: list[str], weight_max: int, *, record: bool = True) -> Command | None:
    """The fast path agrees with the full parser on ``args``; and
    parse_argv (both together) gives the full parser's answer."""
    expected = full(args, weight_max)
    fast = parse_fast(args, weight_max) if args else None
    if fast is not None:
        assert isinstance(expected, Command), (args, expected)
        assert fast == expected, args
        assert repr(fast) == repr(expected), args
    try:
        got: Command | tuple[str, int] = parse_argv(
            "ipvsadm", args, RESOLVER, reading_stdin=True, weight_max=weight_max
        )
    except UsageError as err:
        got = (err.message, err.exit_status)
    assert got == expected, args
    if isinstance(got, Command):
        assert repr(got) == repr(expected)
    if record:
        event(
            "fast"
            if fast is not None
            else ("full ok" if isinstance(expected, Command) else "error")
        )
    return fast


# -- values -------------------------------------------------------------------

octet = st.integers(0, 255)
quad = st.builds(lambda a, b, c, d: f"{a}.{b}.{c}.{d}", octet, octet, octet, octet)
port = st.one_of(st.integers(0, 65535).map(str), st.sampled_from(["80", "0", "65535"]))
v6 = st.one_of(
    st.integers(0, 2**128 - 1),
    st.integers(0, 2**32 - 1).map(lambda a: 0xFFFF << 32 | a),
    st.sampled_from([0, 1, 0x20010DB8 << 96 | 1]),
).map(inet_ntop6)
near_number = st.sampled_from(
    [" 1", "1 ", "\t1", "+1", "-0", "-1", "01", "007", "1\0", "1\0x", "١", "²", "1_0", "0x10",
     "", "99999999999999999999", "9" * 30, "1e3", "2147483648", "4294967296", "65536"]
)  # fmt: skip
number = st.one_of(
    st.integers(0, 2**32 + 1).map(str),
    st.integers(0, 70000).map(str),
    st.integers(0, 400).map(str),
    near_number,
)
near_host = st.sampled_from(
    ["web", "localhost", "10.0.0.1x", " 10.0.0.1", "10.0.0.1 ", "010.0.0.1", "10.1", "10",
     "1.2.3", "0x0a.0.0.1", "10.0.0.256", "10.0.0.1\0", "", "١.2.3.4", "::1%lo", "[::1"]
)  # fmt: skip
near_port = st.sampled_from(
    ["http", "domain", "70000", "80 ", " 80", "+80", "080", "00080", "-1", "", "0x50", "８０"]
)
host_port = st.one_of(
    st.builds(lambda h, p: f"{h}:{p}", quad, port),
    quad,
    st.builds(lambda h, p: f"[{h}]:{p}", v6, port),
    v6,
    st.builds(lambda h, p: f"{h}:{p}", st.one_of(quad, near_host), st.one_of(port, near_port)),
    st.builds(lambda h, p: f"[{h}]:{p}", st.one_of(v6, quad, near_host), near_port),
    st.builds(lambda h: f"[{h}]", v6),
    st.sampled_from(["[::1]]:80", "[::1]:80:80", "[]:80", "80", "", "1.2.3.4:80\0"]),
)
scheduler = st.sampled_from(
    ["wlc", "rr", "wrr", "lc", "sh", "mh", "dh", "sed", "nq", "fo", "ovf", "lblc", "lblcr",
     "twos", "abcdefghijklmno", "abcdefghijklmnop", "w-lc", "wlc\0x", "", "é", "WLC", "r r"]
)  # fmt: skip
pe_name = st.sampled_from(["sip", "", "abcdefghijklmnop", "abcdefghijklmnopq", "s-p", "sip\0"])
sched_flags = st.sampled_from(
    ["sh-port", "sh-fallback", "sh-fallback,sh-port", "mh-port", "mh-fallback,mh-port",
     "flag-1", "flag-1,flag-2,flag-3", "flag-3", ",", "", "flag-1,", ",flag-1", "bogus",
     "sh-port,sh-port", "x" * 130]
)  # fmt: skip
netmask = st.one_of(
    quad,
    st.integers(0, 200).map(str),
    st.sampled_from(["255.255.255.0", "064", "0128", "web", "0xffffff00", "255.255.255", ""]),
)
tun_type = st.sampled_from(["ipip", "gue", "gre", "vxlan", "", "GUE"])

GOOD = {
    "-t": st.one_of(
        st.builds(lambda h, p: f"{h}:{p}", quad, port),
        st.builds(lambda h, p: f"[{h}]:{p}", v6, port),
    ),
    "-r": st.one_of(
        quad,
        st.builds(lambda h, p: f"{h}:{p}", quad, port),
        st.builds(lambda h, p: f"[{h}]:{p}", v6, port),
    ),
    "-f": st.integers(1, 2**32 - 1).map(str),
    "-w": st.integers(0, 65535).map(str),
    "-x": st.integers(0, 2**31 - 1).map(str),
    "-y": st.integers(0, 1000).map(str),
    "--tun-port": st.integers(1, 65535).map(str),
    "-p": st.integers(1, 2678400).map(str),
    "-M": st.one_of(
        st.integers(0, 32).map(lambda n: inet_ntop4((2**32 - 1) ^ (2**n - 1))),
        st.integers(1, 128).map(str),
    ),
    "-s": st.sampled_from(["wlc", "rr", "sh", "mh", "lblcr"]),
    "--pe": st.just("sip"),
    "-b": st.sampled_from(["sh-port", "sh-fallback,sh-port", "mh-port", "flag-1,flag-3"]),
    "--tun-type": st.sampled_from(["ipip", "gue", "gre"]),
}
GOOD["-u"] = GOOD["--sctp-service"] = GOOD["-t"]
NEAR = {
    "-t": host_port,
    "-u": host_port,
    "--sctp-service": host_port,
    "-r": host_port,
    "-f": number,
    "-w": number,
    "-x": number,
    "-y": number,
    "--tun-port": number,
    "-p": number,
    "-M": netmask,
    "-s": scheduler,
    "--pe": pe_name,
    "-b": sched_flags,
    "--tun-type": tun_type,
}
FLAGS = ["-6", "-o", "-m", "-i", "-g", "--tun-nocsum", "--tun-csum", "--tun-remcsum"]
SERVICE_OPTIONS = ["-s", "-p", "-M", "--pe", "-o", "-b", "-6"]
SERVER_OPTIONS = ["-r", "-m", "-i", "-g", "-w", "-x", "-y", "--tun-type", "--tun-port",
                  "--tun-nocsum", "--tun-csum", "--tun-remcsum", "-6"]  # fmt: skip
# Spellings the fast path does not take (the full parser does, or refuses).
OTHER_WORDS = [
    "--tcp-service", "--udp-service", "--fwmark-service", "--real-server", "--weight",
    "--scheduler", "--persistent", "--netmask", "--masquerading", "--ipip", "--gatewaying",
    "--ops", "--sched-flags", "-mw", "-6o", "-n", "-c", "-A", "-a", "-L", "-h", "--", "-",
    "x", "", "-t=", "-w=1", "--weight=1", "--pe=sip", "-s\0", "-z", "--u-threshold",
]  # fmt: skip


def option_words(name: str) -> st.SearchStrategy[list[str]]:
    if name in FLAGS:
        return st.just([name])
    value = st.one_of(*[GOOD[name]] * 4, NEAR[name])
    if name == "-p":  # the value is optional
        return st.one_of(st.just(["-p"]), value.map(lambda v: ["-p", v]))
    return value.map(lambda v: [name, v])


service_option = st.sampled_from(["-t", "-t", "-u", "--sctp-service", "-f"]).flatmap(option_words)


@st.composite
def lines(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(["-A", "-E", "-a", "-e", "-A", "-a", "-D", "-d", "-L"]))
    chunks = [draw(service_option)] if draw(st.integers(0, 9)) else []
    if command in ("-A", "-E"):
        names = SERVICE_OPTIONS
    elif command in ("-a", "-e"):
        names = SERVER_OPTIONS
        if draw(st.integers(0, 5)):
            chunks.append(draw(option_words("-r")))
    else:
        names = []
    if not names or draw(st.integers(0, 4)) == 0:
        names = sorted([*GOOD, *FLAGS])
    chosen = draw(st.lists(st.sampled_from(names), max_size=5, unique=draw(st.booleans())))
    chunks += [draw(option_words(name)) for name in chosen]
    if draw(st.booleans()):
        chunks = draw(st.permutations(chunks))
    words = [command, *(w for chunk in chunks for w in chunk)]
    # Near-canonical: now and then a word replaced, dropped or added.
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
        if len(words) < 2:
            break
        where = draw(st.integers(1, len(words) - 1))
        action = draw(st.sampled_from(["replace", "drop", "insert"]))
        other = draw(st.one_of(st.sampled_from(OTHER_WORDS), number, host_port))
        if action == "replace":
            words[where] = other
        elif action == "drop":
            del words[where]
        else:
            words.insert(where, other)
    return words


@st.composite
def canonical_lines(draw: st.DrawFn) -> list[str]:
    """Lines as ipvsadm-save writes them, options in any order, values
    valid on their own (their combination may not be)."""
    command = draw(st.sampled_from(["-A", "-E", "-a", "-e"]))
    service = draw(st.sampled_from(["-t", "-u", "--sctp-service", "-f"]))
    chunks = [[service, draw(GOOD[service])]]
    if service == "-f" and draw(st.booleans()):
        chunks.append(["-6"])
    if command in ("-A", "-E"):
        names = draw(st.lists(st.sampled_from(["-s", "-p", "-M", "--pe", "-o", "-b"]), unique=True))
    else:
        names = ["-r", *draw(st.lists(st.sampled_from(["-w", "-x", "-y"]), unique=True))]
        method = draw(st.sampled_from(["-m", "-g", "-i", None]))
        if method is not None:
            names.append(method)
        if method == "-i":
            names += draw(
                st.lists(
                    st.sampled_from(["--tun-type", "--tun-port", "--tun-nocsum", "--tun-csum",
                                     "--tun-remcsum"]),
                    unique=True,
                )
            )  # fmt: skip
    for name in names:
        chunks.append([name] if name in FLAGS else [name, draw(GOOD[name])])
    if draw(st.booleans()):
        chunks = draw(st.permutations(chunks))
    return [command, *(w for chunk in chunks for w in chunk)]


@settings(max_examples=1000)
@given(canonical_lines(), WEIGHT_MAXES)
def test_fast_path_agrees_on_canonical_lines(args: list[str], weight_max: int) -> None:
    check(args, weight_max)


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(lines(), WEIGHT_MAXES)
def test_fast_path_agrees_on_near_canonical_lines(args: list[str], weight_max: int) -> None:
    check(args, weight_max)


@settings(max_examples=300)
@given(st.lists(st.one_of(st.sampled_from(OTHER_WORDS), st.text(max_size=5)), max_size=6))
def test_fast_path_agrees_on_anything(args: list[str]) -> None:
    check(["-a", *args], WEIGHT_MAX_UPSTREAM)
    check(["-A", *args], WEIGHT_MAX_UPSTREAM)


# -- the lines ipvsadm-save writes ---------------------------------------------

Z = StatsView(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)


@st.composite
def dests(draw: st.DrawFn, tunnel_family: bool) -> DestInfo:
    af = draw(st.sampled_from([AF_INET, AF_INET6]))
    spec = DestSpec(
        af,
        draw(st.integers(0, 2**32 - 1 if af == AF_INET else 2**128 - 1)),
        draw(st.integers(0, 65535)),
        fwd=draw(st.integers(0, 4)),
        weight=draw(st.integers(0, 70000)),
        u_threshold=draw(st.integers(0, 100)),
        l_threshold=draw(st.integers(0, 100)),
        tun_type=draw(st.integers(0, 2)),
        tun_port=draw(st.integers(0, 65535)),
        tun_flags=draw(st.integers(0, 2)),
    )
    return DestInfo(spec, 0, 0, 0, Z)


@st.composite
def services(draw: st.DrawFn) -> ServiceInfo:
    af = draw(st.sampled_from([AF_INET, AF_INET6]))
    if draw(st.integers(0, 3)) == 0:
        key = ServiceKey.fwm(draw(st.integers(1, 2**32 - 1)), af)
    else:
        addr = draw(st.integers(0, 2**32 - 1 if af == AF_INET else 2**128 - 1))
        proto = draw(st.sampled_from([IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP]))
        key = ServiceKey(af, proto, addr, draw(st.integers(0, 65535)))
    mask = (
        draw(st.integers(1, 130))
        if af == AF_INET6
        else draw(st.one_of(st.integers(0, 32).map(lambda n: (2**32 - 1) ^ (2**n - 1)), st.just(0)))
    )
    spec = ServiceSpec(
        key,
        draw(st.sampled_from(["wlc", "rr", "sh", "mh"])),
        flags=draw(st.integers(0, 0x3F)),
        timeout=draw(st.integers(0, 2678402)),
        netmask=mask,
        pe_name=draw(st.sampled_from(["", "sip"])),
    )
    return ServiceInfo(spec, Z, tuple(draw(st.lists(dests(True), max_size=3))))


@settings(max_examples=400)
@given(st.lists(services(), min_size=1, max_size=3), st.booleans(), WEIGHT_MAXES)
def test_fast_path_takes_every_saved_line(
    svcs: list[ServiceInfo], nosort: bool, weight_max: int
) -> None:
    """Whatever ``ipvsadm-save -n`` writes and the full parser accepts,
    the fast path accepts too, with the same result."""
    text = render_save(svcs, ListFormat(numeric=True, nosort=nosort))
    for args in split_restore_input(text):
        fast = check(args, weight_max)
        if isinstance(full(args, weight_max), Command):
            assert fast is not None, args


@settings(max_examples=200)
@given(
    st.lists(services(), min_size=1, max_size=2),
    st.lists(st.sampled_from([" ", "  ", "\t", " \t ", "\r", "\t\r "]), min_size=40, max_size=40),
)
def test_odd_spacing_in_restore_input(svcs: list[ServiceInfo], separators: list[str]) -> None:
    """Lines with other separators split into the same words, so take the
    same path."""
    text = render_save(svcs, ListFormat(numeric=True))
    for line in text.splitlines():
        words = line.split()
        spaced = separators[0] + "".join(
            w + separators[(n + 1) % len(separators)] for n, w in enumerate(words)
        )
        [args] = split_restore_input(spaced + "\n")
        assert args == words
        check(args, WEIGHT_MAX_UPSTREAM)


# -- fixed examples --------------------------------------------------------------

CANONICAL = [
    "-A -t 10.100.0.1:80 -s wlc",
    "-A -u 10.0.0.1:53 -s rr -o",
    "-A --sctp-service 10.0.0.1:9 -s wrr",
    "-A -t 10.0.0.1:443 -s sh -p 300 -M 255.255.255.0 -b sh-fallback,sh-port",
    "-A -t 10.0.0.1:0 -s wlc -p 360",
    "-A -t [2001:db8::1]:80 -s wlc -p 300 -M 64 --pe sip",
    "-A -f 1 -s wlc",
    "-A -f 4294967295 -6 -s rr -p",
    "-E -t 10.0.0.1:80 -s rr",
    "-a -t 10.100.0.1:80 -r 192.168.3.1:80 -m -w 1",
    "-a -t 10.0.0.1:80 -r 10.0.1.1:8080 -m -w 0 -x 100 -y 50",
    "-a -t 10.0.0.1:80 -r 10.0.1.1 -g -w 3",
    "-a -f 1 -r 10.0.1.1:0 -g -w 1",
    "-a -t [2001:db8::1]:80 -r [2001:db8::2]:80 -m -w 1",
    "-a -t 10.0.0.1:80 -r [2001:db8::2]:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum",
    "-a -t 10.0.0.1:80 -r 10.0.1.1:80 -i -w 1 --tun-type gre --tun-nocsum",
    "-a -t 10.0.0.1:80 -r 10.0.1.1:80 -i -w 1 --tun-type ipip",
    "-e -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 65535",
]


@pytest.mark.parametrize("line", CANONICAL)
def test_canonical_lines_take_the_fast_path(line: str) -> None:
    assert check(line.split(), WEIGHT_MAX_UPSTREAM, record=False) is not None


DECLINED = [
    "-A -t web:http -s wlc",  # names: the resolver
    "-A -t 10.0.0.1:80 -s wlc -s rr",  # multiple
    "-A -t 10.0.0.1:0 -s wlc",  # zero port
    "-A -t 10.0.0.1:80 -s wlc -o",  # ops on TCP
    "-A -t 010.0.0.1:80 -s wlc",  # inet_aton's octal
    "-A -t 10.0.0.1:70000 -s wlc",  # a port out of range is looked up as a name
    "-A -t 10.0.0.1:80 -s sh -b mh-port",  # incompatible flag
    "-A -t 10.0.0.1:80 -b , -s sh",  # ipvsadm crashes
    "-A -f 1 -6 -M 255.255.255.0",  # -M read as IPv6 after -6
    "-A -6 -f 1",  # -6 before -f
    "-A -t 10.0.0.1:80 -p 0",
    "-A -t 10.0.0.1:80 -p ''",
    "-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 65536",
    "-a -t 10.0.0.1:80 -r [2001:db8::2]:80 -m",  # family change without -i
    "-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m --tun-type gue",  # tunnel option without -i
    "-a -t 10.0.0.1:80 -r 10.0.1.1:80 -i --tun-type gue",  # gue needs a port
    "-a -t 10.0.0.1:80 -r 10.0.1.1:80 -i --tun-type gre --tun-remcsum",
    "-a -t 10.0.0.1:80 -r 10.0.1.1:80 -i --tun-nocsum --tun-csum --tun-type gue --tun-port 1",
    "-a -t 10.0.0.1:80 -m",  # no real server
    "-a -r 10.0.1.1:80",  # no service
    "-a -t 10.0.0.1:80 -r 10.0.1.1:80 -w",  # missing argument
    "-a -t 10.0.0.1:80 -r 10.0.1.1:80 -mw 1",  # a cluster
    "-a -t 10.0.0.1:80 -r 10.0.1.1:80 --weight=1",
    "-a -t 10.0.0.1:80 -r 10.0.1.1:80 -w 1 extra",  # a leftover
    "-a -t 10.0.0.1:80 -r 10.0.1.1:80 -w !#:+ 1",  # popt's expansion
    "-L -n",
    "-C",
]


@pytest.mark.parametrize("line", DECLINED)
def test_the_fast_path_declines(line: str) -> None:
    args = [w.strip("'") for w in line.split()]
    assert check(args, WEIGHT_MAX_UPSTREAM, record=False) is None


def test_fast_tables_match_the_option_tables() -> None:
    """The fast path's words are popt's names for the options it means, and
    legal for their commands (§1.10)."""
    by_word = {f"-{o.short}": o.tag for o in POPT_TABLE if o.short}
    by_word |= {f"--{o.long}": o.tag for o in POPT_TABLE if o.long and not o.short}
    tags_to_names = {
        "tcp-service": "service-address",
        "udp-service": "service-address",
        "sctp-service": "service-address",
        "fwmark-service": "service-address",
        "masquerading": "forwarding-method",
        "ipip": "forwarding-method",
        "gatewaying": "forwarding-method",
        "ipv6": None,
    }
    for command, table in (("add-service", FAST_SERVICE_WORDS), ("add-server", FAST_SERVER_WORDS)):
        legal = COMMAND_OPTIONS[command]
        for word, (_, name) in table.items():
            tag = by_word[word]
            assert tags_to_names.get(tag, tag) == name, word
            assert name is None or name in legal, word
    assert {name: n for n, name in enumerate(TUNNEL_TYPE_NAMES)} == FAST_TUN_TYPES
    assert inet_ntop4(0x0A000001) == "10.0.0.1"
