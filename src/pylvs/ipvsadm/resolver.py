"""The libc-backed :class:`~pylvs.ipvsadm.lookup.Resolver` (the only I/O here).

Python's ``socket.gethostbyname`` goes through ``getaddrinfo`` and maps ""
to 0.0.0.0; ``gethostbyname_ex`` reaches libc's ``gethostbyname`` proper and
keeps the address order, so it is used here (and "" is refused first, as
libc refuses it).
"""

from __future__ import annotations

import socket

from pylvs.core.addr import AF_INET
from pylvs.ipvsadm.inet import inet_ntop4, inet_ntop6, inet_pton4

__all__ = ["SocketResolver"]


class SocketResolver:
    """Answers from the system's NSS (``/etc/hosts``, DNS, ``/etc/services``)."""

    def host_by_name(self, name: str) -> int | None:
        if not name or name == "<broadcast>":  # Python-only special names
            return None
        try:
            _, _, addrs = socket.gethostbyname_ex(name)
        except (OSError, UnicodeError, ValueError, TypeError):
            return None
        return inet_pton4(addrs[0]) if addrs else None

    def service_port(self, name: str, proto: str) -> int | None:
        try:
            return socket.getservbyname(name, proto)
        except (OSError, UnicodeError, ValueError, TypeError):
            return None

    def host_name(self, af: int, addr: int) -> str | None:
        text = inet_ntop4(addr) if af == AF_INET else inet_ntop6(addr)
        try:
            name, _, _ = socket.gethostbyaddr(text)
        except (OSError, UnicodeError, ValueError, TypeError):
            return None
        return name

    def service_name(self, port: int, proto: str) -> str | None:
        try:
            return socket.getservbyport(port, proto)
        except (OSError, OverflowError, ValueError, TypeError):
            return None
