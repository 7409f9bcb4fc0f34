"""Logging: stderr always (the journal takes it under systemd); syslog too
when asked, with keepalived's ``-S 0..7`` meaning facility LOCAL0..LOCAL7."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys

__all__ = ["parse_facility", "setup_logging"]

SYSLOG_SOCKET = "/dev/log"
_NAMED = {
    "daemon": logging.handlers.SysLogHandler.LOG_DAEMON,
    "user": logging.handlers.SysLogHandler.LOG_USER,
}


def parse_facility(text: str) -> int | None:
    """keepalived's ``-S``: 0..7 or local0..local7 (LOCALn), daemon or
    user; None when it is none of those (keepalived: "Invalid log
    facility")."""
    number = text[5:] if text.startswith("local") else text
    if number.isdigit() and int(number) <= 7:
        return logging.handlers.SysLogHandler.LOG_LOCAL0 + int(number)
    return _NAMED.get(text)


def setup_logging(*, verbose: bool = False, facility_code: int | None = None) -> None:
    """``facility_code``: also log to syslog with this facility, as
    :func:`parse_facility` returns it."""
    root = logging.getLogger("pylvs")
    root.handlers.clear()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    root.propagate = False
    err = logging.StreamHandler(sys.stderr)
    err.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"))
    root.addHandler(err)
    if facility_code is not None:
        try:
            handler = logging.handlers.SysLogHandler(address=SYSLOG_SOCKET, facility=facility_code)
        except OSError as e:
            root.warning("syslog unavailable (%s): logging to stderr only", e)
        else:
            handler.setFormatter(logging.Formatter(f"pylvs[{os.getpid()}]: %(message)s"))
            root.addHandler(handler)
