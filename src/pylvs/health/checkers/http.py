"""HTTP_GET and SSL_GET: one GET per probe, read to end of stream
(check_http.c, check_ssl.c).

Each phase waits at most connect_timeout, as keepalived's threads do: the
connect (and TLS handshake), the first read, then each further read.  The
failure reasons are keepalived's own messages, logged by the engine as
``<reason> server [rs].`` when log_all_failures is on.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from functools import cache

from pylvs.health.checkers.base import (
    Connect,
    ProbeContext,
    bind_socket,
    family_of,
    nonblocking_connect,
    target,
)
from pylvs.health.checkers.callback import Done, TcpProbe, run_callback_probe
from pylvs.health.checkers.http_response import HttpResponse, compile_regex
from pylvs.health.checkers.reactor import EPOLLIN, Reactor
from pylvs.health.params import CheckerParams, HttpSpec, SslParams, UrlParams
from pylvs.health.result import ProbeResult

__all__ = ["HttpChecker", "build_request", "ssl_context"]

_READ_SIZE = 65536
_BIND_FAILED = "WEB socket bind failed. Rescheduling"
_CONNECT_REASONS = {
    Connect.TIMEOUT: "Timeout connecting",
    Connect.FAIL: "Connection failed",
    Connect.ERROR: "Error connecting",
    Connect.FAIL_AT_ONCE: "HTTP/SSL_CHECK - network unreachable",
}


def build_request(
    spec: HttpSpec, url: UrlParams, ctx: ProbeContext, addr: tuple[str, int]
) -> bytes:
    """The request keepalived sends (reference §3.4): Host is the url's,
    else the checker's, the real server's or the virtual server's
    virtualhost, else ``ip:port`` of the target (``[v6]:port``)."""
    vhost = url.virtualhost or spec.virtualhost or ctx.rs_virtualhost or ctx.vs_virtualhost
    if vhost:
        host = vhost
    elif ":" in addr[0]:
        host = f"[{addr[0]}]:{addr[1]}"
    else:
        host = f"{addr[0]}:{addr[1]}"
    minor = 1 if spec.http_protocol == "1.1" else 0
    close = "Connection: close\r\n" if spec.http_protocol in ("1.0C", "1.1") else ""
    return (
        f"GET {url.path} HTTP/1.{minor}\r\nUser-Agent: KeepAliveClient\r\n{close}Host: {host}\r\n\r\n"
    ).encode()


@cache
def ssl_context(params: SslParams | None) -> ssl.SSLContext:
    """keepalived's client context: the SSL block's files are loaded, but it
    never sets a verify mode, so certificates are not checked."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if params is not None:
        if params.certificate:
            ctx.load_cert_chain(params.certificate, params.key, params.password)
        if params.ca:
            ctx.load_verify_locations(params.ca)
    return ctx


class _HttpProbe(TcpProbe):
    """connect → send the GET → read to end of stream, each wait bounded by
    connect_timeout; the first read's timeout is "Timeout WEB read", later
    ones "Timeout HTTP read" (http_response_thread, http_read_thread)."""

    __slots__ = ("checker", "first", "greeting", "response", "url")
    SOCKET_FAILED = ("WEB connection fail to create socket. Rescheduling.",)
    CRASH_REASON = "Error connecting"

    def __init__(self, reactor: Reactor, done: Done, checker: HttpChecker, url: int) -> None:
        super().__init__(reactor, done)
        self.checker = checker
        self.url = url
        self.first = True
        self.greeting = checker.requests[url]
        self.response = HttpResponse(checker.spec.urls[url], checker.regexes[url])

    def on_connect_failed(self, outcome: Connect, logs: tuple[str, ...] = ()) -> None:
        if outcome is Connect.ERROR_AT_ONCE:
            self.finish(ProbeResult.rescheduled(*logs, _BIND_FAILED))
        else:
            self.finish(ProbeResult(ok=False, reason=_CONNECT_REASONS[outcome]))

    def on_connected(self) -> None:
        assert self.sock is not None
        try:
            self.sock.send(self.checker.requests[self.url])
        except OSError:
            self.finish(ProbeResult(ok=False, reason="Cannot send get request to"))
            return
        self.on_sent()

    def on_sent(self) -> None:
        self.wait(EPOLLIN, _HttpProbe._readable, self.checker.timeout, _HttpProbe._read_timeout)

    def _read_timeout(self) -> None:
        reason = "Timeout WEB read" if self.first else "Timeout HTTP read"
        self.finish(ProbeResult(ok=False, reason=reason))

    def _readable(self) -> None:
        assert self.sock is not None
        sock = self.sock
        while True:
            try:
                data = sock.recv(_READ_SIZE)
            except BlockingIOError:
                break
            except OSError:
                self.finish(ProbeResult(ok=False, reason="Read error with"))
                return
            if not data:
                self.finish(self.response.verdict())
                return
            self.response.feed(data)
            self.first = False
        # more to come: restart the read timer, as each keepalived read does
        self.restart_timer(self.checker.timeout)


