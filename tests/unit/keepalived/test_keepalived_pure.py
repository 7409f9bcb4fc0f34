"""The decisions of keepalived mode stay pure: no I/O, clock, asyncio or
randomness in the modules the director is built on (only director.py and
fifo.py touch the world)."""

from __future__ import annotations

import ast
from pathlib import Path

import pylvs.keepalived

ROOT = Path(pylvs.keepalived.__file__).parent
IMPURE = {"director.py", "fifo.py"}
FORBIDDEN = {
    "asyncio", "socket", "select", "selectors", "subprocess", "threading", "multiprocessing",
    "time", "datetime", "ssl", "os", "random", "logging", "shutil", "tempfile", "pathlib",
    "io", "uvloop", "gc",
}  # fmt: skip
# pure parts of pylvs these may use
ALLOWED = ("pylvs.core", "pylvs.config", "pylvs.keepalived")
ALLOWED_HEALTH = {
    "pylvs.health.params", "pylvs.health.policy", "pylvs.health.actions",
    "pylvs.health.compare",
}  # fmt: skip


def test_pure_modules_import_nothing_impure() -> None:
    problems = []
    for path in sorted(ROOT.glob("*.py")):
        if path.name in IMPURE:
            continue
        tree = ast.parse(path.read_text(), path.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in {"open", "print", "input", "exec", "eval"}:
                    problems.append(f"{path.name}:{node.lineno}: calls {node.func.id}()")
                continue
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in FORBIDDEN:
                    problems.append(f"{path.name}:{node.lineno}: imports {module}")
                if module == "pylvs.keepalived.director" or module == "pylvs.keepalived.fifo":
                    problems.append(f"{path.name}:{node.lineno}: imports {module}")
                if module.startswith("pylvs.health") and module not in ALLOWED_HEALTH:
                    problems.append(f"{path.name}:{node.lineno}: imports {module}")
                if top == "pylvs" and not module.startswith((*ALLOWED, "pylvs.health")):
                    problems.append(f"{path.name}:{node.lineno}: imports {module}")
    assert problems == []
