"""``pylvs run``: start the director daemon in the foreground.

With ``-f keepalived.conf`` (keepalived mode) it is also keepalived's checker
process: it accepts keepalived's command line (short options combine as with
getopt: ``-nlD``), ``-t`` tests the file as ``keepalived -t`` does, and the
daemon owns the table from the file (pylvs.keepalived).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from pylvs.api.wire import parse_ip
from pylvs.cli.status import sysctl_value
from pylvs.config import DEFAULT_CONFIG, LoadOptions, load
from pylvs.config import config_test as check_config
from pylvs.dataplane.proxy.plane import ProxyProtocolRule
from pylvs.keepalived.director import KeepalivedOptions, log_diagnostics, tmp_dir
from pylvs.keepalived.gate import start_refusal
from pylvs.keepalived.signums import signum
from pylvs.runtime.control import SocketInUse
from pylvs.runtime.daemon import Daemon, DaemonOptions
from pylvs.runtime.logsetup import parse_facility, setup_logging
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
    p.add_argument("-S", "--log-facility", metavar="FACILITY",
                   help="also log to syslog: 0-7 or local0-7 (LOCAL0..LOCAL7), daemon, user")  # fmt: skip
    p.add_argument("-D", "--log-detail", action="count", default=0,
                   help="detailed (debug) log messages")  # fmt: skip
    p.add_argument(
        "--proxy-protocol", action="append", default=[], metavar="[ADDR:PORT=]v1|v2",
        help="proxy plane: send a PROXY protocol header to this real server (or to all)",
    )  # fmt: skip
    p.add_argument("--connect-timeout", type=float, default=5.0, metavar="SECS",
                   help="proxy plane: give up connecting to a real server after this long")  # fmt: skip
    p.add_argument("--sysctl", action="append", default=[], metavar="NAME=VALUE",
                   help="set an IPVS sysctl at start (e.g. expire_nodest_conn=1)")  # fmt: skip
    k = p.add_argument_group(
        "keepalived", "keepalived's own options: -f FILE runs the daemon from a keepalived.conf"
    )
    k.add_argument("-f", "--use-file", metavar="FILE",
                   help=f"own the table from this keepalived.conf (default {DEFAULT_CONFIG} "
                   "when -d, -P, -C or -I is given)")  # fmt: skip
    k.add_argument("-t", "--config-test", nargs="?", const="", metavar="LOG_FILE",
                   help="check the configuration, print its errors (to LOG_FILE) and exit "
                   "with keepalived's status")  # fmt: skip
    k.add_argument("-d", "--dump-conf", action="store_true", help="log the configuration read")
    k.add_argument("-p", "--pid", metavar="FILE", help="write the daemon's pid to FILE")
    k.add_argument("-I", "--dont-release-ipvs", action="store_true",
                   help="leave the virtual servers in the table at stop")  # fmt: skip
    k.add_argument("-P", "--vrrp", action="store_true", help="VRRP only (no health checks)")
    k.add_argument("-C", "--check", action="store_true", help="health checks only (no VRRP)")
    k.add_argument("-i", "--config-id", metavar="ID", help="config id for @ID lines")
    k.add_argument("--signum", metavar="SIGFUNC",
                   help="print the signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, "
                   "JSON and exit")  # fmt: skip
    k.add_argument(
        "-n", "--dont-fork", action="store_true", help="accepted: pylvs runs in the foreground"
    )
    k.add_argument(
        "-l", "--log-console", action="store_true", help="accepted: pylvs logs to stderr"
    )
    k.add_argument("-G", "--no-syslog", action="store_true", help="do not log to syslog (default)")
    k.add_argument(
        "-R", "--dont-respawn", action="store_true", help="accepted: pylvs has no child processes"
    )
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
        parsed = sysctl_value(value)
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


def keepalived_mode(args: argparse.Namespace) -> bool:
    """``-f FILE`` turns keepalived mode on; so do keepalived's options that
    only make sense with a configuration (then with keepalived's default
    file, as keepalived would)."""
    return bool(
        args.use_file is not None
        or args.dump_conf
        or args.vrrp
        or args.check
        or args.dont_release_ipvs
    )


def config_test(args: argparse.Namespace) -> int:
    """``keepalived -t [-f FILE]``: errors on stderr (or appended to
    LOG_FILE), keepalived's exit status, nothing started."""
    path = args.use_file or DEFAULT_CONFIG
    opts = LoadOptions(config_id=args.config_id)
    if args.config_test:
        try:
            with open(args.config_test, "a") as out:
                return check_config(path, options=opts, out=lambda line: print(line, file=out))
        except OSError as e:
            print(f"Unable to open config-test log file {args.config_test} {e.errno} - {e.strerror}",
                  file=sys.stderr)  # fmt: skip
            return 1
    return check_config(path, options=opts, out=lambda line: print(line, file=sys.stderr))


def _keepalived_options(args: argparse.Namespace) -> KeepalivedOptions:
    return KeepalivedOptions(
        config_file=args.use_file or DEFAULT_CONFIG,
        dump_conf=args.dump_conf,
        dont_release_ipvs=args.dont_release_ipvs,
        vrrp_only=args.vrrp,
        check_only=args.check,
        config_id=args.config_id,
        tmp_dir=tmp_dir(),
    )


def run(args: argparse.Namespace) -> int:
    if args.signum is not None:
        number = signum(args.signum)
        if number is None:
            print(f"Unknown sigfunc {args.signum}", file=sys.stderr)
            return 1
        print(number)
        return 0
    if args.config_test is not None:
        return config_test(args)
    facility = None
    if args.log_facility is not None and not args.no_syslog:
        facility = parse_facility(args.log_facility)
        if facility is None:
            print(f"Invalid log facility '{args.log_facility}'", file=sys.stderr)
    setup_logging(verbose=args.log_detail > 0, facility_code=facility)
    log = logging.getLogger("pylvs")
    try:
        rules = [parse_proxy_rule(r) for r in args.proxy_protocol]
        sysctls = dict(parse_sysctl(s) for s in args.sysctl)
    except ValueError as e:
        log.error("%s", e)
        return 2
    keepalived = None
    loaded = None
    if keepalived_mode(args):
        if args.vrrp and args.check:
            log.error("-P (VRRP only) and -C (checks only) together leave nothing to run")
            return 1
        keepalived = _keepalived_options(args)
        loaded = load(keepalived.config_file, options=LoadOptions(config_id=args.config_id))
        log_diagnostics(loaded)
        refused = start_refusal(loaded)
        if refused is not None:
            log.error("no usable configuration in %s - not starting", keepalived.config_file)
            return refused[0]
    options = DaemonOptions(
        socket_path=args.socket or default_socket_path(),
        dataplane=args.dataplane,
        restore=args.restore,
        save_on_exit=args.save_on_exit,
        proxy_protocol=rules,
        connect_timeout=args.connect_timeout,
        sysctl=sysctls,
        keepalived=keepalived,
        keepalived_config=loaded,
    )
    if args.pid is not None:
        try:
            write_pid_file(args.pid)
        except OSError as e:
            log.error("cannot write pid file %s: %s", args.pid, e.strerror)
            return 1
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
    finally:
        if args.pid is not None:
            remove_pid_file(args.pid)


def write_pid_file(path: str) -> None:
    with open(path, "w") as f:
        f.write(f"{os.getpid()}\n")


def remove_pid_file(path: str) -> None:
    """Only our own: another daemon may have written it since."""
    try:
        with open(path) as f:
            mine = f.read().strip() == str(os.getpid())
        if mine:
            os.unlink(path)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(1)
