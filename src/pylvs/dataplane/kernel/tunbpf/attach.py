"""Putting the program on devices' ingress, and taking only it off again.

The program runs as one cls_bpf direct-action filter per device, at a
fixed priority and handle and under its own name, on the device's clsact
qdisc. Another owner's qdiscs and filters are never touched:

- clsact is added only where the device has none, and deleted on detach
  only if this process added it and no filter is left on it;
- a filter already at our priority and handle that is not ours (another
  name or kind) is an error, not a replacement;
- detach deletes only a filter that is ours.

Re-attaching where our filter already is (a restarted daemon) replaces its
program atomically: no packet sees a gap.
"""

from __future__ import annotations

import contextlib
import errno
import socket

from pylvs.dataplane.kernel.tunbpf.tcnl import EGRESS, INGRESS, Filter, TcSocket

__all__ = ["AttachError", "Attacher"]


class AttachError(RuntimeError):
    pass


class Attacher:
    def __init__(self, name: str, prio: int, handle: int) -> None:
        if not 1 <= prio <= 0xFFFF or not 1 <= handle <= 0xFFFFFFFF:
            raise ValueError("tc priority must be 1-65535 and handle non-zero")
        self.name = name
        self.prio = prio
        self.handle = handle
        self.made_clsact: set[int] = set()  # ifindexes whose clsact we added
        self.attached: dict[str, int] = {}  # device -> ifindex

    def _ours(self, f: Filter) -> bool:
        return f.kind == "bpf" and f.name == self.name

    def _at_slot(self, tc: TcSocket, ifindex: int) -> Filter | None:
        for f in tc.filters(ifindex, INGRESS):
            if f.prio == self.prio and f.handle == self.handle:
                return f
        return None

    def running(self, devices: list[str]) -> list[int]:
        """Program ids of our filters found on these devices."""
        out = []
        with TcSocket() as tc:
            for dev in devices:
                try:
                    ifindex = socket.if_nametoindex(dev)
                except OSError:
                    continue
                f = self._at_slot(tc, ifindex)
                if f is not None and self._ours(f) and f.prog_id:
                    out.append(f.prog_id)
        return out

    def attach(self, dev: str, prog_fd: int) -> None:
        try:
            ifindex = socket.if_nametoindex(dev)
        except OSError:
            raise AttachError(f"no device {dev}") from None
        with TcSocket() as tc:
            if not tc.has_clsact(ifindex) and tc.add_clsact(ifindex):
                self.made_clsact.add(ifindex)
            f = self._at_slot(tc, ifindex)
            if f is not None and not self._ours(f):
                raise AttachError(
                    f"{dev}: tc ingress priority {self.prio} handle {self.handle:#x} "
                    f"holds another filter ({f.kind} {f.name!r})"
                )
            try:
                tc.set_bpf(
                    ifindex, self.prio, self.handle, prog_fd, self.name, replace=f is not None
                )
            except OSError as e:
                raise AttachError(f"{dev}: cannot attach the BPF program: {e}") from None
        self.attached[dev] = ifindex

    def detach(self, dev: str) -> None:
        ifindex = self.attached.pop(dev, None)
        if ifindex is None:
            try:
                ifindex = socket.if_nametoindex(dev)
            except OSError:
                return
        with TcSocket() as tc:
            try:
                f = self._at_slot(tc, ifindex)
                if f is not None and self._ours(f):
                    tc.del_filter(ifindex, self.prio, self.handle)
                if ifindex in self.made_clsact:
                    self.made_clsact.discard(ifindex)
                    if not tc.filters(ifindex, INGRESS) and not tc.filters(ifindex, EGRESS):
                        with contextlib.suppress(OSError):
                            tc.del_clsact(ifindex)
            except OSError as e:
                if e.errno not in (errno.ENODEV, errno.EINVAL, errno.ENOENT):
                    raise

    def detach_all(self) -> None:
        for dev in list(self.attached):
            self.detach(dev)
