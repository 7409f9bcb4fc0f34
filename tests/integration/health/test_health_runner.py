"""HealthRunner end to end: real probes change the table through the
callbacks; crashes, concurrency bound, shutdown scripts, FILE polling,
script security."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from health_servers import HOST

from pylvs.health.actions import AddDest, RemoveDest, RemoveService, RunScript, TableAction
from pylvs.health.params import (
    FileSpec,
    GlobalParams,
    HealthParams,
    MiscSpec,
    RealServerParams,
    ScriptParams,
    TcpSpec,
    TimingOverrides,
    VirtualServerParams,
    make_checker,
)
from pylvs.health.result import ProbeResult
from pylvs.health.runner import HealthRunner

FAST = TimingOverrides(delay_loop=0.2, warmup=0.0, retry=0, connect_timeout=0.5)


class Recorder:
    def __init__(self) -> None:
        self.table: list[TableAction] = []
        self.logs: list[str] = []
        self.fifo: list[str] = []

    def runner(self, params: HealthParams, **kw: object) -> HealthRunner:
        return HealthRunner(
            params,
            on_table=self.table.append,
            on_log=self.logs.append,
            on_fifo=self.fifo.append,
            freeze_gc=False,
            **kw,  # type: ignore[arg-type]
        )

    async def wait_for(self, pred: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while not pred():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; logs: {self.logs}")
            await asyncio.sleep(0.02)


def one_vs(*rss: RealServerParams, **kw: object) -> HealthParams:
    vs = VirtualServerParams(id="vs", ip="10.0.0.10", port=80, real_servers=rss, **kw)  # type: ignore[arg-type]
    return HealthParams((vs,))


def listen(port: int = 0) -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((HOST, port))
    s.listen(16)
    return s


def test_tcp_check_drives_the_table() -> None:
    async def main() -> None:
        server = listen()
        port = server.getsockname()[1]
        rs = RealServerParams(
            "rs", HOST, port, checkers=(make_checker("TCP_CHECK", TcpSpec(), checker=FAST),)
        )
        rec = Recorder()
        runner = rec.runner(one_vs(rs))
        await runner.start()
        assert rec.table == [rec.table[0], AddDest("vs", "rs", 1)]
        shown = f"[{HOST}]:tcp:{port}"
        await rec.wait_for(lambda: f"TCP connection to {shown} success." in rec.logs)
        server.close()
        await rec.wait_for(lambda: RemoveDest("vs", "rs") in rec.table)
        assert f"TCP_CHECK on service {shown} failed." in rec.logs
        assert f"RS {shown} [10.0.0.10]:tcp:80 DOWN" in rec.fifo
        server = listen(port)
        await rec.wait_for(lambda: rec.table[-1] == AddDest("vs", "rs", 1))
        await runner.stop()
        assert rec.logs[-1] == f"Shutting down service {shown} from VS [10.0.0.10]:tcp:80"
        assert rec.table[-2:] == [RemoveDest("vs", "rs"), RemoveService("vs")]
        server.close()

    asyncio.run(main())


class Fake:
    """A checker double: ``behave`` decides each probe."""

    def __init__(self, behave: Callable[[], object]) -> None:
        self.behave = behave
        self.running = 0
        self.peak = 0

    async def probe(self, url: int) -> ProbeResult:
        self.running += 1
        self.peak = max(self.peak, self.running)
        try:
            outcome = self.behave()
            if asyncio.iscoroutine(outcome):
                outcome = await outcome
            assert isinstance(outcome, ProbeResult)
            return outcome
        finally:
            self.running -= 1


def test_a_crashing_checker_counts_as_a_failure() -> None:
    async def main() -> None:
        def boom() -> object:
            raise RuntimeError("bug")

        fake = Fake(boom)
        rs = RealServerParams(
            "rs", HOST, 80, checkers=(make_checker("TCP_CHECK", TcpSpec(), checker=FAST),)
        )
        rec = Recorder()
        runner = rec.runner(one_vs(rs), factory=lambda params, ctx: fake)
        await runner.start()
        await rec.wait_for(lambda: RemoveDest("vs", "rs") in rec.table)
        assert any("failed: RuntimeError('bug')" in line for line in rec.logs)
        assert runner.stats.crashed >= 1
        await runner.stop()

    asyncio.run(main())


def test_in_flight_probes_are_bounded() -> None:
    async def main() -> None:
        async def slow() -> ProbeResult:
            await asyncio.sleep(0.1)
            return ProbeResult(ok=True)

        fake = Fake(slow)
        checker = make_checker("TCP_CHECK", TcpSpec(), checker=FAST)
        rss = tuple(RealServerParams(f"rs{i}", HOST, 80, checkers=(checker,)) for i in range(6))
        rec = Recorder()
        runner = rec.runner(one_vs(*rss), factory=lambda params, ctx: fake, max_in_flight=2)
        await runner.start()
        await rec.wait_for(lambda: runner.stats.finished >= 12)
        assert fake.peak == 2
        assert runner.stats.queued_peak >= 3
        assert runner.stats.lateness.max >= 0.09  # the queued ones started late
        await runner.stop()

    asyncio.run(main())


def test_omega_scripts_run_at_shutdown_and_notify_scripts_on_changes() -> None:
    async def main() -> None:
        where = Path(tempfile.mkdtemp(prefix="pylvs-health-"))
        marks = where / "marks"

        def script(name: str) -> ScriptParams:
            path = where / name
            path.write_text(f"#!/bin/sh\necho {name} >> {marks}\n")
            path.chmod(0o755)
            return ScriptParams((str(path),))

        results = iter(
            [ProbeResult(ok=True), ProbeResult(ok=False)] + [ProbeResult(ok=False)] * 100
        )
        fake = Fake(lambda: next(results))
        rs = RealServerParams(
            "rs",
            HOST,
            80,
            notify_up=script("up"),
            notify_down=script("down"),
            checkers=(make_checker("TCP_CHECK", TcpSpec(), checker=FAST),),
        )
        rec = Recorder()
        params = one_vs(rs, omega=True, quorum_up=script("qup"), quorum_down=script("qdown"))
        runner = rec.runner(params, factory=lambda params, ctx: fake)
        await runner.start()
        await rec.wait_for(lambda: RemoveDest("vs", "rs") in rec.table)
        await rec.wait_for(lambda: marks.exists() and len(marks.read_text().split()) >= 3)
        await runner.stop()
        seen = marks.read_text().split()
        # the down scripts of one change run concurrently: order within is free
        assert seen[0] == "qup" and sorted(seen[1:3]) == ["down", "qdown"]
        assert seen[3:] == ["qdown"]  # omega: quorum_down at shutdown
        shutil.rmtree(where)

    asyncio.run(main())


def test_scripts_can_be_handed_to_the_daemon() -> None:
    async def main() -> None:
        runs: list[RunScript] = []
        rec = Recorder()
        params = one_vs(RealServerParams("rs", HOST, 80), quorum_up=ScriptParams(("/bin/true",)))
        runner = rec.runner(params, on_script=runs.append)
        await runner.start()
        await runner.stop()
        assert [r.event for r in runs] == ["quorum_up"]

    asyncio.run(main())


def test_file_check_is_polled() -> None:
    async def main() -> None:
        where = Path(tempfile.mkdtemp(prefix="pylvs-health-"))
        state = where / "weight"
        state.write_text("2\n")
        checker = make_checker("FILE_CHECK", FileSpec(str(state), weight=3))
        rs = RealServerParams("rs", HOST, 80, weight=1, checkers=(checker,))
        rec = Recorder()
        vs = VirtualServerParams(id="vs", ip="10.0.0.10", port=80, real_servers=(rs,))
        runner = rec.runner(HealthParams((vs,), GlobalParams(file_poll_interval=0.05)))
        await runner.start()
        assert AddDest("vs", "rs", 7) in rec.table
        state.write_text("4\n")
        await rec.wait_for(lambda: any("Changing weight from 7 to 13" in line for line in rec.logs))
        await runner.stop()
        shutil.rmtree(where)

    asyncio.run(main())


@pytest.mark.skipif(os.geteuid() != 0, reason="script security applies to root scripts")
def test_insecure_misc_script_is_disabled_with_script_security() -> None:
    async def main() -> None:
        where = Path(tempfile.mkdtemp(prefix="pylvs-health-"))
        where.chmod(0o777)
        path = where / "check.sh"
        path.write_text("#!/bin/sh\nexit 0\n")
        path.chmod(0o755)
        spec = MiscSpec(ScriptParams((str(path),), user="root"))
        rs = RealServerParams(
            "rs", HOST, 80, checkers=(make_checker("MISC_CHECK", spec, checker=FAST),)
        )
        vs = VirtualServerParams(id="vs", ip="10.0.0.10", port=80, real_servers=(rs,))
        rec = Recorder()
        params = HealthParams((vs,), GlobalParams(enable_script_security=True))
        runner = rec.runner(params)
        await runner.start()
        assert rec.logs[:2] == [
            f"Unsafe permissions found for script '{path}' - disabling.",
            f"Disabling misc script '{path}' due to insecure",
        ]
        assert not any("Activating" in line for line in rec.logs)
        assert AddDest("vs", "rs", 1) in rec.table  # no checker left: stays up
        await runner.stop()
        shutil.rmtree(where)

    asyncio.run(main())


def test_http_get_through_the_runner() -> None:
    from health_servers import HttpServer

    from pylvs.health.params import HttpSpec, UrlParams

    async def main() -> None:
        server = await HttpServer().start()
        spec = HttpSpec(urls=(UrlParams("/a"), UrlParams("/b")))
        checker = make_checker("HTTP_GET", spec, checker=FAST)
        rec = Recorder()
        runner = rec.runner(one_vs(RealServerParams("rs", HOST, server.port, checkers=(checker,))))
        await runner.start()
        shown = f"[{HOST}]:tcp:{server.port}"
        await rec.wait_for(lambda: f"Remote Web server {shown} succeed on service." in rec.logs)
        server.response = b"HTTP/1.0 503 Busy\r\n\r\n"
        await rec.wait_for(lambda: RemoveDest("vs", "rs") in rec.table)
        assert f"HTTP_CHECK on service {shown} failed." in rec.logs
        server.response = b"HTTP/1.0 200 OK\r\n\r\n"
        await rec.wait_for(lambda: rec.table[-1] == AddDest("vs", "rs", 1))
        await runner.stop()
        await server.stop()
        paths = {r.split(b" ")[1] for r in server.requests}
        assert paths == {b"/a", b"/b"}

    asyncio.run(main())
