"""The kernel data plane (``pylvs run --dataplane kernel``) with real traffic.

One lab per mode (``pylvs lab up --mode nat|dr|tun --dataplane kernel``),
module-scoped and always torn down; everything a test starts inside the lab
is killed by pid. Each test compares what the lab did with what IPVS would
do: the guide's listings (Steps 3, 4, 8, 9), the pure core's choices for the
same table and the same connections (kernel_helpers.Model), and the
behaviour reference (§4, §6).

Traffic comes from the client (10.0.2.50, plus 10.0.2.51-62 and 10.0.3.50
the tests add) through the router; the real servers run the lab's httpd on
port 80 and the tests' own bulk/UDP server (kernel_helpers.RS_SERVER).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_tool
from kernel_helpers import (
    CLIENT,
    CLIENTS,
    DIRECTOR,
    LAB_DIR,
    METHOD_FLAG,
    METHOD_NAME,
    OTHER_NET_CLIENT,
    SOCKET,
    UDP_PORT,
    VIP,
    WEB,
    Capture,
    KernelLab,
    Model,
    conn_rows,
    kernel_lab,
    listed_counts,
    skip_reason,
    stats_rows,
    stream_digest,
    two_servers,
)

from pylvs.core.addr import IPPROTO_UDP
from pylvs.core.conn import Conn
from pylvs.lab.topology import mac_for

pytestmark = pytest.mark.root

SNAPSHOT = 2.5  # the estimator refreshes the shown counters every 2 s (§5)

# Known kernel-plane bugs: test name -> why it fails (xfail, strict: a fix
# turns the XPASS into a failure, so remove the line). None at present.
KNOWN_BUGS: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _known_bug(request: pytest.FixtureRequest) -> None:
    reason = KNOWN_BUGS.get(request.node.name)
    if reason:
        request.node.add_marker(pytest.mark.xfail(strict=True, reason=reason))


@pytest.fixture(scope="module", params=["nat", "dr", "tun"])
def lab(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KernelLab]:
    """A kernel-plane lab per mode, always removed."""
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    with kernel_lab(str(request.param), tmp_path_factory.mktemp(f"lab-{request.param}")) as k:
        yield k


@pytest.fixture
def fresh(lab: KernelLab) -> KernelLab:
    """The lab with an empty table and IPVS's default timeouts (for DR: the
    director knows the real servers' MACs, see KernelLab.clear)."""
    lab.clear()
    return lab


def svc_lines(listing: str) -> list[str]:
    """A listing's lines, whitespace normalised, the RS counters left out."""
    out = []
    for line in listing.splitlines():
        f = line.split()
        if len(f) == 6 and f[0] == "->" and f[1][0].isdigit():
            f = f[:4]
        out.append(" ".join(f))
    return out


# --- 1. the guide, per mode ---------------------------------------------------------

GUIDE_HEADER = [
    "IP Virtual Server version 1.2.1 (size=4096)",
    "Prot LocalAddress:Port Scheduler Flags",
    "-> RemoteAddress:Port Forward Weight ActiveConn InActConn",
]
# Step 3 (NAT) and Step 4 (DR) as the guide writes them; tunnelling is Step 4
# with -i (the guide lists -i in its command reference).
GUIDE_COMMANDS = {
    "nat": [
        "-A -t 10.0.1.100:80 -s wrr",
        "-a -t 10.0.1.100:80 -r 10.0.1.11:80 -m -w 3",
        "-a -t 10.0.1.100:80 -r 10.0.1.12:80 -m -w 2",
    ],
    "dr": [
        "-A -t 10.0.1.100:80 -s rr",
        "-a -t 10.0.1.100:80 -r 10.0.1.11:80 -g -w 1",
        "-a -t 10.0.1.100:80 -r 10.0.1.12:80 -g -w 1",
    ],
    "tun": [
        "-A -t 10.0.1.100:80 -s rr",
        "-a -t 10.0.1.100:80 -r 10.0.1.11:80 -i -w 1",
        "-a -t 10.0.1.100:80 -r 10.0.1.12:80 -i -w 1",
    ],
}
# The guide's listings: Step 3 verbatim; Step 6's for DR without its
# "persistent 60" (Step 4 has none); the same with Tunnel for -i.
GUIDE_LISTING = {
    "nat": [
        *GUIDE_HEADER,
        "TCP 10.0.1.100:80 wrr",
        "-> 10.0.1.11:80 Masq 3 0 0",
        "-> 10.0.1.12:80 Masq 2 0 0",
    ],
    "dr": [
        *GUIDE_HEADER,
        "TCP 10.0.1.100:80 rr",
        "-> 10.0.1.11:80 Route 1 0 0",
        "-> 10.0.1.12:80 Route 1 0 0",
    ],
    "tun": [
        *GUIDE_HEADER,
        "TCP 10.0.1.100:80 rr",
        "-> 10.0.1.11:80 Tunnel 1 0 0",
        "-> 10.0.1.12:80 Tunnel 1 0 0",
    ],
}
# After the connection closes: IPVS's NAT entry ends in TIME_WAIT, a DR or
# TUN entry (INPUT-ONLY table, client FIN) in FIN_WAIT (§4.2).
CLOSED_STATE = {"nat": "TIME_WAIT", "dr": "FIN_WAIT", "tun": "FIN_WAIT"}


