"""Notes from the kernel's rules to the daemon, through nfnetlink_log
(NFLOG): a rule sets the packet's mark and logs it to our group; the daemon
reads the mark and the rule's prefix. Unlike a queued packet, a logged one
goes on at once, and the daemon answers nothing.

The kernel plane logs the first FIN or RST of each flow whose real server
is under a connection-counting scheduler or a threshold, so that the core
moves it from ActiveConn to InActConn before it schedules the next flow,
as IPVS does with the FIN itself (accounting.py). The daemon drains the
socket before each such decision; the note was queued before the next
connection's SYN could arrive.
"""

from __future__ import annotations

import socket
import struct

from pylvs.dataplane.kernel.nlattr import NLA_TYPE_MASK, NLMSG_ERROR, nfnl_message, nla

__all__ = ["LOG_GROUP", "NflogSocket", "decode_notes"]

NETLINK_NETFILTER = 12
NFNL_SUBSYS_ULOG = 4
NFULNL_MSG_PACKET, NFULNL_MSG_CONFIG = 0, 1
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
# uapi nfnetlink_log.h
NFULA_MARK, NFULA_PREFIX = 2, 10
NFULA_CFG_CMD, NFULA_CFG_MODE, NFULA_CFG_TIMEOUT, NFULA_CFG_QTHRESH = 1, 2, 4, 5
NFULNL_CFG_CMD_BIND = 1
NFULNL_COPY_META = 1
LOG_GROUP = 0x4C56 & 0xFFFF  # "LV", as the queue


def _config(seq: int, group: int, payload: bytes) -> bytes:
    kind = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG
    return nfnl_message(kind, NLM_F_REQUEST | NLM_F_ACK, seq, socket.AF_UNSPEC, payload, group)


_NLMSG = struct.Struct("=IH")
_NLA = struct.Struct("=HH")
_BE32 = struct.Struct("!I")
_KIND_PACKET = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET


def decode_notes(data: bytes | bytearray, end: int | None = None) -> list[tuple[str, int]]:
    """(prefix, mark) of each logged packet in ``data[:end]``, a buffer of
    netlink messages. Read on every scheduling decision, so it walks the
    attributes once and keeps only the two it needs."""
    out = []
    pos = 0
    end = len(data) if end is None else end
    while pos + 16 <= end:
        size, kind = _NLMSG.unpack_from(data, pos)
        if size < 16:
            break
        if kind == _KIND_PACKET:
            mark, prefix = 0, ""
            at, stop = pos + 20, min(pos + size, end)  # after nlmsghdr + nfgenmsg
            while at + 4 <= stop:
                alen, atype = _NLA.unpack_from(data, at)
                if alen < 4:
                    break
                atype &= NLA_TYPE_MASK
                if atype == NFULA_MARK:
                    mark = _BE32.unpack_from(data, at + 4)[0]
                elif atype == NFULA_PREFIX:
                    prefix = bytes(data[at + 4 : at + alen]).rstrip(b"\0").decode(errors="replace")
                at += (alen + 3) & ~3
            out.append((prefix, mark))
        pos += (size + 3) & ~3
    return out


class NflogSocket:
    """Bound to one log group: packet metadata only, each note delivered at
    once (queue threshold 1)."""

    def __init__(self, group: int = LOG_GROUP) -> None:
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind((0, 0))
        self._request(1, group, nla(NFULA_CFG_CMD, struct.pack("B", NFULNL_CFG_CMD_BIND)))
        mode = struct.pack("!IBB", 0, NFULNL_COPY_META, 0)
        self._request(2, group, nla(NFULA_CFG_MODE, mode))
        self._request(3, group, nla(NFULA_CFG_QTHRESH, struct.pack("!I", 1)))
        self._request(4, group, nla(NFULA_CFG_TIMEOUT, struct.pack("!I", 0)))
        self.sock.setblocking(False)
        self._buf = bytearray(1 << 16)

    def _request(self, seq: int, group: int, payload: bytes) -> None:
        self.sock.send(_config(seq, group, payload))
        data = self.sock.recv(65536)
        if len(data) >= 20 and struct.unpack_from("=H", data, 4)[0] == NLMSG_ERROR:
            err = struct.unpack_from("=i", data, 16)[0]
            if err:
                raise OSError(-err, f"cannot bind NFLOG group {group}")

    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self) -> list[tuple[str, int]]:
        """Every note waiting now (non-blocking)."""
        out: list[tuple[str, int]] = []
        buf = self._buf
        while True:
            try:
                n = self.sock.recv_into(buf)
            except BlockingIOError:
                return out
            out.extend(decode_notes(buf, n))

    def close(self) -> None:
        self.sock.close()
