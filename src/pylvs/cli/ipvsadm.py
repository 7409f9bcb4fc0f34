"""``pylvsadm``: ipvsadm 1.31, with the table held by a pylvs daemon.

The parsing, checks and output are the pure ``pylvs.ipvsadm`` package; this
module connects them to the daemon's control socket, stdin/stdout/stderr and
the exit status.
"""

from __future__ import annotations

import gc
import io
import os
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol, TextIO

from pylvs.api.client import Client, ConnectError, RemoteError
from pylvs.api.wire import (
    conn_from_wire,
    daemon_info_from_wire,
    op_to_wire,
    service_info_from_wire,
    service_key_to_wire,
    timeouts_from_wire,
)
from pylvs.core.errors import IpvsError, PylvsError, UsageError
from pylvs.core.ops import Op
from pylvs.ipvsadm import Command, ListTarget, ProcessCrash, Resolver, command_to_op, parse_argv
from pylvs.ipvsadm.render import (
    render_connections,
    render_daemons,
    render_service,
    render_table,
    render_timeouts,
)
from pylvs.ipvsadm.resolver import SocketResolver
from pylvs.ipvsadm.restore import (
    LineOutcome,
    outcome_of_error,
    restore_script_input,
    split_restore_input,
)
from pylvs.ipvsadm.save import render_save, save_script_args
from pylvs.ipvsadm.usage import usage_text, version_text
from pylvs.runtime.paths import default_socket_path

__all__ = ["IpvsAdm", "main", "restore_main", "restore_script", "save_main", "save_script"]

# Restore: table changes are sent in batches of this many ops per request,
# with up to this many batches awaiting their replies.
RESTORE_BATCH = 2000
RESTORE_IN_FLIGHT = 3
SUCCESS = LineOutcome(0, False)


class ControlClient(Protocol):
    """What pylvsadm needs of a connection to the daemon."""

    def call(self, cmd: str, **fields: Any) -> dict[str, Any]: ...

    def send(self, cmd: str, **fields: Any) -> None: ...

    def receive(self) -> dict[str, Any]: ...

    def close(self) -> None: ...


