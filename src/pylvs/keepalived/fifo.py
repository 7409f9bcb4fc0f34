"""``notify_fifo`` / ``lvs_notify_fifo``: the checker's event lines for a
reader process (core/notify.c ``notify_fifo_open``, check/ipwrapper.c
``notify_fifo_vs``/``notify_fifo_rs``).

As keepalived does: the FIFO is created (mode 0644) unless it exists, the
``*_notify_fifo_script`` (if any) is started with the FIFO's name as its
last argument, then the FIFO is opened read-write and non-blocking (so
opening never waits for a reader and a missing reader never blocks the
daemon) and refused unless it is a FIFO owned by us or by the configured
user.  Lines go to the global FIFO and to the LVS one; a line that does not
fit (no reader draining it) is dropped.  At close the script is stopped and
a FIFO we created is removed.  The same path given for both keeps only the
global one.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import stat
import subprocess
from dataclasses import dataclass

from pylvs.config.model import GlobalSettings, NotifyFifo
from pylvs.health.actions import fifo_bytes
from pylvs.health.scripts import default_user, resolve_user

__all__ = ["NotifyFifos"]

log = logging.getLogger("pylvs.keepalived")


@dataclass
class _Fifo:
    path: str
    fd: int
    created: bool
    script: subprocess.Popen[bytes] | None = None


def _owner(fifo: NotifyFifo) -> int | None:
    if fifo.user is None:
        return None
    user = resolve_user(fifo.user, fifo.group)
    return None if user is None else user.uid


def _open(
    fifo: NotifyFifo, kind: str, script_user: str | None, script_group: str | None
) -> _Fifo | None:
    path = fifo.path
    assert path is not None
    created = False
    try:
        os.mkfifo(path, 0o644)
        created = True
    except OSError as e:
        if e.errno != errno.EEXIST:
            log.info("Unable to create %snotify fifo %s", kind, path)
            return None
    if created and fifo.user is not None:
        user = resolve_user(fifo.user, fifo.group)
        if user is not None and (user.uid, user.gid) != (os.getuid(), os.getgid()):
            try:
                os.chown(path, user.uid, user.gid)
            except OSError:
                log.info("Failed to set uid:gid for fifo %s", path)
    proc = None
    if fifo.script is not None:
        proc = _start_script((*fifo.script.args, path), fifo, script_user, script_group)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as e:
        log.info("Unable to open %snotify fifo %s - errno %d", kind, path, e.errno or 0)
        if created:
            with contextlib.suppress(OSError):
                os.unlink(path)
        _stop_script(proc)
        return None
    st = os.fstat(fd)
    if not stat.S_ISFIFO(st.st_mode) or st.st_uid not in (os.getuid(), _owner(fifo)):
        log.info("%snotify fifo %s is not a fifo we own - not using", kind, path)
        os.close(fd)
        _stop_script(proc)
        return None
    return _Fifo(path, fd, created, proc)


def _start_script(
    argv: tuple[str, ...],
    fifo: NotifyFifo,
    script_user: str | None,
    script_group: str | None,
) -> subprocess.Popen[bytes] | None:
    script = fifo.script
    assert script is not None
    if script.user is not None:
        user = resolve_user(script.user, script.group)
    else:
        user = default_user(script_user, script_group)
    kwargs: dict[str, object] = {}
    if user is not None and (user.uid, user.gid) != (os.getuid(), os.getgid()):
        kwargs = {"user": user.uid, "group": user.gid, "extra_groups": list(user.groups)}
    try:
        proc: subprocess.Popen[bytes] = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            **kwargs,  # type: ignore[call-overload]
        )
    except OSError as e:
        log.info("Error exec-ing command '%s', error %d: %s", argv[0], e.errno or 0, e.strerror)
        return None
    return proc


def _stop_script(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


class NotifyFifos:
    """The open FIFOs of one configuration."""

    def __init__(self) -> None:
        self._fifos: list[_Fifo] = []

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self._fifos]

    def open(self, g: GlobalSettings) -> None:
        lvs = g.lvs_notify_fifo
        if g.notify_fifo.path is not None and lvs.path == g.notify_fifo.path:
            log.info(
                "notify FIFO %s has been specified for global and LVS FIFO - ignoring LVS FIFO",
                lvs.path,
            )
            lvs = NotifyFifo()
        for fifo, kind in ((g.notify_fifo, ""), (lvs, "lvs_")):
            if fifo.path is not None:
                opened = _open(fifo, kind, g.script_user, g.script_group)
                if opened is not None:
                    self._fifos.append(opened)

    def write(self, line: str) -> None:
        data = fifo_bytes(line)
        for f in self._fifos:
            with contextlib.suppress(OSError):
                os.write(f.fd, data)

    def close(self) -> None:
        fifos, self._fifos = self._fifos, []
        for f in fifos:
            if f.created:  # first, so that a reader reopening it finds nothing
                with contextlib.suppress(OSError):
                    os.unlink(f.path)
            os.close(f.fd)
            _stop_script(f.script)
