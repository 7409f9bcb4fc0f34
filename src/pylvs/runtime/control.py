"""The control socket: a Unix stream socket speaking the JSON-lines protocol
of pylvs.api.protocol. Created 0600; refuses to replace a live socket."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import socket
import stat
from typing import Any

from pylvs.api.protocol import MAX_MESSAGE, Dispatcher, error_reply

__all__ = ["ControlServer", "SocketInUse"]

log = logging.getLogger("pylvs.control")


class SocketInUse(RuntimeError):
    pass


def _prepare_path(path: str) -> None:
    """Create the folder; remove a stale socket, refuse a live one."""
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, mode=0o755, exist_ok=True)
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(mode):
        raise SocketInUse(f"{path} exists and is not a socket")
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except OSError:
        os.unlink(path)  # stale: nobody listens
        return
    finally:
        probe.close()
    raise SocketInUse(f"another pylvs daemon is listening on {path}")


class ControlServer:
    def __init__(self, path: str, dispatcher: Dispatcher) -> None:
        self.path = path
        self.dispatcher = dispatcher
        self._server: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        _prepare_path(self.path)
        old = os.umask(0o177)
        try:
            self._server = await asyncio.start_unix_server(
                self._serve, self.path, limit=MAX_MESSAGE
            )
        finally:
            os.umask(old)
        os.chmod(self.path, 0o600)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for w in list(self._clients):
                w.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        try:
            while True:
                try:
                    line = await reader.readuntil(b"\n")
                except asyncio.IncompleteReadError:
                    return
                except asyncio.LimitOverrunError:
                    await self._send(writer, error_reply(None, errno.EMSGSIZE, "request too large"))
                    return
                reply = self._handle_line(line)
                await self._send(writer, reply)
        except (ConnectionError, OSError):
            return
        finally:
            self._clients.discard(writer)
            writer.close()

    def _handle_line(self, line: bytes) -> dict[str, Any]:
        try:
            request = json.loads(line)
        except (ValueError, UnicodeDecodeError) as e:
            return error_reply(None, errno.EINVAL, f"bad request: not JSON ({e})")
        try:
            return self.dispatcher.handle(request)
        except Exception:  # never let one request take the daemon down
            log.exception("internal error while handling a control request")
            req_id = request.get("id") if isinstance(request, dict) else None
            return error_reply(req_id, errno.EIO, "internal error (see the daemon's log)")

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, reply: dict[str, Any]) -> None:
        writer.write(json.dumps(reply, separators=(",", ":")).encode() + b"\n")
        await writer.drain()
