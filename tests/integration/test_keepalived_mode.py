"""``pylvs run -f keepalived.conf``: the guide's Step 6 on the proxy plane
with real HTTP servers on loopback, reloads that drop nothing, keepalived's
command line and signals; and the guide's Step 6 verbatim in the lab (root).

Timing is shortened (delay_loop 1, connect_timeout 1, retry 1,
delay_before_retry 1): a stopped server is out within about 3 s, back
within about 2 s. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import BIN, DaemonProc, Result, _answers, run_tool

VIP = "127.0.0.100"
WEB = {"web1": "127.0.0.11", "web2": "127.0.0.12", "web3": "127.0.0.13", "web4": "127.0.0.14"}

# The guide's Step 6 configuration, addresses and timing as parameters.
GUIDE_STEP6 = """global_defs {{
router_id LVS_DIRECTOR
}}
virtual_server {vip} {port} {{
delay_loop {delay_loop}
lb_algo rr
lb_kind DR
persistence_timeout 60
protocol TCP
real_server {web1} {port} {{
weight 1
HTTP_GET {{
url {{
path /
status_code 200
}}
connect_timeout {timeout}
retry {retry}
delay_before_retry {retry_delay}
}}
}}
real_server {web2} {port} {{
weight 1
HTTP_GET {{
url {{
path /
status_code 200
}}
connect_timeout {timeout}
retry {retry}
delay_before_retry {retry_delay}
}}
}}
}}
"""
FAST = {"delay_loop": 1, "timeout": 1, "retry": 1, "retry_delay": 1}


def real_server(ip: str, port: int, *, weight: int = 1, extra: str = "") -> str:
    return f"""  real_server {ip} {port} {{
    weight {weight}
{extra}    HTTP_GET {{
      url {{
        path /
        status_code 200
      }}
      connect_timeout 1
      retry 1
      delay_before_retry 1
    }}
  }}
"""


def virtual_server(port: int, *servers: str, head: str = "", persistence: bool = False) -> str:
    persist = "  persistence_timeout 60\n" if persistence else ""
    return (
        f"{head}virtual_server {VIP} {port} {{\n  delay_loop 1\n  lb_algo rr\n  lb_kind NAT\n"
        f"{persist}  protocol TCP\n{''.join(servers)}}}\n"
    )


# --- real servers -----------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: a connection can be held across a reload

    def do_GET(self) -> None:
        body = f"{self.server.name}\n".encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Web:
    """An HTTP server on ip:port that can be stopped and started again."""

    def __init__(self, name: str, ip: str, port: int) -> None:
        self.name, self.ip, self.port = name, ip, port
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> Web:
        server = ThreadingHTTPServer((self.ip, self.port), _Handler)
        server.daemon_threads = True
        server.name = self.name  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.server = server
        return self

    def stop(self) -> None:
        """Closes the listening socket (new connections are refused); open
        keep-alive connections go on."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@contextlib.contextmanager
def webs(port: int, *names: str) -> Iterator[dict[str, Web]]:
    servers = {n: Web(n, WEB[n], port) for n in WEB}
    try:
        for n in names:
            servers[n].start()
        yield servers
    finally:
        for s in servers.values():
            s.stop()


