"""ipvsadm 1.31's command line: argv in, a checked :class:`Command` out.

The steps and their order are ipvsadm's (reference §1.2-§1.11):

1. popt yields the first option; it must be a command, else the
   ``Try ...`` hint (exit 255). ``-h``/``-v`` end parsing there.
2. The other options are applied left to right; each value is checked
   and a repeated option is refused as it is met (exit 2). A command
   letter here is an ``invalid option``. A popt error ends parsing with
   ``<word>: <reason>`` (exit 255, and a restore goes on: :class:`PoptError`).
3. ``--set`` takes three leftovers; any other leftover is unexpected.
4. ``-b`` is checked against the scheduler.
5. The command × option matrix, then per-command checks.

Option values are applied as ipvsadm applies them, so order matters where
it matters to ipvsadm (§1.9): ``-r`` without a port copies the service port
parsed so far, ``-M`` is read as IPv4 or IPv6 by the family known so far,
``-6`` needs an earlier ``-f``.

Those steps live in :mod:`pylvs.ipvsadm.argv_full`. Most command lines are
the ones ``ipvsadm-save`` writes (``-A -t 10.0.0.1:80 -s wlc``,
``-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1``), and a restore runs one per
line, so :func:`parse_argv` first tries :func:`parse_fast`: it takes
``-A``/``-E``/``-a``/``-e`` lines made of exact option words with plainly
valid values (numeric addresses, decimal numbers, no names to look up),
applies them in the same order with the same effects, and declines
(None) anything else -- every error, every unusual spelling -- which then
goes through the full parser. The two agree wherever the fast path answers
(a property test compares them).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_IP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP
from pylvs.core.errors import UsageError
from pylvs.core.model import (
    CONN_F_DROUTE,
    CONN_F_MASQ,
    CONN_F_TUNNEL,
    DEFAULT_PERSISTENT_TIMEOUT,
    DEFAULT_SCHEDULER,
    IPV4_FULL_MASK,
    IPV6_FULL_PREFIX,
    SVC_F_ONEPACKET,
    SVC_F_PERSISTENT,
    SVC_F_SCHED1,
    SVC_F_SCHED2,
    SVC_F_SCHED3,
    TUNNEL_ENCAP_FLAG_CSUM,
    TUNNEL_ENCAP_FLAG_NOCSUM,
    TUNNEL_ENCAP_FLAG_REMCSUM,
    TUNNEL_TYPE_GRE,
    TUNNEL_TYPE_GUE,
    TUNNEL_TYPE_IPIP,
    DestSpec,
    ServiceKey,
    ServiceSpec,
)
from pylvs.ipvsadm.addrspec import fast_host_port
from pylvs.ipvsadm.command import DEFAULT_FORMAT, Command
from pylvs.ipvsadm.cstr import INT_MAX
from pylvs.ipvsadm.inet import dotted_quad

if TYPE_CHECKING:
    from pylvs.ipvsadm.lookup import Resolver

__all__ = [
    "MAX_TIMEOUT",
    "WEIGHT_MAX_DEBIAN",
    "WEIGHT_MAX_UPSTREAM",
    "PoptError",
    "ProcessCrash",
    "parse_argv",
    "parse_fast",
]

MAX_TIMEOUT = 86400 * 31
# Upstream 1.31 takes weights 0..65535; Debian's package patches the limit
# to INT_MAX (reference §5). Debian's binary is the one the reference was
# checked against, so it is the default.
WEIGHT_MAX_UPSTREAM = 65535
WEIGHT_MAX_DEBIAN = INT_MAX

# Buffer size, less the NUL where strncpy leaves room for it (ip_vs.h).
SCHED_NAME_MAX = 15
_PE_NAME_MAX = 16
_SCHED_FLAGS_MAX = 127

SERVICE_PROTOCOLS = {
    "tcp-service": IPPROTO_TCP,
    "udp-service": IPPROTO_UDP,
    "sctp-service": IPPROTO_SCTP,
}
METHODS = {"masquerading": CONN_F_MASQ, "ipip": CONN_F_TUNNEL, "gatewaying": CONN_F_DROUTE}
TUN_FLAGS = {
    "tun-nocsum": TUNNEL_ENCAP_FLAG_NOCSUM,
    "tun-csum": TUNNEL_ENCAP_FLAG_CSUM,
    "tun-remcsum": TUNNEL_ENCAP_FLAG_REMCSUM,
}
# Format-only options: they set a ListFormat field of the same meaning.
FORMAT_OPTIONS = {
    "numeric": "numeric",
    "stats": "stats",
    "rate": "rate",
    "thresholds": "thresholds",
    "persistent-conn": "persistent_conn",
    "nosort": "nosort",
    "exact": "exact",
    "tun-info": "tun_info",
}

# Scheduler flags: name -> (bit, the scheduler it needs or None) (§1.7).
SCHED_FLAGS: dict[str, tuple[int, str | None]] = {
    "flag-1": (SVC_F_SCHED1, None),
    "flag-2": (SVC_F_SCHED2, None),
    "flag-3": (SVC_F_SCHED3, None),
    "sh-fallback": (SVC_F_SCHED1, "sh"),
    "sh-port": (SVC_F_SCHED2, "sh"),
    "mh-fallback": (SVC_F_SCHED1, "mh"),
    "mh-port": (SVC_F_SCHED2, "mh"),
}
SCHED_MASK = SVC_F_SCHED1 | SVC_F_SCHED2 | SVC_F_SCHED3


class PoptError(UsageError):
    """A popt error after the command (``-t: missing argument``): exit 255.

    Unlike every other :class:`UsageError` here, ipvsadm returns from this
    one instead of exiting, so a restore carries on with its next line.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message, 255)


