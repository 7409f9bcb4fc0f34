"""The real host behind the ``ConfigReader`` and ``Accounts`` interfaces.

The only module of ``pylvs.config`` that touches the system; everything else
gets a reader (and accounts) injected — in-memory ones in tests, these in the
daemon.
"""

from __future__ import annotations

import glob as _glob
import grp
import os
import pwd
import stat as _stat

from pylvs.config.source import FileInfo

__all__ = ["OsAccounts", "OsReader"]


class OsReader:
    def cwd(self) -> str:
        return os.getcwd()

    def read_text(self, path: str) -> str:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read()

    def glob(self, pattern: str) -> list[str]:
        return sorted(_glob.glob(pattern))

    def stat(self, path: str) -> FileInfo | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        mode = st.st_mode
        return FileInfo(
            is_dir=_stat.S_ISDIR(mode),
            is_regular=_stat.S_ISREG(mode),
            executable=bool(mode & (_stat.S_IXUSR | _stat.S_IXGRP | _stat.S_IXOTH)),
        )


class OsAccounts:
    """The host's users and groups (``getpwnam``/``getgrnam``)."""

    def user(self, name: str) -> tuple[int, int] | None:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            return None
        return entry.pw_uid, entry.pw_gid

    def group(self, name: str) -> int | None:
        try:
            return grp.getgrnam(name).gr_gid
        except KeyError:
            return None
