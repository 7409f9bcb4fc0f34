"""``virtual_server`` blocks (keepalived/check/check_parser.c, check_data.c
``alloc_vs``); their ``real_server`` blocks are in kw_rs."""

from __future__ import annotations

from pylvs.config.addrfmt import format_vs
from pylvs.config.grammar import Keyword, Stmt
from pylvs.config.inet import inet_aton, nonzero_port, stosockaddr
from pylvs.config.kw_common import cstr, current_vs, draft_block, set_true, set_unsigned
from pylvs.config.kw_forwarding import svr_forwarding
from pylvs.config.kw_rs import REAL_SERVER, family_fits
from pylvs.config.kw_server_options import server_options, server_timer
from pylvs.config.numbers import UINT_MAX
from pylvs.config.scripts import parse_script
from pylvs.config.state import LoadState, SorryDraft, VsDraft
from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP
from pylvs.core.model import SVC_F_ONEPACKET, SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3

__all__ = ["IPVS_PERSISTENT_TIMEOUT", "SCHEDULERS", "VIRTUAL_SERVER", "vs_name"]

SCHEDULERS = (
    "rr",
    "wrr",
    "lc",
    "wlc",
    "lblc",
    "sh",
    "mh",
    "dh",
    "fo",
    "ovf",
    "lblcr",
    "sed",
    "nq",
    "twos",
)
IPVS_PERSISTENT_TIMEOUT = 360
LVS_MAX_TIMEOUT = 86400 * 31
PENAME_MAXLEN = 16


def _vs(state: LoadState, stmt: Stmt) -> bool | None:
    param1 = stmt.arg(1)
    param2 = stmt.words[2] if len(stmt) >= 3 else None
    vs = VsDraft(stmt.file, stmt.line, "addr")
    if param1 == "group":
        vs.kind = "group"
        vs.group = stmt.arg(2)
    elif param1 == "fwmark":
        mark = state.nums.read_unsigned(stmt.arg(2), 0, UINT_MAX, True)
        if mark is None:
            state.error(f"virtual server fwmark '{param2}' must be in [0, {UINT_MAX}] - ignoring")
            state.vs = None
            return True
        vs.kind = "fwmark"
        vs.fwmark = mark
    else:
        port_str = nonzero_port(param2)
        parsed = stosockaddr(param1, port_str, state.nums)
        if parsed is None:
            slash = "/" if port_str else ""
            state.error(
                f"Invalid virtual server IP address{'/port' if port_str else ''} "
                f"{param1}{slash}{port_str or ''} - skipping"
            )
            state.vs = None
            return True
        vs.af, vs.addr, vs.port = parsed
    state.vs = vs
    return None


def _vs_end(state: LoadState) -> None:
    vs = state.vs
    assert vs is not None
    if not vs.rs:
        state.error(f"Virtual server {vs_name(vs)} has no real servers - ignoring")
        return
    if vs.sorry is not None and not family_fits(state, vs, vs.sorry, "sorry server"):
        vs.sorry = None
    if vs.af == 0 and vs.group is None:
        # fwmark service with only tunnelled servers and no ip_family.
        mixed = False
        if vs.sorry is not None:
            vs.af = vs.sorry.af
        for rs in vs.rs:
            if vs.af == 0:
                vs.af = rs.af
            elif vs.af != rs.af:
                mixed = True
                break
        if mixed or vs.af == 0:
            vs.af = AF_INET
    state.vss.append(vs)


def vs_name(vs: VsDraft) -> str:
    return format_vs(
        kind=vs.kind,
        af=vs.af,
        addr=vs.addr,
        port=vs.port,
        protocol=vs.protocol,
        fwmark=vs.fwmark,
        group=vs.group,
        group_index=vs.group_index,
    )


def _ip_family(state: LoadState, stmt: Stmt) -> None:
    vs = current_vs(state)
    word = stmt.arg(1)
    if word == "inet":
        af = AF_INET
    elif word == "inet6":
        af = AF_INET6
    else:
        state.error(f"unknown address family {word}")
        return
    if vs.af and af != vs.af:
        state.error(f"Virtual server specified family {word} conflicts with server family")
        return
    vs.af = af
    vs.ip_family = af


