"""Runs golden cases through the production pylvsadm.

Each case is one invocation of ``pylvsadm`` (``pylvs.cli.ipvsadm.IpvsAdm``)
or of the ``ipvsadm-save`` / ``ipvsadm-restore`` scripts
(``save_script`` / ``restore_script``), connected by a
:class:`pylvs.api.local.LocalClient` -- the same JSON requests and the same
:class:`pylvs.api.protocol.Dispatcher` as the daemon's socket -- to a real
:class:`pylvs.core.ipvs.Ipvs` holding the case's starting state.

A case file (``cases/*.case``) is header lines ``key: value`` followed by
sections ``--- name``; a section's text is every line up to the next
section line, newlines and trailing spaces included. See cases/README.
"""

from __future__ import annotations

import io
import os
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from random import Random
from typing import Any

from pylvs.api.local import LocalClient
from pylvs.api.protocol import Dispatcher
from pylvs.api.wire import conn_to_wire
from pylvs.cli.ipvsadm import ControlClient, IpvsAdm, restore_script, save_script
from pylvs.core.addr import (
    AF_INET,
    AF_INET6,
    IPPROTO_IP,
    IPPROTO_SCTP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    format_addr_port,
)
from pylvs.core.info import ConnInfo
from pylvs.core.ipvs import Ipvs
from pylvs.core.model import ServiceSpec
from pylvs.core.ops import (
    AddDest,
    AddService,
    DelDest,
    DelService,
    EditDest,
    EditService,
    Op,
    SetTimeouts,
    StartDaemon,
    StopDaemon,
    SyncDaemonConfig,
    Zero,
)
from pylvs.core.stats import Stats
from pylvs.ipvsadm import StaticResolver, command_to_op, parse_argv
from pylvs.ipvsadm.inet import inet_ntop4, inet_pton4, inet_pton6

# The clock of the core: every case happens at this instant.
NOW = 1000.0
# Never opened: the client is the in-process one.
SOCKET_PATH = "/nonexistent/pylvs-golden.sock"
HEADERS = {"argv", "prog", "tool", "status", "env"}
TOOLS = {"ipvsadm", "ipvsadm-save", "ipvsadm-restore"}


@dataclass
class Case:
    name: str
    headers: dict[str, str]
    sections: dict[str, str]

    @property
    def tool(self) -> str:
        return self.headers.get("tool", "ipvsadm")

    @property
    def prog(self) -> str:
        """argv[0]: of ipvsadm, or of the script (``tool``) being run."""
        return self.headers.get("prog", self.tool)

    @property
    def args(self) -> list[str]:
        return shlex.split(self.headers.get("argv", ""))


def load_case(path: Path) -> Case:
    headers: dict[str, str] = {}
    sections: dict[str, str] = {}
    current: str | None = None
    with path.open(encoding="utf-8", newline="") as f:  # keep \r as written
        text = f.read()
    for line in text.split("\n"):
        line += "\n"
        if line.startswith("--- "):
            current = line[4:].strip()
            sections[current] = ""
        elif current is not None:
            sections[current] += line
        elif line.strip() and not line.startswith("#"):
            key, _, value = line.partition(":")
            headers[key.strip()] = value.strip()
    if current is not None:
        sections[current] = sections[current][:-1]  # the text after the last "\n"
    unknown = set(headers) - HEADERS
    assert not unknown, f"{path.name}: unknown header(s) {sorted(unknown)}"
    assert headers.get("tool", "ipvsadm") in TOOLS, f"{path.name}: unknown tool"
    return Case(path.stem, headers, sections)


def describe_op(op: Op) -> str:
    """A readable one-line form of an op, for ``--- op`` sections."""

    def mask(spec: ServiceSpec) -> str:
        return str(spec.netmask) if spec.key.af == AF_INET6 else inet_ntop4(spec.netmask)

    name = type(op).__name__
    if isinstance(op, AddService | EditService):
        s = op.spec
        return (
            f"{name} {s.key} sched={s.scheduler} flags={s.flags:#x} timeout={s.timeout}"
            f" netmask={mask(s)} pe={s.pe_name!r}"
        )
    if isinstance(op, DelService):
        return f"{name} {op.key}"
    if isinstance(op, AddDest | EditDest):
        d = op.dest
        return (
            f"{name} {op.service} -> {format_addr_port(d.af, d.addr, d.port)} fwd={d.fwd}"
            f" weight={d.weight} u={d.u_threshold} l={d.l_threshold}"
            f" tun={d.tun_type}/{d.tun_port}/{d.tun_flags}"
        )
    if isinstance(op, DelDest):
        k = op.dest
        return f"{name} {op.service} -> {format_addr_port(k.af, k.addr, k.port)}"
    if isinstance(op, Zero):
        return f"{name} {op.service if op.service is not None else 'all'}"
    if isinstance(op, SetTimeouts):
        return f"{name} {op.tcp} {op.tcpfin} {op.udp}"
    if isinstance(op, StartDaemon):
        c = op.config
        return (
            f"{name} {c.state} ifn={c.mcast_ifn} syncid={c.syncid} maxlen={c.sync_maxlen}"
            f" group={c.mcast_group!r} port={c.mcast_port} ttl={c.mcast_ttl}"
        )
    if isinstance(op, StopDaemon):
        return f"{name} {op.state}"
    return name


