"""IPIP decapsulation in userspace, for LVS-TUN real servers on kernels
without the ``ipip`` module (reference/dataplane-notes.md §5).

An LVS-TUN director wraps each packet for the VIP in a new IPv4 header
(protocol 4, IP-in-IP, RFC 2003) addressed to the real server. A real
LVS-TUN server lets the kernel's ``tunl0`` (an ``ipip`` device) strip that
header and holds the VIP on ``tunl0``. Where ``ipip`` is missing this
program plays ``tunl0``::

    director --IPIP--> eth0 --raw IPPROTO_IPIP socket--> ipipd
                                                          | strip the outer header
    kernel <-- tunl0 (TUN, IFF_TUN|IFF_NO_PI, holds the VIP) <-- os.write(inner)

- A raw ``socket(AF_INET, SOCK_RAW, IPPROTO_IPIP)`` receives every IPIP
  packet addressed to this host, outer header included (fragmented outer
  packets arrive reassembled). Its existence also stops the kernel from
  answering them with ICMP "protocol unreachable".
- The inner IPv4 packet is written unchanged into the TUN device, which the
  kernel then receives exactly as if ``tunl0`` had decapsulated it: local
  delivery to the VIP, replies from the VIP routed straight to the client.
- The inner source (the client) is not routed via ``tunl0``, so reverse-path
  filtering must be off: ``net.ipv4.conf.all.rp_filter=0`` and
  ``net.ipv4.conf.tunl0.rp_filter=0`` (``lab up`` sets both).
- Packets that are not IPv4-in-IPv4, or whose inner length is inconsistent,
  are dropped and counted.

The TUN device is attached if it exists (``lab up`` creates a persistent
``tunl0`` holding the VIP) or created otherwise, and brought up. Run::

    python -m pylvs.lab.ipipd --dev tunl0

Stops on SIGTERM/SIGINT and logs how many packets it decapsulated and dropped.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import socket
import struct
import sys
from collections.abc import Sequence

from pylvs.lab import procs

__all__ = ["decapsulate", "main", "open_tun"]

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1
IPPROTO_IPIP = 4
IFREQ = "16sH22x"  # struct ifreq: name, then a short (flags) in the 24-byte union


def decapsulate(packet: memoryview) -> memoryview | None:
    """The inner IPv4 packet of an IPv4-in-IPv4 ``packet``, or None."""
    if len(packet) < 40 or packet[0] >> 4 != 4:
        return None
    ihl = (packet[0] & 0x0F) * 4
    if ihl < 20 or packet[9] != IPPROTO_IPIP or len(packet) < ihl + 20:
        return None
    inner = packet[ihl:]
    if inner[0] >> 4 != 4 or (inner[0] & 0x0F) < 5:
        return None
    total = (inner[2] << 8) | inner[3]
    if total < 20 or total > len(inner):
        return None
    return inner[:total]


def open_tun(name: str) -> int:
    """Attach to (or create) the TUN device ``name`` and bring it up."""
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack(IFREQ, name.encode(), IFF_TUN | IFF_NO_PI))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            got = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack(IFREQ, name.encode(), 0))
            flags = struct.unpack(IFREQ, got)[1]
            if not flags & IFF_UP:
                fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack(IFREQ, name.encode(), flags | IFF_UP))
    except BaseException:
        os.close(fd)
        raise
    return fd


class Counters:
    __slots__ = ("decapsulated", "dropped")

    def __init__(self) -> None:
        self.decapsulated = 0
        self.dropped = 0


def serve(sock: socket.socket, tun: int, counters: Counters) -> None:
    """Forever: receive an IPIP packet, write its inner packet to ``tun``."""
    buf = bytearray(65536)
    view = memoryview(buf)
    write = os.write
    while True:
        n = sock.recv_into(buf)
        inner = decapsulate(view[:n])
        if inner is None:
            counters.dropped += 1
            continue
        try:
            write(tun, inner)
        except OSError:
            counters.dropped += 1
            continue
        counters.decapsulated += 1


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m pylvs.lab.ipipd", description=__doc__.split("\n")[0]
    )
    p.add_argument("--dev", default="tunl0", help="TUN device to write into (default: tunl0)")
    p.add_argument("--ready-fd", type=int, metavar="FD", help="write 'ready' here once serving")
    args = p.parse_args(argv)
    try:
        tun = open_tun(args.dev)
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, IPPROTO_IPIP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    except OSError as e:
        print(f"ipipd: cannot start on {args.dev}: {e}", file=sys.stderr)
        return 1
    counters = Counters()
    print(f"ipipd: decapsulating IPIP into {args.dev}", file=sys.stderr, flush=True)
    procs.ready(args.ready_fd)
    try:
        serve(sock, tun, counters)
    except KeyboardInterrupt:
        pass
    finally:
        print(
            f"ipipd: stopped; {counters.decapsulated} packets decapsulated, "
            f"{counters.dropped} dropped",
            file=sys.stderr,
            flush=True,
        )
        sock.close()
        os.close(tun)
    return 0


if __name__ == "__main__":
    sys.exit(main())
