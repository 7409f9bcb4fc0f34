"""keepalived configuration, read as keepalived reads it (pure: files come
through an injected ``ConfigReader``).

Entry points:

- ``load(path, reader=None, options=None) -> LoadResult`` — the typed
  ``KeepalivedConfig`` and every ``Diagnostic``;
- ``build_table(config)`` / ``initial_table(config)`` — the core's table
  value (all servers in / keepalived's exact start state);
- ``config_test(path, ...) -> int`` — ``keepalived -t``;
- ``dump(config)`` / ``dump_table(table)`` — stable text (``keepalived -d``).
"""

from pylvs.config.accounts import Accounts, StaticAccounts
from pylvs.config.addrfmt import format_rs, format_vs
from pylvs.config.builder import build_table, initial_table
from pylvs.config.configtest import config_test
from pylvs.config.diagnostics import Diagnostic, Level, Severity, exit_status
from pylvs.config.dump import dump, dump_table
from pylvs.config.loader import DEFAULT_CONFIG, LoadOptions, LoadResult, load, load_text
from pylvs.config.model import KeepalivedConfig
from pylvs.config.source import ConfigReader, FileInfo, MemoryReader

__all__ = [
    "DEFAULT_CONFIG",
    "Accounts",
    "ConfigReader",
    "Diagnostic",
    "FileInfo",
    "KeepalivedConfig",
    "Level",
    "LoadOptions",
    "LoadResult",
    "MemoryReader",
    "Severity",
    "StaticAccounts",
    "build_table",
    "config_test",
    "dump",
    "dump_table",
    "exit_status",
    "format_rs",
    "format_vs",
    "initial_table",
    "load",
    "load_text",
]