class ProcessCrash(UsageError):
    """ipvsadm 1.31 would not end normally: ``kind`` is ``"segfault"`` (it
    dereferences NULL; a shell sees 139, nothing is printed) or ``"hang"``
    (popt loops forever; 124 stands for "killed by a timeout").
    """

    def __init__(self, kind: str) -> None:
        super().__init__("", 139 if kind == "segfault" else 124)
        self.kind = kind


def parse_argv(
    prog: str,
    args: Sequence[str],
    resolver: Resolver,
    *,
    reading_stdin: bool = False,
    posixly_correct: bool = False,
    weight_max: int = WEIGHT_MAX_UPSTREAM,
) -> Command:
    """Parse and check ``prog args...`` as ipvsadm 1.31 does.

    Raises :class:`UsageError` whose message is ipvsadm's stderr text
    without the final newline. ``reading_stdin`` is set for lines of a
    restore (a nested ``-R`` is refused); ``posixly_correct`` mirrors the
    POSIXLY_CORRECT/POSIX_ME_HARDER environment popt reads.
    """
    if args:
        cmd = parse_fast(args, weight_max)
        if cmd is not None:
            return cmd
    from pylvs.ipvsadm.argv_full import parse_full

    return parse_full(
        prog,
        args,
        resolver,
        reading_stdin=reading_stdin,
        posixly_correct=posixly_correct,
        weight_max=weight_max,
    )


# -- the fast path --------------------------------------------------------
#
# Only exact option words are taken (no clusters, no --name=value, no long
# spellings of the short options), so popt reads each of them as one option
# and a value option's value as the next word. No value taken contains
# popt's "!#:+" or a NUL, so neither expansion nor truncation applies, and
# no word is a leftover, so neither POSIXLY_CORRECT nor --set matter.

_FAST_COMMANDS = {
    "-A": "add-service",
    "-E": "edit-service",
    "-a": "add-server",
    "-e": "edit-server",
}

# Option codes.
_O_TCP, _O_UDP, _O_SCTP, _O_FWMARK, _O_IPV6 = 1, 2, 3, 4, 5
_O_SCHED, _O_PERSIST, _O_NETMASK, _O_PE, _O_OPS, _O_SCHED_FLAGS = 6, 7, 8, 9, 10, 11
_O_REAL, _O_MASQ, _O_IPIP, _O_GATE, _O_WEIGHT, _O_UTHRESH, _O_LTHRESH = 12, 13, 14, 15, 16, 17, 18
_O_TUN_TYPE, _O_TUN_PORT, _O_NOCSUM, _O_CSUM, _O_REMCSUM = 19, 20, 21, 22, 23