class IpvsAdm:
    """One pylvsadm invocation: argv in, output written, exit status out."""

    def __init__(
        self,
        prog: str,
        out: TextIO,
        err: TextIO,
        socket_path: str,
        inp: TextIO | None = None,
        resolver: Resolver | None = None,
        connect: Callable[[str], ControlClient] = Client,
    ) -> None:
        self.prog = prog
        self.out = out
        self.err = err
        self.inp = inp if inp is not None else sys.stdin
        self.socket_path = socket_path
        self.resolver: Resolver = resolver or SocketResolver()
        self._connect = connect
        self._client: ControlClient | None = None

    # --- the daemon ----------------------------------------------------
    @property
    def client(self) -> ControlClient:
        if self._client is None:
            self._client = self._connect(self.socket_path)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def cannot_initialize(self, e: ConnectError) -> int:
        reason = os.strerror(e.errno) if e.errno else str(e.strerror)
        self.err.write(
            f"Can't initialize ipvs: {reason} (no pylvs daemon at {self.socket_path})\n"
            "Are you sure that IP Virtual Server is built in the kernel or as module?\n"
            "Start one with 'pylvs run' (or point PYLVS_SOCKET at its control socket).\n"
        )
        return 2

    # --- entry ---------------------------------------------------------
    def run(self, args: Sequence[str]) -> int:
        try:
            if not _asks_help_or_version(args):
                # ipvsadm opens the kernel interface before it reads argv.
                self.client.call("get-info")
            return self._one(args, reading_stdin=False).status
        except ConnectError as e:
            return self.cannot_initialize(e)
        finally:
            self.close()

    def _fail(self, e: PylvsError) -> LineOutcome:
        if isinstance(e, ProcessCrash):
            self.err.write(
                f"{self.prog}: ipvsadm 1.31 "
                + ("crashes" if e.kind == "segfault" else "never returns")
                + " on this command line; pylvsadm refuses it\n"
            )
        elif e.message or not isinstance(e, UsageError):
            self.err.write(e.message + "\n")
        return outcome_of_error(e)

    def _one(self, args: Sequence[str], reading_stdin: bool) -> LineOutcome:
        try:
            cmd = parse_argv(
                self.prog,
                args,
                self.resolver,
                reading_stdin=reading_stdin,
                posixly_correct=_posixly_correct(),
            )
            return self._execute(cmd)
        except PylvsError as e:
            return self._fail(e)

    def _execute(self, cmd: Command) -> LineOutcome:
        if cmd.name == "help":
            self.out.write(usage_text(self.prog))
            return LineOutcome(0, True)
        if cmd.name == "version":
            self.out.write(version_text())
            return LineOutcome(0, True)
        if cmd.changes_table:
            self._apply([command_to_op(cmd)], atomic=True, names=[cmd.name])
            return SUCCESS
        if cmd.name == "list":
            self._list(cmd)
            return SUCCESS
        if cmd.name == "save":
            services = [
                service_info_from_wire(s) for s in self.client.call("get-services")["services"]
            ]
            self.out.write(render_save(services, cmd.fmt, self.resolver))
            return SUCCESS
        if cmd.name == "restore":
            return LineOutcome(self.restore(self.inp), True)
        raise UsageError(f"unsupported command {cmd.name}")

    def _apply(self, ops: list[Op], atomic: bool, names: list[str]) -> list[IpvsError | None]:
        self._send_apply(ops, atomic)
        return self._receive_apply(names)

    def _send_apply(self, ops: list[Op], atomic: bool) -> None:
        self.client.send("apply", ops=[op_to_wire(op) for op in ops], atomic=atomic)

    def _receive_apply(self, names: list[str]) -> list[IpvsError | None]:
        try:
            reply = self.client.receive()
        except RemoteError as e:
            raise IpvsError(e.error.get("command") or names[0], e.errno) from None
        return [
            None if r is None else IpvsError(r.get("command") or name, int(r["errno"]))
            for name, r in zip(names, reply["results"], strict=True)
        ]

    def _list(self, cmd: Command) -> None:
        fmt = cmd.fmt
        target = cmd.list_target
        c = self.client
        if target is ListTarget.CONNECTIONS:
            conns = [conn_from_wire(x) for x in c.call("get-conns")["conns"]]
            self.out.write(render_connections(conns, fmt, self.resolver))
        elif target is ListTarget.SERVICE:
            assert cmd.service_key is not None
            try:
                reply = c.call("get-services", service=service_key_to_wire(cmd.service_key))
            except RemoteError as e:
                raise IpvsError("list", e.errno, exit_status=1) from None
            self.out.write(
                render_service(service_info_from_wire(reply["services"][0]), fmt, self.resolver)
            )
        elif target is ListTarget.TIMEOUTS:
            self.out.write(render_timeouts(timeouts_from_wire(c.call("get-timeouts")["timeouts"])))
        elif target is ListTarget.DAEMONS:
            daemons = [daemon_info_from_wire(d) for d in c.call("get-daemons")["daemons"]]
            self.out.write(render_daemons(daemons))
        else:
            info = c.call("get-info")
            services = [service_info_from_wire(s) for s in c.call("get-services")["services"]]
            self.out.write(
                render_table(
                    services,
                    fmt,
                    self.resolver,
                    version=int(info.get("version", 0x010201)),
                    size=int(info.get("conn_tab_size", 4096)),
                )
            )

    # --- restore -------------------------------------------------------
    def restore(self, stream: TextIO) -> int:
        """``ipvsadm -R``: each line an ipvsadm run (reference §3.2).

        Table changes travel in batches, applied one by one as lines are, and
        several batches are in flight at once so that parsing here and
        applying in the daemon overlap; errors are still printed in line
        order, and anything else (a listing, a failing line) first waits for
        what was sent before it. The exit status is the last line's, unless a
        line ends the restore.
        """
        pending: list[tuple[Op, str]] = []
        in_flight: deque[list[str]] = deque()
        status = 0
        last_batch_status: int | None = None

        def collect_one() -> None:
            nonlocal last_batch_status
            for r in self._receive_apply(in_flight.popleft()):
                if r is not None:
                    self.err.write(r.message + "\n")
                last_batch_status = 0 if r is None else 255

        def send_pending() -> None:
            if pending:
                self._send_apply([op for op, _ in pending], atomic=False)
                in_flight.append([n for _, n in pending])
                pending.clear()

        def settle() -> int | None:
            """Send and collect everything; the last change's status, if any."""
            nonlocal last_batch_status
            send_pending()
            last_batch_status = None
            while in_flight:
                collect_one()
            return last_batch_status

        for args in _restore_lines(stream):
            try:
                cmd = parse_argv(
                    self.prog,
                    args,
                    self.resolver,
                    reading_stdin=True,
                    posixly_correct=_posixly_correct(),
                )
            except PylvsError as e:
                settle()
                outcome = self._fail(e)
            else:
                if cmd.changes_table:
                    pending.append((command_to_op(cmd), cmd.name))
                    status = 0
                    if len(pending) >= RESTORE_BATCH:
                        send_pending()
                        while len(in_flight) > RESTORE_IN_FLIGHT:
                            collect_one()
                    continue
                settle()
                outcome = self._one_parsed(cmd)
            status = outcome.status
            if outcome.ends_restore:
                return status
        last = settle()
        return status if last is None else last

    def _one_parsed(self, cmd: Command) -> LineOutcome:
        try:
            return self._execute(cmd)
        except PylvsError as e:
            return self._fail(e)


