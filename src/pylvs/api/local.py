"""An in-process client: the fake of the control socket.

Requests go through the same JSON encoding and the same Dispatcher as over
the socket, without a daemon (tests, and ``--dry-run`` style tools)."""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from pylvs.api import PROTOCOL_VERSION
from pylvs.api.client import RemoteError
from pylvs.api.protocol import Dispatcher

__all__ = ["LocalClient"]


class LocalClient:
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._next_id = 0
        self._replies: deque[dict[str, Any]] = deque()

    def send(self, cmd: str, **fields: Any) -> None:
        self._next_id += 1
        request = json.loads(
            json.dumps({"v": PROTOCOL_VERSION, "id": self._next_id, "cmd": cmd, **fields})
        )
        self._replies.append(json.loads(json.dumps(self.dispatcher.handle(request))))

    def receive(self) -> dict[str, Any]:
        reply = self._replies.popleft()
        if not reply.get("ok"):
            raise RemoteError(reply.get("error") or {})
        return reply

    def call(self, cmd: str, **fields: Any) -> dict[str, Any]:
        self.send(cmd, **fields)
        return self.receive()

    def close(self) -> None:
        return None
