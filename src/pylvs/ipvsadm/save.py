"""``ipvsadm -S``: the table as commands (reference §3.1), and the
``ipvsadm-save`` script's own argument handling."""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.core.addr import AF_INET, AF_INET6, IPPROTO_IP, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP
from pylvs.core.errors import UsageError
from pylvs.core.info import DestInfo, ServiceInfo
from pylvs.core.model import (
    CONN_F_FWD_MASK,
    CONN_F_TUNNEL,
    IPV4_FULL_MASK,
    IPV6_FULL_PREFIX,
    SVC_F_ONEPACKET,
    SVC_F_SCHED_MASK,
)
from pylvs.ipvsadm.command import ListFormat
from pylvs.ipvsadm.cstr import to_int32, to_uint32
from pylvs.ipvsadm.fields import addr_port, fwd_switch, sched_flags_text, tunnel_rule
from pylvs.ipvsadm.inet import inet_ntop4
from pylvs.ipvsadm.lookup import NO_NAMES, Resolver
from pylvs.ipvsadm.sort import sort_dests, sort_services

__all__ = ["render_save", "save_script_args"]

_SERVICE_OPTIONS = {IPPROTO_TCP: "-t", IPPROTO_UDP: "-u", IPPROTO_SCTP: "--sctp-service"}


def _service_option(svc: ServiceInfo, fmt: ListFormat, resolver: Resolver) -> str:
    """``-t addr:port``, ``-f mark`` or ``-f mark -6``; names are never cut."""
    key = svc.spec.key
    if key.fwmark:
        return f"-f {to_int32(key.fwmark)}" + (" -6" if key.af == AF_INET6 else "")
    vname = addr_port(key.af, key.addr, key.port, key.protocol, fmt.numeric, resolver)
    return f"{_SERVICE_OPTIONS.get(key.protocol, '--xxx-service')} {vname}"


def _service_rule(svc: ServiceInfo, option: str) -> str:
    spec = svc.spec
    out = f"-A {option} -s {spec.scheduler}"
    if spec.persistent:
        out += f" -p {to_uint32(spec.timeout)}"
        if spec.key.af == AF_INET and spec.netmask != IPV4_FULL_MASK:
            out += f" -M {inet_ntop4(spec.netmask)}"
        if spec.key.af == AF_INET6 and spec.netmask != IPV6_FULL_PREFIX:
            out += f" -M {to_int32(spec.netmask)}"
    # Unlike the listing, the engine is saved even when not persistent.
    if spec.pe_name:
        out += f" --pe {spec.pe_name}"
    if spec.flags & SVC_F_ONEPACKET:
        out += " -o"
    if spec.flags & SVC_F_SCHED_MASK:
        out += f" -b {sched_flags_text(spec.scheduler, spec.flags)}"
    return out + "\n"


def _dest_rule(
    dest: DestInfo, option: str, protocol: int, fmt: ListFormat, resolver: Resolver
) -> str:
    spec = dest.spec
    rs = addr_port(spec.af, spec.addr, spec.port, protocol, fmt.numeric, resolver)
    out = f"-a {option} -r {rs} {fwd_switch(spec.fwd)} -w {to_int32(spec.weight)}"
    if spec.fwd & CONN_F_FWD_MASK == CONN_F_TUNNEL:
        out += tunnel_rule(spec)
    return out + "\n"


def render_save(
    services: Sequence[ServiceInfo], fmt: ListFormat, resolver: Resolver = NO_NAMES
) -> str:
    """``ipvsadm -S`` (``fmt.numeric`` for ``-S -n``): no header, sorted as ``-L``."""
    out: list[str] = []
    for svc in services if fmt.nosort else sort_services(services):
        option = _service_option(svc, fmt, resolver)
        out.append(_service_rule(svc, option))
        protocol = IPPROTO_IP if svc.spec.key.fwmark else svc.spec.key.protocol
        dests = svc.dests if fmt.nosort else sort_dests(svc.dests)
        out.extend(_dest_rule(d, option, protocol, fmt, resolver) for d in dests)
    return "".join(out)


def _ifs_split(text: str) -> list[str]:
    """Word splitting with bash's default IFS (space, tab, newline)."""
    return [w for w in text.replace("\t", " ").replace("\n", " ").split(" ") if w]


def _basename(path: str) -> str:
    """POSIX ``basename`` of one operand: the last non-empty component."""
    stripped = path.rstrip("/")
    if not stripped:
        return "/" if path else ""
    return stripped.rsplit("/", 1)[-1]


def _script_name(prog: str) -> str:
    """What the script's unquoted ``echo `basename $0``` prints for its name.

    ``$0`` is word-split into basename's operands (a second one is a suffix
    to remove; more make basename fail and print nothing), and the result
    is word-split again by echo.
    """
    words = _ifs_split(prog)
    if not words or len(words) > 2:
        return ""
    name = _basename(words[0])
    if len(words) == 2 and name != words[1] and name.endswith(words[1]):
        name = name[: -len(words[1])]
    return " ".join(_ifs_split(name))


def save_script_args(prog: str, args: Sequence[str]) -> bool:
    """``ipvsadm-save [args]``: True when ``-n`` asks for numeric output.

    The script looks at every argument: ``-n`` selects numeric output, any
    other word starting with ``-`` prints its help to stderr and exits 1
    (raised as :class:`UsageError`), other words are ignored (§3.1).
    """
    numeric = False
    for arg in args:
        if arg == "-n":
            numeric = True
        elif arg.startswith("-"):
            raise UsageError(
                f"{_script_name(prog)}: Script to save the IPVS table to stdout.\n"
                "   With the -n option, prints out the table in numeric format.",
                1,
            )
    return numeric
