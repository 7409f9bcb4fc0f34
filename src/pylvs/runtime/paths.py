"""Where the control socket lives (design: Names)."""

from __future__ import annotations

import os
from collections.abc import Mapping

__all__ = ["default_socket_path"]


def default_socket_path(env: Mapping[str, str] | None = None, uid: int | None = None) -> str:
    """``$PYLVS_SOCKET``; else /run/pylvs/pylvs.sock for root; else
    ``$XDG_RUNTIME_DIR/pylvs.sock``; else a per-user folder under /tmp."""
    env = os.environ if env is None else env
    uid = os.getuid() if uid is None else uid
    explicit = env.get("PYLVS_SOCKET")
    if explicit:
        return explicit
    if uid == 0:
        return "/run/pylvs/pylvs.sock"
    runtime_dir = env.get("XDG_RUNTIME_DIR")
    if runtime_dir:
        return os.path.join(runtime_dir, "pylvs.sock")
    return f"/tmp/pylvs-{uid}/pylvs.sock"
