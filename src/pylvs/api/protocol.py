"""Requests and replies of the control protocol, and the daemon's dispatch.

One request or reply per line, each a JSON object. Requests carry
``{"v": 1, "id": <any>, "cmd": <name>, ...}``; replies echo ``v`` and ``id``
and carry ``"ok": true`` with the result fields, or ``"ok": false`` with an
``error`` object ``{"errno", "command", "message", "exit"}``. The commands
mirror IPVS's own (see docs/control-protocol.md).
"""

from __future__ import annotations

import errno
import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pylvs.api import MAX_MESSAGE, PROTOCOL_VERSION
from pylvs.api.wire import (
    WireError,
    conn_to_wire,
    daemon_info_to_wire,
    op_from_wire,
    service_key_from_wire,
    service_to_wire,
    timeouts_to_wire,
)
from pylvs.core.errors import IpvsError
from pylvs.core.ipvs import Ipvs
from pylvs.core.ops import Op

__all__ = ["MAX_MESSAGE", "PROTOCOL_VERSION", "Dispatcher", "error_reply"]

# IPVS's version code and connection table size, as ipvsadm prints them.
IPVS_VERSION = 0x010201
CONN_TAB_SIZE = 4096

Json = dict[str, Any]


def error_reply(
    req_id: Any, err: int, message: str, command: str = "", exit_status: int = 255
) -> Json:
    return {
        "v": PROTOCOL_VERSION,
        "id": req_id,
        "ok": False,
        "error": {"errno": err, "command": command, "message": message, "exit": exit_status},
    }


def _ipvs_error(e: IpvsError) -> Json:
    return {"errno": e.errno, "command": e.command, "message": e.message, "exit": e.exit_status}


@contextmanager
def _no_gc() -> Iterator[None]:
    """Bulk requests build and drop many objects at once; pausing the cyclic
    collector meanwhile saves it from scanning them again and again."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@dataclass
class Dispatcher:
    """Handles one decoded request against the daemon's Ipvs.

    Every request runs to completion without yielding to the event loop, so
    concurrent clients see each other's changes whole or not at all.
    """

    ipvs: Ipvs
    clock: Callable[[], float]
    info: Callable[[], Json] = field(default=lambda: {})
    # The data plane, when it knows connections better than the core.
    plane: Any = None

    def handle(self, request: Any) -> Json:
        req_id = request.get("id") if isinstance(request, dict) else None
        try:
            if not isinstance(request, dict):
                raise WireError("a request is a JSON object")
            version = request.get("v", PROTOCOL_VERSION)
            if version != PROTOCOL_VERSION:
                return error_reply(
                    req_id, errno.EPROTO, f"unsupported protocol version {version!r}"
                )
            cmd = request.get("cmd")
            handler = getattr(self, "_cmd_" + str(cmd).replace("-", "_"), None)
            if not isinstance(cmd, str) or handler is None:
                raise WireError(f"unknown command {cmd!r}")
            result: Json = handler(request)
        except WireError as e:
            return error_reply(req_id, errno.EINVAL, f"bad request: {e}")
        except IpvsError as e:
            return {"v": PROTOCOL_VERSION, "id": req_id, "ok": False, "error": _ipvs_error(e)}
        return {"v": PROTOCOL_VERSION, "id": req_id, "ok": True, **result}

    # --- changes ---------------------------------------------------------
    def _ops(self, request: Json) -> list[Op]:
        raw = request.get("ops")
        if not isinstance(raw, list):
            raise WireError("field 'ops': expected a list")
        return [op_from_wire(item) for item in raw]

    def _cmd_apply(self, request: Json) -> Json:
        with _no_gc():
            return self._apply(request)

    def _apply(self, request: Json) -> Json:
        """``atomic`` (default): all or nothing. Otherwise each op on its own,
        as ipvsadm -R applies lines; one result per op."""
        ops = self._ops(request)
        now = self.clock()
        if request.get("atomic", True):
            self.ipvs.apply_batch(ops, now)
            return {"results": [None] * len(ops)}
        results: list[Json | None] = []
        for op in ops:
            try:
                self.ipvs.apply(op, now)
                results.append(None)
            except IpvsError as e:
                results.append(_ipvs_error(e))
        return {"results": results}

    # --- reads -----------------------------------------------------------
    def _cmd_get_info(self, request: Json) -> Json:
        return {"version": IPVS_VERSION, "conn_tab_size": CONN_TAB_SIZE, **self.info()}

    def _cmd_get_services(self, request: Json) -> Json:
        if self.plane is not None:
            self.plane.refresh(self.clock())
        svc = request.get("service")
        if svc is None:
            with _no_gc():
                return {"services": [service_to_wire(s) for s in self.ipvs.table]}
        live = self.ipvs.service(service_key_from_wire(svc))
        if live is None:
            raise IpvsError("list", errno.ESRCH, exit_status=1)
        return {"services": [service_to_wire(live)]}

    def _cmd_get_conns(self, request: Json) -> Json:
        now = self.clock()
        infos = self.plane.conn_infos(now) if self.plane is not None else None
        if infos is None:
            infos = self.ipvs.conn_infos(now)
        return {"conns": [conn_to_wire(c) for c in infos]}

    def _cmd_get_timeouts(self, request: Json) -> Json:
        return {"timeouts": timeouts_to_wire(self.ipvs.timeouts())}

    def _cmd_get_sysctl(self, request: Json) -> Json:
        return {"sysctl": self.ipvs.sysctl.as_dict()}

    def _cmd_set_sysctl(self, request: Json) -> Json:
        values = request.get("sysctl")
        if not isinstance(values, dict):
            raise WireError("field 'sysctl': expected an object of name: value")
        try:
            self.ipvs.sysctl.update(values)
        except (KeyError, ValueError) as e:
            raise WireError(str(e)) from None
        return {"sysctl": self.ipvs.sysctl.as_dict()}

    def _cmd_get_daemons(self, request: Json) -> Json:
        return {"daemons": [daemon_info_to_wire(d) for d in self.ipvs.daemons()]}
