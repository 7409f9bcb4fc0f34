"""``pylvs run``: start the director daemon in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from pylvs.api.wire import parse_ip
from pylvs.dataplane.proxy.plane import ProxyProtocolRule
from pylvs.runtime.control import SocketInUse
from pylvs.runtime.daemon import Daemon, DaemonOptions
from pylvs.runtime.logsetup import setup_logging
from pylvs.runtime.paths import default_socket_path
from pylvs.runtime.planes import PLANES, PlaneUnavailable

__all__ = ["add_parser"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("run", help="run the director daemon (foreground)")
    p.add_argument("--dataplane", choices=PLANES, default="auto", help="data plane (default: auto)")
    p.add_argument(
        "--socket", metavar="PATH", help="control socket (default: $PYLVS_SOCKET or per-user path)"
    )
    p.add_argument("--restore", metavar="FILE", help="load ipvsadm-save rules at start")
    p.add_argument(
        "--save-on-exit", metavar="FILE", help="write the rules (ipvsadm-save -n) at stop"
    )
    p.add_argument("-S", "--log-facility", type=int, choices=range(8), metavar="0-7",
                   help="also log to syslog facility LOCAL0..LOCAL7")  # fmt: skip
    p.add_argument("-D", "--log-detail", action="store_true", help="detailed (debug) log messages")
    p.add_argument(
        "--proxy-protocol", action="append", default=[], metavar="[ADDR:PORT=]v1|v2",
        help="proxy plane: send a PROXY protocol header to this real server (or to all)",
    )  # fmt: skip
    p.add_argument("--connect-timeout", type=float, default=5.0, metavar="SECS",
                   help="proxy plane: give up connecting to a real server after this long")  # fmt: skip
    p.add_argument("--sysctl", action="append", default=[], metavar="NAME=VALUE",
                   help="set an IPVS sysctl at start (e.g. expire_nodest_conn=1)")  # fmt: skip
    p.set_defaults(func=run)


def parse_proxy_rule(text: str) -> ProxyProtocolRule:
    """``v2`` (every real server) or ``10.0.1.11:80=v1`` / ``[::1]:80=v2``."""
    where, _, version = text.rpartition("=")
    if version not in ("v1", "v2"):
        raise ValueError(f"--proxy-protocol {text!r}: the version is v1 or v2")
    dest = None
    if where:
        host, _, port = where.rpartition(":")
        parsed = parse_ip(host.strip("[]"))
        if parsed is None or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError(f"--proxy-protocol {text!r}: expected ADDR:PORT=v1|v2")
        dest = (parsed[0], parsed[1], int(port))
    return ProxyProtocolRule(int(version[1]), dest)


def parse_sysctl(text: str) -> tuple[str, int | list[int]]:
    name, eq, value = text.partition("=")
    try:
        parsed: int | list[int] = (
            [int(v) for v in value.split()] if " " in value.strip() else int(value)
        )
    except ValueError:
        raise ValueError(f"--sysctl {text!r}: expected NAME=INTEGER") from None
    if not eq:
        raise ValueError(f"--sysctl {text!r}: expected NAME=VALUE")
    return name, parsed


def _event_loop_policy() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def run(args: argparse.Namespace) -> int:
    setup_logging(verbose=args.log_detail, syslog_facility=args.log_facility)
    log = logging.getLogger("pylvs")
    try:
        rules = [parse_proxy_rule(r) for r in args.proxy_protocol]
        sysctls = dict(parse_sysctl(s) for s in args.sysctl)
    except ValueError as e:
        log.error("%s", e)
        return 2
    options = DaemonOptions(
        socket_path=args.socket or default_socket_path(),
        dataplane=args.dataplane,
        restore=args.restore,
        save_on_exit=args.save_on_exit,
        proxy_protocol=rules,
        connect_timeout=args.connect_timeout,
        sysctl=sysctls,
    )
    _event_loop_policy()
    try:
        return asyncio.run(Daemon(options).run())
    except (SocketInUse, PlaneUnavailable, KeyError, ValueError) as e:
        log.error("%s", e)
        return 1
    except OSError as e:
        log.error("cannot start: %s", e)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(1)
