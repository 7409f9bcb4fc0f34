"""Choosing the data plane (``--dataplane auto|proxy|kernel|none``)."""

from __future__ import annotations

from pylvs.dataplane.base import DataPlane
from pylvs.dataplane.none import NoPlane

__all__ = ["PLANES", "PlaneUnavailable", "select_plane"]

PLANES = ("auto", "proxy", "kernel", "none")


class PlaneUnavailable(RuntimeError):
    pass


def select_plane(name: str) -> DataPlane:
    if name == "none":
        return NoPlane()
    if name in ("auto", "proxy", "kernel"):
        plane = NoPlane()
        plane.reason = (
            f"--dataplane {name}: no forwarding plane is built yet; holding the table only"
        )
        return plane
    raise PlaneUnavailable(f"unknown data plane {name!r} (choose from {', '.join(PLANES)})")
