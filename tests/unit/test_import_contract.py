"""The pure layers stay pure (design: Layers): no sockets, clocks, asyncio,
subprocesses, files or module-level randomness in core/ and sync/codec."""

from __future__ import annotations

import ast
from pathlib import Path

import pylvs

ROOT = Path(pylvs.__file__).parent
PURE = [*sorted((ROOT / "core").rglob("*.py")), ROOT / "sync" / "codec.py"]
FORBIDDEN_MODULES = {
    "asyncio", "socket", "select", "selectors", "subprocess", "threading", "multiprocessing",
    "time", "datetime", "signal", "ssl", "http", "urllib", "logging", "shutil", "tempfile",
    "pathlib", "io", "uvloop", "pyroute2",
}  # fmt: skip
FORBIDDEN_CALLS = {"open", "print", "input", "exec", "eval"}
RANDOM_ALLOWED = {"Random"}


def test_pure_modules_import_nothing_impure() -> None:
    problems = []
    for path in PURE:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [(node.module or "").split(".")[0]]
                if names[0] == "random" and {a.name for a in node.names} - RANDOM_ALLOWED:
                    problems.append(f"{path.name}: random beyond Random")
                if names[0] == "os" and {a.name for a in node.names} - {"strerror"}:
                    problems.append(f"{path.name}: os beyond strerror")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in FORBIDDEN_CALLS:
                    problems.append(f"{path.name}:{node.lineno}: calls {node.func.id}()")
                continue
            else:
                continue
            for name in names:
                if name in FORBIDDEN_MODULES or (name == "pylvs" and _impure_pylvs(node)):
                    problems.append(f"{path.name}:{node.lineno}: imports {name}")
                if name == "random" and isinstance(node, ast.Import):
                    problems.append(f"{path.name}: import random (use an injected Random)")
    assert problems == []


def _impure_pylvs(node: ast.AST) -> bool:
    module = getattr(node, "module", "") or ""
    return not (module.startswith("pylvs.core") or module == "pylvs.sync.codec")
