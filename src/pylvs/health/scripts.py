"""Running keepalived's scripts: MISC_CHECK programs and notify scripts
(core/notify.c system_call_script).

The child runs in its own process group (so a timeout kills everything it
started), as the configured user (setgid, setgroups, setuid when that
differs from ours), with stdio on /dev/null and IFS/LD_PRELOAD/
LD_LIBRARY_PATH removed from its environment.
"""

from __future__ import annotations

import asyncio
import grp
import os
import pwd
import signal
import subprocess
from dataclasses import dataclass

from pylvs.health.command_line import cmd_str

__all__ = [
    "DEFAULT_SCRIPT_USER",
    "ScriptOutcome",
    "UserId",
    "cmd_str",
    "default_user",
    "resolve_user",
    "run_script",
]

#: keepalived's default script user when it exists.
DEFAULT_SCRIPT_USER = "keepalived_script"
#: SIGTERM first, SIGKILL this long after (check_misc.c).
TERM_GRACE = 2.0
_UNSAFE_ENV = ("IFS", "LD_PRELOAD", "LD_LIBRARY_PATH")


@dataclass(frozen=True, slots=True)
class UserId:
    uid: int
    gid: int
    groups: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ScriptOutcome:
    """``exit_status`` None when a signal ended it; ``timed_out`` when we
    killed it for outliving its timeout; ``logs`` are keepalived's lines."""

    exit_status: int | None
    signal: int | None = None
    timed_out: bool = False
    logs: tuple[str, ...] = ()


def resolve_user(user: str | None, group: str | None = None) -> UserId | None:
    """set_uid_gid(): a user name (or number) and optional group; the user's
    supplementary groups come along.  None when the user does not exist."""
    if user is None:
        return UserId(os.getuid(), os.getgid())
    try:
        pw = pwd.getpwnam(user) if not user.isdigit() else pwd.getpwuid(int(user))
    except KeyError:
        return None
    gid = pw.pw_gid
    if group is not None:
        try:
            gid = grp.getgrnam(group).gr_gid if not group.isdigit() else int(group)
        except KeyError:
            return None
    try:
        groups = tuple(os.getgrouplist(pw.pw_name, gid))
    except OSError:
        groups = (gid,)
    return UserId(pw.pw_uid, gid, groups)


def default_user(script_user: str | None, script_group: str | None) -> UserId | None:
    """get_default_script_user(): global script_user, else
    ``keepalived_script`` if it exists, else ourselves."""
    if script_user is not None:
        return resolve_user(script_user, script_group)
    found = resolve_user(DEFAULT_SCRIPT_USER)
    return found if found is not None else UserId(os.getuid(), os.getgid())


def _env() -> dict[str, str]:
    env = dict(os.environ)
    for name in _UNSAFE_ENV:
        env.pop(name, None)
    return env


def _killpg(pid: int, sig: int) -> bool:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


async def run_script(
    argv: tuple[str, ...],
    user: UserId | None = None,
    timeout: float | None = None,
    *,
    term_grace: float = TERM_GRACE,
) -> ScriptOutcome:
    """Run ``argv``; with ``timeout``, SIGTERM its process group when it is
    exceeded and SIGKILL ``term_grace`` later.  A program that cannot be
    executed counts as exit 0, as in keepalived ("script errors aren't
    server errors")."""
    kwargs: dict[str, object] = {}
    if user is not None and (user.uid, user.gid) != (os.getuid(), os.getgid()):
        kwargs = {"user": user.uid, "group": user.gid, "extra_groups": list(user.groups)}
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=_env(),
            **kwargs,  # type: ignore[arg-type]
        )
    except OSError as e:
        line = f"Error exec-ing command '{argv[0]}', error {e.errno}: {e.strerror}"
        return ScriptOutcome(exit_status=0, logs=(line,))
    if timeout is None:
        return _outcome(await proc.wait(), None)
    state = None
    code = await _exit_within(proc, timeout)
    if code is None:
        state = signal.SIGTERM
        _killpg(proc.pid, signal.SIGTERM)
        code = await _exit_within(proc, term_grace)
        if code is None:
            state = signal.SIGKILL
            _killpg(proc.pid, signal.SIGKILL)
            code = await proc.wait()
    if code < 0 and state == signal.SIGTERM and -code == signal.SIGTERM:
        _killpg(proc.pid, signal.SIGKILL)  # and whatever it started
    return _outcome(code, state)


async def _exit_within(proc: asyncio.subprocess.Process, seconds: float) -> int | None:
    """The exit code, or None when the process outlives ``seconds``."""
    try:
        async with asyncio.timeout(seconds):
            return await proc.wait()
    except TimeoutError:
        return None


def _outcome(code: int, state: signal.Signals | None) -> ScriptOutcome:
    if code >= 0:
        return ScriptOutcome(exit_status=code)
    sig = -code
    timed_out = (state == signal.SIGTERM and sig == signal.SIGTERM) or (
        state == signal.SIGKILL and sig in (signal.SIGTERM, signal.SIGKILL)
    )
    return ScriptOutcome(exit_status=None, signal=sig, timed_out=timed_out)
