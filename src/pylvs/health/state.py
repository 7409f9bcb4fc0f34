"""The engine's mutable state, mirroring keepalived's structures.

``VsState``/``RsState``/``CheckerState`` carry the same flags keepalived keeps
in virtual_server_t, real_server_t and checker_t (alive, set,
num_failed_checkers, effective_weight, is_up, has_run, retry_it, ...), so the
transcribed rules in policy.py and epilogs.py read like the originals.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Protocol

from pylvs.health.params import CheckerParams, ScriptParams

__all__ = ["IPVS_WEIGHT_FAULT", "CheckerState", "Engine", "RsState", "VsState", "real_weight"]

IPVS_WEIGHT_MAX = 2**31 - 1
#: keepalived's "fault" weight for track files: INT_MIN.
IPVS_WEIGHT_FAULT = -(2**31)


def real_weight(effective_weight: int) -> int:
    """The weight IPVS gets: the effective weight clamped to 0..INT32_MAX."""
    if effective_weight < 0:
        return 0
    if effective_weight > IPVS_WEIGHT_MAX:
        return IPVS_WEIGHT_MAX
    return effective_weight


class VsState:
    __slots__ = ("alive", "display", "hysteresis", "id", "omega", "quorum", "quorum_down",
                 "quorum_up", "quorum_up_script", "rs", "sorry")  # fmt: skip

    def __init__(
        self,
        vs_id: Hashable,
        display: str,
        quorum: int,
        hysteresis: int,
        omega: bool,
        quorum_up_script: ScriptParams | None,
        quorum_down: ScriptParams | None,
    ) -> None:
        self.id = vs_id
        self.display = display
        self.quorum = quorum
        self.hysteresis = hysteresis
        self.omega = omega
        self.quorum_up_script = quorum_up_script
        self.quorum_down = quorum_down
        # validate_check_config's set_quorum_states() runs before any server is
        # alive, so every virtual server starts with its quorum down.
        self.quorum_up = False
        self.alive = False
        self.rs: list[RsState] = []
        self.sorry: RsState | None = None


class RsState:
    """A real server, or a virtual server's sorry server (no checkers)."""

    __slots__ = ("alive", "checkers", "display", "effective_weight", "id", "inhibit", "iweight",
                 "notify_down", "notify_up", "num_failed", "set", "table_weight", "vs")  # fmt: skip

    def __init__(
        self,
        rs_id: Hashable,
        display: str,
        vs: VsState,
        weight: int,
        inhibit: bool,
        notify_up: ScriptParams | None = None,
        notify_down: ScriptParams | None = None,
    ) -> None:
        self.id = rs_id
        self.display = display
        self.vs = vs
        self.iweight = weight
        self.effective_weight = weight
        self.inhibit = inhibit
        self.notify_up = notify_up
        self.notify_down = notify_down
        self.alive = False
        #: in the IPVS table (keepalived's ``rs->set``)
        self.set = False
        #: the weight the table holds for it while ``set`` (what was last sent)
        self.table_weight = 0
        self.num_failed = 0
        self.checkers: list[CheckerState] = []


class CheckerState:
    __slots__ = ("alpha", "cur_weight", "failed_url", "file_last", "has_run", "in_flight",
                 "index", "is_up", "kind", "last_exit", "last_ran", "len_mismatch", "params",
                 "retry_it", "rs", "seq", "smtp_retry", "url_it")  # fmt: skip

    def __init__(self, index: int, params: CheckerParams, rs: RsState, n_urls: int) -> None:
        self.index = index
        self.params = params
        self.kind = params.kind
        self.rs = rs
        self.alpha = params.alpha
        self.is_up = True
        self.has_run = False
        self.retry_it = 0
        #: this checker's contribution to the real server's effective weight
        self.cur_weight = 0
        # scheduling: ``seq`` identifies the live heap entry; ``in_flight``
        # while a probe runs.
        self.seq = -1
        self.in_flight = False
        #: SMTP: the next run is a retry (smtp_connect_thread), which keeps
        #: retry_it, rather than a fresh check (smtp_start_check_thread).
        self.smtp_retry = False
        # HTTP/SSL: url iterator and the url that failed, as indices.
        self.url_it: int | None = 0
        self.failed_url: int | None = None
        self.len_mismatch = [0] * n_urls
        # MISC
        self.last_exit = 0
        self.last_ran = 0.0
        # FILE: the value last read (tracked_file_t.last_status)
        self.file_last = 0


class Engine(Protocol):
    """What the per-checker epilogs need from the engine."""

    def log(self, text: str) -> None: ...

    def log_all_failures(self, c: CheckerState) -> bool: ...

    def update_checker_state(self, c: CheckerState, up: bool) -> None: ...

    def update_weight(self, rs: RsState, weight: int, update_quorum: bool) -> None: ...

    def schedule(self, c: CheckerState, at: float, smtp_retry: bool = False) -> None: ...

    def file_poll_interval(self) -> float: ...