def curls(lab: KernelLab, n: int, url: str = f"http://{VIP}/") -> list[tuple[str, int]]:
    """Step 8's loop, from the client: (first line, client port) per curl."""
    script = f'for i in $(seq 1 {n}); do curl -s --max-time 3 {url}; echo "rc=$?"; done'
    out = lab.ns("client", "sh", "-c", script, timeout=10 + 4 * n).stdout
    answers: list[tuple[str, int]] = []
    body: list[str] = []
    for line in out.splitlines():
        if line.startswith("rc="):
            assert line == "rc=0", f"curl {len(answers) + 1} failed ({line}): {body}"
            port = int(body[1].split(":")[1]) if len(body) > 1 else -1
            answers.append((body[0] if body else "", port))
            body = []
        else:
            body.append(line)
    return answers


def wait_stats(lab: KernelLab, service: str, since: float) -> dict[str, list[int]]:
    """``-Ln --stats --exact`` once the estimator's snapshot can include
    everything sent before ``since`` (at most 2 s later, as in IPVS)."""
    time.sleep(max(0.0, since + SNAPSHOT - time.monotonic()))
    rows = stats_rows(lab.ok("-Ln", "--stats", "--exact"))
    assert service in rows, rows
    return rows


def test_guide_table_traffic_stats_and_connections(fresh: KernelLab) -> None:
    lab = fresh
    mode = lab.mode
    model = Model()
    for command in GUIDE_COMMANDS[mode]:
        lab.ok(*command.split())
        model.apply([command])
    shown = [" ".join(line.split()) for line in lab.ok("-Ln").splitlines()]
    assert shown == GUIDE_LISTING[mode]  # counters too: 0 0

    answers = curls(lab, 10)
    done = time.monotonic()
    expected = []
    for _name, port in answers:
        conn = model.connect(CLIENT, port, 80)
        assert conn is not None
        model.close(conn)
        expected.append((Model.name(conn), port, Model.dest(conn)))
    # IPVS keeps real servers newest first: the first pick is the last added.
    assert [a[0] for a in answers] == [e[0] for e in expected]
    if mode != "nat":
        assert [a[0] for a in answers] == ["web2", "web1"] * 5

    want = model.counts(80)
    listing = lab.wait_listed(want, f"-t {VIP}:80")
    guide = svc_lines("\n".join(GUIDE_LISTING[mode]))
    assert svc_lines(listing) == guide[1:]  # (one service listed: no version line)
    assert listed_counts(listing) == want  # all closed: (0, n) each

    rows = wait_stats(lab, f"TCP {VIP}:80", done)
    svc = rows[f"TCP {VIP}:80"]
    per_rs = {rs: rows[f"{ip}:80"] for rs, ip in WEB.items()}
    picks = [e[0] for e in expected]
    assert svc[0] == 10, rows
    assert {rs: r[0] for rs, r in per_rs.items()} == {rs: picks.count(rs) for rs in WEB}
    for i in range(1, 5):
        assert svc[i] == sum(r[i] for r in per_rs.values()), rows
    assert svc[1] >= 5 * 10 and svc[3] >= 40 * svc[1], rows  # SYN, ACK, GET, ..., FIN
    if mode == "nat":
        assert svc[2] > 0 and svc[4] > 0, rows  # replies pass the director
        assert all(r[2] > 0 for r in per_rs.values()), rows
    else:
        assert svc[2] == 0 and svc[4] == 0, rows  # replies bypass the director

    entries = [r for r in conn_rows(lab.ok("-Lnc")) if r.virtual == f"{VIP}:80"]
    got = sorted((int(r.source.split(":")[1]), r.dest, r.state) for r in entries)
    assert got == sorted((port, dest, CLOSED_STATE[mode]) for _n, port, dest in expected)
    assert all(r.proto == "TCP" and r.source.startswith(f"{CLIENT}:") for r in entries)
    assert all(100 < r.expire <= 120 for r in entries), entries


def syn_retransmits(lab: KernelLab) -> int:
    """SYNs the client's stack has sent again (nstat, history untouched)."""
    out = lab.ns("client", "nstat", "-asz", "TcpExtTCPSynRetrans").stdout
    for line in out.splitlines():
        if line.startswith("TcpExtTCPSynRetrans"):
            return int(line.split()[1])
    raise AssertionError(f"no TcpExtTCPSynRetrans in nstat's output: {out!r}")


@pytest.mark.parametrize("lab", ["dr"], indirect=True)
def test_dr_first_syn_while_the_real_servers_mac_is_unknown(fresh: KernelLab) -> None:
    """IPVS hands a DR packet to the neighbour layer, which holds it while
    ARP resolves the real server (§6.4): the very first SYN gets through,
    to the server the scheduler chose, and leaves one entry."""
    lab = fresh
    port = 8093
    agent = lab.agent()  # started before: the SYN follows the last command at once
    lab.ns("director", "ip", "neigh", "flush", "dev", "eth0")
    commands = two_servers(port, "rr", "-g")
    lab.restore(commands)
    model = Model(commands)
    retransmits = syn_retransmits(lab)
    r = agent.must("get", port=port)
    conn = model.connect(CLIENT, r["sport"], port)
    assert conn is not None
    model.close(conn)
    assert r["name"] == Model.name(conn) == "web2"  # the last added
    assert syn_retransmits(lab) == retransmits, "the first SYN was dropped and retransmitted"
    rows = [x for x in conn_rows(lab.ok("-Lnc")) if x.virtual == f"{VIP}:{port}"]
    assert [(x.source, x.dest) for x in rows] == [(f"{CLIENT}:{r['sport']}", Model.dest(conn))]


# --- 2. schedulers: the lab's choices are the core's ------------------------------

