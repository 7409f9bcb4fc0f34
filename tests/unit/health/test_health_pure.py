"""The engine stays pure: no I/O, clock or module-level randomness in
policy.py and the modules it is made of (same rule as core/)."""

from __future__ import annotations

import ast
from pathlib import Path

import pylvs.health

ROOT = Path(pylvs.health.__file__).parent
PURE = [
    "policy.py", "epilogs.py", "state.py", "params.py", "actions.py", "result.py", "display.py",
    "compare.py",
]  # fmt: skip
FORBIDDEN = {
    "asyncio", "socket", "select", "selectors", "subprocess", "threading", "multiprocessing",
    "time", "datetime", "signal", "ssl", "os", "random", "logging", "shutil", "tempfile",
    "pathlib", "io", "uvloop",
}  # fmt: skip
ALLOWED_PYLVS = {f"pylvs.health.{name[:-3]}" for name in PURE}


def test_engine_modules_import_nothing_impure() -> None:
    problems = []
    for name in PURE:
        tree = ast.parse((ROOT / name).read_text(), name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                modules = [node.module or ""]
                if node.module == "pylvs.health":
                    modules = [f"pylvs.health.{a.name}" for a in node.names]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in {"open", "print", "input", "exec", "eval"}:
                    problems.append(f"{name}:{node.lineno}: calls {node.func.id}()")
                continue
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top in FORBIDDEN:
                    problems.append(f"{name}:{node.lineno}: imports {module}")
                if top == "pylvs" and module not in ALLOWED_PYLVS:
                    problems.append(f"{name}:{node.lineno}: imports {module}")
    assert problems == []
