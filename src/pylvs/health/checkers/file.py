"""FILE_CHECK: the integer in a track file (trackers/track_file.c).

keepalived re-reads the file on inotify events; pylvs polls it.  The value
is read as strtol(…, 0) does (decimal, 0x hex, 0 octal, leading blanks and
sign, stopping at the first other character); an empty or missing file is
0; a value outside [INT32_MIN, INT32_MAX + 1] is ignored with a log line.
"""

from __future__ import annotations

import re

from pylvs.health.checkers.base import ProbeContext
from pylvs.health.params import CheckerParams, FileSpec
from pylvs.health.result import ProbeResult

__all__ = ["FileChecker", "parse_strtol", "read_track_file"]

_NUMBER = re.compile(rb"\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)")
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1


def parse_strtol(data: bytes) -> int | None:
    """strtol(data, NULL, 0); None when it overflows a long."""
    m = _NUMBER.match(data)
    if m is None:
        return 0
    digits = m.group(2)
    if digits[:2] in (b"0x", b"0X"):
        value = int(digits[2:], 16)
    elif len(digits) > 1 and digits[:1] == b"0":
        value = int(digits, 8)
    else:
        value = int(digits)
    if m.group(1) == b"-":
        value = -value
    if not _LONG_MIN <= value <= _LONG_MAX:
        return None
    return value


def read_track_file(path: str) -> tuple[int | None, tuple[str, ...]]:
    """process_track_file(): the value, or None with keepalived's line."""
    try:
        with open(path, "rb") as f:
            data = f.read(127)
    except OSError:
        return 0, ()
    if not data:
        return 0, ()
    value = parse_strtol(data)
    if value is None or not -(2**31) <= value <= 2**31:
        shown = _LONG_MAX if value is None else value
        return None, (f"Invalid number {shown} read from {path} - ignoring",)
    return value, ()


class FileChecker:
    def __init__(self, params: CheckerParams, ctx: ProbeContext) -> None:
        spec = params.spec
        assert isinstance(spec, FileSpec)
        self.path = spec.path

    async def probe(self, url: int = 0) -> ProbeResult:
        value, logs = read_track_file(self.path)
        return ProbeResult(ok=value is not None, file_value=value, logs=logs)