# The option names the fast path sets (those of "multiple '...' options"
# and of Command.options), one bit each.
_OPTION_NAMES = (
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "ops",
    "pe",
    "sched-flags",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
)
_OPTION_BITS = {name: 1 << n for n, name in enumerate(_OPTION_NAMES)}
_B_SERVICE = _OPTION_BITS["service-address"]
_B_REAL = _OPTION_BITS["real-server"]
_B_TUN_PORT = _OPTION_BITS["tun-port"]
_B_REMCSUM = _OPTION_BITS["tun-remcsum"]
_B_CSUMS = _OPTION_BITS["tun-nocsum"] | _OPTION_BITS["tun-csum"] | _B_REMCSUM
_B_TUNNEL = _OPTION_BITS["tun-type"] | _B_TUN_PORT | _B_CSUMS


def _words(table: dict[str, tuple[int, str | None]]) -> dict[str, tuple[int, int, int]]:
    """Word -> (code, option bit, option number + 1); 0, 0 for -6."""
    return {
        w: (code, 0, 0)
        if name is None
        else (code, _OPTION_BITS[name], _OPTION_NAMES.index(name) + 1)
        for w, (code, name) in table.items()
    }


# The option words each command may take (the legal ones of the command
# matrix, §1.10), with their code and the option they set (None: -6, which
# is no option by name).
_SERVICE_WORDS: dict[str, tuple[int, str | None]] = {
    "-t": (_O_TCP, "service-address"),
    "-u": (_O_UDP, "service-address"),
    "--sctp-service": (_O_SCTP, "service-address"),
    "-f": (_O_FWMARK, "service-address"),
    "-6": (_O_IPV6, None),
}
FAST_SERVICE_WORDS: dict[str, tuple[int, str | None]] = {
    **_SERVICE_WORDS,
    "-s": (_O_SCHED, "scheduler"),
    "-p": (_O_PERSIST, "persistent"),
    "-M": (_O_NETMASK, "netmask"),
    "--pe": (_O_PE, "pe"),
    "-o": (_O_OPS, "ops"),
    "-b": (_O_SCHED_FLAGS, "sched-flags"),
}
FAST_SERVER_WORDS: dict[str, tuple[int, str | None]] = {
    **_SERVICE_WORDS,
    "-r": (_O_REAL, "real-server"),
    "-m": (_O_MASQ, "forwarding-method"),
    "-i": (_O_IPIP, "forwarding-method"),
    "-g": (_O_GATE, "forwarding-method"),
    "-w": (_O_WEIGHT, "weight"),
    "-x": (_O_UTHRESH, "u-threshold"),
    "-y": (_O_LTHRESH, "l-threshold"),
    "--tun-type": (_O_TUN_TYPE, "tun-type"),
    "--tun-port": (_O_TUN_PORT, "tun-port"),
    "--tun-nocsum": (_O_NOCSUM, "tun-nocsum"),
    "--tun-csum": (_O_CSUM, "tun-csum"),
    "--tun-remcsum": (_O_REMCSUM, "tun-remcsum"),
}
_SERVICE_CODES = _words(FAST_SERVICE_WORDS)
_SERVER_CODES = _words(FAST_SERVER_WORDS)
_VALUELESS = frozenset({_O_IPV6, _O_OPS, _O_MASQ, _O_IPIP, _O_GATE, _O_NOCSUM, _O_CSUM, _O_REMCSUM})
_THRESHOLDS = frozenset({_O_UTHRESH, _O_LTHRESH})
_PROTOCOLS = {_O_TCP: IPPROTO_TCP, _O_UDP: IPPROTO_UDP, _O_SCTP: IPPROTO_SCTP}
_FAST_METHODS = {_O_MASQ: CONN_F_MASQ, _O_IPIP: CONN_F_TUNNEL, _O_GATE: CONN_F_DROUTE}
_FAST_TUN_FLAGS = {
    _O_NOCSUM: TUNNEL_ENCAP_FLAG_NOCSUM,
    _O_CSUM: TUNNEL_ENCAP_FLAG_CSUM,
    _O_REMCSUM: TUNNEL_ENCAP_FLAG_REMCSUM,
}
FAST_TUN_TYPES = {"ipip": TUNNEL_TYPE_IPIP, "gue": TUNNEL_TYPE_GUE, "gre": TUNNEL_TYPE_GRE}

# Caches (bounded): Command.options by the options given, in their order;
# host:port texts by text (a restore names each service on every one of
# its server lines).
_OPTION_SETS: dict[int, frozenset[str]] = {}
_HOST_PORTS: dict[str, tuple[int, int, int | None]] = {}
_CACHE_MAX = 4096


