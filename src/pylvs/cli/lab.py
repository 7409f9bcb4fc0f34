"""``pylvs lab``: the seed guide's network in network namespaces on this
machine (design: The lab), to learn LVS on a laptop and to test the data
planes.

    pylvs lab up --mode nat|dr|tun [--bare] [--dataplane NAME] [--force]
    pylvs lab status [--json]
    pylvs lab exec NODE -- CMD...
    pylvs lab down [--force]

Namespaces ``lvs-client``, ``lvs-router``, ``lvs-director``, ``lvs-web1`` and
``lvs-web2``, never linked to the host's own network: no lab packet can leave
the machine. State (mode, pids, logs, the director's control socket) lives in
/run/pylvs-lab/. Root only.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pylvs.lab.topology import (
    CLIENT_IP,
    DIRECTOR_IP,
    LAB_DIR,
    MODES,
    NODES,
    REAL_SERVERS,
    SOCKET,
    VIP,
    Topology,
    Tunnel,
    build,
    netns_name,
)

if TYPE_CHECKING:
    from pylvs.lab.survey import Survey

__all__ = ["add_parser"]

PROG = "pylvs lab"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "lab",
        help="the guide's network (client, router, director, web1, web2) in namespaces (root)",
        description="The seed guide's network (client, router, director, web1, web2) in "
        "network namespaces on this machine, never linked to the host's network. Root only.",
    )
    p.set_defaults(func=lambda args: _usage(p))
    actions = p.add_subparsers(dest="lab_command", metavar="ACTION")

    up = actions.add_parser("up", help="build the lab")
    up.add_argument("--mode", required=True, choices=MODES, help="LVS forwarding method to set up")
    up.add_argument(
        "--bare",
        action="store_true",
        help="leave the director's steps (VIP, ip_forward, the daemon) to you, as in the guide",
    )
    up.add_argument(
        "--dataplane", default="kernel", metavar="NAME",
        help="data plane of the director's pylvs daemon (default: kernel)",
    )  # fmt: skip
    up.add_argument(
        "--tunnel", choices=("auto", "kernel", "userspace"), default="auto",
        help="TUN mode: how real servers decapsulate IPIP -- the kernel's ipip "
        "device, or pylvs.lab.ipipd on a TUN device (default: auto, the kernel's if it has ipip)",
    )  # fmt: skip
    up.add_argument("--force", action="store_true", help="tear down an existing lab first")
    up.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    up.set_defaults(func=cmd_up)

    down = actions.add_parser("down", help="remove everything the lab made")
    down.add_argument(
        "--force", action="store_true",
        help="also delete lvs-* lab namespaces that have no record in " + LAB_DIR,
    )  # fmt: skip
    down.set_defaults(func=cmd_down)

    status = actions.add_parser("status", help="show what exists")
    status.add_argument("--json", action="store_true", help="machine-readable")
    status.set_defaults(func=cmd_status)

    ex = actions.add_parser(
        "exec",
        help="run a command in a lab node (PYLVS_SOCKET set to the director's daemon)",
        description="Run CMD (default: your shell) in namespace lvs-NODE with "
        f"PYLVS_SOCKET={SOCKET}; stdin, stdout and the exit status pass through.",
    )
    ex.add_argument("node", choices=NODES)
    ex.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD ...")
    ex.set_defaults(func=cmd_exec)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _pipe_safe(write: Callable[[], None]) -> None:
    """Print, tolerating a reader that went away (``pylvs lab status | head``)."""
    try:
        write()
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _err(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr)


def _preflight(action: str) -> bool:
    if os.geteuid() != 0:
        _err(
            f"needs root: it creates network namespaces, veths and a bridge; "
            f"try: sudo pylvs lab {action}"
        )
        return False
    if shutil.which("ip") is None:
        _err("needs iproute2's 'ip' command (Debian: apt install iproute2)")
        return False
    try:
        import pyroute2  # noqa: F401
    except ImportError:
        _err("needs pyroute2: pip install 'pylvs[kernel]'")
        return False
    return True


def cmd_up(args: argparse.Namespace) -> int:
    if not _preflight("up"):
        return 1
    from pylvs.lab import builder, state

    def say(message: str) -> None:
        if not args.quiet:
            print(f"lab: {message}", flush=True)

    try:
        current = state.load()
    except state.StateError as e:
        if not args.force:
            _err(f"{e}; 'pylvs lab down --force' removes it")
            return 1
        current = None
    present = builder.existing_namespaces()
    if current is not None or present:
        if not args.force:
            what = f"mode {current.mode}" if current else "namespaces " + " ".join(present)
            _err(
                f"a lab is already up ({what}); 'pylvs lab down' first, "
                "or 'pylvs lab up --force' to recreate it"
            )
            return 1
        report = builder.teardown(current, extra_namespaces=builder.lab_namespaces())
        say(f"removed the previous lab ({len(report.removed)} namespaces)")
    tunnel: Tunnel | None = None
    if args.mode == "tun":
        has_ipip = args.tunnel != "userspace" and builder.probe_kernel_ipip()
        if args.tunnel == "kernel" and not has_ipip:
            _err(
                "--tunnel kernel: this kernel cannot create an ipip device; use --tunnel userspace"
            )
            return 1
        tunnel = "kernel" if has_ipip else "userspace"
        if has_ipip:
            say("TUN real servers: the kernel's ipip tunl0 decapsulates")
        else:
            why = "as asked" if args.tunnel == "userspace" else "this kernel has no ipip"
            say(f"TUN real servers: pylvs.lab.ipipd decapsulates into a TUN tunl0 ({why})")
    topo = build(args.mode, bare=args.bare, dataplane=args.dataplane, tunnel=tunnel)
    try:
        builder.up(topo, say=say)
    except BaseException as e:
        report = builder.teardown(state.load())
        if isinstance(e, KeyboardInterrupt):
            _err("interrupted; the partial lab was removed")
            return 130
        if not isinstance(e, (builder.LabError, OSError)):
            raise
        _err(f"{e}")
        if getattr(e, "service", None) == "director/pylvs":
            _err(
                f"the director's daemon (--dataplane {args.dataplane}) did not start; "
                "try --dataplane none (holds the table, forwards nothing), "
                "--dataplane proxy, or --bare"
            )
        _err(f"the partial lab was removed ({len(report.removed)} namespaces)")
        return 1
    if not args.quiet:
        _pipe_safe(lambda: _print_summary(topo))
    return 0


def _method_flag(mode: str) -> str:
    return {"nat": "-m", "dr": "-g", "tun": "-i"}[mode]


def _print_summary(topo: Topology) -> None:
    mode = topo.mode
    vip_prefix = 24 if mode == "nat" else 32
    print(f"lab up: mode {mode}, VIP {VIP}")
    print(f"  client    lvs-client    {CLIENT_IP}/24, default via 10.0.2.1")
    print("  router    lvs-router    br0 10.0.1.1/24, eth1 10.0.2.1/24, ip_forward=1")
    if topo.bare:
        print(
            f"  director  lvs-director  eth0 {DIRECTOR_IP}/24 (bare: the guide's director steps are yours)"
        )
    else:
        print(
            f"  director  lvs-director  eth0 {DIRECTOR_IP}/24 + {VIP}/{vip_prefix} (eth0:0), "
            f"ip_forward=1, pylvs run --dataplane {topo.dataplane}"
        )
    rs = {
        "nat": "default via the director 10.0.1.10",
        "dr": f"{VIP}/32 on lo:0, arp_ignore=1 arp_announce=2, default via 10.0.1.1",
        "tun": (
            f"{VIP}/32 on tunl0 ("
            + ("kernel ipip" if topo.tunnel == "kernel" else "pylvs.lab.ipipd")
            + "), rp_filter=0, arp_ignore=1 arp_announce=2, default via 10.0.1.1"
        ),
    }[mode]
    for name, ip in REAL_SERVERS.items():
        print(f"  {name:<9} lvs-{name:<9} eth0 {ip}/24, {rs}, httpd :80")
    print("next:")
    if topo.bare:
        print("  pylvs lab exec director -- sh   # then the guide's director steps:")
        print(f"      ip addr add {VIP}/{vip_prefix} dev eth0 label eth0:0")
        print("      sysctl -w net.ipv4.ip_forward=1")
        print("      pylvs run --dataplane kernel &")
    flag = _method_flag(mode)
    sched = "wrr" if mode == "nat" else "rr"
    print(f"  pylvs lab exec director -- pylvsadm -A -t {VIP}:80 -s {sched}")
    for i, ip in enumerate(REAL_SERVERS.values()):
        weight = (3 - i) if mode == "nat" else 1
        print(f"  pylvs lab exec director -- pylvsadm -a -t {VIP}:80 -r {ip}:80 {flag} -w {weight}")
    print(
        f"  for i in $(seq 1 10); do pylvs lab exec client -- curl -s http://{VIP}/ | head -1; done"
    )
    print("  pylvs lab status; pylvs lab down")


def cmd_down(args: argparse.Namespace) -> int:
    if not _preflight("down"):
        return 1
    from pylvs.lab import builder, state

    try:
        current = state.load()
    except state.StateError as e:
        if not args.force:
            _err(f"{e}; 'pylvs lab down --force' removes the lab anyway")
            return 1
        current = None
    extra = builder.lab_namespaces() if args.force else ()
    if current is None and not args.force:
        present = builder.existing_namespaces()
        if present:
            _err(
                f"no lab is recorded in {LAB_DIR}, but {' '.join(present)} exist; "
                "'pylvs lab down --force' deletes them"
            )
            return 1
        print("lab down: no lab is up")
        return 0
    report = builder.teardown(current, extra_namespaces=extra)
    print(
        f"lab down: stopped {len(report.stopped)} processes, "
        f"removed {len(report.removed)} namespaces"
    )
    for ns, pid in report.strangers:
        _err(f"pid {pid} was still in {ns} (not started by the lab; not signalled)")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    if not _preflight("status"):
        return 1
    from pylvs.lab import state
    from pylvs.lab.survey import survey

    try:
        current = state.load()
    except state.StateError as e:
        _err(str(e))
        return 1
    view = survey(current)
    if args.json:
        _pipe_safe(lambda: print(json.dumps(view.to_json(), indent=2)))
    else:
        _pipe_safe(lambda: _print_status(view))
    return 0 if view.healthy else 1


def _print_status(view: Survey) -> None:
    st = view.state
    if st is None:
        present = [n.netns for n in view.nodes if n.exists]
        print("lab: none is up" + (f" (but {' '.join(present)} exist)" if present else ""))
        return
    since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(st.created))
    health = "healthy" if view.healthy else ("DEGRADED" if st.complete else "INCOMPLETE")
    plane = "bare (no daemon)" if st.bare else f"dataplane {st.dataplane}"
    tunnel = f", tunnel {st.tunnel}" if st.tunnel else ""
    print(f"lab: mode {st.mode}, {plane}{tunnel}, up since {since}: {health}")
    for n in view.nodes:
        if not n.exists:
            print(f"{n.node} ({n.netns}): MISSING")
            continue
        gw = f", default via {n.gateway}" if n.gateway else ""
        print(f"{n.node} ({n.netns}){gw}")
        for i in n.ifaces:
            state_text = "" if i.up else " DOWN"
            mac = i.mac or "-"
            print(
                f"    {i.name:<12} {mac:<17} mtu {i.mtu:<5}{state_text} {' '.join(i.addrs)}".rstrip()
            )
    if view.processes:
        print("processes:")
        for p in view.processes:
            print(
                f"    {p.node:<8} {p.name:<6} pid {p.pid:<7} {'alive' if p.alive else 'DEAD'}  "
                f"log {p.log}"
            )


def _bin_dirs() -> list[str]:
    """Where pylvs and pylvsadm live, so they resolve inside the lab even
    under sudo's reset PATH."""
    dirs = []
    for candidate in (
        os.path.dirname(os.path.abspath(sys.argv[0])),
        os.path.dirname(sys.executable),
    ):
        if os.path.exists(os.path.join(candidate, "pylvsadm")) and candidate not in dirs:
            dirs.append(candidate)
    return dirs


def cmd_exec(args: argparse.Namespace) -> int:
    if not _preflight("exec NODE -- CMD"):
        return 1
    cmd = list(args.cmd)
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        cmd = [os.environ.get("SHELL") or "/bin/sh"]
    name = netns_name(args.node)
    if not os.path.exists(f"/run/netns/{name}"):
        _err(f"no namespace {name}: no lab is up ('pylvs lab up --mode nat|dr|tun')")
        return 1
    env = dict(os.environ)
    env["PYLVS_SOCKET"] = SOCKET
    path = env.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin").split(os.pathsep)
    env["PATH"] = os.pathsep.join([*(d for d in _bin_dirs() if d not in path), *path])
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execvpe("ip", ["ip", "netns", "exec", name, *cmd], env)
    except OSError as e:
        _err(f"cannot run ip netns exec: {e}")
        return 1
    return 0  # not reached