SCHEDULERS = ["rr", "wrr", "lc", "wlc", "sed", "nq", "fo", "ovf", "dh", "sh", "mh", "lblc", "lblcr"]
# (web1, web2) weights; ovf with 1:1 runs out of room (active > weight): IPVS
# then has no destination and answers ICMP port unreachable.
WEIGHTS = {"ovf": (1, 1)}
# Open 5 held connections, close the first two, open 4 more: the counts the
# load-aware schedulers weigh change on the way. ``sync`` waits until the
# plane shows the closes (it learns them up to a second late: see
# test_load_aware_schedulers_see_a_close_at_once).
SCRIPT = ["open"] * 5 + ["close 0", "close 1", "sync"] + ["open"] * 4
LOAD_AWARE = {"lc", "wlc", "sed", "nq", "ovf", "lblc", "lblcr"}


def run_script(
    lab: KernelLab, model: Model, port: int, script: list[str]
) -> tuple[list[str | None], list[str | None], list[tuple[int, str]]]:
    """Play ``script`` from the client and on the model, then close what is
    still open; returns the lab's picks, the model's, and (client port,
    model's dest) per flow. Actions: ``open`` (a held keep-alive
    connection), ``close N`` (the Nth opened), ``sync`` (until ``-Ln`` shows
    the model's counts)."""
    agent = lab.agent()
    # (agent id, model conn) per open, in order; None where the lab refused it
    held: list[tuple[int, Conn | None] | None] = []
    closed: set[int] = set()
    got: list[str | None] = []
    want: list[str | None] = []
    flows: list[tuple[int, str]] = []

    def close(i: int) -> None:
        closed.add(i)
        if held[i] is None:
            return
        ident, conn = held[i]  # type: ignore[misc]
        agent.must("close", id=ident)
        if conn is not None:
            model.close(conn)

    try:
        for step, action in enumerate(script):
            if action == "open":
                src = CLIENTS[len(got) % len(CLIENTS)]
                r = agent.call("open", src=src, port=port, timeout=10)
                if not r["ok"]:
                    got.append(None)
                    held.append(None)
                    assert "ConnectionRefused" in r["error"], r  # ICMP port unreachable
                    want.append(Model.name(model.connect(src, 1 + step, port)))
                    continue
                got.append(r["name"])
                conn = model.connect(src, r["sport"], port)
                want.append(Model.name(conn))
                held.append((r["id"], conn))
                if conn is not None:
                    flows.append((r["sport"], Model.dest(conn)))
            elif action == "sync":
                lab.wait_listed(model.counts(port), f"-t {VIP}:{port}")
            else:
                close(int(action.split()[1]))
        for i in range(len(held)):
            if i not in closed:
                close(i)
    finally:
        for i, h in enumerate(held):
            if i not in closed and h is not None:
                agent.call("close", id=h[0])
    return got, want, flows


@pytest.mark.parametrize("sched", SCHEDULERS)
@pytest.mark.parametrize("lab", ["nat"], indirect=True)
def test_scheduler_choices_match_the_core(lab: KernelLab, sched: str) -> None:
    port = 8100 + SCHEDULERS.index(sched)  # a service of its own: no earlier flows count
    w1, w2 = WEIGHTS.get(sched, (2, 3))
    commands = two_servers(port, sched, "-m", weights=(w1, w2), rs_port=80)
    lab.restore(commands)
    model = Model(commands)
    try:
        script = SCRIPT if sched in LOAD_AWARE else [a for a in SCRIPT if a != "sync"]
        got, want, flows = run_script(lab, model, port, script)
        assert got == want, f"{sched}: lab {got} core {want}"
        listing = lab.wait_listed(model.counts(port), f"-t {VIP}:{port}")
        assert listed_counts(listing) == model.counts(port)
        rows = {
            int(r.source.split(":")[1]): r.dest
            for r in conn_rows(lab.ok("-Lnc"))
            if r.virtual == f"{VIP}:{port}"
        }
        assert {p: rows.get(p) for p, _d in flows} == dict(flows)
    finally:
        lab.ok("-D", "-t", f"{VIP}:{port}")


@pytest.mark.parametrize("sched", ["rr", "wrr", "sh"])
@pytest.mark.parametrize("lab", ["dr"], indirect=True)
def test_dr_scheduler_choices_match_the_core(fresh: KernelLab, sched: str) -> None:
    lab = fresh
    port = 8081 + ["rr", "wrr", "sh"].index(sched)  # DR: the real servers' port too
    commands = two_servers(port, sched, "-g", weights=(2, 3))
    lab.restore(commands)
    model = Model(commands)
    script = [a for i in range(6) for a in ("open", f"close {i}")]  # one after the other
    got, want, flows = run_script(lab, model, port, script)
    assert got == want, f"{sched}: lab {got} core {want}"
    listing = lab.wait_listed(model.counts(port), f"-t {VIP}:{port}")
    assert listed_counts(listing) == model.counts(port)  # all in FIN_WAIT: inactive
    rows = {
        int(r.source.split(":")[1]): (r.dest, r.state)
        for r in conn_rows(lab.ok("-Lnc"))
        if r.virtual == f"{VIP}:{port}"
    }
    assert {p: rows.get(p) for p, _d in flows} == {p: (d, "FIN_WAIT") for p, d in flows}


@pytest.mark.parametrize("sched", ["lc", "wlc"])
@pytest.mark.parametrize("lab", ["nat", "dr"], indirect=True)
def test_load_aware_schedulers_back_to_back(fresh: KernelLab, sched: str) -> None:
    """Connections opened one right after the other, as clients do: IPVS
    counts each new connection at once (§4.4), so the next one sees it."""
    lab = fresh
    port = 8090 + ["lc", "wlc"].index(sched)
    flag = METHOD_FLAG[lab.mode]
    commands = two_servers(port, sched, flag)
    lab.restore(commands)
    model = Model(commands)
    got, want, _flows = run_script(lab, model, port, ["open"] * 6)
    assert got == want, f"{sched}: lab {got} core {want}"


