"""Apply a :class:`~pylvs.lab.topology.Topology` to the machine, and take it
away again.

Tools used, and why:

- pyroute2 (netlink) for namespaces, veths, the bridge, the TUN/ipip
  device, links up, MACs, MTUs, addresses and routes.
- ``ip netns exec NS sysctl -w`` (subprocess) for sysctls: /proc/sys/net
  shows the namespace of the process that opens it, and pyroute2 has no
  sysctl API, so a short-lived process inside the namespace is simplest.
- ``ip netns exec NS ethtool -K`` (subprocess) for offloads: pyroute2's
  ethtool support does not set these features cleanly.
- ``ip netns exec`` (through ``procs.start``) for the background processes.

No interface is ever created in, or moved through, the host's own network
namespace: each veth is created in the router's namespace with its peer
created directly in the other node's namespace. A scratch namespace
(``pylvs-probe-PID``) is used to probe for the ``ipip`` module.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyroute2 import IPRoute, netns
from pyroute2.netlink.exceptions import NetlinkError

from pylvs.lab import procs
from pylvs.lab.state import LabState, ProcRecord, clear, save
from pylvs.lab.topology import LAB_DIR, NODES, Node, Topology, netns_name

__all__ = [
    "DownReport",
    "LabError",
    "existing_namespaces",
    "lab_namespaces",
    "probe_kernel_ipip",
    "teardown",
    "up",
]

Say = Callable[[str], None]


class LabError(RuntimeError):
    def __init__(self, message: str, service: str | None = None) -> None:
        super().__init__(message)
        self.service = service  # the background process that failed, if one did


def _quiet(_: str) -> None:
    pass


def lab_namespaces() -> tuple[str, ...]:
    return tuple(netns_name(n) for n in NODES)


def existing_namespaces(names: Iterable[str] | None = None) -> list[str]:
    """Those of ``names`` (default: the lab's five) that exist."""
    present = set(netns.listnetns())
    return [n for n in (lab_namespaces() if names is None else names) if n in present]


def _run(argv: list[str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    except FileNotFoundError as e:
        raise LabError(f"{what}: {argv[0]} not found") from e
    except subprocess.TimeoutExpired as e:
        raise LabError(f"{what}: {' '.join(argv)} timed out") from e


def probe_kernel_ipip() -> bool:
    """Can this kernel create an ``ipip`` device? Tried in a scratch
    namespace (never the host's), which is removed again."""
    scratch = f"pylvs-probe-{os.getpid()}"
    netns.create(scratch)
    try:
        with IPRoute(netns=scratch, flags=0) as ipr:
            ipr.link("add", ifname="probe0", kind="ipip")
        return True
    except NetlinkError:
        return False
    finally:
        netns.remove(scratch)


@contextmanager
def _handles(topo: Topology) -> Iterator[dict[str, Any]]:
    with ExitStack() as stack:
        handles = {n.name: stack.enter_context(IPRoute(netns=n.netns, flags=0)) for n in topo.nodes}
        yield handles


def _index(ipr: Any, ifname: str) -> int:
    found = ipr.link_lookup(ifname=ifname)
    if not found:
        raise LabError(f"no interface {ifname}")
    return int(found[0])


def _create_links(topo: Topology, ipr: dict[str, Any]) -> None:
    # Bridges and tunnel devices first, then the veth pairs (from side a,
    # the peer made directly in side b's namespace), then ports, MTU, up.
    for node in topo.nodes:
        for iface in node.ifaces:
            h = ipr[node.name]
            if iface.kind == "bridge":
                h.link("add", ifname=iface.name, kind="bridge", br_forward_delay=0)
            elif iface.kind == "tun":
                # A persistent TUN device, like `ip tuntap add tunl0 mode tun`;
                # pylvs.lab.ipipd attaches to it and feeds it.
                h.link("add", ifname=iface.name, kind="tuntap", mode="tun", ifr={"no_pi": True})
            elif iface.kind == "ipip":
                # Loading ipip gives every namespace a fallback tunl0; create one otherwise.
                if not h.link_lookup(ifname=iface.name):
                    h.link("add", ifname=iface.name, kind="ipip")
    for wire in topo.wires:
        (a_node, a_if), (b_node, b_if) = wire.a, wire.b
        b = topo.node(b_node)
        fd = os.open(f"/run/netns/{b.netns}", os.O_RDONLY)
        try:
            ipr[a_node].link(
                "add", ifname=a_if, kind="veth", peer={"ifname": b_if, "net_ns_fd": fd}
            )
        finally:
            os.close(fd)
    for node in topo.nodes:
        h = ipr[node.name]
        for iface in node.ifaces:
            idx = _index(h, iface.name)
            spec: dict[str, Any] = {}
            if iface.mac:
                spec["address"] = iface.mac
            if iface.mtu:
                spec["mtu"] = iface.mtu
            if iface.master:
                spec["master"] = _index(h, iface.master)
            if spec:
                h.link("set", index=idx, **spec)
        for iface in node.ifaces:
            h.link("set", index=_index(h, iface.name), state="up")


def _addresses_and_routes(node: Node, h: Any) -> None:
    for addr in node.addrs:
        ip, _, prefix = addr.cidr.partition("/")
        spec: dict[str, Any] = {"address": ip, "prefixlen": int(prefix)}
        if addr.label:
            spec["label"] = addr.label
        h.addr("add", index=_index(h, addr.ifname), **spec)
    for route in node.routes:
        dst = "0.0.0.0/0" if route.dst == "default" else route.dst
        h.route("add", dst=dst, gateway=route.via)


def _sysctls(node: Node) -> None:
    if not node.sysctls:
        return
    settings = [f"{k}={v}" for k, v in node.sysctls]
    r = _run(["ip", "netns", "exec", node.netns, "sysctl", "-q", "-w", *settings], "sysctl")
    if r.returncode != 0:
        raise LabError(f"sysctl in {node.netns} failed: {r.stderr.strip()}")


def _offloads(node: Node, say: Say) -> None:
    for iface in node.ifaces:
        if not iface.offload_off:
            continue
        if shutil.which("ethtool") is None:
            say(f"warning: ethtool not found; offloads stay on for {node.netns} {iface.name}")
            return
        argv = ["ethtool", "-K", iface.name, "tx", "off", "tso", "off", "gso", "off"]
        r = _run(["ip", "netns", "exec", node.netns, *argv], "ethtool")
        if r.returncode != 0:
            say(f"warning: {node.netns}: {' '.join(argv)}: {r.stderr.strip()}")


def _service_order(topo: Topology) -> list[Node]:
    # Real servers first, then the director: the daemon finds its backends serving.
    return sorted(topo.nodes, key=lambda n: n.name == "director")


def _env(topo: Topology) -> dict[str, str]:
    return {**os.environ, "PYLVS_SOCKET": topo.socket}


def up(topo: Topology, lab_dir: str = LAB_DIR, say: Say = _quiet) -> LabState:
    """Build the lab. Records everything in ``lab_dir`` as it goes; on error
    raises LabError and leaves the record for :func:`teardown`."""
    state = LabState(
        mode=topo.mode,
        bare=topo.bare,
        dataplane=topo.dataplane if not topo.bare else "",
        tunnel=topo.tunnel,
        namespaces=list(topo.namespaces),
        created=time.time(),
    )
    save(state, lab_dir)
    Path(topo.socket).unlink(missing_ok=True)
    try:
        for name in topo.namespaces:
            netns.create(name)
        say(f"namespaces: {' '.join(topo.namespaces)}")
        with _handles(topo) as ipr:
            _create_links(topo, ipr)
            for node in topo.nodes:
                _addresses_and_routes(node, ipr[node.name])
        say("links, addresses and routes: done")
        for node in topo.nodes:
            _sysctls(node)
            _offloads(node, say)
        say("sysctls and offloads: done")
    except NetlinkError as e:
        raise LabError(f"netlink: {e}") from e
    except OSError as e:
        raise LabError(f"{e}") from e
    for node in _service_order(topo):
        for svc in node.services:
            try:
                record = procs.start(
                    name=svc.name,
                    node=node.name,
                    netns=node.netns,
                    module=svc.module,
                    args=svc.args,
                    log=f"{lab_dir}/{node.name}-{svc.name}.log",
                    ready=svc.ready,
                    ready_socket=svc.socket,
                    env=_env(topo),
                )
            except procs.ProcessFailed as e:
                raise LabError(str(e), service=f"{node.name}/{svc.name}") from e
            state.processes.append(record)
            save(state, lab_dir)
            say(f"{node.name}: {svc.name} running (pid {record.pid})")
    state.complete = True
    save(state, lab_dir)
    return state


@dataclass
class DownReport:
    stopped: list[ProcRecord] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    strangers: list[tuple[str, int]] = field(default_factory=list)  # (netns, pid) not ours


def _strangers(names: Iterable[str]) -> list[tuple[str, int]]:
    """Processes still inside the given namespaces (pyroute2 scans /proc)."""
    wanted = set(names)
    found: list[tuple[str, int]] = []
    try:
        by_ns = netns.ns_pids()
    except OSError:
        return found
    for name, pids in sorted(by_ns.items()):
        if name in wanted:
            found.extend((name, int(pid)) for pid in sorted(pids))
    return found


def teardown(
    state: LabState | None, lab_dir: str = LAB_DIR, extra_namespaces: Iterable[str] = ()
) -> DownReport:
    """Stop the recorded processes, delete the recorded namespaces (and
    ``extra_namespaces``: ``--force`` passes the lab's names), remove the
    lab's files. Processes the lab did not start are never signalled; they
    are reported. Idempotent."""
    report = DownReport()
    names: list[str] = []
    if state is not None:
        for record in reversed(state.processes):
            if procs.stop(record):
                report.stopped.append(record)
        names.extend(state.namespaces)
    names.extend(n for n in extra_namespaces if n not in names)
    present = existing_namespaces(names)
    report.strangers = _strangers(present)
    for name in present:
        netns.remove(name)
        report.removed.append(name)
    clear(state, lab_dir)
    return report
