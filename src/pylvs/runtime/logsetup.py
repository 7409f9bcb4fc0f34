"""Logging: stderr always (the journal takes it under systemd); syslog too
when asked, with keepalived's ``-S 0..7`` meaning facility LOCAL0..LOCAL7."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys

__all__ = ["setup_logging"]

SYSLOG_SOCKET = "/dev/log"


def setup_logging(*, verbose: bool = False, syslog_facility: int | None = None) -> None:
    root = logging.getLogger("pylvs")
    root.handlers.clear()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    err = logging.StreamHandler(sys.stderr)
    err.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"))
    root.addHandler(err)
    if syslog_facility is not None:
        facility = logging.handlers.SysLogHandler.LOG_LOCAL0 + syslog_facility
        try:
            handler = logging.handlers.SysLogHandler(address=SYSLOG_SOCKET, facility=facility)
        except OSError as e:
            root.warning("syslog unavailable (%s): logging to stderr only", e)
        else:
            handler.setFormatter(logging.Formatter(f"pylvs[{os.getpid()}]: %(message)s"))
            root.addHandler(handler)
