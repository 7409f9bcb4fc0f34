"""HTTP_GET and SSL_GET against real servers on loopback."""

from __future__ import annotations

import asyncio
import hashlib
import socket
import ssl
import time
from pathlib import Path

import pytest
from health_servers import HOST, HttpServer, black_hole, context, free_port, params, self_signed

from pylvs.health.checkers.http import HttpChecker
from pylvs.health.params import HttpSpec, UrlParams
from pylvs.health.result import ProbeResult

BODY = b"<html>up</html>"
GOOD = b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY


async def probe(
    port: int, *urls: UrlParams, timeout: float = 1.0, **spec_kw: object
) -> ProbeResult:
    spec = HttpSpec(urls=urls or (UrlParams("/health"),), **spec_kw)  # type: ignore[arg-type]
    return await HttpChecker(params("HTTP_GET", spec, timeout), context(port)).probe(0)


def test_good_response_with_digest_and_the_exact_request() -> None:
    async def main() -> None:
        server = await HttpServer(GOOD).start()
        digest = hashlib.md5(BODY).hexdigest()
        result = await probe(server.port, UrlParams("/health", digest=digest))
        assert result.ok and result.success_msg == "MD5 digest"
        assert result.http_lengths == (len(BODY), len(BODY))
        assert server.requests == [
            b"GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\n"
            + f"Host: {HOST}:{server.port}\r\n\r\n".encode()
        ]
        await server.stop()

    asyncio.run(main())


def test_wrong_status_and_wrong_digest() -> None:
    async def main() -> None:
        server = await HttpServer(b"HTTP/1.0 500 Oops\r\n\r\n").start()
        result = await probe(server.port)
        assert (result.ok, result.reason) == (False, "HTTP status code error to")
        server.response = GOOD
        result = await probe(server.port, UrlParams("/", digest="0" * 32))
        assert (result.ok, result.reason) == (False, "MD5 digest error to")
        result = await probe(server.port, UrlParams("/", status_codes=frozenset({500})))
        assert result.reason == "HTTP status code error to"
        result = await probe(server.port, UrlParams("/", status_codes=frozenset({200, 500})))
        assert result.ok
        await server.stop()

    asyncio.run(main())


def test_regex_over_the_response() -> None:
    async def main() -> None:
        server = await HttpServer(GOOD).start()
        assert (await probe(server.port, UrlParams("/", regex="<html>up"))).ok
        result = await probe(server.port, UrlParams("/", regex="down"))
        assert result.reason == "Regex match failed"
        await server.stop()

    asyncio.run(main())


def test_silent_server_times_out_reading() -> None:
    async def main() -> None:
        server = await HttpServer(None).start()
        t = time.monotonic()
        result = await probe(server.port, timeout=0.3)
        assert (result.ok, result.reason) == (False, "Timeout WEB read")
        assert 0.25 < time.monotonic() - t < 2.5
        await server.stop()

    asyncio.run(main())


def test_slow_server_within_the_timeout_passes() -> None:
    async def main() -> None:
        server = await HttpServer(GOOD, delay=0.2).start()
        assert (await probe(server.port, timeout=1.0)).ok
        await server.stop()

    asyncio.run(main())


def test_connect_timeout() -> None:
    listener, fillers, port = black_hole()
    try:
        t = time.monotonic()
        result = asyncio.run(probe(port, timeout=0.3))
        assert (result.ok, result.reason) == (False, "Timeout connecting")
        assert time.monotonic() - t < 2.5
    finally:
        for s in [listener, *fillers]:
            s.close()


def test_nothing_listening() -> None:
    result = asyncio.run(probe(free_port()))
    assert (result.ok, result.reason) == (False, "Connection failed")


def test_http_1_1_and_virtualhost() -> None:
    async def main() -> None:
        server = await HttpServer(GOOD).start()
        url = UrlParams("/a", virtualhost="url.example")
        assert (await probe(server.port, url, http_protocol="1.1")).ok
        assert server.requests[0] == (
            b"GET /a HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\n"
            b"Host: url.example\r\n\r\n"
        )
        await server.stop()

    asyncio.run(main())


def test_bindto_and_bind_port() -> None:
    async def main() -> None:
        seen: list[tuple[str, int]] = []

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            seen.append(writer.get_extra_info("peername"))
            await reader.readuntil(b"\r\n\r\n")
            writer.write(GOOD)
            writer.close()

        server = await asyncio.start_server(serve, HOST, 0)
        port = server.sockets[0].getsockname()[1]
        from pylvs.health.params import ConnectParams

        src = free_port()
        connect = ConnectParams(bindto="127.0.0.7", bind_port=src)
        assert (await probe(port, connect=connect)).ok
        assert seen == [("127.0.0.7", src)]
        # connect_ip/connect_port redirect the probe
        other = ConnectParams(connect_ip=HOST, connect_port=port)
        spec = HttpSpec(urls=(UrlParams("/"),), connect=other)
        checker = HttpChecker(params("HTTP_GET", spec), context(free_port(), ip="127.0.0.9"))
        assert (await checker.probe(0)).ok
        server.close()

    asyncio.run(main())


@pytest.mark.skipif(
    not hasattr(socket, "SO_MARK") or __import__("os").geteuid() != 0, reason="SO_MARK needs root"
)
def test_fwmark_sets_so_mark() -> None:
    async def main() -> None:
        server = await HttpServer(GOOD).start()
        from pylvs.health.params import ConnectParams

        assert (await probe(server.port, connect=ConnectParams(fwmark=7))).ok
        await server.stop()

    asyncio.run(main())


def tls_server_context(tmp_path: Path) -> ssl.SSLContext:
    made = self_signed(tmp_path)
    if made is None:
        pytest.skip("neither the cryptography package nor openssl is available")
    cert, key = made
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def test_ssl_get_with_a_self_signed_certificate_and_sni(tmp_path: Path) -> None:
    async def main() -> None:
        server = await HttpServer(GOOD).start(tls=tls_server_context(tmp_path))
        spec = HttpSpec(
            urls=(UrlParams("/tls", digest=hashlib.md5(BODY).hexdigest()),),
            enable_sni=True,
            virtualhost="sni.example",
        )
        result = await HttpChecker(params("SSL_GET", spec), context(server.port)).probe(0)
        assert result.ok, result
        assert server.sni == ["sni.example"]
        assert server.requests[0].startswith(b"GET /tls HTTP/1.0\r\n")
        # without enable_sni no server name is sent
        spec = HttpSpec(urls=(UrlParams("/"),), virtualhost="sni.example")
        assert (await HttpChecker(params("SSL_GET", spec), context(server.port)).probe(0)).ok
        assert server.sni[-1] is None
        await server.stop()

    asyncio.run(main())


def test_ssl_get_against_a_plain_server_fails_the_handshake(tmp_path: Path) -> None:
    async def main() -> None:
        server = await HttpServer(GOOD).start()
        spec = HttpSpec(urls=(UrlParams("/"),))
        result = await HttpChecker(params("SSL_GET", spec), context(server.port)).probe(0)
        assert not result.ok
        assert result.reason in (
            "SSL handshake/communication error connecting to",
            "Timeout connecting",
        )
        await server.stop()

    asyncio.run(main())
