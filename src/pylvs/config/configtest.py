"""``keepalived -t -f FILE``: check a configuration and say how it went.

Prints the configuration errors (not the lines keepalived only logs, unless
``verbose``) and returns keepalived's exit status: 0 clean, 4 a file could
not be read, 5 configuration errors, 6 scripts without
``enable_script_security`` (this one wins over 5: keepalived keeps the
highest status value), 2 a keyword missing its parameter (keepalived stops
there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from pylvs.config.diagnostics import Level
from pylvs.config.loader import DEFAULT_CONFIG, LoadOptions, load
from pylvs.config.source import ConfigReader

__all__ = ["config_test"]


def config_test(
    path: str = DEFAULT_CONFIG,
    reader: ConfigReader | None = None,
    options: LoadOptions | None = None,
    *,
    out: Callable[[str], None] | None = None,
    verbose: bool = False,
) -> int:
    opts = replace(options or LoadOptions(), config_test=True)
    result = load(path, reader, opts)
    if out is not None:
        for d in result.diagnostics:
            if verbose or d.level != Level.LOG:
                out(str(d))
    return result.status
