"""pylvs.config is pure: files, users, randomness and the environment come
in through its interfaces; only osreader touches the host."""

from __future__ import annotations

import ast
from pathlib import Path

import pylvs.config

ROOT = Path(pylvs.config.__file__).parent
IMPURE_OK = {"osreader.py"}
FORBIDDEN = {
    "os", "glob", "pathlib", "io", "socket", "subprocess", "time", "datetime", "threading",
    "asyncio", "pwd", "grp", "shutil", "tempfile", "logging", "signal", "select",
}  # fmt: skip
FORBIDDEN_CALLS = {"open", "print", "input", "exec", "eval"}


def test_config_modules_are_pure() -> None:
    problems = []
    for path in sorted(ROOT.glob("*.py")):
        if path.name in IMPURE_OK:
            continue
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [(node.module or "").split(".")[0]]
                if node.module == "pylvs.config.osreader" and path.name != "loader.py":
                    problems.append(f"{path.name}: imports osreader")
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id in FORBIDDEN_CALLS:
                    problems.append(f"{path.name}:{node.lineno} calls {node.func.id}()")
            for name in names:
                if name in FORBIDDEN:
                    problems.append(f"{path.name}:{node.lineno} imports {name}")
    assert problems == []