# -- the case's names ------------------------------------------------------------


def _lines(text: str) -> Iterator[list[str]]:
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            yield shlex.split(line)


def build_resolver(text: str) -> StaticResolver:
    hosts: dict[str, int] = {}
    addrs: dict[tuple[int, int], str] = {}
    services: dict[tuple[str, str], int] = {}
    ports: dict[tuple[int, str], str] = {}
    for words in _lines(text):
        kind = words[0]
        if kind in ("host", "forward", "reverse"):
            name, addr_text = (words[2], words[1]) if kind == "reverse" else (words[1], words[2])
            v4 = inet_pton4(addr_text)
            af, addr = (AF_INET, v4) if v4 is not None else (AF_INET6, inet_pton6(addr_text))
            assert addr is not None, addr_text
            if kind != "reverse" and af == AF_INET:
                hosts[name] = addr
            if kind != "forward":
                addrs[(af, addr)] = name
        elif kind == "service":
            name, port, proto = words[1], int(words[2]), words[3]
            services[(name, proto)] = port
            ports.setdefault((port, proto), name)
        else:
            raise ValueError(f"bad names line {words}")
    return StaticResolver(hosts, addrs, services, ports)


# -- the starting state, in a real core ------------------------------------------


def build_ipvs(case: Case, resolver: StaticResolver) -> Ipvs:
    """The case's ``table``, ``timeouts`` and ``daemons`` applied to a fresh
    core as ops, the ``stats``/``counts`` lines set on its live objects."""
    ipvs = Ipvs(Random(0))
    for words in _lines(case.sections.get("table", "")):
        if words[0] in ("stats", "counts"):
            _set_numbers(ipvs, words, resolver)
        else:
            ipvs.apply(command_to_op(parse_argv("ipvsadm", words, resolver)), NOW)
    for words in _lines(case.sections.get("timeouts", "")):
        tcp, tcpfin, udp = map(int, words)
        ipvs.apply(SetTimeouts(tcp, tcpfin, udp), NOW)
    for words in _lines(case.sections.get("daemons", "")):
        # Values as given to --start-daemon: 0 and "-" leave the core's default.
        state, ifn, syncid, maxlen, group, port, ttl = words
        config = SyncDaemonConfig(
            state=state,
            mcast_ifn=ifn,
            syncid=int(syncid),
            sync_maxlen=int(maxlen),
            mcast_group="" if group == "-" else group,
            mcast_port=int(port),
            mcast_ttl=int(ttl),
        )
        ipvs.apply(StartDaemon(config), NOW)
    return ipvs


def _set_numbers(ipvs: Ipvs, words: list[str], resolver: StaticResolver) -> None:
    """``stats|counts <service option> [-r server] name=value...``: what the
    data path and the estimator would have left in the live objects."""
    kind = words[0]
    opts = [w for w in words[1:] if "=" not in w]
    values = {w.split("=")[0]: int(w.split("=")[1]) for w in words[1:] if "=" in w}
    cmd = parse_argv("ipvsadm", ["-d" if "-r" in opts else "-D", *opts], resolver)
    assert cmd.service_key is not None
    svc = ipvs.service(cmd.service_key)
    assert svc is not None, words
    if cmd.dest is None:
        assert kind == "stats", words
        _set_stats(svc.stats, values)
        return
    dest = ipvs.dest(cmd.service_key, cmd.dest.key)
    assert dest is not None, words
    if kind == "stats":
        _set_stats(dest.stats, values)
    else:
        assert set(values) <= {"active", "inactive", "persist"}, values
        dest.activeconns = values.get("active", 0)
        dest.inactconns = values.get("inactive", 0)
        dest.persistconns = values.get("persist", 0)


_COUNTERS = ("conns", "inpkts", "outpkts", "inbytes", "outbytes")
_RATES = {"cps": 10, "inpps": 10, "outpps": 10, "inbps": 5, "outbps": 5}