def _lb_algo(state: LoadState, stmt: Stmt) -> None:
    name = stmt.arg(1)
    if name not in SCHEDULERS:
        state.error(f"Invalid lvs_scheduler '{name}' - ignoring")
        return
    current_vs(state).scheduler = name


def _lb_flags(state: LoadState, stmt: Stmt) -> None:
    vs = current_vs(state)
    word = stmt.words[0]
    if word == "ops":
        vs.flags |= SVC_F_ONEPACKET
    elif word in ("flag-1", "flag-2", "flag-3"):
        vs.flags |= {"flag-1": SVC_F_SCHED1, "flag-2": SVC_F_SCHED2, "flag-3": SVC_F_SCHED3}[word]
    elif vs.scheduler in ("sh", "mh"):
        # Order matters: these need the scheduler set first. "hashed" is a no-op.
        if word in ("sh-port", "mh-port") and word[:2] == vs.scheduler:
            vs.flags |= SVC_F_SCHED2
        elif word in ("sh-fallback", "mh-fallback") and word[:2] == vs.scheduler:
            vs.flags |= SVC_F_SCHED1
    else:
        state.error(f"{word} only applies to sh scheduler - ignoring")


def _vs_forwarding(state: LoadState, stmt: Stmt) -> None:
    vs = current_vs(state)
    vs.forwarding = svr_forwarding(state, vs.forwarding, stmt, "virtual")


def _persistence_engine(state: LoadState, stmt: Stmt) -> None:
    name = stmt.arg(1)
    if len(name) > PENAME_MAXLEN:
        state.error(f"persistence_name too long, truncating - {name}")
    current_vs(state).persistence_engine = name[:PENAME_MAXLEN]


def _persistence_timeout(state: LoadState, stmt: Stmt) -> None:
    vs = current_vs(state)
    if len(stmt) < 2:
        vs.persistence_timeout = IPVS_PERSISTENT_TIMEOUT
        return
    value = state.nums.read_unsigned(stmt.words[1], 1, LVS_MAX_TIMEOUT, False)
    if value is None:
        state.error("persistence_timeout invalid")
        return
    vs.persistence_timeout = value


def _persistence_granularity(state: LoadState, stmt: Stmt) -> None:
    vs = current_vs(state)
    text = stmt.arg(1)
    af = vs.af or (AF_INET if "." in text else AF_INET6)
    if af == AF_INET6:
        value = state.nums.read_unsigned(text, 1, 128, False)
        if value is None:
            state.error(f"Invalid IPv6 persistence_granularity specified - {text}")
            return
    else:
        mask = inet_aton(text)
        if mask is None:
            state.error(f"Invalid IPv4 persistence_granularity specified - {text}")
            return
        value = mask
    vs.persistence_granularity = value
    if not vs.af:
        vs.af = af
    if not vs.persistence_timeout:
        vs.persistence_timeout = IPVS_PERSISTENT_TIMEOUT


def _protocol(state: LoadState, stmt: Stmt) -> None:
    word = stmt.arg(1)
    proto = {"TCP": IPPROTO_TCP, "SCTP": IPPROTO_SCTP, "UDP": IPPROTO_UDP}.get(word.upper())
    if proto is None:
        state.error(f"Unknown protocol {word} - ignoring")
        return
    current_vs(state).protocol = proto


def _vs_true(attr: str) -> Keyword[LoadState]:
    name = {"inhibit": "inhibit_on_failure"}.get(attr, attr)
    return Keyword(name, set_true(current_vs, attr))


