"""Small real servers for the proxy-plane tests, on loopback, in threads."""

from __future__ import annotations

import hashlib
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 4096

    def __init__(self, addr: tuple[str, int], handler: type, name: str, family: int) -> None:
        self.address_family = family
        self.name = name
        self.seen: list[tuple[str, int]] = []
        self.proxy_headers: list[bytes] = []
        super().__init__(addr, handler)


def stream(n: int, seed: int) -> Iterator[bytes]:
    """n deterministic pseudo-random bytes, in 64 KiB chunks."""
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB
    sent = 0
    while sent < n:
        chunk = block[: min(len(block), n - sent)]
        sent += len(chunk)
        yield chunk


def stream_digest(n: int, seed: int) -> str:
    h = hashlib.sha256()
    for chunk in stream(n, seed):
        h.update(chunk)
    return h.hexdigest()


class Handler(socketserver.BaseRequestHandler):
    """Speaks a tiny line protocol after an optional PROXY header:
    ``NAME`` -> its name; ``SEND n seed`` -> n bytes; ``ECHO`` -> echoes
    until the client's EOF, then says how much it got; ``HALF`` -> closes
    its write side first, then reads until EOF and prints the count to
    the log of the test; nothing -> its name, then close."""

    def handle(self) -> None:
        server: _Server = self.server  # type: ignore[assignment]
        sock: socket.socket = self.request
        server.seen.append(self.client_address[:2])
        f = sock.makefile("rb")
        first = f.readline()
        if first.startswith(b"PROXY ") or first.startswith(b"\r\n\r\n\x00\r\nQUIT\n"[:6]):
            if first.startswith(b"\r\n"):
                rest = first + f.read(16 - len(first))
                length = int.from_bytes(rest[14:16], "big")
                first = rest + f.read(length)
                server.proxy_headers.append(first)
            else:
                server.proxy_headers.append(first)
            first = f.readline()
        words = first.split()
        if not words or words[0] == b"NAME":
            sock.sendall(server.name.encode() + b"\n")
        elif words[0] == b"SEND":
            for chunk in stream(int(words[1]), int(words[2])):
                sock.sendall(chunk)
        elif words[0] == b"ECHO":
            total = 0
            while data := f.read1(65536):
                total += len(data)
                sock.sendall(data)
            sock.sendall(f"got {total}\n".encode())
        elif words[0] == b"HALF":
            sock.shutdown(socket.SHUT_WR)
            total = 0
            while data := f.read1(65536):
                total += len(data)
            server.seen.append(("half-close received", total))
        f.close()
        sock.close()


@contextmanager
def tcp_backend(addr: str, port: int, name: str) -> Iterator[_Server]:
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    server = _Server((addr, port), Handler, name, family)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def udp_backend(addr: str, port: int, name: str) -> Iterator[list[tuple[str, int]]]:
    """Answers every datagram with ``name:payload``."""
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((addr, port))
    sock.settimeout(0.2)
    seen: list[tuple[str, int]] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            seen.append(peer[:2])
            sock.sendto(name.encode() + b":" + data, peer)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield seen
    finally:
        stop.set()
        t.join(2)
        sock.close()


def free_port(addr: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((addr, 0))
        return int(s.getsockname()[1])


def ask(
    vip: str, port: int, line: bytes = b"NAME\n", source: str | None = None, timeout: float = 10
) -> bytes:
    family = socket.AF_INET6 if ":" in vip else socket.AF_INET
    with socket.socket(family) as s:
        s.settimeout(timeout)
        if source:
            s.bind((source, 0))
        s.connect((vip, port))
        s.sendall(line)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        return data
