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
    name: str,
    proxy_protocol: Sequence[object] = (),
    connect_timeout: float = 5.0,
    state_path: str | None = None,
) -> DataPlane:
    """The plane asked for; ``auto`` takes the kernel plane where it can run
    and the proxy plane elsewhere, and says why."""
    if name == "none":
        return NoPlane()
    auto_reason = ""
    if name in ("kernel", "auto"):
        from pylvs.dataplane.kernel.plane import KernelPlane, probe

        why = probe()
        if not why:
            kernel = KernelPlane(state_path)
            if name == "auto":
                kernel.reason = "auto: root and nftables are available"
            return kernel
        if name == "kernel":
            raise PlaneUnavailable(
                f"the kernel data plane cannot run: {why}; --dataplane proxy runs as any user"
            )
        auto_reason = f"auto: the kernel plane cannot run ({why}), so the proxy plane runs"
    if name not in PLANES:
        raise PlaneUnavailable(f"unknown data plane {name!r} (choose from {', '.join(PLANES)})")
    from pylvs.dataplane.proxy.plane import ProxyPlane, ProxyProtocolRule

    rules = [r for r in proxy_protocol if isinstance(r, ProxyProtocolRule)]
    plane = ProxyPlane(proxy_protocol=rules, connect_timeout=connect_timeout)
    if name == "auto":
        plane.reason = auto_reason
    return plane
