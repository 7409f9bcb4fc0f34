"""Loading a compiled program into the kernel, its maps new or adopted.

The loader reads the object (elfobj.py), creates each map the program
defines, or takes over the matching map of a program that is already
running (a restarted daemon finds the old program by the tc filter it left
and adopts its flows and counters), patches the map fds into the program
and loads it as a ``sched_cls`` program. The kernel's verifier log comes
with a failure.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from pylvs.dataplane.kernel.tunbpf import bpfsys, elfobj

__all__ = ["LoadError", "Loaded", "load", "maps_of_program"]

PROG_SECTION = "tc"


class LoadError(RuntimeError):
    pass


@dataclass
class Loaded:
    prog_fd: int
    maps: dict[str, bpfsys.BpfMap] = field(default_factory=dict)
    adopted: bool = False

    def close(self) -> None:
        """Drop this process's references (an attached program keeps running)."""
        if self.prog_fd >= 0:
            os.close(self.prog_fd)
            self.prog_fd = -1
        for m in self.maps.values():
            m.close()
        self.maps.clear()


def maps_of_program(prog_id: int) -> dict[str, bpfsys.BpfMap]:
    """The maps of a loaded program, by name (empty if it is gone)."""
    try:
        pfd = bpfsys.prog_fd_by_id(prog_id)
    except OSError:
        return {}
    out: dict[str, bpfsys.BpfMap] = {}
    try:
        for map_id in bpfsys.prog_map_ids(pfd):
            with contextlib.suppress(OSError):
                fd = bpfsys.map_fd_by_id(map_id)
                m = bpfsys.BpfMap.from_fd(fd)
                out[m.info.name] = m
    finally:
        os.close(pfd)
    return out


def _fits(d: elfobj.MapDef, m: bpfsys.BpfMap) -> bool:
    i = m.info
    return (i.type, i.key_size, i.value_size) == (d.type, d.key_size, d.value_size)


def load(
    obj: Path,
    name: str,
    *,
    sizes: dict[str, int] | None = None,
    adopt: dict[str, bpfsys.BpfMap] | None = None,
) -> Loaded:
    """Load ``obj``'s program as ``name``; ``sizes`` overrides max_entries of
    new maps; ``adopt`` offers existing maps, taken when their layout fits
    (the rest are closed)."""
    parsed = elfobj.parse(Path(obj).read_bytes(), PROG_SECTION)
    offered = dict(adopt or {})
    out = Loaded(-1)
    try:
        for d in parsed.maps:
            old = offered.pop(d.name, None)
            if old is not None and _fits(d, old):
                out.maps[d.name] = old
                out.adopted = True
                continue
            if old is not None:
                old.close()
            entries = (sizes or {}).get(d.name, d.max_entries)
            fd = bpfsys.map_create(d.type, d.key_size, d.value_size, entries, d.flags, d.name)
            out.maps[d.name] = bpfsys.BpfMap.from_fd(fd)
        code = parsed.relocated({n: m.fd for n, m in out.maps.items()})
        try:
            out.prog_fd = bpfsys.prog_load(code, parsed.license, name)
        except bpfsys.BpfError as e:
            raise LoadError(f"{e}\n{e.log}") from None
    except BaseException:
        out.close()
        raise
    finally:
        for m in offered.values():
            m.close()
    return out