def _set_stats(stats: Stats, values: dict[str, int]) -> None:
    """Counters as if counted and snapshotted by the estimator (zero point 0),
    rates as the estimator's scaled averages (2^10 or 2^5, see stats.py)."""
    assert set(values) <= set(_COUNTERS) | set(_RATES), values
    c, ip, op, ib, ob = (values.get(name, 0) for name in _COUNTERS)
    counters = (c, ip, op, ib, ob)
    stats.conns, stats.inpkts, stats.outpkts, stats.inbytes, stats.outbytes = counters
    stats.kstats = stats.last = counters
    stats.k0 = (0, 0, 0, 0, 0)
    for name, shift in _RATES.items():
        setattr(stats, "avg_" + name, values.get(name, 0) << shift)


_PROTOCOLS = {"TCP": IPPROTO_TCP, "UDP": IPPROTO_UDP, "SCTP": IPPROTO_SCTP, "IP": IPPROTO_IP}


def _addr_port(text: str) -> tuple[int, int, int]:
    host, _, port = text.rpartition(":")
    if host.startswith("["):
        addr = inet_pton6(host[1:-1])
        assert addr is not None, text
        return AF_INET6, addr, int(port)
    addr = inet_pton4(host)
    assert addr is not None, text
    return AF_INET, addr, int(port)


def build_conns(text: str) -> list[ConnInfo]:
    conns = []
    for words in _lines(text):
        af, caddr, cport = _addr_port(words[3])
        _, vaddr, vport = _addr_port(words[4])
        daf, daddr, dport = _addr_port(words[5])
        pe_name, pe_data = [*words[6:8], "", ""][:2]
        conns.append(
            ConnInfo(
                protocol=_PROTOCOLS[words[0]],
                af=af,
                caddr=caddr,
                cport=cport,
                vaddr=vaddr,
                vport=vport,
                daf=daf,
                daddr=daddr,
                dport=dport,
                state=words[2],
                expires=int(words[1]),
                pe_name=pe_name,
                pe_data=pe_data,
            )
        )
    return conns


class CaseDispatcher(Dispatcher):
    """The production dispatcher, recording the ops of every ``apply``
    request as the daemon decodes them (refused ones included: a failing
    command's op is part of what a case checks), and serving the case's
    connections.

    The connection listing is the one fake: the core creates connections
    only from traffic, while cases list arbitrary entries (any state, any
    expiry, persistence-engine data).
    """

    def __init__(self, ipvs: Ipvs, conns: list[ConnInfo]) -> None:
        super().__init__(ipvs, lambda: NOW)
        self.conns = conns
        self.ops: list[Op] = []

    def _cmd_apply(self, request: dict[str, Any]) -> dict[str, Any]:
        self.ops.extend(self._ops(request))
        return super()._cmd_apply(request)

    def _cmd_get_conns(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"conns": [conn_to_wire(c) for c in self.conns]}


# -- running ---------------------------------------------------------------------


@dataclass
class Result:
    stdout: str = ""
    stderr: str = ""
    status: int = 0
    op: str = ""


_POPT_ENV = ("POSIXLY_CORRECT", "POSIX_ME_HARDER")


@contextmanager
def _environment(env: str) -> Iterator[None]:
    """The case's ``env`` (``NAME=value ...``) over the popt variables."""
    saved = {name: os.environ.pop(name, None) for name in _POPT_ENV}
    wanted = dict(word.partition("=")[::2] for word in env.split())
    assert set(wanted) <= set(_POPT_ENV), wanted
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            os.environ.pop(name, None)
            if value is not None:
                os.environ[name] = value


class Runner:
    def __init__(self, case: Case) -> None:
        self.case = case
        self.resolver = build_resolver(case.sections.get("names", ""))
        self.ipvs = build_ipvs(case, self.resolver)
        self.dispatcher = CaseDispatcher(self.ipvs, build_conns(case.sections.get("conns", "")))

    def connect(self, path: str) -> ControlClient:
        assert path == SOCKET_PATH, path
        return LocalClient(self.dispatcher)

    def run(self) -> Result:
        case = self.case
        out, err = io.StringIO(), io.StringIO()
        stdin = io.StringIO(case.sections.get("stdin", ""))
        argv = [case.prog, *case.args]
        with _environment(case.headers.get("env", "")):
            if case.tool == "ipvsadm-save":
                status = save_script(argv, out, err, SOCKET_PATH, self.resolver, self.connect)
            elif case.tool == "ipvsadm-restore":
                status = restore_script(
                    argv, stdin, out, err, SOCKET_PATH, self.resolver, self.connect
                )
            else:
                adm = IpvsAdm(
                    case.prog,
                    out,
                    err,
                    SOCKET_PATH,
                    inp=stdin,
                    resolver=self.resolver,
                    connect=self.connect,
                )
                status = adm.run(case.args)
        ops = "".join(describe_op(op) + "\n" for op in self.dispatcher.ops)
        return Result(out.getvalue(), err.getvalue(), status, ops)
