"""Ops survive JSON (the kernel plane's journal)."""

from __future__ import annotations

import json

import pytest

from builders import rs, tcp
from pylvs.core.model import ServiceSpec
from pylvs.core.opcodec import op_from_json, op_to_json
from pylvs.core.ops import (
    AddDest,
    AddService,
    DelDest,
    DelService,
    EditDest,
    EditService,
    Flush,
    SetTimeouts,
    StartDaemon,
    StopDaemon,
    SyncDaemonConfig,
    Zero,
)

KEY = tcp("10.0.1.100", 80)
OPS = [
    AddService(ServiceSpec.make(KEY, "wrr", persistent=300, netmask=0xFFFFFF00)),
    EditService(ServiceSpec.make(KEY, "rr")),
    DelService(KEY),
    Flush(),
    AddDest(KEY, rs("10.0.1.11", 80, 3)),
    EditDest(KEY, rs("10.0.1.11", 80, 0)),
    DelDest(KEY, rs("10.0.1.11").key),
    Zero(KEY),
    Zero(None),
    SetTimeouts(900, 120, 300),
    StartDaemon(SyncDaemonConfig("master", "eth0", 5)),
    StopDaemon("backup"),
]


@pytest.mark.parametrize("op", OPS, ids=lambda o: type(o).__name__)
def test_round_trip(op: object) -> None:
    text = json.dumps(op_to_json(op))  # type: ignore[arg-type]
    assert op_from_json(json.loads(text)) == op


@pytest.mark.parametrize("row", [[], ["nope"], ["add-server", [1]], "x", [None]])
def test_garbage_is_refused(row: object) -> None:
    with pytest.raises(ValueError):
        op_from_json(row)  # type: ignore[arg-type]
