"""``--dataplane none``: holds the table and forwards nothing (rule
preparation, dry runs, tests)."""

from __future__ import annotations

from pylvs.dataplane.base import Capabilities, DataPlane

__all__ = ["NoPlane"]


class NoPlane(DataPlane):
    name = "none"
    reason = "asked for: --dataplane none holds the table and forwards nothing"

    def capabilities(self) -> Capabilities:
        return Capabilities([], [])
