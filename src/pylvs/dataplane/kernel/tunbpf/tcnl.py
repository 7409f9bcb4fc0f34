"""tc over rtnetlink: the clsact qdisc and cls_bpf direct-action filters.

Enough of ``tc`` to attach a loaded program by its fd (no pinning, no
bpffs) on a device's ingress and to take it off again: list, add and
delete the clsact qdisc; list (with each bpf filter's program id and
name), add or replace, and delete one filter by priority and handle.
Requests are answered in the network namespace of the calling process.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from typing import NamedTuple

from pylvs.dataplane.kernel.nlattr import NLMSG, NLMSG_DONE, NLMSG_ERROR, attrs, nla

__all__ = [
    "EGRESS",
    "INGRESS",
    "Filter",
    "TcSocket",
]

NETLINK_ROUTE = 0
NLM_F_REQUEST, NLM_F_MULTI, NLM_F_ACK = 0x1, 0x2, 0x4
NLM_F_DUMP = 0x300
NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE = 0x100, 0x200, 0x400
RTM_NEWQDISC, RTM_DELQDISC, RTM_GETQDISC = 36, 37, 38
RTM_NEWTFILTER, RTM_DELTFILTER, RTM_GETTFILTER = 44, 45, 46
TCA_KIND, TCA_OPTIONS = 1, 2
TCA_BPF_FD, TCA_BPF_NAME, TCA_BPF_FLAGS, TCA_BPF_ID = 6, 7, 8, 11
TCA_BPF_FLAG_ACT_DIRECT = 1
TC_H_CLSACT = 0xFFFFFFF1
CLSACT_HANDLE = 0xFFFF0000
INGRESS = 0xFFFFFFF2  # TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS)
EGRESS = 0xFFFFFFF3
ETH_P_ALL = 0x0003
TCMSG = struct.Struct("=BxxxiIII")


class Filter(NamedTuple):
    prio: int
    handle: int
    kind: str
    name: str  # a bpf filter's program name ("" for others)
    prog_id: int  # a bpf filter's program id (0 for others)
    direct: bool


class TcSocket:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self.seq = 0

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> TcSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, kind: int, flags: int, body: bytes) -> list[tuple[int, bytes]]:
        """Send one request; (type, payload) of each answer, an error raised."""
        self.seq += 1
        seq = self.seq
        msg = NLMSG.pack(NLMSG.size + len(body), kind, NLM_F_REQUEST | flags, seq, 0) + body
        self.sock.send(msg)
        out: list[tuple[int, bytes]] = []
        while True:
            data = self.sock.recv(1 << 16)
            pos = 0
            while pos + NLMSG.size <= len(data):
                length, mtype, mflags, mseq, _pid = NLMSG.unpack_from(data, pos)
                if length < NLMSG.size:
                    return out
                payload = data[pos + NLMSG.size : pos + length]
                pos += (length + 3) & ~3
                if mseq != seq:
                    continue
                if mtype == NLMSG_ERROR:
                    err = -struct.unpack_from("=i", payload)[0]
                    if err:
                        raise OSError(err, os.strerror(err))
                    return out
                if mtype == NLMSG_DONE:
                    return out
                out.append((mtype, payload))
                if not mflags & NLM_F_MULTI and not flags & NLM_F_DUMP:
                    return out

    # --- the clsact qdisc ------------------------------------------------------
    def qdisc_kinds(self, ifindex: int) -> list[tuple[int, str]]:
        """(parent, kind) of each qdisc on the device."""
        body = TCMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
        out = []
        for _t, payload in self._request(RTM_GETQDISC, NLM_F_DUMP, body):
            _fam, idx, _handle, parent, _info = TCMSG.unpack_from(payload)
            if idx != ifindex:
                continue
            a = attrs(payload, TCMSG.size, len(payload))
            kind = _text(payload, a.get(TCA_KIND))
            out.append((parent, kind))
        return out

    def has_clsact(self, ifindex: int) -> bool:
        return any(kind == "clsact" for _p, kind in self.qdisc_kinds(ifindex))

    def add_clsact(self, ifindex: int) -> bool:
        """Add clsact; False if the device already had one."""
        body = TCMSG.pack(socket.AF_UNSPEC, ifindex, CLSACT_HANDLE, TC_H_CLSACT, 0)
        body += nla(TCA_KIND, b"clsact\0")
        try:
            self._request(RTM_NEWQDISC, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, body)
        except OSError as e:
            if e.errno == errno.EEXIST:
                return False
            raise
        return True

    def del_clsact(self, ifindex: int) -> None:
        body = TCMSG.pack(socket.AF_UNSPEC, ifindex, CLSACT_HANDLE, TC_H_CLSACT, 0)
        body += nla(TCA_KIND, b"clsact\0")
        self._request(RTM_DELQDISC, NLM_F_ACK, body)

    # --- filters -----------------------------------------------------------------
    def filters(self, ifindex: int, parent: int = INGRESS) -> list[Filter]:
        body = TCMSG.pack(socket.AF_UNSPEC, ifindex, 0, parent, 0)
        out = []
        try:
            answers = self._request(RTM_GETTFILTER, NLM_F_DUMP, body)
        except OSError as e:
            if e.errno in (errno.EINVAL, errno.ENOENT):  # no clsact: no filters
                return []
            raise
        for _t, payload in answers:
            _fam, _idx, handle, _parent, info = TCMSG.unpack_from(payload)
            a = attrs(payload, TCMSG.size, len(payload))
            kind = _text(payload, a.get(TCA_KIND))
            name, prog_id, direct = "", 0, False
            if kind == "bpf" and TCA_OPTIONS in a:
                start, end = a[TCA_OPTIONS]
                o = attrs(payload, start, end)
                name = _text(payload, o.get(TCA_BPF_NAME))
                if TCA_BPF_ID in o:
                    prog_id = struct.unpack_from("=I", payload, o[TCA_BPF_ID][0])[0]
                if TCA_BPF_FLAGS in o:
                    flags = struct.unpack_from("=I", payload, o[TCA_BPF_FLAGS][0])[0]
                    direct = bool(flags & TCA_BPF_FLAG_ACT_DIRECT)
            if handle:  # the priority's own header entry has none
                out.append(Filter(info >> 16, handle, kind, name, prog_id, direct))
        return out

    def set_bpf(
        self,
        ifindex: int,
        prio: int,
        handle: int,
        fd: int,
        name: str,
        *,
        parent: int = INGRESS,
        replace: bool = False,
    ) -> None:
        """A direct-action bpf filter running program ``fd``; with ``replace``
        an existing one at (prio, handle) changes program atomically."""
        info = (prio << 16) | socket.htons(ETH_P_ALL)
        body = TCMSG.pack(socket.AF_UNSPEC, ifindex, handle, parent, info)
        opts = (
            nla(TCA_BPF_FD, struct.pack("=I", fd))
            + nla(TCA_BPF_NAME, name.encode() + b"\0")
            + nla(TCA_BPF_FLAGS, struct.pack("=I", TCA_BPF_FLAG_ACT_DIRECT))
        )
        body += nla(TCA_KIND, b"bpf\0") + nla(TCA_OPTIONS, opts)
        flags = NLM_F_ACK | NLM_F_CREATE | (0 if replace else NLM_F_EXCL)
        self._request(RTM_NEWTFILTER, flags, body)

    def del_filter(
        self, ifindex: int, prio: int, handle: int, kind: str = "bpf", parent: int = INGRESS
    ) -> None:
        info = (prio << 16) | socket.htons(ETH_P_ALL)
        body = TCMSG.pack(socket.AF_UNSPEC, ifindex, handle, parent, info)
        body += nla(TCA_KIND, kind.encode() + b"\0")
        self._request(RTM_DELTFILTER, NLM_F_ACK, body)


def _text(payload: bytes, span: tuple[int, int] | None) -> str:
    if span is None:
        return ""
    return payload[span[0] : span[1]].split(b"\0", 1)[0].decode(errors="replace")
