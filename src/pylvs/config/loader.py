"""Loading a keepalived configuration: the entry point the daemon calls.

``load(path)`` reads the file and its includes through a ``ConfigReader``
(the real file system unless one is given), parses it with keepalived's
rules, applies keepalived's fix-ups and returns the typed configuration
with every diagnostic. Nothing here raises on bad input.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from random import Random

from pylvs.config.accounts import Accounts
from pylvs.config.diagnostics import Diagnostic, Level, Reporter, exit_status
from pylvs.config.freeze import freeze
from pylvs.config.globbing import glob_include
from pylvs.config.kw_root import ROOT
from pylvs.config.lines import LineSource
from pylvs.config.model import KeepalivedConfig
from pylvs.config.numbers import Numbers
from pylvs.config.params import Builtins
from pylvs.config.parser import Parser
from pylvs.config.security import check_script_security
from pylvs.config.source import ConfigReader, MemoryReader
from pylvs.config.state import LoadState
from pylvs.config.validate import validate

__all__ = ["DEFAULT_CONFIG", "LoadOptions", "LoadResult", "load", "load_text"]

DEFAULT_CONFIG = "/etc/keepalived/keepalived.conf"


@dataclass(frozen=True)
class LoadOptions:
    """What keepalived takes from its environment, injected."""

    config_id: str | None = None  # -i ID (keepalived: the host name's first label)
    env: Mapping[str, str] = field(default_factory=dict)  # for ${_ENV X} and PATH
    rng: Random | None = None  # for ${_RANDOM}
    cwd: str | None = None  # relative config file names start here (None: the reader's)
    config_test: bool = False  # keepalived -t: stricter number parsing
    accounts: Accounts | None = None  # users/groups of scripts; None: not checked


@dataclass(frozen=True)
class LoadResult:
    config: KeepalivedConfig
    diagnostics: tuple[Diagnostic, ...]

    @property
    def status(self) -> int:
        """What ``keepalived -t`` would exit with."""
        return exit_status(self.diagnostics)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.level > Level.OK)


def load(
    path: str = DEFAULT_CONFIG,
    reader: ConfigReader | None = None,
    options: LoadOptions | None = None,
) -> LoadResult:
    opts = options or LoadOptions()
    if reader is None:
        # The real host: its files, and its users unless others are given.
        from pylvs.config.osreader import OsAccounts, OsReader

        reader = OsReader()
        if opts.accounts is None:
            opts = replace(opts, accounts=OsAccounts())
    cwd = opts.cwd if opts.cwd is not None else reader.cwd()
    reporter = Reporter()
    main = posixpath.normpath(posixpath.join(cwd, path))
    if not _check_main_file(reader, main, path, cwd, reporter):
        return LoadResult(KeepalivedConfig(), tuple(reporter.diagnostics))
    builtins = Builtins(config_id=opts.config_id, env=opts.env, rng=opts.rng or Random())
    lines = LineSource(reader, reporter, builtins, cwd=cwd)
    state = LoadState(
        reporter=reporter,
        nums=Numbers(reporter, opts.config_test),
        lines=lines,
        accounts=opts.accounts,
    )
    if lines.open_main(path):
        Parser(lines, reporter, state).run(ROOT)
        lines.finish()
    else:
        reporter.report(
            Level.FILE_NOT_FOUND,
            "Failed to open configuration file",
            file=main,
            line=0,
            keyword="-f",
        )
    validate(state)
    config = freeze(state)
    check_script_security(config, reader, reporter, env=opts.env, cwd=cwd)
    return LoadResult(config, tuple(reporter.diagnostics))


def _check_main_file(
    reader: ConfigReader, main: str, given: str, cwd: str, reporter: Reporter
) -> bool:
    """main.c ``check_conf_file``: the configuration must name one readable file."""

    def fail(message: str, level: Level = Level.FILE_NOT_FOUND) -> None:
        reporter.report(level, message, file=main, line=0, keyword="-f")

    found = glob_include(reader, given, cwd)
    usable = []
    for match, shown in zip(found.matches, found.shown, strict=True):
        if match.endswith("/"):
            fail(f"Configuration file '{shown}' is a directory - skipping")
            continue
        info = reader.stat(match)
        if info is None or not info.is_regular or info.executable:
            fail(f"Configuration file '{shown}' is not a regular non-executable file - skipping")
            continue
        try:
            reader.read_text(match)
        except OSError:
            fail(f"Unable to read configuration file {shown}")
            return False
        usable.append(match)
    if len(usable) > 1:
        fail(
            f"WARNING, multiple configuration file matches of {given}, starting with {found.shown[0]}",
            Level.MULTIPLE_FILES,
        )
    if not usable:
        if not found.matches:
            fail(f"Unable to find configuration file {given}")
        return False
    return True


def load_text(
    text: str,
    *,
    path: str = DEFAULT_CONFIG,
    files: Mapping[str, str] | None = None,
    options: LoadOptions | None = None,
) -> LoadResult:
    """Load configuration text (and any files it includes) held in memory."""
    all_files = dict(files or {})
    all_files[posixpath.join("/", path) if not path.startswith("/") else path] = text
    return load(path, MemoryReader(all_files), options)
