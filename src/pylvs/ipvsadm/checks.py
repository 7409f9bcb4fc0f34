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


# A rule table, condensed: the mandatory names, the illegal names and the
# mutually exclusive ones, all among the scanned names. A ``given`` passes
# the scan exactly when it has every mandatory name, no illegal one and at
# most one exclusive one; only a failure needs the scan (for its message).
_Summary = tuple[frozenset[str], frozenset[str], frozenset[str]]


def _summary(rules: Mapping[str, str], order: Sequence[str]) -> _Summary:
    return (
        frozenset(n for n in order if rules.get(n, "x") == "+"),
        frozenset(n for n in order if rules.get(n, "x") == "x"),
        frozenset(n for n in order if rules.get(n, "x") == "1"),
    )


_COMMAND_SUMMARIES = {c: _summary(r, OPTION_NAMES) for c, r in COMMAND_OPTIONS.items()}
_TUNNEL_SUMMARIES = {t: _summary(r, TUNNEL_OPTION_ORDER) for t, r in TUNNEL_OPTIONS.items()}


def _passes(summary: _Summary, given: Collection[str]) -> bool:
    mandatory, illegal, exclusive = summary
    return (
        mandatory.issubset(given)
        and illegal.isdisjoint(given)
        and len(exclusive.intersection(given)) <= 1
    )


def check_command_options(command: str, given: Collection[str]) -> None:
    """ipvsadm's ``generic_opt_check`` for ``command`` (a name in messages)."""
    if not _passes(_COMMAND_SUMMARIES[command], given):
        _scan(COMMAND_OPTIONS[command], OPTION_NAMES, given, f"'{command}' command")


def check_tunnel_options(tun_type: str, given: Collection[str]) -> None:
    """ipvsadm's ``tunnel_opt_check`` for ``-a``/``-e`` with ``-i``."""
    if not _passes(_TUNNEL_SUMMARIES[tun_type], given):
        _scan(TUNNEL_OPTIONS[tun_type], TUNNEL_OPTION_ORDER, given, f"'{tun_type}' tunnel type")
