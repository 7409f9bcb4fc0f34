"""A blocking client for the control socket (used by pylvsadm; no asyncio,
so that a command-line call starts fast)."""

from __future__ import annotations

import json
import socket
from typing import Any

from pylvs.api import PROTOCOL_VERSION

__all__ = ["Client", "ConnectError", "RemoteError"]


class ConnectError(OSError):
    """No daemon answers at the socket path."""


class RemoteError(Exception):
    """The daemon refused a request; ``error`` is the reply's error object."""

    def __init__(self, error: dict[str, Any]) -> None:
        super().__init__(error.get("message", "error"))
        self.error = error
        self.errno = int(error.get("errno", 0))
        self.message = str(error.get("message", ""))
        self.exit_status = int(error.get("exit", 255))


class Client:
    def __init__(self, path: str, timeout: float = 60.0) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(path)
        except OSError as e:
            self._sock.close()
            raise ConnectError(e.errno, e.strerror, path) from None
        self._file = self._sock.makefile("rb")
        self._next_id = 0

    def close(self) -> None:
        self._file.close()
        self._sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, cmd: str, **fields: Any) -> None:
        """Send a request without waiting (replies come back in order)."""
        self._next_id += 1
        request = {"v": PROTOCOL_VERSION, "id": self._next_id, "cmd": cmd, **fields}
        self._sock.sendall(json.dumps(request, separators=(",", ":")).encode() + b"\n")

    def receive(self) -> dict[str, Any]:
        """The reply to the oldest unanswered request, or RemoteError."""
        line = self._file.readline()
        if not line:
            raise ConnectError(0, "the daemon closed the connection", self.path)
        reply: dict[str, Any] = json.loads(line)
        if not reply.get("ok"):
            raise RemoteError(reply.get("error") or {})
        return reply

    def call(self, cmd: str, **fields: Any) -> dict[str, Any]:
        """Send one request; return the reply, or raise RemoteError."""
        self.send(cmd, **fields)
        return self.receive()