class HttpChecker:
    def __init__(self, params: CheckerParams, ctx: ProbeContext) -> None:
        spec = params.spec
        assert isinstance(spec, HttpSpec)
        self.spec = spec
        self.tls = params.kind == "SSL_GET"
        self.addr = target(spec.connect, ctx)
        self.family = family_of(self.addr[0])
        self.timeout = params.connect_timeout
        #: plain HTTP runs on the callback fast path (see callback.py)
        self.fast = not self.tls
        self.reactor: Reactor | None = None
        self.requests = [build_request(spec, url, ctx, self.addr) for url in spec.urls]
        self.regexes = [compile_regex(url) for url in spec.urls]
        self.sni: list[str] = []
        for url in spec.urls:
            name = None
            if spec.enable_sni:
                name = spec.sni_name or url.virtualhost or spec.virtualhost or ctx.vs_virtualhost
            self.sni.append(name or "")

    def start(self, url: int, done: Done) -> TcpProbe:
        """Plain HTTP, driven by callbacks (the runner's fast path)."""
        self.reactor = reactor = Reactor.cached(self.reactor)
        probe = _HttpProbe(reactor, done, self, url)
        probe.connect(self.family, self.addr, self.spec.connect, self.timeout)
        return probe

    async def probe(self, url: int) -> ProbeResult:
        if not self.tls:
            return await run_callback_probe(lambda done: self.start(url, done))
        try:
            sock = socket.socket(self.family, socket.SOCK_STREAM)
        except OSError:
            return ProbeResult.rescheduled(*_HttpProbe.SOCKET_FAILED)
        try:
            failure = bind_socket(sock, self.spec.connect)
            if failure is not None:
                return ProbeResult.rescheduled(failure, _BIND_FAILED)
            outcome = await nonblocking_connect(sock, self.addr, self.timeout)
            if outcome is Connect.ERROR_AT_ONCE:
                return ProbeResult.rescheduled(_BIND_FAILED)
            if outcome is not Connect.SUCCESS:
                return ProbeResult(ok=False, reason=_CONNECT_REASONS[outcome])
            response = HttpResponse(self.spec.urls[url], self.regexes[url])
            return await self._over_tls(sock, url, response)
        finally:
            sock.close()

    async def _over_tls(self, sock: socket.socket, url: int, response: HttpResponse) -> ProbeResult:
        tls_compliant = self.spec.tls_compliant or self.spec.urls[url].tls_compliant
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(
                    sock=sock,
                    ssl=ssl_context(self.spec.ssl),
                    server_hostname=self.sni[url],
                    ssl_handshake_timeout=self.timeout,
                )
        except TimeoutError:
            return ProbeResult(ok=False, reason="Timeout connecting")
        except (OSError, ssl.SSLError):
            return ProbeResult(ok=False, reason="SSL handshake/communication error connecting to")
        try:
            try:
                writer.write(self.requests[url])
            except (OSError, RuntimeError):
                return ProbeResult(ok=False, reason="Cannot send get request to")
            while True:
                try:
                    async with asyncio.timeout(self.timeout):
                        data = await reader.read(_READ_SIZE)
                except TimeoutError:
                    return ProbeResult(ok=False, reason="Timeout SSL read")
                except (OSError, ssl.SSLError):
                    if not response.extracted:
                        return ProbeResult(ok=False, reason="SSL read error from")
                    return response.verdict()
                if not data:
                    return response.verdict()
                response.feed(data)
        finally:
            await _close_tls(writer, tls_compliant, self.timeout)


async def _close_tls(writer: asyncio.StreamWriter, tls_compliant: bool, timeout: float) -> None:
    """tls_compliant sends close_notify and waits for the close; otherwise
    the connection is dropped (keepalived's SSL_set_quiet_shutdown)."""
    if tls_compliant:
        writer.close()
        try:
            async with asyncio.timeout(timeout):
                await writer.wait_closed()
            return
        except (TimeoutError, OSError, ssl.SSLError):
            pass
    writer.transport.abort()
