"""Small real servers on loopback for the checker tests: HTTP (plain or
TLS), SMTP, DNS, UDP, a listener that never completes handshakes, and a
self-signed certificate made at test time."""

from __future__ import annotations

import asyncio
import shutil
import socket
import ssl
import struct
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pylvs.health.checkers.base import ProbeContext
from pylvs.health.display import fmt_trio
from pylvs.health.params import CheckerParams, CheckerSpec, TimingOverrides, make_checker

HOST = "127.0.0.1"


def context(port: int, ip: str = HOST, **kw: object) -> ProbeContext:
    return ProbeContext(ip, port, fmt_trio(ip, "tcp", port), "[10.0.0.10]:tcp:80", **kw)  # type: ignore[arg-type]


def params(kind: str, spec: CheckerSpec, timeout: float = 1.0) -> CheckerParams:
    return make_checker(kind, spec, checker=TimingOverrides(connect_timeout=timeout))


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class HttpServer:
    """Answers each request with ``response`` (None: never answers) after
    ``delay`` seconds and closes; records the requests and SNI names."""

    response: bytes | None = b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok"
    delay: float = 0.0
    requests: list[bytes] = field(default_factory=list)
    sni: list[str | None] = field(default_factory=list)
    server: asyncio.Server | None = None
    port: int = 0

    async def start(self, tls: ssl.SSLContext | None = None, port: int = 0) -> HttpServer:
        if tls is not None:
            tls.sni_callback = self._sni
        self.server = await asyncio.start_server(self._serve, HOST, port, ssl=tls)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def _sni(self, sock: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
        self.sni.append(name)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            data = await reader.readuntil(b"\r\n\r\n")
            self.requests.append(data)
            response = self.response
            if response is None:
                await asyncio.sleep(3600)
                return
            await asyncio.sleep(self.delay)
            writer.write(response)
            await writer.drain()
        except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()


@dataclass
class SmtpServer:
    """A scripted SMTP peer: sends ``banner``, answers HELO with ``helo``,
    QUIT with ``bye`` (None: closes instead)."""

    banner: bytes = b"220 fake.example ESMTP\r\n"
    helo: bytes = b"250 fake.example\r\n"
    bye: bytes | None = b"221 bye\r\n"
    lines: list[bytes] = field(default_factory=list)
    port: int = 0

    async def start(self) -> SmtpServer:
        server = await asyncio.start_server(self._serve, HOST, 0)
        self.port = server.sockets[0].getsockname()[1]
        self.server = server
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(self.banner)
            line = await reader.readline()
            self.lines.append(line)
            writer.write(self.helo)
            line = await reader.readline()
            self.lines.append(line)
            if self.bye is not None:
                writer.write(self.bye)
            await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()


class _Datagram(asyncio.DatagramProtocol):
    def __init__(self, answer: Callable[[bytes], bytes | None]) -> None:
        self.answer = answer
        self.received: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.received.append(data)
        reply = self.answer(data)
        if reply is not None:
            self.transport.sendto(reply, addr)  # type: ignore[attr-defined]


async def udp_server(answer: Callable[[bytes], bytes | None]) -> tuple[_Datagram, int]:
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_datagram_endpoint(lambda: _Datagram(answer), local_addr=(HOST, 0))
    port = proto.transport.get_extra_info("sockname")[1]
    return proto, port


def dns_answer(rcode: int = 0, same_id: bool = True, qr: bool = True) -> Callable[[bytes], bytes]:
    def answer(query: bytes) -> bytes:
        qid, _flags = struct.unpack_from("!HH", query)
        flags = (0x8000 if qr else 0) | 0x0100 | rcode
        return struct.pack("!HHHHHH", qid if same_id else qid ^ 1, flags, 1, 0, 0, 0) + query[12:]

    return answer


def black_hole() -> tuple[socket.socket, list[socket.socket], int]:
    """A listener whose accept queue is full: new SYNs are dropped, so a
    connect hangs until its timeout."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex((HOST, port))
        fillers.append(s)
    return listener, fillers, port


def self_signed(tmp: Path) -> tuple[Path, Path] | None:
    """A throwaway certificate via the cryptography package, else openssl."""
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    try:
        from cryptography import x509  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        openssl = shutil.which("openssl")
        if openssl is None:
            return None
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )  # fmt: skip
        return cert, key
    return _cryptography_cert(cert, key)


def _cryptography_cert(cert: Path, key: Path) -> tuple[Path, Path]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import (  # type: ignore[import-not-found]
        hashes,
        serialization,
    )
    from cryptography.hazmat.primitives.asymmetric import ec  # type: ignore[import-not-found]
    from cryptography.x509.oid import NameOID  # type: ignore[import-not-found]

    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(private, hashes.SHA256())
    )
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert, key
