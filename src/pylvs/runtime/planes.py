"""Choosing the data plane (``--dataplane auto|proxy|kernel|none``)."""

from __future__ import annotations

from collections.abc import Sequence

from pylvs.dataplane.base import DataPlane
from pylvs.dataplane.none import NoPlane

__all__ = ["PLANES", "PlaneUnavailable", "select_plane"]

PLANES = ("auto", "proxy", "kernel", "none")


class PlaneUnavailable(RuntimeError):
    pass


def select_plane(
    name: str, proxy_protocol: Sequence[object] = (), connect_timeout: float = 5.0
) -> DataPlane:
    """The plane asked for; ``auto`` takes the kernel plane where it can run
    and the proxy plane elsewhere, and says why."""
    if name == "none":
        return NoPlane()
    if name == "kernel":
        raise PlaneUnavailable(
            "the kernel data plane is not available in this version; "
            "use --dataplane proxy (any user) or none"
        )
    from pylvs.dataplane.proxy.plane import ProxyPlane, ProxyProtocolRule

    rules = [r for r in proxy_protocol if isinstance(r, ProxyProtocolRule)]
    plane = ProxyPlane(proxy_protocol=rules, connect_timeout=connect_timeout)
    if name == "auto":
        plane.reason = (
            "auto: the kernel plane is not available in this version, so the proxy plane runs"
        )
    return plane
