"""TCP_CHECK, SMTP_CHECK, DNS_CHECK, UDP_CHECK and PING_CHECK against real
peers on loopback."""

from __future__ import annotations

import asyncio
import os
import socket
import struct
import time

import pytest
from health_servers import (
    HOST,
    SmtpServer,
    black_hole,
    context,
    dns_answer,
    free_port,
    params,
    udp_server,
)

from pylvs.health.checkers.dns import DnsChecker
from pylvs.health.checkers.ping import PingChecker
from pylvs.health.checkers.smtp import SmtpChecker
from pylvs.health.checkers.tcp import TcpChecker
from pylvs.health.checkers.udp import FILLER, UdpChecker
from pylvs.health.params import DnsSpec, PingSpec, SmtpSpec, TcpSpec, UdpSpec
from pylvs.health.result import ProbeResult


def tcp(port: int, timeout: float = 0.5) -> ProbeResult:
    return asyncio.run(TcpChecker(params("TCP_CHECK", TcpSpec(), timeout), context(port)).probe(0))


def test_tcp_up_and_down_with_a_listener() -> None:
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    assert tcp(port).ok
    listener.close()
    assert tcp(port) == ProbeResult(ok=False, reason="failed")
    again = socket.socket()
    again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    again.bind((HOST, port))
    again.listen(8)
    assert tcp(port).ok
    again.close()


def test_tcp_connect_timeout() -> None:
    listener, fillers, port = black_hole()
    try:
        t = time.monotonic()
        assert tcp(port, timeout=0.3) == ProbeResult(ok=False, reason="timeout")
        assert time.monotonic() - t < 2.5
    finally:
        for s in [listener, *fillers]:
            s.close()


def smtp(server_port: int, **spec_kw: object) -> ProbeResult:
    spec = SmtpSpec(**spec_kw)  # type: ignore[arg-type]
    return asyncio.run(SmtpChecker(params("SMTP_CHECK", spec), context(server_port)).probe(0))


def test_smtp_conversation() -> None:
    async def main() -> None:
        server = await SmtpServer().start()
        spec = SmtpSpec(helo_name="checker.example")
        result = await SmtpChecker(params("SMTP_CHECK", spec), context(server.port)).probe(0)
        assert result.ok
        assert server.lines == [b"HELO checker.example\r\n", b"QUIT\r\n"]

    asyncio.run(main())


def test_smtp_failures_name_the_target() -> None:
    async def main() -> list[str]:
        reasons = []
        for banner, helo, bye in [
            (b"554 go away\r\n", b"", b""),
            (b"220 ok\r\n", b"500 what\r\n", b""),
            (b"220 ok\r\n", b"250 ok\r\n", None),
        ]:
            server = await SmtpServer(banner, helo, bye).start()
            checker = SmtpChecker(params("SMTP_CHECK", SmtpSpec()), context(server.port))
            result = await checker.probe(0)
            reasons.append(result.reason.replace(str(server.port), "P"))
        return reasons

    assert asyncio.run(main()) == [
        "Bad greeting banner from server [127.0.0.1]:P",
        "Bad HELO response from server [127.0.0.1]:P",
        "Read failure from server [127.0.0.1]:P",
    ]
    port = free_port()
    assert smtp(port).reason == f"Could not connect to server [127.0.0.1]:{port}"


def dns(port: int, timeout: float = 0.5, **spec_kw: object) -> ProbeResult:
    spec = DnsSpec(**spec_kw)  # type: ignore[arg-type]
    return asyncio.run(DnsChecker(params("DNS_CHECK", spec, timeout), context(port)).probe(0))


def test_dns_query_and_replies() -> None:
    async def main() -> None:
        proto, port = await udp_server(dns_answer())
        checker = DnsChecker(
            params("DNS_CHECK", DnsSpec(type="A", name="example.com")), context(port)
        )
        assert (await checker.probe(0)).ok
        query = proto.received[0]
        _qid, flags, qd, an, ns, ar = struct.unpack_from("!HHHHHH", query)
        assert (flags, qd, an, ns, ar) == (0x0100, 1, 0, 0, 0)
        assert query[12:] == b"\x07example\x03com\x00\x00\x01\x00\x01"
        proto.answer = dns_answer(rcode=2)
        result = await checker.probe(0)
        assert result.reason == "read error occurred. (rcode = 2)"
        proto.answer = dns_answer(same_id=False)
        assert (
            await DnsChecker(params("DNS_CHECK", DnsSpec(), 0.3), context(port)).probe(0)
        ).reason == ("read timeout from socket")
        proto.transport.close()

    asyncio.run(main())