@pytest.mark.parametrize("lab", ["nat", "dr"], indirect=True)
def test_load_aware_schedulers_see_a_close_at_once(fresh: KernelLab) -> None:
    """IPVS moves a connection to inactive with the FIN that ends it (§4.2,
    §4.4), so the next connection is scheduled on the new counts. lc, 1:1:
    A, B, C open (web2, web1, web2), A and C close, D opens: web2 has 0
    active, web1 1, so D goes to web2. Three times, on services of their own."""
    lab = fresh
    flag = METHOD_FLAG[lab.mode]
    lab.agent()  # started before the first service
    for port in (8095, 8096, 8097):
        commands = two_servers(port, "lc", flag)
        lab.restore(commands)
        model = Model(commands)
        script = ["open", "open", "open", "close 0", "close 2", "open"]
        got, want, _flows = run_script(lab, model, port, script)
        assert want == ["web2", "web1", "web2", "web2"]
        assert got == want, f"port {port}: lab {got} core {want}"


@pytest.mark.parametrize("lab", ["nat", "dr", "tun"], indirect=True)
def test_a_retransmitted_syn_is_not_scheduled_again(fresh: KernelLab) -> None:
    """A SYN the client sends again (the first was lost on the way to the
    real server) matches the entry the first one made (§4.1 lookup in, §4.5:
    no reuse in SYN_RECV): IPVS does not schedule it again, so it reaches the
    same real server, and rr's next pick and the counts are as if it had
    been sent once."""
    lab = fresh
    port = 8089
    flag = METHOD_FLAG[lab.mode]
    commands = two_servers(port, "rr", flag)
    lab.restore(commands)
    model = Model(commands)
    agent = lab.agent()
    # The real servers lose the first SYN (before answering anything): the
    # client's TCP sends it again after a second.
    for name in WEB:
        lab.ns(name, "nft", "add table inet lost")
        lab.ns(name, "nft", "add chain inet lost in { type filter hook input priority 0 ; }")
        lab.ns(name, "nft", f"add rule inet lost in tcp dport {port} drop")

    def found() -> None:
        for name in WEB:
            lab.ns(name, "nft", "delete table inet lost")

    timer = threading.Timer(0.7, found)
    timer.start()
    started = time.monotonic()
    try:
        first = agent.must("get", port=port)
    finally:
        timer.join()
    assert time.monotonic() - started > 0.9  # it did take a second SYN
    second = agent.must("get", port=port, src=CLIENTS[1])
    picks = []
    for r, src in ((first, CLIENT), (second, CLIENTS[1])):
        conn = model.connect(src, r["sport"], port)
        assert conn is not None
        model.close(conn)
        picks.append(Model.name(conn))
    assert [first["name"], second["name"]] == picks == ["web2", "web1"]
    want = model.counts(port)
    assert listed_counts(lab.wait_listed(want, f"-t {VIP}:{port}", timeout=3)) == want


@pytest.mark.parametrize("lab", ["nat", "dr", "tun"], indirect=True)
def test_an_open_connection_is_listed_established(fresh: KernelLab) -> None:
    """-Lnc: an open, idle connection is ESTABLISHED with IPVS's 900 s
    timeout (§4.2), in every mode."""
    lab = fresh
    port = 8099
    flag = METHOD_FLAG[lab.mode]
    lab.restore([f"-A -t {VIP}:{port} -s rr", f"-a -t {VIP}:{port} -r 10.0.1.12:{port} {flag}"])
    agent = lab.agent()
    held = agent.must("open", port=port)
    try:
        time.sleep(0.2)
        rows = {r.source: r for r in conn_rows(lab.ok("-Lnc")) if r.virtual == f"{VIP}:{port}"}
        row = rows.get(f"{CLIENT}:{held['sport']}")
        assert row is not None, rows
        assert (row.state, row.dest) == ("ESTABLISHED", f"10.0.1.12:{port}"), row
        assert 890 < row.expire <= 900, row
    finally:
        agent.must("close", id=held["id"])


@pytest.mark.parametrize("lab", ["nat", "dr", "tun"], indirect=True)
def test_active_count_shows_at_once(fresh: KernelLab) -> None:
    """IPVS's ActiveConn counts a connection from its first SYN (§4.4); the
    listing reads the counters directly (only the stats wait for the
    estimator)."""
    lab = fresh
    port = 8092
    flag = METHOD_FLAG[lab.mode]
    lab.restore([f"-A -t {VIP}:{port} -s rr", f"-a -t {VIP}:{port} -r 10.0.1.11:{port} {flag}"])
    agent = lab.agent()
    held = []
    try:
        for n in (1, 2):  # twice: a timer of the daemon's that happens to run between is not enough
            held.append(agent.must("open", port=port))
            shown = listed_counts(lab.ok("-Ln", "-t", f"{VIP}:{port}"))
            assert shown == {f"10.0.1.11:{port}": (n, 0)}
    finally:
        for h in held:
            agent.must("close", id=h["id"])
    want = {f"10.0.1.11:{port}": (0, 2)}
    assert listed_counts(lab.wait_listed(want, f"-t {VIP}:{port}", timeout=3)) == want


def test_twos_uses_both_weighted_servers(fresh: KernelLab) -> None:
    """twos draws at random (§2.4): only its range can be checked."""
    lab = fresh
    flag = METHOD_FLAG[lab.mode]
    lab.restore(
        [
            f"-A -t {VIP}:80 -s twos",
            f"-a -t {VIP}:80 -r 10.0.1.11:80 {flag} -w 1",
            f"-a -t {VIP}:80 -r 10.0.1.12:80 {flag} -w 1",
        ]
    )
    agent = lab.agent()
    names = [agent.get(src=CLIENTS[i % len(CLIENTS)]) for i in range(24)]
    assert set(names) == {"web1", "web2"}, names


