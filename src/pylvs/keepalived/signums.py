"""``keepalived --signum=NAME``: the signal that asks for each function
(lib/signals.c ``get_signum``, lib/signals.h).

``STATS_CLEAR`` is SIGRTMAX-1 and ``JSON`` SIGRTMIN+2, so their numbers are
the C library's (on glibc Linux: 63 and 36). ``TDUMP`` exists only in
keepalived builds made for debugging and is unknown here, as it is to the
distributions' keepalived.
"""

from __future__ import annotations

import signal

__all__ = ["SIGJSON", "SIGNUMS", "SIGSTATS_CLEAR", "signum"]

SIGJSON = signal.SIGRTMIN + 2
SIGSTATS_CLEAR = signal.SIGRTMAX - 1

SIGNUMS: dict[str, int] = {
    "STOP": int(signal.SIGTERM),
    "RELOAD": int(signal.SIGHUP),
    "DATA": int(signal.SIGUSR1),
    "STATS": int(signal.SIGUSR2),
    "STATS_CLEAR": int(SIGSTATS_CLEAR),
    "JSON": int(SIGJSON),
}


def signum(name: str) -> int | None:
    """The number for ``name`` (exact, upper case, as keepalived compares),
    None when keepalived would say ``Unknown sigfunc``."""
    return SIGNUMS.get(name)