def _options(sequence: int) -> frozenset[str]:
    """Command.options for the option numbers (+ 1) in ``sequence``, five
    bits each, the first given highest: built from the names in the order
    given, as the full parser builds it (the same set, iterated alike)."""
    options = _OPTION_SETS.get(sequence)
    if options is None:
        names = []
        rest = sequence
        while rest:
            names.append(_OPTION_NAMES[(rest & 31) - 1])
            rest >>= 5
        options = frozenset(reversed(names))
        if len(_OPTION_SETS) >= _CACHE_MAX:
            _OPTION_SETS.clear()
        _OPTION_SETS[sequence] = options
    return options


def _host_port(text: str) -> tuple[int, int, int | None] | None:
    hp = _HOST_PORTS.get(text)
    if hp is None:
        hp = fast_host_port(text)
        if hp is not None:
            if len(_HOST_PORTS) >= _CACHE_MAX:
                _HOST_PORTS.clear()
            _HOST_PORTS[text] = hp
    return hp


def _decimal(text: str, max_len: int) -> int:
    """The number ``text`` writes in 1..max_len ASCII digits, else -1
    (strtol may still read it: the full parser decides)."""
    if len(text) <= max_len and text.isascii() and text.isdigit():
        return int(text)
    return -1


def _name(text: str, max_len: int) -> bool:
    """A scheduler or engine name that no buffer cuts: 1..max_len ASCII
    letters and digits."""
    return len(text) <= max_len and text.isascii() and text.isalnum()