# --- 3. persistence (Step 9) ----------------------------------------------------------


@pytest.mark.parametrize("lab", ["nat", "dr"], indirect=True)
def test_persistence_pins_a_client_and_a_netmask_groups_a_subnet(fresh: KernelLab) -> None:
    lab = fresh
    flag = METHOD_FLAG[lab.mode]
    port = 8084
    steps = [
        two_servers(port, "rr", flag),
        [f"-E -t {VIP}:{port} -s rr -p 300"],  # Step 9, as the guide writes it
    ]
    model = Model()
    for commands in steps:
        lab.restore(commands)
        model.apply(commands)
    agent = lab.agent()

    def visit(src: str) -> tuple[str, str | None]:
        r = agent.must("get", src=src, port=port)
        conn = model.connect(src, r["sport"], port)
        if conn is not None:
            model.close(conn)
        return r["name"], Model.name(conn)

    pinned = [visit(CLIENT) for _ in range(6)]
    assert [p[0] for p in pinned] == [p[1] for p in pinned]
    assert len({p[0] for p in pinned}) == 1, pinned
    first = pinned[0][0]
    templates = [r for r in conn_rows(lab.ok("-Lnc")) if r.source == f"{CLIENT}:0"]
    assert len(templates) == 1, templates
    t = templates[0]
    assert (t.proto, t.virtual, t.dest) == ("TCP", f"{VIP}:{port}", f"{WEB[first]}:{port}")
    assert t.state in ("NONE", "ASSURED") and 290 <= t.expire <= 300, t
    # Another client is scheduled afresh (rr moves on), then stays too.
    other = [visit(CLIENTS[1]) for _ in range(3)]
    assert [p[0] for p in other] == [p[1] for p in other]

    # -M 255.255.255.0: one template per /24 (new lookups use the masked key).
    edit = [f"-E -t {VIP}:{port} -s rr -p 300 -M 255.255.255.0"]
    lab.restore(edit)
    model.apply(edit)
    same_net = [visit(src) for src in (CLIENT, CLIENTS[2], CLIENTS[3], CLIENT)]
    far = [visit(OTHER_NET_CLIENT) for _ in range(2)]
    for got, want in same_net + far:
        assert got == want, (same_net, far)
    assert len({g for g, _ in same_net}) == 1 and len({g for g, _ in far}) == 1
    assert same_net[0][0] != far[0][0]  # rr gave the second /24 the other server
    listing = lab.ok("-Ln")
    assert f"TCP  {VIP}:{port} rr persistent 300 mask 255.255.255.0" in listing
    sources = {r.source for r in conn_rows(lab.ok("-Lnc")) if r.source.endswith(":0")}
    assert {"10.0.2.0:0", "10.0.3.0:0"} <= sources, sources


# --- 4. drain: weight 0, delete, re-add ----------------------------------------------


@pytest.mark.parametrize("lab", ["nat", "dr"], indirect=True)
def test_weight_zero_drains(fresh: KernelLab) -> None:
    lab = fresh
    flag = METHOD_FLAG[lab.mode]
    port = 8085
    lab.restore(two_servers(port, "rr", flag))
    agent = lab.agent()
    held = agent.must("open", src=CLIENT, port=port)
    drained = held["name"]
    other = "web1" if drained == "web2" else "web2"
    # Step 5: "-e ... -w 0" (with the method flag, as the guide writes it).
    lab.ok("-e", "-t", f"{VIP}:{port}", "-r", f"{WEB[drained]}:{port}", flag, "-w", "0")
    assert [agent.get(src=CLIENTS[i + 1], port=port) for i in range(4)] == [other] * 4
    again = agent.must("ask", id=held["id"])  # the open connection still works
    assert again["name"] == drained
    want = {f"{WEB[drained]}:{port}": (1, 0), f"{WEB[other]}:{port}": (0, 4)}
    listing = lab.wait_listed(want, f"-t {VIP}:{port}", timeout=3)
    assert listed_counts(listing) == want
    line = next(x for x in listing.splitlines() if f"{WEB[drained]}:{port}" in x)
    assert line.split()[2:5] == [METHOD_NAME[lab.mode], "0", "1"], listing  # weight 0, 1 active
    agent.must("close", id=held["id"])


@pytest.mark.parametrize("lab", ["nat", "dr"], indirect=True)
def test_delete_mid_transfer_completes_and_readd_works(fresh: KernelLab) -> None:
    """pylvs's documented default (README: keep_nodest_conn=1) lets a
    deleted real server's flows finish; IPVS would drop their packets."""
    lab = fresh
    flag = METHOD_FLAG[lab.mode]
    port = 8086
    svc = f"{VIP}:{port}"
    commands = [
        f"-A -t {svc} -s rr",
        f"-a -t {svc} -r 10.0.1.11:{port} {flag} -w 1",
        f"-a -t {svc} -r 10.0.1.12:{port} {flag} -w 1",
    ]
    lab.restore(commands)
    agent = lab.agent()
    size, rate = 12_000_000, 6_000_000  # about 2 s
    bulk = agent.must("bulk", size=size, rate=rate, port=port)
    victim = bulk["name"]
    assert victim in WEB, bulk
    time.sleep(0.4)
    lab.ok("-d", "-t", svc, "-r", f"{WEB[victim]}:{port}")
    rest = [
        agent.must("bulk", size=0, rate=0, port=port, src=CLIENTS[i + 1])["name"] for i in range(3)
    ]
    assert rest == ["web1" if victim == "web2" else "web2"] * 3
    done = agent.bulk_wait(bulk["id"], timeout=15)
    assert done["done"] and done["error"] is None, done
    assert (done["bytes"], done["sha"]) == (size, stream_digest(size, 7))
    # Re-added: it serves again (rr: the re-added server is now the list head).
    lab.ok("-a", "-t", svc, "-r", f"{WEB[victim]}:{port}", flag, "-w", "1")
    again = {
        agent.must("bulk", size=0, rate=0, port=port, src=CLIENTS[i + 5])["name"] for i in range(4)
    }
    assert again == {"web1", "web2"}


