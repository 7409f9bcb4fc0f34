"""Runs golden cases: one ipvsadm (or ipvsadm-save/-restore) invocation
against a small in-memory table, with pylvs.ipvsadm doing all parsing and
printing.

A case file (``cases/*.case``) is header lines ``key: value`` followed by
sections ``--- name``; a section's text is every line up to the next
section line, newlines and trailing spaces included. See cases/README.
"""

from __future__ import annotations

import errno
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from pylvs.core.addr import (
    AF_INET,
    AF_INET6,
    IPPROTO_IP,
    IPPROTO_SCTP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    format_addr_port,
)
from pylvs.core.errors import IpvsError, PylvsError
from pylvs.core.info import ConnInfo, DestInfo, ServiceInfo, SyncDaemonInfo, Timeouts
from pylvs.core.model import DestKey, ServiceKey, ServiceSpec
from pylvs.core.ops import (
    AddDest,
    AddService,
    DelDest,
    DelService,
    EditDest,
    EditService,
    Flush,
    Op,
    SetTimeouts,
    StartDaemon,
    StopDaemon,
    Zero,
)
from pylvs.core.stats import StatsView
from pylvs.ipvsadm.argv import (
    WEIGHT_MAX_DEBIAN,
    WEIGHT_MAX_UPSTREAM,
    ProcessCrash,
    parse_argv,
)
from pylvs.ipvsadm.command import Command, ListTarget, command_to_op
from pylvs.ipvsadm.inet import inet_ntop4, inet_pton4, inet_pton6
from pylvs.ipvsadm.lookup import StaticResolver
from pylvs.ipvsadm.render import (
    render_connections,
    render_daemons,
    render_service,
    render_table,
    render_timeouts,
)
from pylvs.ipvsadm.restore import (
    HELP_OR_VERSION,
    SUCCESS,
    LineOutcome,
    outcome_of_error,
    restore_exit_status,
    restore_script_input,
    split_restore_input,
)
from pylvs.ipvsadm.save import render_save, save_script_args
from pylvs.ipvsadm.usage import usage_text, version_text

