"""Diagnostics: what a configuration load reports, and the exit status of a
config test (``keepalived -t``) that follows from them.

keepalived keeps one "config status" per run: every ``report_config_error``
raises it to the numerically highest ``config_err_t`` seen so far (lib/parser.h
lists them "in decreasing order of severity", but the code keeps the *largest
value*, so a later warning can mask an earlier missing file). ``-t`` maps the
final value to its exit status (keepalived/core/main.c ``config_test_exit``).
Plain ``log_message`` lines are logged but do not change the status.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

__all__ = [
    "EXIT_CONFIG",
    "EXIT_CONFIG_TEST",
    "EXIT_CONFIG_TEST_SECURITY",
    "EXIT_MISSING_PARAMETER",
    "EXIT_NO_CONFIG",
    "EXIT_OK",
    "Diagnostic",
    "Level",
    "Reporter",
    "Severity",
    "exit_status",
]


class Level(IntEnum):
    """keepalived's ``config_err_t`` (lib/parser.h), plus LOG for messages that
    keepalived only logs (they never change the config-test status)."""

    LOG = -1
    OK = 0
    FILE_NOT_FOUND = 1
    BAD_IF = 2
    FATAL = 3
    MULTIPLE_FILES = 4
    UNKNOWN_KEYWORD = 5
    UNEXPECTED_BOB = 6
    MISSING_BOB = 7
    UNEXPECTED_EOB = 8
    MISSING_EOB = 9
    UNMATCHED_QUOTE = 10
    MISSING_PARAMETER = 11
    INVALID_NUMBER = 12
    GENERAL_ERROR = 13
    WARNING = 14
    DEPRECATED = 15
    SECURITY_ERROR = 16


class Severity(StrEnum):
    """How much a diagnostic matters to pylvs."""

    FATAL = "fatal"  # keepalived could not run this configuration
    ERROR = "error"  # a configuration error; the item is ignored or fixed up
    WARNING = "warning"  # counted by keepalived, harmless (deprecations, notices)
    SECURITY = "security"  # scripts without enable_script_security
    INFO = "info"  # logged only

    @classmethod
    def of(cls, level: Level) -> Severity:
        if level in (Level.FILE_NOT_FOUND, Level.BAD_IF, Level.FATAL, Level.MISSING_PARAMETER):
            return cls.FATAL
        if level == Level.SECURITY_ERROR:
            return cls.SECURITY
        if level in (Level.WARNING, Level.DEPRECATED, Level.MULTIPLE_FILES):
            return cls.WARNING
        if level in (Level.LOG, Level.OK):
            return cls.INFO
        return cls.ERROR


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One message of a configuration load: where, about which keyword, what."""

    file: str
    line: int
    keyword: str
    message: str
    severity: Severity
    level: Level = Level.GENERAL_ERROR

    def __str__(self) -> str:
        # keepalived's own prefix when several files are read: "(FILE: Line N) ".
        if self.line:
            return f"({self.file}: Line {self.line}) {self.message}"
        return f"({self.file}) {self.message}"


# Exit statuses of ``keepalived -t`` (lib/scheduler.h): enum chk_exit_code
# after a complete test; KEEPALIVED_EXIT_CONFIG (2) when a keyword misses its
# parameter (keepalived exits at once from null_strvec()); and
# KEEPALIVED_EXIT_NO_CONFIG (6) when an include check failed (main.c stops
# after reading the files, before validating anything).
EXIT_OK = 0
EXIT_MISSING_PARAMETER = 2
EXIT_CONFIG = 4
EXIT_CONFIG_TEST = 5
EXIT_CONFIG_TEST_SECURITY = 6
EXIT_NO_CONFIG = 6


def exit_status(diagnostics: list[Diagnostic] | tuple[Diagnostic, ...]) -> int:
    """The status ``keepalived -t`` would exit with after these diagnostics."""
    if any(d.level == Level.FILE_NOT_FOUND and d.keyword == "include" for d in diagnostics):
        return EXIT_NO_CONFIG
    if any(d.level == Level.MISSING_PARAMETER for d in diagnostics):
        return EXIT_MISSING_PARAMETER
    status = Level.OK
    for d in diagnostics:
        if d.level > status:
            status = d.level
    if status == Level.OK:
        return EXIT_OK
    if status in (Level.FILE_NOT_FOUND, Level.BAD_IF, Level.FATAL):
        return EXIT_CONFIG
    if status == Level.SECURITY_ERROR:
        return EXIT_CONFIG_TEST_SECURITY
    return EXIT_CONFIG_TEST


class Reporter:
    """Collects diagnostics; the parser keeps ``where`` pointing at the line
    being handled so handlers need not pass a location."""

    __slots__ = ("diagnostics", "file", "keyword", "line")

    def __init__(self) -> None:
        self.diagnostics: list[Diagnostic] = []
        self.file = ""
        self.line = 0
        self.keyword = ""

    def where(self, file: str, line: int, keyword: str) -> None:
        self.file, self.line, self.keyword = file, line, keyword

    def report(
        self,
        level: Level,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        keyword: str | None = None,
        severity: Severity | None = None,
    ) -> None:
        self.diagnostics.append(
            Diagnostic(
                file=self.file if file is None else file,
                line=self.line if line is None else line,
                keyword=self.keyword if keyword is None else keyword,
                message=message,
                severity=Severity.of(level) if severity is None else severity,
                level=level,
            )
        )

    def error(self, message: str) -> None:
        """``report_config_error(CONFIG_GENERAL_ERROR, ...)``, the common case."""
        self.report(Level.GENERAL_ERROR, message)

    def log(self, message: str) -> None:
        """A ``log_message`` line: shown, but not a configuration error."""
        self.report(Level.LOG, message)

    def unsupported(self, message: str) -> None:
        """Something keepalived accepts that pylvs does not do (keepalived is
        silent, so the config-test status does not change)."""
        self.report(Level.LOG, message, severity=Severity.WARNING)