def sysctl(lab: KernelLab, *settings: str) -> None:
    r = run_tool("pylvs", ["sysctl", *settings], lab.env)
    assert r.rc == 0, r.err


NODEST = {"keep_nodest_conn=0": "stalled", "expire_nodest_conn=1": "reset"}


@pytest.mark.parametrize("setting", list(NODEST))
@pytest.mark.parametrize("lab", ["nat", "dr"], indirect=True)
def test_deleted_server_flows_follow_the_nodest_sysctls(fresh: KernelLab, setting: str) -> None:
    """§4.5 for a deleted real server's live flow: with keep_nodest_conn=0
    (README: "the kernel's behaviour") IPVS drops its packets silently, so
    the transfer stalls without a reset; with expire_nodest_conn=1 IPVS
    expires the entry at the next packet and hands that packet (an ACK) to
    the local stack, which owns the VIP and answers with a reset."""
    lab = fresh
    flag = METHOD_FLAG[lab.mode]
    port = 8098
    svc = f"{VIP}:{port}"
    lab.restore([f"-A -t {svc} -s rr", f"-a -t {svc} -r 10.0.1.11:{port} {flag} -w 1"])
    agent = lab.agent()
    try:
        sysctl(lab, setting)
        bulk = agent.must("bulk", size=12_000_000, rate=6_000_000, port=port)
        assert bulk["name"] == "web1", bulk
        time.sleep(0.3)
        lab.ok("-d", "-t", svc, "-r", f"10.0.1.11:{port}")
        time.sleep(0.6)  # what was in flight arrives
        first = agent.must("bulk_state", id=bulk["id"])
        time.sleep(1.0)
        then = agent.must("bulk_state", id=bulk["id"])
    finally:
        sysctl(lab, "keep_nodest_conn=1", "expire_nodest_conn=0")
    reset = bool(then["error"]) and "ConnectionReset" in then["error"]
    stalled = not then["done"] and then["bytes"] == first["bytes"]
    outcome = "reset" if reset else "stalled" if stalled else f"flowed on: {then}"
    assert outcome == NODEST[setting]


# --- 6. captures -------------------------------------------------------------------


def _need_tcpdump() -> None:
    if shutil.which("tcpdump") is None:
        pytest.skip("needs tcpdump")


@pytest.mark.parametrize("lab", ["dr"], indirect=True)
def test_dr_frames_on_the_wire(fresh: KernelLab) -> None:
    _need_tcpdump()
    lab = fresh
    lab.restore(GUIDE_COMMANDS["dr"])
    lab.agent().get()  # MACs resolved, flows known: the steady state
    director = Capture(lab, "director", "eth0", "tcp port 80")
    web = {name: Capture(lab, name, "eth0", "tcp port 80") for name in WEB}
    answers = [lab.agent().must("get") for _ in range(4)]
    on_director = director.stop()
    on_web = {name: c.stop() for name, c in web.items()}
    ports = {a["sport"]: a["name"] for a in answers}
    assert set(ports.values()) == {"web1", "web2"}

    # Replies leave each real server from its own MAC, from the VIP...
    for name, frames in on_web.items():
        replies = [f for f in frames if f.src == VIP and f.ports()[1] in ports]
        assert replies and all(f.src_mac == mac_for(WEB[name]) for f in replies), name
        assert {ports[f.ports()[1]] for f in replies} == {name}
    # ...and never pass the director.
    assert not [f for f in on_director if f.src == VIP], "a reply went through the director"

    # The director's frame to the real server: its MAC as destination, the
    # director's as source, the IP packet exactly as it arrived (TTL too).
    inbound = [
        f
        for f in on_director
        if f.dst == VIP and f.dst_mac == mac_for(DIRECTOR) and f.ports()[0] in ports
    ]
    outbound = [f for f in on_director if f.dst == VIP and f.src_mac == mac_for(DIRECTOR)]
    assert inbound and len(outbound) == len(inbound), (len(inbound), len(outbound))
    for fin, fout in zip(inbound, outbound, strict=True):
        rs = WEB[ports[fin.ports()[0]]]
        assert fout.dst_mac == mac_for(rs)
        assert fout.ip == fin.ip  # unchanged, TTL included (IPVS would decrement it)
    arrived = {(f.ports()[0], f.ip) for f in inbound}
    for name, frames in on_web.items():
        got = [f for f in frames if f.dst == VIP and f.ports()[0] in ports]
        assert got and all(f.dst_mac == mac_for(WEB[name]) for f in got)
        assert all(f.src_mac == mac_for(DIRECTOR) for f in got)
        assert all((f.ports()[0], f.ip) in arrived for f in got)


