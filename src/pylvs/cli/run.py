"""``pylvs run``: start the director daemon in the foreground."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

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
    p.set_defaults(func=run)


def _event_loop_policy() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def run(args: argparse.Namespace) -> int:
    setup_logging(verbose=args.log_detail, syslog_facility=args.log_facility)
    log = logging.getLogger("pylvs")
    options = DaemonOptions(
        socket_path=args.socket or default_socket_path(),
        dataplane=args.dataplane,
        restore=args.restore,
        save_on_exit=args.save_on_exit,
    )
    _event_loop_policy()
    try:
        return asyncio.run(Daemon(options).run())
    except (SocketInUse, PlaneUnavailable) as e:
        log.error("%s", e)
        return 1
    except OSError as e:
        log.error("cannot start: %s", e)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(1)
