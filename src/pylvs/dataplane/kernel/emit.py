"""Sending a queued packet on by Direct Routing or tunnelling.

DR: the unchanged IP packet in a new Ethernet frame to the real server's MAC
(AF_PACKET). An IPv4 frame carries the mark ``drtable.MARK_EMIT | id`` so
that the netdev table's egress hook binds the flow in the kernel.

TUN: the packet inside a new outer header to the real server (§6.5). The
kernel builds the outer header from a raw socket of the tunnel's protocol
(4 IPIP, 41 IPv6-in-IP, 47 GRE) or a UDP socket (GUE), with TTL and TOS
given per packet and DF set by the socket's PMTU discovery mode. The TTL is
the inner TTL after IPVS's decrement, the TOS the inner DSCP/ECN (CE as
ECT(0)), DF copied from the inner header when ``pmtu_disc`` is on.
"""

from __future__ import annotations

import socket
import struct

from pylvs.core.addr import AF_INET
from pylvs.dataplane.kernel import ipip

__all__ = ["FrameSender", "TooBig", "TunnelSender"]

SO_MARK = 36
IP_MTU_DISCOVER = 10
IP_PMTUDISC_DONT, IP_PMTUDISC_DO = 0, 2
IPV6_TCLASS = 67
IPV6_HOPLIMIT = 52
IP_PKTINFO = 8
IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_GRE = 4, 41, 47
ETHERTYPE = {4: b"\x08\x00", 6: b"\x86\xdd"}
OUTER_V4, OUTER_V6 = 20, 40
TUN_IPIP, TUN_GUE, TUN_GRE = 0, 1, 2
TUN_F_CSUM = 0x0001


class TooBig(Exception):
    """The tunnelled packet would exceed the path MTU with DF set; ``mtu``
    is what the client may send (the route's MTU minus the tunnel)."""

    def __init__(self, mtu: int) -> None:
        super().__init__(mtu)
        self.mtu = mtu


class FrameSender:
    """One AF_PACKET socket per interface."""

    def __init__(self) -> None:
        self._socks: dict[str, socket.socket] = {}

    def _sock(self, ifname: str) -> socket.socket:
        s = self._socks.get(ifname)
        if s is None:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind((ifname, 0))
            s.setblocking(False)
            self._socks[ifname] = s
        return s

    def send(self, ifname: str, dst_mac: bytes, src_mac: bytes, packet: bytes, mark: int) -> None:
        head = dst_mac + src_mac + ETHERTYPE[packet[0] >> 4]
        sock = self._sock(ifname)
        if mark:
            sock.sendmsg([head, packet], [(socket.SOL_SOCKET, SO_MARK, struct.pack("I", mark))])
        else:
            sock.sendmsg([head, packet])

    def close(self) -> None:
        for s in self._socks.values():
            s.close()
        self._socks.clear()


class TunnelSender:
    def __init__(self) -> None:
        self._socks: dict[tuple[int, int, bool], socket.socket] = {}
        self._icmp: socket.socket | None = None

    def _sock(self, outer_v4: bool, proto: int, df: bool) -> socket.socket:
        key = (4 if outer_v4 else 6, proto, df)
        s = self._socks.get(key)
        if s is None:
            if proto == socket.IPPROTO_UDP:
                s = socket.socket(
                    socket.AF_INET if outer_v4 else socket.AF_INET6, socket.SOCK_DGRAM
                )
            else:
                s = socket.socket(
                    socket.AF_INET if outer_v4 else socket.AF_INET6, socket.SOCK_RAW, proto
                )
            if outer_v4:
                mode = IP_PMTUDISC_DO if df else IP_PMTUDISC_DONT
                s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, mode)
            s.setblocking(False)
            self._socks[key] = s
        return s

    def send(
        self,
        rs_af: int,
        rs_addr: str,
        inner: bytearray,
        *,
        pmtu_disc: bool,
        mtu: int,
        tun_type: int = TUN_IPIP,
        tun_port: int = 0,
        tun_flags: int = 0,
    ) -> None:
        """Encapsulate and send ``inner`` (its TTL already decremented)."""
        version = inner[0] >> 4
        outer_v4 = rs_af == AF_INET
        if tun_type == TUN_GUE:
            proto = socket.IPPROTO_UDP
            head = ipip.gue_header(version)
            overhead = 8 + len(head)
        elif tun_type == TUN_GRE:
            proto = IPPROTO_GRE
            head = ipip.gre_header(version, bytes(inner), bool(tun_flags & TUN_F_CSUM))
            overhead = len(head)
        else:
            proto = IPPROTO_IPIP if version == 4 else IPPROTO_IPV6
            head = b""
            overhead = 0
        overhead += OUTER_V4 if outer_v4 else OUTER_V6
        df = ipip.inner_df(inner) if pmtu_disc else False
        if df and len(inner) + overhead > mtu:
            raise TooBig(mtu - overhead)
        tos = ipip.outer_tos(ipip.inner_tos(inner))
        ttl = ipip.inner_ttl(inner)
        if outer_v4:
            anc = [
                (socket.IPPROTO_IP, socket.IP_TTL, struct.pack("i", ttl)),
                (socket.IPPROTO_IP, socket.IP_TOS, struct.pack("i", tos)),
            ]
        else:
            anc = [
                (socket.IPPROTO_IPV6, IPV6_HOPLIMIT, struct.pack("i", ttl)),
                (socket.IPPROTO_IPV6, IPV6_TCLASS, struct.pack("i", tos)),
            ]
        port = tun_port if proto == socket.IPPROTO_UDP else 0
        sock = self._sock(outer_v4, proto, df)
        bufs: list[bytes | bytearray] = [head, inner] if head else [inner]
        sock.sendmsg(bufs, anc, 0, (rs_addr, port))

    def frag_needed(self, inner: bytes, mtu: int, client: str, vip: str) -> None:
        """ICMP "fragmentation needed" to the client, from the VIP, as IPVS
        sends it for a too-big DF packet (§6.2)."""
        if self._icmp is None:
            self._icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
            self._icmp.setblocking(False)
        msg = ipip.frag_needed_v4(inner, mtu)
        pktinfo = struct.pack("I4s4s", 0, socket.inet_aton(vip), socket.inet_aton("0.0.0.0"))
        self._icmp.sendmsg([msg], [(socket.IPPROTO_IP, IP_PKTINFO, pktinfo)], 0, (client, 0))

    def close(self) -> None:
        for s in self._socks.values():
            s.close()
        self._socks.clear()
        if self._icmp is not None:
            self._icmp.close()
