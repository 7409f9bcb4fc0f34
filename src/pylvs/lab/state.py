"""What a lab made, kept under /run/pylvs-lab/ so ``lab down`` removes that
and only that.

``state.json`` is written before the first namespace exists and again after
every process starts, so even an interrupted ``lab up`` leaves a record
``lab down`` can clean up from. A process is recorded with its pid *and* its
start time (field 22 of /proc/PID/stat): a pid the kernel has reused for
someone else's process never matches, so it is never signalled.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pylvs.lab.topology import LAB_DIR, SOCKET

__all__ = [
    "STATE_FILE",
    "LabState",
    "ProcRecord",
    "StateError",
    "clear",
    "load",
    "proc_starttime",
    "save",
]

STATE_FILE = "state.json"


class StateError(RuntimeError):
    pass


@dataclass
class ProcRecord:
    name: str  # "httpd"
    node: str  # "web1"
    netns: str
    pid: int
    starttime: int
    argv: list[str]
    log: str


@dataclass
class LabState:
    mode: str
    bare: bool
    dataplane: str
    tunnel: str | None
    namespaces: list[str]
    processes: list[ProcRecord] = field(default_factory=list)
    created: float = 0.0
    complete: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LabState:
        procs = [ProcRecord(**p) for p in data.get("processes", [])]
        return cls(
            mode=str(data["mode"]),
            bare=bool(data.get("bare", False)),
            dataplane=str(data.get("dataplane", "")),
            tunnel=data.get("tunnel"),
            namespaces=[str(n) for n in data.get("namespaces", [])],
            processes=procs,
            created=float(data.get("created", 0.0)),
            complete=bool(data.get("complete", False)),
        )


def load(lab_dir: str = LAB_DIR) -> LabState | None:
    """The recorded lab, or None when there is none."""
    path = Path(lab_dir) / STATE_FILE
    try:
        data = json.loads(path.read_text())
        return LabState.from_json(data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise StateError(f"{path}: unreadable lab state ({e})") from e


def save(state: LabState, lab_dir: str = LAB_DIR) -> None:
    """Write atomically (temporary file + rename)."""
    directory = Path(lab_dir)
    directory.mkdir(mode=0o755, parents=True, exist_ok=True)
    tmp = directory / f".{STATE_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(state.to_json(), indent=2) + "\n")
    os.replace(tmp, directory / STATE_FILE)


def clear(state: LabState | None, lab_dir: str = LAB_DIR) -> None:
    """Remove the files the lab made -- the state, the processes' logs, the
    director daemon's socket and the files its data plane keeps beside it
    (``director.sock.*``) -- and the directory if that leaves it empty."""
    directory = Path(lab_dir)
    names = {STATE_FILE}
    if state is not None:
        names.update(Path(p.log).name for p in state.processes)
    for name in names:
        (directory / name).unlink(missing_ok=True)
    # Logs of a process that never got recorded; the daemon's socket and companions.
    for pattern in ("*.log", f"{Path(SOCKET).name}*"):
        for stray in directory.glob(pattern):
            stray.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # absent, or holds files that are not ours
        directory.rmdir()


def proc_starttime(pid: int) -> int | None:
    """Start time (clock ticks after boot) of a live, non-zombie ``pid``."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # comm (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])  # field 22 overall
