"""Typed errors that carry ipvsadm's message and exit status.

ipvsadm reports two kinds of failure (ipvsadm-cli reference §4):

* its own validation ("ipvsadm-side"), exit status 2, raised here as
  :class:`UsageError`;
* errors returned by the kernel for a command, printed as one line chosen
  from the errno and the command (§4.3), exit status 255 (1 for listings),
  raised here as :class:`IpvsError`.
"""

from __future__ import annotations

import errno as _errno
from os import strerror

__all__ = ["IpvsError", "PylvsError", "UsageError", "kernel_message"]


class PylvsError(Exception):
    """Base: a message for the user and the exit status ipvsadm would use."""

    def __init__(self, message: str, exit_status: int) -> None:
        super().__init__(message)
        self.message = message
        self.exit_status = exit_status


class UsageError(PylvsError):
    """An ipvsadm-side validation failure (exit status 2)."""

    def __init__(self, message: str, exit_status: int = 2) -> None:
        super().__init__(message, exit_status)


# (command, errno) -> message, ipvsadm-cli reference §4.3.
_COMMAND_MESSAGES: dict[tuple[str, int], str] = {
    ("add-service", _errno.EEXIST): "Service already exists",
    ("add-service", _errno.ENOENT): "Scheduler or persistence engine not found",
    ("edit-service", _errno.ESRCH): "No such service",
    ("edit-service", _errno.ENOENT): "Scheduler or persistence engine not found",
    ("delete-service", _errno.ESRCH): "No such service",
    ("zero", _errno.ESRCH): "No such service",
    ("add-server", _errno.ESRCH): "Service not defined",
    ("add-server", _errno.EEXIST): "Destination already exists",
    ("edit-server", _errno.ESRCH): "Service not defined",
    ("edit-server", _errno.ENOENT): "No such destination",
    ("delete-server", _errno.ESRCH): "Service not defined",
    ("delete-server", _errno.ENOENT): "No such destination",
    ("start-daemon", _errno.EEXIST): "Daemon has already run",
    ("stop-daemon", _errno.ESRCH): "No daemon is running",
    ("list", _errno.ESRCH): "No such service",
}

_ANY_MESSAGES: dict[int, str] = {
    _errno.EPERM: "Permission denied (you must be root)",
    _errno.EINVAL: "Invalid operation.  Possibly wrong module version, address not unicast, ...",
    _errno.ENOPROTOOPT: "Protocol not available",
    _errno.ENOMEM: "Memory allocation problem",
    _errno.EOPNOTSUPP: "Operation not supported with IPv6",
    _errno.EAFNOSUPPORT: "Operation not supported with specified address family",
    _errno.EMSGSIZE: "Module is wrong version",
}


def kernel_message(command: str, err: int) -> str:
    """The line ipvsadm prints when the kernel rejects ``command`` with ``err``."""
    msg = _COMMAND_MESSAGES.get((command, err))
    if msg is None:
        msg = _ANY_MESSAGES.get(err)
    if msg is None:
        msg = strerror(err)
    return msg


class IpvsError(PylvsError):
    """The kernel (here: the core) rejected a command with ``errno``."""

    def __init__(self, command: str, err: int, exit_status: int = 255) -> None:
        super().__init__(kernel_message(command, err), exit_status)
        self.command = command
        self.errno = err
