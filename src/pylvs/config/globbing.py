"""Include patterns: csh brace expansion and glob(3) through the reader, with
the counts keepalived uses to decide which include variant complains
(lib/parser.c ``open_and_check_glob``: missing files/directories seen by
glob's lstat/opendir callbacks, and whether a wildcard was used)."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from pylvs.config.source import ConfigReader, has_magic

__all__ = ["GlobResult", "brace_expand", "glob_include", "has_brace"]


@dataclass
class GlobResult:
    matches: list[str] = field(default_factory=list)  # absolute; directories end with "/"
    shown: list[str] = field(default_factory=list)  # the same as glob(3) names them
    missing: int = 0  # alternatives naming a file or directory that does not exist
    have_wildcards: bool = False


def has_brace(pattern: str) -> bool:
    return _find_open(pattern) >= 0


def brace_expand(pattern: str) -> list[str]:
    """Expand the first brace group (recursively), glibc GLOB_BRACE style."""
    start = _find_open(pattern)
    if start < 0:
        return [pattern]
    depth = 0
    parts: list[str] = []
    last = start + 1
    i = start
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                parts.append(pattern[last:i])
                head, tail = pattern[:start], pattern[i + 1 :]
                out: list[str] = []
                for part in parts:
                    out.extend(brace_expand(head + part + tail))
                return out
        elif c == "," and depth == 1:
            parts.append(pattern[last:i])
            last = i + 1
        i += 1
    return [pattern]  # unbalanced: literal


def _find_open(pattern: str) -> int:
    """Where the first unescaped ``{`` is, -1 if none."""
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "{":
            return i
        i += 1
    return -1


def glob_include(reader: ConfigReader, pattern: str, base: str = "/") -> GlobResult:
    """Glob a pattern, relative ones from ``base`` (keepalived chdir()s to the
    directory of the including file, so its messages show relative names)."""
    result = GlobResult()
    relative = not pattern.startswith("/")
    for alt in brace_expand(posixpath.join(base, pattern)):
        alt = posixpath.normpath(alt) if alt else alt
        if has_magic(alt):
            result.have_wildcards = True
            fixed = _fixed_dir(alt)
            if reader.stat(fixed) is None:
                result.missing += 1
                continue
            found = reader.glob(alt)
        else:
            if reader.stat(alt) is None:
                result.missing += 1
                continue
            found = [alt]
        for path in found:
            info = reader.stat(path)
            mark = "/" if info is not None and info.is_dir else ""
            result.matches.append(path + mark)
            shown = posixpath.relpath(path, base) if relative else path
            result.shown.append(shown + mark)
    return result


def _fixed_dir(pattern: str) -> str:
    """The directory before the first component with a wildcard."""
    parts = pattern.split("/")
    fixed: list[str] = []
    for part in parts:
        if has_magic(part):
            break
        fixed.append(part)
    return "/".join(fixed) or "/"
