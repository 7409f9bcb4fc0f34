"""keepalived's address formats for log lines and FIFO lines.

``format_rs``/``format_vs`` in keepalived's check_data.c print a service as
``[ip]:proto:port`` (IPv6 without extra brackets inside: ``[::1]:tcp:80``),
a group virtual server as ``[NAME]:port`` and a fwmark one as ``FWM 7``.
"""

from __future__ import annotations

__all__ = ["PROTOCOLS", "fmt_pair", "fmt_trio", "fmt_vs"]

PROTOCOLS = ("tcp", "udp", "sctp", "none")


def fmt_trio(ip: str, protocol: str, port: int) -> str:
    """``[10.0.0.2]:tcp:80``: a real server, or an address-based virtual server."""
    return f"[{ip}]:{protocol}:{port}"


def fmt_pair(ip: str, port: int) -> str:
    """``[10.0.0.2]:25``: the form SMTP_CHECK and DNS_CHECK use for their target."""
    return f"[{ip}]:{port}"


def fmt_vs(
    *,
    ip: str | None = None,
    port: int = 0,
    protocol: str = "tcp",
    fwmark: int | None = None,
    group: str | None = None,
) -> str:
    """A virtual server as keepalived prints it: group, then fwmark, then address."""
    if group is not None:
        return f"[{group}]:{port}"
    if fwmark is not None:
        return f"FWM {fwmark}"
    if ip is None:
        raise ValueError("a virtual server needs an address, a fwmark or a group")
    return fmt_trio(ip, protocol, port)