def _posixly_correct() -> bool:
    """popt reads these from the environment (it stops at the first non-option)."""
    return "POSIXLY_CORRECT" in os.environ or "POSIX_ME_HARDER" in os.environ


def _restore_lines(stream: TextIO) -> Iterator[list[str]]:
    yield from split_restore_input(stream.read())


def _asks_help_or_version(args: Sequence[str]) -> bool:
    if not args:
        return False
    first = args[0]
    return first in ("-h", "--help", "-v", "--version") or (
        first.startswith("-") and not first.startswith("--") and first[1:2] in ("h", "v")
    )


def main(argv: Sequence[str] | None = None) -> int:
    # A short-lived command that may build 100,000 objects for one listing:
    # the cyclic garbage collector would only slow it down.
    gc.disable()
    args = list(sys.argv if argv is None else argv)
    adm = IpvsAdm(args[0] if args else "pylvsadm", sys.stdout, sys.stderr, default_socket_path())
    status = adm.run(args[1:])
    sys.stdout.flush()
    return status


def _script_tool(script: str, suffix: str) -> str:
    """The ipvsadm a script runs: ``pylvsadm-save`` runs ``pylvsadm``
    (and an ``ipvsadm-save`` link runs ``ipvsadm``)."""
    name = os.path.basename(script) or "pylvsadm"
    return name[: -len(suffix)] if name.endswith(suffix) else "pylvsadm"


def save_script(
    argv: Sequence[str],
    out: TextIO,
    err: TextIO,
    socket_path: str,
    resolver: Resolver | None = None,
    connect: Callable[[str], ControlClient] = Client,
) -> int:
    """The ipvsadm-save script (reference §3.1): ``argv[0]`` is the script's
    name, ``-n`` asks for numeric output, and it runs ``pylvsadm -S [-n]``."""
    prog = argv[0] if argv else "pylvsadm-save"
    try:
        numeric = save_script_args(prog, argv[1:])
    except UsageError as e:
        err.write(e.message + "\n")
        return e.exit_status
    adm = IpvsAdm(_script_tool(prog, "-save"), out, err, socket_path, None, resolver, connect)
    return adm.run(["-S", "-n"] if numeric else ["-S"])


def save_main(argv: Sequence[str] | None = None) -> int:
    """``pylvsadm-save [-n]``."""
    gc.disable()
    args = list(sys.argv if argv is None else argv)
    return save_script(args, sys.stdout, sys.stderr, default_socket_path())


def restore_script(
    argv: Sequence[str],
    inp: TextIO,
    out: TextIO,
    err: TextIO,
    socket_path: str,
    resolver: Resolver | None = None,
    connect: Callable[[str], ControlClient] = Client,
) -> int:
    """The ipvsadm-restore script (reference §3.2): drop lines starting with
    '#', flush the table, then ``-R`` the rest; arguments are ignored."""
    prog = _script_tool(argv[0] if argv else "pylvsadm-restore", "-restore")
    text = restore_script_input(inp.read())
    adm = IpvsAdm(prog, out, err, socket_path, io.StringIO(text), resolver, connect)
    status = adm.run(["-C"])
    if status == 2:  # no daemon: said so already
        return status
    return adm.run(["-R"])


def restore_main(argv: Sequence[str] | None = None) -> int:
    """``pylvsadm-restore``."""
    gc.disable()
    args = list(sys.argv if argv is None else argv)
    return restore_script(args, sys.stdin, sys.stdout, sys.stderr, default_socket_path())


if __name__ == "__main__":
    sys.exit(main())