ZERO_STATS = StatsView(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
_STAT_FIELDS = StatsView.__dataclass_fields__.keys()


@dataclass
class Case:
    name: str
    headers: dict[str, str]
    sections: dict[str, str]

    @property
    def prog(self) -> str:
        return self.headers.get("prog", "ipvsadm")

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
    return Case(path.stem, headers, sections)


@dataclass
class Kernel:
    """The little of IPVS the cases need: services in insertion order,
    servers newest first, a few errnos."""

    services: list[ServiceInfo] = field(default_factory=list)
    conns: list[ConnInfo] = field(default_factory=list)
    timeouts: Timeouts = field(default_factory=lambda: Timeouts(900, 120, 300))
    daemons: list[SyncDaemonInfo] = field(default_factory=list)

    def find(self, key: ServiceKey) -> int | None:
        for i, svc in enumerate(self.services):
            if svc.spec.key == key:
                return i
        return None

    def _svc(self, command: str, key: ServiceKey) -> int:
        i = self.find(key)
        if i is None:
            raise IpvsError(command, errno.ESRCH)
        return i

    def apply(self, op: Op) -> None:
        if isinstance(op, AddService):
            if self.find(op.spec.key) is not None:
                raise IpvsError(op.command, errno.EEXIST)
            self.services.append(ServiceInfo(op.spec, ZERO_STATS, ()))
        elif isinstance(op, EditService):
            i = self._svc(op.command, op.spec.key)
            self.services[i] = replace(self.services[i], spec=op.spec)
        elif isinstance(op, DelService):
            del self.services[self._svc(op.command, op.key)]
        elif isinstance(op, Flush):
            self.services.clear()
        elif isinstance(op, AddDest | EditDest | DelDest):
            i = self._svc(op.command, op.service)
            svc = self.services[i]
            want = op.dest if isinstance(op.dest, DestKey) else op.dest.key
            present = [d.spec.key == want for d in svc.dests]
            if isinstance(op, AddDest):
                if any(present):
                    raise IpvsError(op.command, errno.EEXIST)
                dests = (DestInfo(op.dest, 0, 0, 0, ZERO_STATS), *svc.dests)
            elif not any(present):
                raise IpvsError(op.command, errno.ENOENT)
            elif isinstance(op, EditDest):
                dests = tuple(
                    replace(d, spec=op.dest) if d.spec.key == want else d for d in svc.dests
                )
            else:
                dests = tuple(d for d in svc.dests if d.spec.key != want)
            self.services[i] = replace(svc, dests=dests)
        elif isinstance(op, Zero):
            if op.service is not None:
                self._svc(op.command, op.service)
        elif isinstance(op, SetTimeouts):
            old = self.timeouts
            self.timeouts = Timeouts(op.tcp or old.tcp, op.tcpfin or old.tcpfin, op.udp or old.udp)
        elif isinstance(op, StartDaemon):
            c = op.config
            if any(d.state == c.state for d in self.daemons):
                raise IpvsError(op.command, errno.EEXIST)
            self.daemons.append(
                SyncDaemonInfo(
                    c.state,
                    c.mcast_ifn,
                    c.syncid,
                    c.sync_maxlen,
                    c.mcast_group,
                    c.mcast_port,
                    c.mcast_ttl,
                )
            )
        elif isinstance(op, StopDaemon):
            if not any(d.state == op.state for d in self.daemons):
                raise IpvsError(op.command, errno.ESRCH)
            self.daemons = [d for d in self.daemons if d.state != op.state]


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


# -- building the starting state ---------------------------------------------


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


def _addr_port(text: str) -> tuple[int, int, int]:
    host, _, port = text.rpartition(":")
    if host.startswith("["):
        addr = inet_pton6(host[1:-1])
        assert addr is not None, text
        return AF_INET6, addr, int(port)
    addr = inet_pton4(host)
    assert addr is not None, text
    return AF_INET, addr, int(port)


_PROTOCOLS = {"TCP": IPPROTO_TCP, "UDP": IPPROTO_UDP, "SCTP": IPPROTO_SCTP, "IP": IPPROTO_IP}


def build_kernel(case: Case, resolver: StaticResolver) -> Kernel:
    k = Kernel()
    for words in _lines(case.sections.get("table", "")):
        if words[0] in ("stats", "counts"):
            _set_numbers(k, words, resolver)
            continue
        k.apply(command_to_op(parse_argv("ipvsadm", words, resolver)))
    for words in _lines(case.sections.get("conns", "")):
        af, caddr, cport = _addr_port(words[3])
        _, vaddr, vport = _addr_port(words[4])
        daf, daddr, dport = _addr_port(words[5])
        pe = words[6:8] if len(words) > 6 else ["", ""]
        k.conns.append(
            ConnInfo(
                _PROTOCOLS.get(words[0], 0),
                af,
                caddr,
                cport,
                vaddr,
                vport,
                daf,
                daddr,
                dport,
                words[2],
                int(words[1]),
                pe[0],
                pe[1] if len(pe) > 1 else "",
            )
        )
    for words in _lines(case.sections.get("timeouts", "")):
        k.timeouts = Timeouts(*map(int, words))
    for words in _lines(case.sections.get("daemons", "")):
        state, ifn, syncid, maxlen, group, port, ttl = words
        k.daemons.append(
            SyncDaemonInfo(
                state,
                ifn,
                int(syncid),
                int(maxlen),
                "" if group == "-" else group,
                int(port),
                int(ttl),
            )
        )
    return k


def _set_numbers(k: Kernel, words: list[str], resolver: StaticResolver) -> None:
    """``stats|counts <service option> [-r server] name=value...``"""
    kind = words[0]
    opts = [w for w in words[1:] if "=" not in w]
    values = {w.split("=")[0]: int(w.split("=")[1]) for w in words[1:] if "=" in w}
    if "-r" in opts:
        cmd = parse_argv("ipvsadm", ["-d", *opts], resolver)
    else:
        cmd = parse_argv("ipvsadm", ["-D", *opts], resolver)
    assert cmd.service_key is not None
    i = k.find(cmd.service_key)
    assert i is not None, words
    svc = k.services[i]
    if cmd.dest is None:
        assert kind == "stats"
        k.services[i] = replace(svc, stats=_stats(values))
        return
    dests = []
    for d in svc.dests:
        if d.spec.key == cmd.dest.key:
            if kind == "stats":
                d = replace(d, stats=_stats(values))
            else:
                d = replace(
                    d,
                    activeconns=values.get("active", 0),
                    inactconns=values.get("inactive", 0),
                    persistconns=values.get("persist", 0),
                )
        dests.append(d)
    k.services[i] = replace(svc, dests=tuple(dests))


def _stats(values: dict[str, int]) -> StatsView:
    assert set(values) <= set(_STAT_FIELDS), values
    return StatsView(**{f: values.get(f, 0) for f in _STAT_FIELDS})


# -- running ----------------------------------------------------------------


@dataclass
class Result:
    stdout: str = ""
    stderr: str = ""
    status: int = 0
    op: str = ""


class Runner:
    def __init__(self, case: Case) -> None:
        self.case = case
        self.resolver = build_resolver(case.sections.get("names", ""))
        self.kernel = build_kernel(case, self.resolver)
        self.result = Result()
        env = case.headers.get("env", "")
        self.posixly_correct = "POSIXLY_CORRECT" in env or "POSIX_ME_HARDER" in env
        weights = case.headers.get("weight-max", "debian")
        self.weight_max = WEIGHT_MAX_UPSTREAM if weights == "upstream" else WEIGHT_MAX_DEBIAN

    def run(self) -> Result:
        tool = self.case.headers.get("tool", "ipvsadm")
        if tool == "ipvsadm-save":
            try:
                numeric = save_script_args(self.case.prog, self.case.args)
            except PylvsError as err:
                self._fail(err)
                return self.result
            self._invoke(["-S", "-n"] if numeric else ["-S"], prog="ipvsadm")
        elif tool == "ipvsadm-restore":
            self.kernel.services.clear()
            stdin = restore_script_input(self.case.sections.get("stdin", ""))
            self.result.status = self._restore(stdin, prog="ipvsadm")
        else:
            outcome = self._invoke(self.case.args)
            self.result.status = outcome.status
        return self.result

    def _fail(self, err: PylvsError) -> LineOutcome:
        if not isinstance(err, ProcessCrash):  # a crash prints nothing
            self.result.stderr += err.message + "\n"
        self.result.status = err.exit_status
        return outcome_of_error(err)

    def _restore(self, stdin: str, prog: str) -> int:
        lines = split_restore_input(stdin)
        return restore_exit_status(self._invoke(line, prog, reading_stdin=True) for line in lines)

    def _invoke(
        self, args: list[str], prog: str | None = None, *, reading_stdin: bool = False
    ) -> LineOutcome:
        prog = prog or self.case.prog
        out = self.result
        try:
            cmd = parse_argv(
                prog,
                args,
                self.resolver,
                reading_stdin=reading_stdin,
                posixly_correct=self.posixly_correct,
                weight_max=self.weight_max,
            )
        except PylvsError as err:
            return self._fail(err)
        if cmd.name == "help":
            out.stdout += usage_text(prog)
            return HELP_OR_VERSION
        if cmd.name == "version":
            out.stdout += version_text()
            return HELP_OR_VERSION
        if cmd.name == "restore":
            status = self._restore(self.case.sections.get("stdin", ""), prog)
            return LineOutcome(status, False)
        if cmd.name == "save":
            out.stdout += render_save(self.kernel.services, cmd.fmt, self.resolver)
            return SUCCESS
        if cmd.name == "list":
            return self._list(cmd.list_target, cmd)
        op = command_to_op(cmd)
        out.op += describe_op(op) + "\n"
        try:
            self.kernel.apply(op)
        except IpvsError as err:
            return self._fail(err)
        return SUCCESS

    def _list(self, target: ListTarget, cmd: Command) -> LineOutcome:
        k, out, fmt = self.kernel, self.result, cmd.fmt
        if target is ListTarget.CONNECTIONS:
            out.stdout += render_connections(k.conns, fmt, self.resolver)
        elif target is ListTarget.SERVICE:
            assert cmd.service_key is not None
            i = k.find(cmd.service_key)
            if i is None:
                return self._fail(IpvsError("list", errno.ESRCH, 1))
            out.stdout += render_service(k.services[i], fmt, self.resolver)
        elif target is ListTarget.TIMEOUTS:
            out.stdout += render_timeouts(k.timeouts)
        elif target is ListTarget.DAEMONS:
            out.stdout += render_daemons(k.daemons)
        else:
            out.stdout += render_table(k.services, fmt, self.resolver)
        return SUCCESS