def test_dns_nothing_listening_reads_the_icmp_error() -> None:
    result = dns(free_port(socket.SOCK_DGRAM))
    assert result.reason == "failed to read socket; errno 111 (Connection refused)"


def udp(port: int, timeout: float = 0.3, **spec_kw: object) -> ProbeResult:
    spec = UdpSpec(**spec_kw)  # type: ignore[arg-type]
    return asyncio.run(UdpChecker(params("UDP_CHECK", spec, timeout), context(port)).probe(0))


def test_udp_without_require_reply() -> None:
    async def main() -> None:
        echo, port = await udp_server(lambda data: data)
        checker = UdpChecker(params("UDP_CHECK", UdpSpec(), 0.3), context(port))
        assert (await checker.probe(0)).ok
        assert echo.received == [FILLER]
        silent, quiet_port = await udp_server(lambda data: None)
        checker = UdpChecker(
            params("UDP_CHECK", UdpSpec(payload="de ad"), 0.2), context(quiet_port)
        )
        t = time.monotonic()
        assert (await checker.probe(0)).ok  # silence until the timeout passes
        assert time.monotonic() - t >= 0.19
        assert silent.received == [b"\xde\xad"]

    asyncio.run(main())
    assert udp(free_port(socket.SOCK_DGRAM)) == ProbeResult(ok=False, reason="failed")


def test_udp_require_reply() -> None:
    async def main() -> None:
        _, port = await udp_server(lambda data: b"\x01\x02\x03\x04")
        good = UdpSpec(require_reply=True, reply="01 XX 03", min_reply_length=3)
        assert (await UdpChecker(params("UDP_CHECK", good, 0.3), context(port)).probe(0)).ok
        bad = UdpSpec(require_reply=True, reply="01 02 04")
        result = await UdpChecker(params("UDP_CHECK", bad, 0.3), context(port)).probe(0)
        assert result == ProbeResult(ok=False, reason="mismatch")
        short = UdpSpec(require_reply=True, reply="01", max_reply_length=3)
        result = await UdpChecker(params("UDP_CHECK", short, 0.3), context(port)).probe(0)
        assert result.reason == "mismatch"
        _, quiet = await udp_server(lambda data: None)
        bare = UdpSpec(require_reply=True)
        result = await UdpChecker(params("UDP_CHECK", bare, 0.2), context(quiet)).probe(0)
        assert result == ProbeResult(ok=False, reason="failed")

    asyncio.run(main())


def ping(ip: str, timeout: float = 1.0) -> ProbeResult:
    checker = PingChecker(params("PING_CHECK", PingSpec(), timeout), context(0, ip=ip))
    return asyncio.run(checker.probe(0))


def _can_ping() -> bool:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP).close()
        return True
    except PermissionError:
        return os.geteuid() == 0


@pytest.mark.skipif(not _can_ping(), reason="no ping socket (ping_group_range) and not root")
def test_ping_loopback() -> None:
    assert ping("127.0.0.1").ok


@pytest.mark.skipif(os.geteuid() != 0, reason="widening ping_group_range needs root")
def test_ping_group_range_is_widened_and_restored(tmp_path: object) -> None:
    from pathlib import Path

    from pylvs.health.checkers import ping as ping_mod

    fake = Path(str(tmp_path)) / "range"
    fake.write_text("100\t2000\n")
    assert ping_mod.widen_ping_group_range(str(fake)) == [
        f"Warning: {fake} being expanded from 100 2000 to 0 2000"
    ]
    assert fake.read_text() == "0\t2000\t\n"
    ping_mod.restore_ping_group_range(str(fake))
    assert fake.read_text() == "100\t2000\t\n"
    fake.write_text("1\t0\n")  # the kernel default: no log line
    assert ping_mod.widen_ping_group_range(str(fake)) == []
    assert fake.read_text() == "0\t0\t\n"
    ping_mod.restore_ping_group_range(str(fake))