@pytest.mark.parametrize("lab", ["tun"], indirect=True)
def test_tun_packets_on_the_wire(fresh: KernelLab) -> None:
    _need_tcpdump()
    lab = fresh
    lab.restore(GUIDE_COMMANDS["tun"])
    lab.agent().get()
    director = Capture(lab, "director", "eth0", f"tcp port 80 and dst host {VIP}")
    web = {name: Capture(lab, name, "eth0", f"ip proto 4 or src host {VIP}") for name in WEB}
    answers = [lab.agent().must("get") for _ in range(4)]
    on_director = director.stop()
    on_web = {name: c.stop() for name, c in web.items()}
    ports = {a["sport"]: a["name"] for a in answers}
    assert set(ports.values()) == {"web1", "web2"}
    arrival_ttl = {f.ports()[0]: f.ttl for f in on_director if f.ports()[0] in ports}
    assert arrival_ttl, "no client packet seen on the director"
    for name, frames in on_web.items():
        tunnelled = [f for f in frames if f.proto == 4]
        assert tunnelled, name
        for f in tunnelled:
            assert (f.src, f.dst) == (DIRECTOR, WEB[name])
            inner = f.inner
            assert inner[0] >> 4 == 4 and inner[9] == 6
            src = ".".join(str(b) for b in inner[12:16])
            dst = ".".join(str(b) for b in inner[16:20])
            assert (src, dst) == (CLIENT, VIP)
            sport = f.ports(inner)[0]
            assert ports[sport] == name
            assert f.ttl == inner[8]  # outer TTL = inner TTL after the decrement
            assert inner[8] == arrival_ttl[sport] - 1  # §6.5
        replies = [f for f in frames if f.proto == 6 and f.src == VIP]
        assert replies and all(f.src_mac == mac_for(WEB[name]) for f in replies)


# --- 7. UDP --------------------------------------------------------------------------


@pytest.mark.parametrize("lab", ["nat", "dr", "tun"], indirect=True)
def test_udp_flows(fresh: KernelLab) -> None:
    lab = fresh
    flag = METHOD_FLAG[lab.mode]
    commands = two_servers(UDP_PORT, "rr", flag, proto="-u")
    lab.restore(commands)
    model = Model(commands)
    agent = lab.agent()
    flows = []
    for _ in range(2):
        r = agent.must("udp", payloads=["a", "b", "c"], port=UDP_PORT)
        conn = model.connect(CLIENT, r["sport"], UDP_PORT, proto=IPPROTO_UDP)
        assert conn is not None
        name = Model.name(conn)
        assert r["replies"] == [[f"{name}:{p}", VIP, UDP_PORT] for p in "abc"], r
        flows.append((r["sport"], Model.dest(conn)))
    assert {d for _p, d in flows} == {f"{ip}:{UDP_PORT}" for ip in WEB.values()}
    rows = [r for r in conn_rows(lab.ok("-Lnc")) if r.virtual == f"{VIP}:{UDP_PORT}"]
    assert sorted((int(r.source.split(":")[1]), r.dest) for r in rows) == sorted(flows)
    assert all(r.proto == "UDP" and r.state == "UDP" and 290 < r.expire <= 300 for r in rows)
    want = model.counts(UDP_PORT, IPPROTO_UDP)
    assert want == {f"{ip}:{UDP_PORT}": (0, 1) for ip in WEB.values()}  # UDP: inactive (§4.4)
    assert listed_counts(lab.wait_listed(want, f"-u {VIP}:{UDP_PORT}")) == want


# --- 8. --set -------------------------------------------------------------------------


@pytest.mark.parametrize("lab", ["nat", "dr"], indirect=True)
def test_set_timeouts_apply_to_new_flows(fresh: KernelLab) -> None:
    lab = fresh
    flag = METHOD_FLAG[lab.mode]
    lab.restore(
        [
            f"-A -u {VIP}:{UDP_PORT} -s rr",
            f"-a -u {VIP}:{UDP_PORT} -r 10.0.1.11:{UDP_PORT} {flag} -w 1",
            f"-A -t {VIP}:8088 -s rr",
            f"-a -t {VIP}:8088 -r 10.0.1.11:8088 {flag} -w 1",
        ]
    )
    lab.ok("--set", "30", "20", "10")
    assert lab.ok("-L", "--timeout") == "Timeout (tcp tcpfin udp): 30 20 10\n"
    agent = lab.agent()
    udp = agent.must("udp", payloads=["x"], port=UDP_PORT)
    assert udp["replies"][0] is not None, udp
    held = agent.must("open", port=8088)
    try:
        rows = conn_rows(lab.ok("-Lnc"))
        mine = {r.source: r for r in rows}
        u = mine[f"{CLIENT}:{udp['sport']}"]
        assert u.state == "UDP" and 0 < u.expire <= 10, u
        t = mine[f"{CLIENT}:{held['sport']}"]
        assert 0 < t.expire <= 30, t  # established (its state name: the test above)
    finally:
        agent.must("close", id=held["id"])
    time.sleep(0.3)
    closed = {r.source: r for r in conn_rows(lab.ok("-Lnc"))}[f"{CLIENT}:{held['sport']}"]
    if lab.mode == "dr":  # FIN_WAIT takes tcpfin; NAT's TIME_WAIT is not --set's
        assert closed.state == "FIN_WAIT" and 0 < closed.expire <= 20, closed


# --- 9. bad input ----------------------------------------------------------------------


@pytest.mark.parametrize("lab", ["dr"], indirect=True)
def test_dr_real_server_behind_a_gateway_or_unreachable(fresh: KernelLab) -> None:
    lab = fresh
    lab.restore(
        [
            f"-A -t {VIP}:81 -s rr",
            f"-a -t {VIP}:81 -r 10.0.2.99:81 -g -w 1",  # behind the router
            f"-A -t {VIP}:82 -s rr",
            f"-a -t {VIP}:82 -r 10.0.1.77:82 -g -w 1",  # on the link, nobody there
            *GUIDE_COMMANDS["dr"],
        ]
    )
    agent = lab.agent()
    for port in (81, 82):
        agent.fails(port)  # no answer from anywhere
    time.sleep(1.0)
    st = lab.status()  # the daemon is alive and answers
    warnings = " ".join(st.get("warnings") or [])
    assert "10.0.2.99" in warnings and "gateway" in warnings, st
    assert "10.0.1.77" in warnings, st
    assert agent.get() in WEB  # the working service still works