def parse_fast(args: Sequence[str], weight_max: int) -> Command | None:
    """What :func:`parse_argv` returns for ``args``, or None when this fast
    path is not sure (then only the full parser knows, error or not)."""
    command = _FAST_COMMANDS.get(args[0])
    if command is None:
        return None
    server = command == "add-server" or command == "edit-server"
    codes = _SERVER_CODES if server else _SERVICE_CODES
    given = 0  # option bits
    sequence = 0  # the options in their order (see _options)
    # ipvsadm's entry, as in argv_full._Entry.
    af = protocol = addr = port = fwmark = 0
    scheduler = pe_name = sched_flags_arg = ""
    flags = timeout = 0
    netmask = IPV4_FULL_MASK
    dest_af = dest_addr = dest_port = 0
    fwd = CONN_F_DROUTE
    weight = 1
    u_threshold = l_threshold = tun_port = tun_flags = 0
    tun_type = TUNNEL_TYPE_IPIP

    n = len(args)
    i = 1
    while i < n:
        entry = codes.get(args[i])
        if entry is None:
            return None
        i += 1
        code, bit, number = entry
        if bit:
            if given & bit:
                return None  # multiple '...' options
            given |= bit
            sequence = sequence << 5 | number
        value = ""
        if code not in _VALUELESS and code != _O_PERSIST:
            if i == n:
                return None  # missing argument
            value = args[i]
            i += 1
        # The most frequent options first.
        if code <= _O_SCTP:
            hp = _host_port(value)
            if hp is None:
                return None
            protocol = _PROTOCOLS[code]
            af, addr, hp_port = hp
            if af == AF_INET6:
                netmask = IPV6_FULL_PREFIX
            if hp_port is not None:
                port = hp_port
        elif code == _O_REAL:
            hp = _host_port(value)
            if hp is None:
                return None
            dest_af, dest_addr, hp_port = hp
            dest_port = port if hp_port is None else hp_port
        elif code in _FAST_METHODS:
            fwd = _FAST_METHODS[code]
        elif code == _O_WEIGHT:
            weight = _decimal(value, 10)
            if not 0 <= weight <= weight_max:
                return None
        elif code == _O_SCHED:
            if not _name(value, SCHED_NAME_MAX):
                return None
            scheduler = value
        elif code == _O_FWMARK:
            fwmark = _decimal(value, 10)
            if not 1 <= fwmark <= 0xFFFFFFFF:
                return None
            af, protocol = AF_INET, IPPROTO_TCP
        elif code == _O_IPV6:
            if not fwmark:
                return None  # -6 used before -f
            af, netmask = AF_INET6, IPV6_FULL_PREFIX
        elif code == _O_PERSIST:
            # The value is optional: popt takes the next word unless it
            # starts with "-".
            flags |= SVC_F_PERSISTENT
            if i < n and not args[i].startswith("-"):
                timeout = _decimal(args[i], 10)
                i += 1
                if not 1 <= timeout <= MAX_TIMEOUT:
                    return None
            else:
                timeout = DEFAULT_PERSISTENT_TIMEOUT
        elif code == _O_NETMASK:
            if af != AF_INET6:
                mask = dotted_quad(value)
                if mask is None:
                    return None
                netmask = mask
            else:
                netmask = _decimal(value, 3)
                if not 1 <= netmask <= 128:
                    return None
        elif code == _O_PE:
            if not _name(value, _PE_NAME_MAX):
                return None
            pe_name = value
        elif code == _O_OPS:
            flags |= SVC_F_ONEPACKET
        elif code == _O_SCHED_FLAGS:
            if len(value) > _SCHED_FLAGS_MAX or not value.isascii():
                return None
            sched_flags_arg = value
        elif code in _THRESHOLDS:
            threshold = _decimal(value, 10)
            if not 0 <= threshold <= INT_MAX:
                return None
            if code == _O_UTHRESH:
                u_threshold = threshold
            else:
                l_threshold = threshold
        elif code == _O_TUN_TYPE:
            tun_type_value = FAST_TUN_TYPES.get(value)
            if tun_type_value is None:
                return None
            tun_type = tun_type_value
        elif code == _O_TUN_PORT:
            tun_port = _decimal(value, 5)
            if not 1 <= tun_port <= 65535:
                return None
        else:  # a checksum flag
            tun_flags |= _FAST_TUN_FLAGS[code]

    if sched_flags_arg:
        bits = _fast_sched_flags(scheduler, sched_flags_arg)
        if bits is None:
            return None
        flags = (flags & ~SCHED_MASK) | bits
    if not given & _B_SERVICE:
        return None  # the service is mandatory
    if fwmark:
        key = ServiceKey(af, IPPROTO_IP, 0, 0, fwmark)
    else:
        key = ServiceKey(af, protocol, addr, port)

    if not server:
        if not fwmark and not port and not flags & SVC_F_PERSISTENT:
            return None  # Zero port specified for non-persistent service
        if flags & SVC_F_ONEPACKET and not fwmark and protocol != IPPROTO_UDP:
            return None  # One-Packet Scheduling is only for UDP virtual services
        service = ServiceSpec(key, scheduler or DEFAULT_SCHEDULER, flags, timeout, netmask, pe_name)
        return Command(command, _options(sequence), key, service, None, DEFAULT_FORMAT, None, None)

    if not given & _B_REAL:
        return None  # the server is mandatory
    if not fwmark and fwd in (CONN_F_TUNNEL, CONN_F_DROUTE):
        dest_port = port
    if fwd != CONN_F_TUNNEL:
        if dest_af != af or given & _B_TUNNEL:
            return None  # a family change or tunnel options need -i
    elif not _tunnel_options_pass(tun_type, given):
        return None
    dest = DestSpec(
        dest_af,
        dest_addr,
        dest_port,
        fwd,
        weight,
        u_threshold,
        l_threshold,
        tun_type,
        tun_port,
        tun_flags,
    )
    return Command(command, _options(sequence), key, None, dest, DEFAULT_FORMAT, None, None)


def _fast_sched_flags(scheduler: str, arg: str) -> int | None:
    """The bits of a ``-b`` list whose items are all known and fit the
    scheduler; None otherwise (empty items included)."""
    scheduler = scheduler or DEFAULT_SCHEDULER
    bits = 0
    for word in arg.split(","):
        entry = SCHED_FLAGS.get(word)
        if entry is None:
            return None
        bit, needs = entry
        if needs is not None and scheduler != needs:
            return None
        bits |= bit
    return bits


def _tunnel_options_pass(tun_type: int, given: int) -> bool:
    """ipvsadm's tunnel_opt_check passes (§1.11): ipip takes no tunnel
    option but --tun-type, gue needs --tun-port and takes one checksum
    option, gre takes --tun-nocsum or --tun-csum."""
    checksums = given & _B_CSUMS
    one_checksum = checksums & (checksums - 1) == 0  # none or a single bit
    if tun_type == TUNNEL_TYPE_GUE:
        return bool(given & _B_TUN_PORT) and one_checksum
    if tun_type == TUNNEL_TYPE_GRE:
        return not given & (_B_TUN_PORT | _B_REMCSUM) and one_checksum
    return not given & (_B_TUN_PORT | _B_CSUMS)
