"""MISC_CHECK: run ``misc_path`` and judge its exit (check_misc.c).

Exit 0 passes; with ``misc_dynamic`` exit 2..255 passes too and asks for
weight ``exit - 2``; anything else fails.  A script outliving
``misc_timeout`` (default: the virtual server's delay_loop) gets SIGTERM,
then SIGKILL 2 s later, and counts as timed out.
"""

from __future__ import annotations

from pylvs.health.checkers.base import ProbeContext
from pylvs.health.params import CheckerParams, MiscSpec
from pylvs.health.result import ProbeResult
from pylvs.health.scripts import UserId, run_script

__all__ = ["MiscChecker"]


class MiscChecker:
    def __init__(self, params: CheckerParams, ctx: ProbeContext) -> None:
        spec = params.spec
        assert isinstance(spec, MiscSpec)
        self.spec = spec
        self.timeout = spec.timeout or ctx.vs_delay_loop
        self.user = (
            UserId(ctx.uid, ctx.gid) if ctx.uid is not None and ctx.gid is not None else None
        )

    async def probe(self, url: int = 0) -> ProbeResult:
        outcome = await run_script(self.spec.script.argv, self.user, self.timeout)
        status = outcome.exit_status
        weight = None
        if self.spec.dynamic and status is not None and 2 <= status <= 255:
            weight = status - 2
        return ProbeResult(
            ok=status == 0 or weight is not None,
            logs=outcome.logs,
            exit_status=status,
            signal=outcome.signal,
            timed_out=outcome.timed_out,
            weight=weight,
        )
