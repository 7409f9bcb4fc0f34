"""keepalived's script-security check (core/notify.c check_script_secure,
check_security), run once at start-up for every script.

A script that would run as root (uid or gid 0, or a setuid/setgid-root
file) must sit in a path whose every component is owned by root and not
writable by a non-root group or by others (directories with the sticky bit
excepted).  With ``enable_script_security`` such a script is disabled;
without it keepalived only logs, and then warns once that scripts run
without script security.
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass

from pylvs.health.scripts import UserId, cmd_str

__all__ = [
    "SC_EXECUTABLE",
    "SC_INHIBIT",
    "SC_INSECURE",
    "SC_ISSCRIPT",
    "SC_NOTFOUND",
    "SC_SYSTEM",
    "ScriptCheck",
    "check_script_secure",
    "misc_script_disabled_line",
    "security_violation_line",
]

SC_ISSCRIPT = 0x01
SC_INHIBIT = 0x02
SC_NOTFOUND = 0x04
SC_EXECUTABLE = 0x08
SC_INSECURE = 0x10
SC_SYSTEM = 0x20


@dataclass(frozen=True, slots=True)
class ScriptCheck:
    flags: int
    logs: tuple[str, ...]

    @property
    def runnable(self) -> bool:
        """check_notify_script_secure(): not inhibited, found, executable."""
        return not self.flags & (SC_INHIBIT | SC_NOTFOUND) and bool(
            self.flags & (SC_EXECUTABLE | SC_SYSTEM)
        )


def _is_executable(st: os.stat_result, uid: int, gid: int) -> bool:
    mode = st.st_mode
    if uid == 0:
        return bool(mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
    if uid == st.st_uid:
        return bool(mode & stat.S_IXUSR)
    if gid == st.st_gid:
        return bool(mode & stat.S_IXGRP)
    return bool(mode & stat.S_IXOTH)


def _check_security(filename: str, script_security: bool, logs: list[str]) -> int:
    """Walk ``/``, ``/a``, ``/a/b`` ... and the file itself, without
    following symlinks."""
    parts = filename.split("/")
    prefixes = ["/"] + ["/".join(parts[: i + 1]) for i in range(1, len(parts) - 1)]
    for i, path in enumerate([*prefixes, filename]):
        last = i == len(prefixes)
        try:
            st = os.lstat(path)
        except OSError:
            logs.append(f"check_script_secure could not find script '{filename}' - disabling")
            return SC_NOTFOUND
        mode = st.st_mode
        if (not last and not stat.S_ISDIR(mode)) or (
            last and not stat.S_ISREG(mode) and not stat.S_ISLNK(mode)
        ):
            logs.append(f"Wrong file type found in script path '{filename}'.")
            return SC_INHIBIT
        writable_dir_or_file = (stat.S_ISDIR(mode) and not mode & stat.S_ISVTX) or stat.S_ISREG(
            mode
        )
        if st.st_uid or (
            writable_dir_or_file and ((st.st_gid and mode & stat.S_IWGRP) or mode & stat.S_IWOTH)
        ):
            disabling = " - disabling" if script_security else ""
            logs.append(f"Unsafe permissions found for script '{filename}'{disabling}.")
            return SC_INSECURE | (SC_INHIBIT if script_security else 0)
    return 0


def check_script_secure(argv: tuple[str, ...], user: UserId, script_security: bool) -> ScriptCheck:
    """check_script_secure(); the flags say what keepalived would do."""
    logs: list[str] = []
    name = argv[0]
    if name.startswith("<") and name[1:].lstrip(" \t").startswith("/"):
        return ScriptCheck(SC_SYSTEM, ())
    path = name
    if "/" not in name:
        found = shutil.which(name)
        if found is None:
            logs.append(f"Cannot find script {name} in path - disabling")
            return ScriptCheck(SC_NOTFOUND, tuple(logs))
        path = found
    real = os.path.realpath(path)
    if not os.path.exists(real):
        logs.append(f"Script {name} cannot be accessed - {os.strerror(2)}")
        return ScriptCheck(SC_NOTFOUND, tuple(logs))
    try:
        st = os.stat(real)
    except OSError:
        logs.append(f"Unable to access script `{name}` - disabling")
        return ScriptCheck(SC_NOTFOUND, tuple(logs))
    flags = SC_ISSCRIPT
    protect = False
    if _is_executable(st, user.uid, user.gid):
        flags |= SC_EXECUTABLE
        protect = bool(
            user.uid == 0
            or user.gid == 0
            or (st.st_uid == 0 and st.st_mode & stat.S_IXUSR and st.st_mode & stat.S_ISUID)
            or (st.st_gid == 0 and st.st_mode & stat.S_IXGRP and st.st_mode & stat.S_ISGID)
        )
    else:
        logs.append(
            f"WARNING - script '{name}' is not executable for uid:gid {user.uid}:{user.gid}"
            " - disabling."
        )
    if protect:
        flags |= _check_security(path, script_security, logs)
        if real != path:
            flags |= _check_security(real, script_security, logs)
    return ScriptCheck(flags, tuple(logs))


def misc_script_disabled_line(argv: tuple[str, ...], check: ScriptCheck) -> str | None:
    """check_misc_script_security()'s line for a MISC_CHECK it drops."""
    if check.flags & SC_INHIBIT:
        return f"Disabling misc script {cmd_str(argv)} due to insecure"
    if check.flags & SC_NOTFOUND:
        return f"Disabling misc script {cmd_str(argv)} since not found/accessible"
    return None


def security_violation_line(all_flags: int, script_security: bool) -> str | None:
    """The warning logged once when scripts run without script security."""
    if script_security or not all_flags & SC_ISSCRIPT:
        return None
    extra = " There are insecure scripts." if all_flags & SC_INSECURE else ""
    return (
        "SECURITY VIOLATION - check scripts are being executed but script_security not enabled."
        + extra
    )
