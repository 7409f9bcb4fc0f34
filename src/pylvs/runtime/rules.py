"""Loading and saving the table in ipvsadm's rule format
(``pylvs run --restore FILE`` / ``--save-on-exit FILE``)."""

from __future__ import annotations

import logging
import os

from pylvs.core.errors import PylvsError
from pylvs.core.ipvs import Ipvs
from pylvs.ipvsadm import ListFormat, command_to_op, parse_argv
from pylvs.ipvsadm.command import TABLE_COMMANDS
from pylvs.ipvsadm.resolver import SocketResolver
from pylvs.ipvsadm.restore import restore_script_input, split_restore_input
from pylvs.ipvsadm.save import render_save

__all__ = ["load_rules", "save_rules"]

log = logging.getLogger("pylvs")


def load_rules(ipvs: Ipvs, path: str, now: float) -> int:
    """Apply an ipvsadm-save file line by line, as ``ipvsadm-restore`` would
    (comment lines skipped; a failing line is logged and the rest goes on).
    Returns the number of lines that failed."""
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        return load_rules_text(ipvs, f.read(), now, path)


def load_rules_text(ipvs: Ipvs, raw: str, now: float, path: str) -> int:
    text = restore_script_input(raw)
    resolver = SocketResolver()
    failed = 0
    for lineno, args in enumerate(split_restore_input(text), 1):
        try:
            cmd = parse_argv("pylvs", args, resolver, reading_stdin=True)
            if cmd.name not in TABLE_COMMANDS:
                raise PylvsError(f"not a table command: {' '.join(args)}", 2)
            ipvs.apply(command_to_op(cmd), now)
        except PylvsError as e:
            failed += 1
            log.error("%s: rule %d (%s): %s", path, lineno, " ".join(args), e.message)
    return failed


def save_rules(ipvs: Ipvs, path: str) -> None:
    """Write the table as ``ipvsadm-save -n`` does, atomically."""
    text = render_save(ipvs.services(), ListFormat(numeric=True))
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
