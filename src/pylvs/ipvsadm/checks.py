"""The option-combination checks ipvsadm runs after parsing (reference
§1.8 step 1 and 4, §1.10, §1.11).

Both tables are scanned in their column order and the first problem found
is the one reported, so messages depend on that order (``-a -t X -s rr``
reports the illegal scheduler before the missing real server).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from pylvs.core.errors import UsageError
from pylvs.ipvsadm.options import (
    COMMAND_OPTIONS,
    OPTION_NAMES,
    TUNNEL_OPTION_ORDER,
    TUNNEL_OPTIONS,
)

__all__ = ["check_command_options", "check_tunnel_options"]


def _scan(
    rules: Mapping[str, str], order: Sequence[str], given: Collection[str], what: str
) -> None:
    first_exclusive: str | None = None
    for name in order:
        rule = rules.get(name, "x")
        if name not in given:
            if rule == "+":
                raise UsageError(f"You need to supply the '{name}' option for the {what}")
            continue
        if rule == "x":
            raise UsageError(f"Illegal '{name}' option with the {what}")
        if rule == "1":
            if first_exclusive is None:
                first_exclusive = name
                continue
            raise UsageError(
                f"The option '{name}' conflicts with the '{first_exclusive}' option in the {what}"
            )


def check_command_options(command: str, given: Collection[str]) -> None:
    """ipvsadm's ``generic_opt_check`` for ``command`` (a name in messages)."""
    _scan(COMMAND_OPTIONS[command], OPTION_NAMES, given, f"'{command}' command")


def check_tunnel_options(tun_type: str, given: Collection[str]) -> None:
    """ipvsadm's ``tunnel_opt_check`` for ``-a``/``-e`` with ``-i``."""
    _scan(TUNNEL_OPTIONS[tun_type], TUNNEL_OPTION_ORDER, given, f"'{tun_type}' tunnel type")
