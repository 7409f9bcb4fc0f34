"""The one door to files: configuration text, include globs and script
existence all go through a ``ConfigReader``, so the configuration layer stays
pure and tests can use in-memory files (``MemoryReader``).

Paths given to a reader are absolute and normalised; the configuration layer
resolves relative names against the directory of the including file first.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

__all__ = ["ConfigReader", "FileInfo", "MemoryReader", "has_magic"]


@dataclass(frozen=True, slots=True)
class FileInfo:
    is_dir: bool = False
    is_regular: bool = True
    executable: bool = False


class ConfigReader(Protocol):
    def read_text(self, path: str) -> str:
        """The file's text; raises ``OSError`` (with ``strerror``) on failure."""
        ...

    def glob(self, pattern: str) -> list[str]:
        """Paths matching a glob pattern without braces, sorted, as glob(3)
        returns them (``*`` does not match a leading dot or cross ``/``)."""
        ...

    def stat(self, path: str) -> FileInfo | None:
        """What is at ``path`` (following links), or None if nothing."""
        ...

    def cwd(self) -> str:
        """Where relative configuration names start by default."""
        ...


def has_magic(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


class MemoryReader:
    """Files held in a dict ``{absolute path: text}``; directories are implied
    by the paths. ``executables`` marks files as executable (scripts)."""

    def __init__(
        self,
        files: Mapping[str, str],
        *,
        executables: Iterable[str] = (),
        unreadable: Iterable[str] = (),
    ) -> None:
        self.files = {posixpath.normpath(p): t for p, t in files.items()}
        self.executables = {posixpath.normpath(p) for p in executables}
        self.unreadable = {posixpath.normpath(p) for p in unreadable}
        self.dirs: set[str] = {"/"}
        for path in [*self.files, *self.executables]:
            parent = posixpath.dirname(path)
            while parent not in self.dirs:
                self.dirs.add(parent)
                parent = posixpath.dirname(parent)

    def cwd(self) -> str:
        return "/"

    def read_text(self, path: str) -> str:
        path = posixpath.normpath(path)
        if path in self.dirs:
            raise IsADirectoryError(21, "Is a directory")
        if path in self.unreadable:
            raise PermissionError(13, "Permission denied")
        if path not in self.files:
            raise FileNotFoundError(2, "No such file or directory")
        return self.files[path]

    def stat(self, path: str) -> FileInfo | None:
        path = posixpath.normpath(path)
        if path in self.dirs:
            return FileInfo(is_dir=True, is_regular=False)
        if path in self.files or path in self.executables:
            return FileInfo(executable=path in self.executables)
        return None

    def glob(self, pattern: str) -> list[str]:
        parts = [p for p in pattern.split("/") if p]
        found = ["/"]
        for part in parts:
            nxt: list[str] = []
            for base in found:
                if not has_magic(part):
                    cand = posixpath.join(base, part)
                    if cand in self.dirs or cand in self.files or cand in self.executables:
                        nxt.append(cand)
                    continue
                for entry in sorted(self._children(base)):
                    if entry.startswith(".") and not part.startswith("."):
                        continue
                    if fnmatch.fnmatchcase(entry, part):
                        nxt.append(posixpath.join(base, entry))
            found = nxt
        return sorted(found)

    def _children(self, base: str) -> set[str]:
        out = set()
        prefix = base.rstrip("/") + "/"
        for path in [*self.dirs, *self.files, *self.executables]:
            if path != base and path.startswith(prefix):
                out.add(path[len(prefix) :].split("/")[0])
        return out
