"""Users and groups scripts run as, injected like files: keepalived resolves
them while reading the configuration and drops a script whose user does not
exist (keepalived/core/notify.c ``set_uid_gid``, ``get_default_script_user``).
Without an ``Accounts`` (the default in pure use) every name is accepted and
left for the runtime to resolve."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

__all__ = ["Accounts", "StaticAccounts"]


class Accounts(Protocol):
    def user(self, name: str) -> tuple[int, int] | None:
        """(uid, gid) of a user, or None if there is no such user."""
        ...

    def group(self, name: str) -> int | None:
        """gid of a group, or None."""
        ...


class StaticAccounts:
    def __init__(
        self, users: Mapping[str, tuple[int, int]], groups: Mapping[str, int] | None = None
    ) -> None:
        self.users = dict(users)
        self.groups = dict(groups or {})

    def user(self, name: str) -> tuple[int, int] | None:
        return self.users.get(name)

    def group(self, name: str) -> int | None:
        return self.groups.get(name)
