"""Golden cases for the keepalived configuration layer.

Each ``cases/NAME.conf`` is loaded from an in-memory /etc/keepalived holding
every file under ``cases/``. Lines ``#! KEY VALUE`` at the top set test
options: ``config_id``, ``env NAME=VALUE``, ``executable PATH`` (a script
that exists), ``random_seed N``, ``user NAME`` / ``group NAME`` (accounts
that exist besides root and nobody). The expected text (``expected/NAME.txt``)
holds the config-test status, the diagnostics, the table at start (all real
servers in), keepalived's exact initial table, and the configuration dump.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from random import Random

from pylvs.config import (
    LoadOptions,
    LoadResult,
    MemoryReader,
    StaticAccounts,
    build_table,
    dump,
    dump_table,
    initial_table,
    load,
)

HERE = Path(__file__).parent
CASES = HERE / "cases"
EXPECTED = HERE / "expected"
RECORDED = HERE / "keepalived-2.2.7"
ETC = "/etc/keepalived"


@dataclass
class CaseOptions:
    config_id: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    executables: list[str] = field(default_factory=list)
    random_seed: int = 0
    users: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


def case_names() -> list[str]:
    return sorted(p.stem for p in CASES.glob("*.conf"))


def case_options(name: str) -> CaseOptions:
    opts = CaseOptions()
    for line in (CASES / f"{name}.conf").read_text().splitlines():
        if not line.startswith("#! "):
            continue
        key, _, value = line[3:].partition(" ")
        if key == "config_id":
            opts.config_id = value
        elif key == "env":
            k, _, v = value.partition("=")
            opts.env[k] = v
        elif key == "executable":
            opts.executables.append(value)
        elif key == "random_seed":
            opts.random_seed = int(value)
        elif key == "user":
            opts.users.append(value)
        elif key == "group":
            opts.groups.append(value)
    return opts


def memory_files() -> dict[str, str]:
    return {
        f"{ETC}/{p.relative_to(CASES)}": p.read_text()
        for p in sorted(CASES.rglob("*"))
        if p.is_file()
    }


def load_case(name: str, *, as_recorded: bool = False) -> LoadResult:
    """Load a case; ``as_recorded``: on a host like the one keepalived's
    output was recorded on (no declared scripts or users exist)."""
    opts = case_options(name)
    reader = MemoryReader(memory_files(), executables=() if as_recorded else opts.executables)
    users = {"root": (0, 0), "nobody": (65534, 65534)}
    groups = {"root": 0, "nogroup": 65534}
    if not as_recorded:
        users |= {u: (1000 + i, 1000 + i) for i, u in enumerate(opts.users)}
        groups |= {g: 2000 + i for i, g in enumerate(opts.groups)}
    options = LoadOptions(
        config_id=opts.config_id,
        env=opts.env,
        rng=Random(opts.random_seed),
        config_test=True,
        accounts=StaticAccounts(users, groups),
    )
    return load(f"{ETC}/{name}.conf", reader, options)


def _short(path: str) -> str:
    return path[len(ETC) + 1 :] if path.startswith(ETC + "/") else path


def render(name: str) -> str:
    result = load_case(name)
    out = ["== status", str(result.status), "== diagnostics"]
    for d in result.diagnostics:
        where = f"{_short(d.file)}:{d.line}"
        out.append(f"{d.severity.value} {d.level.name} [{d.keyword}] {where} {d.message}")
    out.append("== table")
    out.append(dump_table(build_table(result.config)).rstrip("\n"))
    out.append("== initial")
    out.append(dump_table(initial_table(result.config)).rstrip("\n"))
    out.append("== dump")
    out.append(dump(result.config).replace(ETC + "/", "").rstrip("\n"))
    return "\n".join(out) + "\n"
