"""What the engine asks the world to do: values, in keepalived's order.

The daemon maps the table actions onto its core (``AddDest`` → add a
destination with that weight, ``SetWeight`` → edit it, ...), writes ``Log``
lines to its log, runs ``RunScript`` commands and writes ``FifoLine`` lines
to the ``lvs_notify_fifo`` (with :func:`fifo_bytes`).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from pylvs.health.params import ScriptParams

__all__ = [
    "Action",
    "AddDest",
    "AddService",
    "FifoLine",
    "FlushAll",
    "Log",
    "ProbeStart",
    "RemoveDest",
    "RemoveService",
    "RunScript",
    "SetWeight",
    "TableAction",
    "fifo_bytes",
]


@dataclass(frozen=True, slots=True)
class AddService:
    """Create the virtual service (keepalived does at start)."""

    vs: Hashable


@dataclass(frozen=True, slots=True)
class RemoveService:
    """Delete the virtual service (at shutdown)."""

    vs: Hashable


@dataclass(frozen=True, slots=True)
class FlushAll:
    """``lvs_flush_on_stop`` (full): flush the whole table."""


@dataclass(frozen=True, slots=True)
class AddDest:
    """Add real server ``rs`` (or the sorry server) to ``vs`` with ``weight``."""

    vs: Hashable
    rs: Hashable
    weight: int


@dataclass(frozen=True, slots=True)
class RemoveDest:
    vs: Hashable
    rs: Hashable


@dataclass(frozen=True, slots=True)
class SetWeight:
    """Edit a destination that is in the table (inhibit_on_failure uses 0)."""

    vs: Hashable
    rs: Hashable
    weight: int


@dataclass(frozen=True, slots=True)
class Log:
    """A log line, keepalived's exact text (all at LOG_INFO)."""

    text: str


@dataclass(frozen=True, slots=True)
class RunScript:
    """Run a notify/quorum script.  ``timeout`` None: fire and forget; a number
    (only at shutdown): wait that long, then SIGKILL its process group."""

    script: ScriptParams
    event: str
    timeout: float | None = None


@dataclass(frozen=True, slots=True)
class FifoLine:
    """A line for ``lvs_notify_fifo`` (and ``notify_fifo``), without newline."""

    text: str


@dataclass(frozen=True, slots=True)
class ProbeStart:
    """Start a probe of checker number ``checker`` now; HTTP/SSL probe url
    number ``url``.  ``due`` is when it was scheduled (lateness = now - due)."""

    checker: int
    url: int
    due: float


TableAction = AddService | RemoveService | FlushAll | AddDest | RemoveDest | SetWeight
Action = TableAction | Log | RunScript | FifoLine


def fifo_bytes(line: FifoLine | str) -> bytes:
    """The bytes keepalived writes: the line, newline, and (a quirk of its
    size computation, reference §2) the terminating NUL."""
    text = line.text if isinstance(line, FifoLine) else line
    return text.encode() + b"\n\0"