# --- 5. fault: kill -9 the daemon mid-transfer -------------------------------------


def daemon_pid(lab: KernelLab) -> int:
    """The director daemon's pid: the lab's, or the one a test restarted."""
    pid = int(lab.status()["pid"])
    state = json.loads(Path(f"{LAB_DIR}/state.json").read_text())
    ours = [p["pid"] for p in state["processes"] if p["name"] == "pylvs"]
    assert pid in [*ours, *(p.pid for p in lab.procs)], pid
    return pid


def restart_daemon(lab: KernelLab) -> subprocess.Popen[bytes]:
    """Start the director's daemon the way the lab does (procs.start):
    ``python -m pylvs.cli.main run --dataplane kernel --socket SOCKET``."""
    p = lab.spawn(
        "director",
        [
            sys.executable,
            "-m",
            "pylvs.cli.main",
            "run",
            "--dataplane",
            "kernel",
            "--socket",
            SOCKET,
        ],
        "director-restarted.log",
        env={**os.environ, "PYLVS_SOCKET": SOCKET},
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while not lab.status_ok():
        assert p.poll() is None, (lab.tmp / "director-restarted.log").read_text()
        assert time.monotonic() < deadline, "the restarted daemon never answered"
        time.sleep(0.1)
    return p


def wait_saved(text: str, timeout: float = 5) -> None:
    """Until the daemon's state file holds ``text`` (the table as rules)."""
    path = Path(f"{SOCKET}.kernel-state.json")
    deadline = time.monotonic() + timeout
    while not (path.exists() and text in path.read_text()):
        assert time.monotonic() < deadline, f"{path} never held {text!r}"
        time.sleep(0.05)


@pytest.mark.parametrize("lab", ["nat", "dr", "tun"], indirect=True)
def test_kill9_mid_transfer_and_restart(fresh: KernelLab) -> None:
    lab = fresh
    flag = METHOD_FLAG[lab.mode]
    port = 8087
    svc = f"{VIP}:{port}"
    lab.restore(
        [
            f"-A -t {svc} -s rr",
            f"-a -t {svc} -r 10.0.1.11:{port} {flag} -w 1",
            f"-a -t {svc} -r 10.0.1.12:{port} {flag} -w 1",
        ]
    )
    wait_saved(f"-a -t {svc} -r 10.0.1.12:{port}")  # kill -9 just after a change: the next test
    before = svc_lines(lab.ok("-Ln"))
    agent = lab.agent()
    size, rate = 24_000_000, 8_000_000  # about 3 s
    bulk = agent.must("bulk", size=size, rate=rate, port=port)
    assert bulk["name"] in WEB, bulk
    time.sleep(0.5)
    os.kill(daemon_pid(lab), signal.SIGKILL)
    mid = agent.must("bulk_state", id=bulk["id"])
    assert not mid["done"], "the transfer ended before the kill: make it longer"
    restart_daemon(lab)
    # The table came back from the state file...
    assert svc_lines(lab.ok("-Ln")) == before
    done = agent.bulk_wait(bulk["id"], timeout=15)
    assert done["done"] and done["error"] is None, done
    assert (done["bytes"], done["sha"]) == (size, stream_digest(size, 7))
    # ...and the flow was taken over: listed, to its real server.
    rows = {r.source: r for r in conn_rows(lab.ok("-Lnc")) if r.virtual == svc}
    flow = rows.get(f"{CLIENT}:{bulk['sport']}")
    assert flow is not None and flow.dest == f"{WEB[bulk['name']]}:{port}", rows
    # A new connection is scheduled by the new daemon.
    fresh_name = agent.must("bulk", size=0, rate=0, port=port, src=CLIENTS[4])["name"]
    assert fresh_name in WEB
    rows = {r.source: r for r in conn_rows(lab.ok("-Lnc")) if r.virtual == svc}
    assert any(src.startswith(f"{CLIENTS[4]}:") for src in rows), rows


@pytest.mark.parametrize("lab", ["nat"], indirect=True)
def test_a_change_survives_kill9_right_after_it(fresh: KernelLab) -> None:
    """IPVS's table is the kernel's: a change ipvsadm reported done is there
    whatever happens to any process afterwards."""
    lab = fresh
    port = 8094
    commands = two_servers(port, "wrr", "-m", weights=(3, 2))
    pid = daemon_pid(lab)
    lab.restore(commands)  # done: pylvsadm has exited 0
    os.kill(pid, signal.SIGKILL)
    restart_daemon(lab)
    assert svc_lines(lab.ok("-Ln", "-t", f"{VIP}:{port}"))[2:] == [
        f"TCP {VIP}:{port} wrr",
        f"-> 10.0.1.11:{port} Masq 3",
        f"-> 10.0.1.12:{port} Masq 2",
    ]
    model = Model(commands)
    got, want, _flows = run_script(lab, model, port, ["open", "close 0"] * 1 + ["open"])
    assert got == want


def test_non_root_gets_one_clear_message() -> None:
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv (to drop to nobody)")
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    pylvs_bin = str(Path(sys.executable).parent / "pylvs")
    probe = subprocess.run([*nobody, pylvs_bin, "--help"], capture_output=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip("nobody cannot run this venv's pylvs (its interpreter is not world-readable)")
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o777)
        r = subprocess.run(
            [*nobody, pylvs_bin, "run", "--dataplane", "kernel", "--socket", f"{d}/pylvs.sock"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
    assert r.returncode != 0
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1, r.stderr
    assert "root" in lines[0] or "CAP_NET_ADMIN" in lines[0], lines
    assert "Traceback" not in r.stderr