def _quorum_script(which: str) -> Keyword[LoadState]:
    def handler(state: LoadState, stmt: Stmt) -> None:
        vs = current_vs(state)
        attr = f"quorum_{which}"
        if getattr(vs, attr) is not None:
            state.error(
                f"({cstr(vs.group)}) quorum_{which} script already specified - ignoring {stmt.arg(1)}"
            )
            return
        setattr(vs, attr, parse_script(stmt.raw, state, "quorum"))

    return Keyword(f"quorum_{which}", handler, quoted=True)


def _quorum(state: LoadState, stmt: Stmt) -> None:
    value = state.nums.read_unsigned(stmt.arg(1), 1, UINT_MAX, True)
    if value is None:
        state.error(f"Quorum {stmt.words[1]} must be in [1, {UINT_MAX}]. Setting to 1.")
        value = 1
    current_vs(state).quorum = value


_hysteresis = set_unsigned(
    current_vs, "hysteresis", 0, UINT_MAX, f"Hysteresis {{}} must be in [0, {UINT_MAX}] - ignoring"
)


def _sorry_server(state: LoadState, stmt: Stmt) -> None:
    vs = current_vs(state)
    ip = stmt.arg(1)
    port = stmt.words[2] if len(stmt) >= 3 else None
    parsed = stosockaddr(ip, nonzero_port(port), state.nums)
    if parsed is None:
        state.error(f"Invalid sorry server IP address {ip} - skipping")
        return
    vs.sorry = SorryDraft(parsed[0], parsed[1], parsed[2], vs.forwarding)


def _sorry_inhibit(state: LoadState, stmt: Stmt) -> None:
    vs = current_vs(state)
    if vs.sorry is None:
        state.error("Ignoring sorry_server inhibit used before or without sorry_server")
        return
    vs.sorry.inhibit = True


def _sorry_forwarding(state: LoadState, stmt: Stmt) -> None:
    vs = current_vs(state)
    if vs.sorry is None:
        state.error("sorry_server forwarding used without sorry_server")
        return
    vs.sorry.forwarding = svr_forwarding(state, vs.sorry.forwarding, stmt, "sorry")


_LB_FLAGS = (
    "hashed",
    "ops",
    "flag-1",
    "flag-2",
    "flag-3",
    "sh-port",
    "sh-fallback",
    "mh-port",
    "mh-fallback",
)

VIRTUAL_SERVER: Keyword[LoadState] = Keyword(
    "virtual_server",
    _vs,
    end=_vs_end,
    sub=draft_block(
        "virtual_server",
        [
            Keyword("ip_family", _ip_family),
            *server_options("vs"),
            server_timer(
                "vs.delay_before_retry",
                0,
                0,
                "virtual server delay before retry '{}' invalid - ignoring",
            ),
            server_timer("vs.warmup", 0, 0, "virtual server warmup '{}' invalid - ignoring"),
            server_timer(
                "vs.connect_timeout",
                1,
                UINT_MAX,
                "virtual server connect_timeout {} invalid - ignoring",
            ),
            server_timer(
                "vs.delay_loop", 1, 0, "virtual server delay loop '{}' invalid - ignoring"
            ),
            _vs_true("inhibit"),
            Keyword("lb_algo", _lb_algo),
            Keyword("lvs_sched", _lb_algo),
            *(Keyword(name, _lb_flags) for name in _LB_FLAGS),
            Keyword("lb_kind", _vs_forwarding),
            Keyword("lvs_method", _vs_forwarding),
            Keyword("persistence_engine", _persistence_engine),
            Keyword("persistence_timeout", _persistence_timeout),
            Keyword("persistence_granularity", _persistence_granularity),
            Keyword("protocol", _protocol),
            _vs_true("ha_suspend"),
            _vs_true("alpha"),
            _vs_true("omega"),
            _quorum_script("up"),
            _quorum_script("down"),
            Keyword("quorum", _quorum),
            Keyword("hysteresis", _hysteresis),
            Keyword("sorry_server", _sorry_server),
            Keyword("sorry_server_inhibit", _sorry_inhibit),
            Keyword("sorry_server_lvs_method", _sorry_forwarding),
            REAL_SERVER,
        ],
        "vs",
    ),
)