def pick_port() -> int:
    """A port free on the VIP and on every real server address."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind((VIP, 0))
            port = int(s.getsockname()[1])
        try:
            for ip in WEB.values():
                with socket.socket() as s:
                    s.bind((ip, port))
        except OSError:
            continue
        return port
    raise RuntimeError("no common free port on loopback")


class Client:
    """One HTTP/1.1 keep-alive connection through the VIP."""

    def __init__(self, port: int, source: str = "127.0.0.1") -> None:
        self.sock = socket.create_connection((VIP, port), timeout=5, source_address=(source, 0))

    def get(self) -> str:
        self.sock.sendall(b"GET / HTTP/1.1\r\nHost: vip\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError(f"closed after {data!r}")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(head.split(b"Content-Length:")[1].split(b"\r\n")[0])
        while len(body) < length:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed in the body")
            body += chunk
        return body.decode().strip()

    def close(self) -> None:
        self.sock.close()


def fetch(port: int, source: str = "127.0.0.1") -> str:
    c = Client(port, source)
    try:
        return c.get()
    finally:
        c.close()


# --- the daemon ----------------------------------------------------------------------


class Keepalived(DaemonProc):
    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def mark(self) -> int:
        return len(self.log_text())

    def since(self, mark: int) -> str:
        return self.log_text()[mark:]

    def wait_log(self, line: str, mark: int = 0, timeout: float = 10) -> None:
        wait_for(lambda: line in self.since(mark), timeout, f"log line {line!r}")

    def listing(self) -> str:
        r = self.adm("-Ln")
        assert r.rc == 0, r
        return r.out

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)


def wait_for(cond: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@contextlib.contextmanager
def keepalived(
    tmp: Path, config: str, *args: str, dataplane: str = "proxy"
) -> Iterator[Keepalived]:
    conf = tmp / "keepalived.conf"
    conf.write_text(config)
    sock = str(tmp / "pylvs.sock")
    env = {**os.environ, "PYLVS_SOCKET": sock, "TMPDIR": str(tmp)}
    log = tmp / "daemon.log"
    proc = subprocess.Popen(
        [str(BIN / "pylvs"), "run", "--dataplane", dataplane, "-f", str(conf), "-nlD", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    d = Keepalived(sock, proc, log, env)
    try:
        deadline = time.monotonic() + 15
        while not _answers(sock):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"daemon did not start: {log.read_text()}")
            time.sleep(0.05)
        yield d
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def pylvs_run(*args: str, env: dict[str, str] | None = None) -> Result:
    return run_tool("pylvs", ["run", *args], env or dict(os.environ))


def listing_lines(port: int, *dests: tuple[str, str, int], persistent: bool = True) -> str:
    """ipvsadm -Ln for one TCP service (the exact bytes, ipvsadm's columns)."""
    head = f"TCP  {VIP}:{port} rr" + (" persistent 60" if persistent else "")
    lines = [
        "IP Virtual Server version 1.2.1 (size=4096)",
        "Prot LocalAddress:Port Scheduler Flags",
        "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
        head,
    ]
    for ip, fwd, weight in dests:
        lines.append(f"  -> {f'{ip}:{port}':<28} {fwd:<7} {weight:<6} {0:<10} {0:<10}")
    return "\n".join(lines) + "\n"


def dests_of(listing: str) -> list[tuple[str, str, str]]:
    """(address, method, weight) of each destination line."""
    return [tuple(line.split()[1:4]) for line in listing.splitlines() if line.startswith("  -> ")][
        1:
    ]  # type: ignore[misc]


# --- the guide's Step 6 on the proxy plane -------------------------------------------------


def test_guide_step6_health_checks_take_failed_servers_out_and_back(tmp_path: Path) -> None:
    port = pick_port()
    config = GUIDE_STEP6.format(vip=VIP, port=port, web1=WEB["web1"], web2=WEB["web2"], **FAST)
    saved = tmp_path / "saved.rules"
    with (
        webs(port, "web1", "web2") as web,
        keepalived(tmp_path, config, "--save-on-exit", str(saved)) as d,
    ):
        # the guide's listing, word for word and byte for byte
        both = listing_lines(port, (WEB["web1"], "Route", 1), (WEB["web2"], "Route", 1))
        wait_for(lambda: d.listing() == both, 5, "the guide's table")
        vs = f"[{VIP}]:tcp:{port}"
        rs1 = f"[{WEB['web1']}]:tcp:{port}"
        d.wait_log(f"Activating healthchecker for service {rs1} for VS {vs}")
        assert fetch(port) in ("web1", "web2")

        # a real server that stops is taken out after its retries ...
        mark = d.mark()
        web["web1"].stop()
        d.wait_log(f"HTTP_CHECK on service {rs1} failed after 1 retries.", mark)
        d.wait_log(f"Removing service {rs1} from VS {vs}", mark)
        assert dests_of(d.listing()) == [(f"{WEB['web2']}:{port}", "Route", "1")]
        assert {fetch(port, source) for source in ("127.0.0.1", "127.0.0.2")} == {"web2"}

        # ... and put back when it answers again
        mark = d.mark()
        web["web1"].start()
        d.wait_log(f"HTTP status code success to {rs1} url(/)", mark)
        d.wait_log(f"Remote Web server {rs1} succeed on service.", mark)
        d.wait_log(f"Adding service {rs1} to VS {vs}", mark)
        assert dests_of(d.listing()) == [
            (f"{WEB['web1']}:{port}", "Route", "1"),
            (f"{WEB['web2']}:{port}", "Route", "1"),
        ]

        # SIGUSR1 / SIGUSR2: keepalived's dump files in $TMPDIR
        d.signal(signal.SIGUSR1)
        d.signal(signal.SIGUSR2)
        data, stats = tmp_path / "keepalived_check.data", tmp_path / "keepalived.stats"
        wait_for(lambda: data.exists() and stats.exists(), 5, "the dump files")
        text = data.read_text()
        assert "------< LVS Topology >------" in text
        assert f" VS VIP = {VIP}, VPORT = {port}\n" in text
        assert f"   RIP = {WEB['web1']}, RPORT = {port}, WEIGHT = 1 EFF WEIGHT = 1\n" in text
        assert "   alive = 1\n   num failed checkers = 0\n   RS set = 1\n" in text
        d.wait_log(f"Printing checker data for process({d.proc.pid}) on signal")

        # SIGTERM: keepalived removes what it created
        mark = d.mark()
        assert d.stop() == 0
        assert f"Shutting down service {rs1} from VS {vs}" in d.since(mark)
    assert "-A -t" not in saved.read_text()


def test_inhibit_on_failure_weight_0_fifo_lines_and_dont_release(tmp_path: Path) -> None:
    port = pick_port()
    fifo = tmp_path / "lvs.fifo"
    config = virtual_server(
        port,
        real_server(WEB["web1"], port, extra="    inhibit_on_failure\n"),
        real_server(WEB["web2"], port, weight=2),
        head=f"global_defs {{\n  lvs_notify_fifo {fifo}\n}}\n",
    )
    saved = tmp_path / "saved.rules"
    vs, rs1 = f"[{VIP}]:tcp:{port}", f"[{WEB['web1']}]:tcp:{port}"
    with (
        webs(port, "web1", "web2") as web,
        keepalived(tmp_path, config, "-I", "--save-on-exit", str(saved)) as d,
    ):
        up = [(WEB["web1"], "Masq", 1), (WEB["web2"], "Masq", 2)]
        wait_for(lambda: d.listing() == listing_lines(port, *up, persistent=False), 5, "table")
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            mark = d.mark()
            web["web1"].stop()
            d.wait_log(f"Disabling service {rs1} of VS {vs}", mark)
            down = [(WEB["web1"], "Masq", 0), (WEB["web2"], "Masq", 2)]
            assert d.listing() == listing_lines(port, *down, persistent=False)
            assert fetch(port) == "web2"  # weight 0: no new connection goes there
            web["web1"].start()
            d.wait_log(f"Enabling service {rs1} of VS {vs}", mark)
            assert dests_of(d.listing()) == [
                (f"{WEB['web1']}:{port}", "Masq", "1"),
                (f"{WEB['web2']}:{port}", "Masq", "2"),
            ]
            got = b""
            with contextlib.suppress(BlockingIOError):
                got = os.read(reader, 65536)
        finally:
            os.close(reader)
        # keepalived's FIFO lines, each with its newline and trailing NUL (the
        # quorum line of the start waited in the FIFO for its reader)
        assert got == (f"VS {vs} UP\n\0RS {rs1} {vs} DOWN\n\0RS {rs1} {vs} UP\n\0").encode()
        assert d.stop() == 0  # -I: the table is left as it is
        assert "Shutting down" not in d.log_text()
    assert f"-A -t {VIP}:{port} -s rr" in saved.read_text()
    assert not fifo.exists()  # the FIFO we created is removed


def test_reload_is_a_diff_that_drops_no_connection_and_keeps_checker_state(
    tmp_path: Path,
) -> None:
    port = pick_port()
    w1, w2, w3, w4 = (WEB[n] for n in ("web1", "web2", "web3", "web4"))
    vs = f"[{VIP}]:tcp:{port}"

    def rs(ip: str) -> str:
        return f"[{ip}]:tcp:{port}"

    first = virtual_server(
        port, real_server(w1, port), real_server(w2, port), real_server(w3, port)
    )
    with webs(port, "web1", "web2", "web4"), keepalived(tmp_path, first) as d:
        # web3 has no server: its first check is decisive
        d.wait_log(f"Removing service {rs(w3)} from VS {vs}")
        d.wait_log(f"Remote Web server {rs(w1)} succeed on service.")
        # two connections held open, one on each live server (rr)
        held = [Client(port), Client(port)]
        names = sorted(c.get() for c in held)
        assert names == ["web1", "web2"]
        by_name = {c.get(): c for c in held}

        # new file: web2 removed, web1 reweighted, web3 still there (down), web4 new
        second = virtual_server(
            port, real_server(w1, port, weight=3), real_server(w3, port), real_server(w4, port)
        )
        (tmp_path / "keepalived.conf").write_text(second)
        mark = d.mark()
        d.signal(signal.SIGHUP)
        d.wait_log("Reload of", mark)
        after = d.since(mark)
        assert f"service {rs(w2)} no longer exist" in after
        assert f"Removing service {rs(w2)} from VS {vs}" in after
        assert f"Changing weight from 1 to 3 for active service {rs(w1)} of VS {vs}" in after
        assert f"Activating healthchecker for service {rs(w4)} for VS {vs}" in after
        # surviving checkers are not started afresh: no new announcement,
        # and web3 stays out without being tried again first
        assert f"Activating healthchecker for service {rs(w1)}" not in after
        assert f"Activating healthchecker for service {rs(w3)}" not in after
        assert f"Adding service {rs(w3)}" not in after
        table = dests_of(d.listing())
        assert table == [(f"{w1}:{port}", "Masq", "3"), (f"{w4}:{port}", "Masq", "1")]
        # both held connections still work, the one to the removed server too
        assert by_name["web1"].get() == "web1"
        assert by_name["web2"].get() == "web2"
        for c in held:
            c.close()
        time.sleep(1.5)  # a few probes after the reload
        assert f"Adding service {rs(w3)}" not in d.since(mark)
        assert f"{w3}:{port}" not in d.listing()

        # a file that cannot be read as written is refused; the table stays
        (tmp_path / "keepalived.conf").write_text(second[: second.rindex("}")])
        mark = d.mark()
        d.signal(signal.SIGHUP)
        d.wait_log("refused, the running configuration stays", mark)
        assert "missing '}'" in d.since(mark)
        assert dests_of(d.listing()) == table
        # errors keepalived reloads with (an unknown keyword) do not stop it
        (tmp_path / "keepalived.conf").write_text(
            second.replace("  protocol TCP\n", "  protocol TCP\n  frobnicate\n")
        )
        mark = d.mark()
        d.signal(signal.SIGHUP)
        d.wait_log("Reload of", mark)
        assert "Unknown keyword 'frobnicate'" in d.since(mark)
        assert "done: 0 table changes" in d.since(mark)
        assert d.stop() == 0


def test_vrrp_is_said_once_and_signals_without_configuration(tmp_path: Path) -> None:
    port = pick_port()
    config = (
        "vrrp_instance VI_1 {\n  state MASTER\n  interface lo\n  virtual_router_id 51\n"
        "  priority 100\n  virtual_ipaddress {\n    10.0.1.100\n  }\n}\n"
        + virtual_server(port, real_server(WEB["web1"], port))
    )
    with webs(port, "web1"), keepalived(tmp_path, config, "-d") as d:
        d.wait_log("VRRP configuration is parsed but not active yet (vrrp_instance VI_1)")
        d.wait_log(f"virtual_server [{VIP}]:tcp:{port}")  # -d: the configuration read
        mark = d.mark()
        d.signal(signal.SIGHUP)
        d.wait_log("Reload of", mark)
        assert "VRRP" not in d.since(mark)
        # USR1: the VRRP process's keepalived.data as well (no instance running)
        d.signal(signal.SIGUSR1)
        data = tmp_path / "keepalived.data"
        wait_for(
            lambda: data.exists() and (tmp_path / "keepalived_check.data").exists(), 5, "dumps"
        )
        assert data.read_text().startswith("------< Global definitions >------\n")
        assert d.stop() == 0
    # without -f: no reload, no dump, and the daemon keeps running
    sock = tmp_path / "plain.sock"
    env = {**os.environ, "PYLVS_SOCKET": str(sock)}
    log = tmp_path / "plain.log"
    proc = subprocess.Popen(
        [str(BIN / "pylvs"), "run", "--dataplane", "none"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    try:
        wait_for(lambda: _answers(str(sock)), 15, "the daemon")
        for sig in (signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
            proc.send_signal(sig)
        wait_for(lambda: "nothing to dump" in log.read_text(), 5, "the answers to the signals")
        assert "SIGHUP: nothing to reload" in log.read_text()
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


# --- the command line ---------------------------------------------------------------


def test_config_test_exit_statuses(tmp_path: Path) -> None:
    port = pick_port()
    good = tmp_path / "good.conf"
    good.write_text(virtual_server(port, real_server(WEB["web1"], port)))
    sock = tmp_path / "never.sock"
    env = {**os.environ, "PYLVS_SOCKET": str(sock)}
    r = pylvs_run("-t", "-f", str(good), env=env)
    assert (r.rc, r.out, r.err) == (0, "", "")
    unknown = tmp_path / "unknown.conf"
    unknown.write_text(good.read_text().replace("  protocol TCP\n", "  protocol TCP\n  frob 1\n"))
    r = pylvs_run("--config-test", "-f", str(unknown), env=env)
    assert r.rc == 5
    assert r.err == f"({unknown}: Line 6) Unknown keyword 'frob'\n"
    missing = pylvs_run("-t", "-f", str(tmp_path / "nowhere.conf"), env=env)
    assert missing.rc == 4 and "nowhere.conf" in missing.err
    noparam = tmp_path / "noparam.conf"
    noparam.write_text(good.read_text().replace("weight 1", "weight"))
    assert pylvs_run("-t", "-f", str(noparam), env=env).rc == 2
    # -tLOG_FILE: the errors go to the file
    out = tmp_path / "test.log"
    r = pylvs_run(f"-t{out}", "-f", str(unknown), env=env)
    assert r.rc == 5 and r.err == "" and "Unknown keyword 'frob'" in out.read_text()
    assert not sock.exists()  # -t never starts anything
    # a start with no usable file is refused with keepalived's status
    assert pylvs_run("-f", str(tmp_path / "nowhere.conf"), env=env).rc == 6
    assert pylvs_run("-f", str(noparam), env=env).rc == 2
    assert not sock.exists()


def test_signum_and_pid_file(tmp_path: Path) -> None:
    expected = {
        "STOP": 15,
        "RELOAD": 1,
        "DATA": 10,
        "STATS": 12,
        "STATS_CLEAR": signal.SIGRTMAX - 1,
        "JSON": signal.SIGRTMIN + 2,
    }
    for name, number in expected.items():
        r = pylvs_run(f"--signum={name}")
        assert (r.rc, r.out) == (0, f"{number}\n"), name
    r = pylvs_run("--signum", "TDUMP")
    assert (r.rc, r.out, r.err) == (1, "", "Unknown sigfunc TDUMP\n")
    port = pick_port()
    pid = tmp_path / "keepalived.pid"
    with (
        webs(port, "web1"),
        keepalived(
            tmp_path, virtual_server(port, real_server(WEB["web1"], port)), "-p", str(pid)
        ) as d,
    ):
        assert pid.read_text() == f"{d.proc.pid}\n"
        assert d.stop() == 0
    assert not pid.exists()


# --- the guide's Step 6 verbatim in the lab (root) -------------------------------------------


def _lab_skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if names.returncode != 0:
        return "'ip netns' is unavailable here"
    if any(n.startswith("lvs-") for n in names.stdout.split()) or os.path.exists(
        "/run/pylvs-lab/state.json"
    ):
        return "a pylvs lab is already up on this machine; the tests leave it alone"
    try:
        import pyroute2  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        return "needs pyroute2 (pip install -e '.[kernel]')"
    return None


def lab(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "pylvs"), "lab", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.root
@pytest.mark.slow
def test_guide_step6_verbatim_in_the_lab(tmp_path: Path) -> None:
    """guide Step 4's DR lab, the VIP on the director's eth0, then Step 6 as
    written: keepalived.conf unchanged, ``pylvsadm -Ln`` as the guide shows."""
    reason = _lab_skip_reason()
    if reason:
        pytest.skip(reason)
    conf = tmp_path / "keepalived.conf"
    conf.write_text(
        GUIDE_STEP6.format(
            vip="10.0.1.100",
            port=80,
            web1="10.0.1.11",
            web2="10.0.1.12",
            delay_loop=10,
            timeout=3,
            retry=3,
            retry_delay=3,
        )
    )
    up = lab("up", "--mode", "dr", "--bare", "-q")
    assert up.returncode == 0, up.stderr
    daemon = None
    try:
        vip = lab("exec", "director", "--", "ip", "addr", "add", "10.0.1.100/32", "dev", "eth0",
                  "label", "eth0:0")  # fmt: skip
        assert vip.returncode == 0, vip.stderr
        log = tmp_path / "keepalived.log"
        daemon = subprocess.Popen(
            [str(BIN / "pylvs"), "lab", "exec", "director", "--", "pylvs", "run", "-f", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        guide = [
            ["TCP", "10.0.1.100:80", "rr", "persistent", "60"],
            ["->", "10.0.1.11:80", "Route", "1", "0", "0"],
            ["->", "10.0.1.12:80", "Route", "1", "0", "0"],
        ]

        def listing() -> list[list[str]]:
            r = lab("exec", "director", "--", "pylvsadm", "-Ln", timeout=15)
            return [line.split() for line in r.stdout.splitlines()[3:]]

        wait_for(lambda: listing() == guide, 20, f"the guide's table ({log})")
        # the first checks (within delay_loop + 1 s) find both servers up
        wait_for(lambda: log.read_text().count("Remote Web server") >= 2, 15, "both checks to pass")
        assert listing() == guide
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(15) == 0
        assert (
            "Shutting down service [10.0.1.11]:tcp:80 from VS [10.0.1.100]:tcp:80"
            in log.read_text()
        )
    finally:
        if daemon is not None and daemon.poll() is None:
            daemon.kill()
            daemon.wait(10)
        lab("down")
