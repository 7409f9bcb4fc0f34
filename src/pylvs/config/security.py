"""keepalived's script security warning at load (check_data.c
``check_check_script_security``, vrrp.c ``check_vrrp_script_security``,
main.c for start/shutdown scripts): when a configured script exists and
``enable_script_security`` is not set, keepalived reports a SECURITY
VIOLATION (config test exit status 6) and runs the scripts anyway.

Whether a script exists is asked through the reader (bare names are looked
up in the injected ``PATH``). Whether it is *insecure* (writable by non-root)
is for the runtime to find out; this check does not say so.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping

from pylvs.config.diagnostics import Level, Reporter
from pylvs.config.grammar import Node
from pylvs.config.lexer import split_script_words
from pylvs.config.model import GlobalSettings, KeepalivedConfig, MiscCheck, Script
from pylvs.config.source import ConfigReader

__all__ = ["check_script_security"]

_VRRP_NOTIFY = (
    "notify",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
    "notify_deleted",
    "notify_master_rx_lower_pri",
)

_Where = tuple[str, int, str]


def _found(path: str, reader: ConfigReader, env: Mapping[str, str], cwd: str) -> bool:
    stripped = path.lstrip(" \t")
    if stripped.startswith("<") and stripped[1:].lstrip(" \t").startswith("/"):
        return False  # "</file": a file test, nothing is executed
    if "/" not in path:
        for directory in env.get("PATH", "").split(":"):
            info = reader.stat(posixpath.join(directory or cwd, path))
            if info is not None and info.is_regular:
                return True
        return False
    info = reader.stat(posixpath.join(cwd, path))
    return info is not None and info.is_regular


def _checker_scripts(config: KeepalivedConfig) -> Iterator[tuple[Script, _Where]]:
    for vs in config.virtual_servers:
        for script, kw in ((vs.quorum_up, "quorum_up"), (vs.quorum_down, "quorum_down")):
            if script is not None:
                yield script, (vs.file, vs.line, kw)
        for rs in vs.real_servers:
            for check in rs.checkers:
                if isinstance(check, MiscCheck):
                    yield check.script, (check.file, check.line, "misc_path")
            for script, kw in ((rs.notify_up, "notify_up"), (rs.notify_down, "notify_down")):
                if script is not None:
                    yield script, (rs.file, rs.line, kw)


def _node_script(node: Node) -> str | None:
    if not node.args:
        return None
    words = split_script_words(node.args[0], True).words
    return words[0] if words else None


def _vrrp_scripts(config: KeepalivedConfig) -> Iterator[tuple[str, _Where]]:
    for block in config.vrrp:
        if block.keyword == "vrrp_script":
            wanted: tuple[str, ...] = ("script",)
        elif block.keyword in ("vrrp_instance", "vrrp_sync_group"):
            wanted = _VRRP_NOTIFY
        else:
            continue
        for child in block.children:
            if child.keyword in wanted:
                path = _node_script(child)
                if path is not None:
                    yield path, (child.file, child.line, child.keyword)


def _global_where(config: KeepalivedConfig, keyword: str) -> _Where:
    g: GlobalSettings = config.globals
    for node in reversed(g.statements):
        if node.keyword == keyword:
            return node.file, node.line, keyword
    return (config.files[0] if config.files else ""), 0, keyword


def check_script_security(
    config: KeepalivedConfig,
    reader: ConfigReader,
    reporter: Reporter,
    *,
    env: Mapping[str, str],
    cwd: str,
) -> None:
    g = config.globals
    if g.enable_script_security:
        return

    def first_found(items: Iterator[tuple[str, _Where]]) -> _Where | None:
        for path, where in items:
            if _found(path, reader, env, cwd):
                return where
        return None

    def report(where: _Where | None, what: str) -> None:
        if where is not None:
            reporter.report(
                Level.SECURITY_ERROR,
                f"SECURITY VIOLATION - {what} are being executed but script_security not enabled.",
                file=where[0],
                line=where[1],
                keyword=where[2],
            )

    def global_scripts(*named: tuple[Script | None, str]) -> list[tuple[str, _Where]]:
        return [(s.path, _global_where(config, kw)) for s, kw in named if s is not None]

    notify_fifo = (g.notify_fifo.script, "notify_fifo_script")
    if config.virtual_servers:
        checker = ((s.path, w) for s, w in _checker_scripts(config))
        lvs_fifo = global_scripts(notify_fifo, (g.lvs_notify_fifo.script, "lvs_notify_fifo_script"))
        report(first_found(iter([*checker, *lvs_fifo])), "check scripts")
    if any(b.keyword == "vrrp_instance" for b in config.vrrp):
        vrrp_fifo = global_scripts(
            notify_fifo, (g.vrrp_notify_fifo.script, "vrrp_notify_fifo_script")
        )
        report(first_found(iter([*_vrrp_scripts(config), *vrrp_fifo])), "scripts")
    start_stop = global_scripts(
        (g.startup_script, "startup_script"), (g.shutdown_script, "shutdown_script")
    )
    report(first_found(iter(start_stop)), "start/shutdown scripts")
