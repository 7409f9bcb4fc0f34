"""Compiling the BPF programs with clang, once per source version.

An object is cached as ``<cache>/<program>-<hash>.o``, the hash covering
the C source, the generated state header (states.py) and the compiler
flags, so a changed source or table compiles anew (and the older object
goes) and an unchanged one never does; a machine without clang runs from a cached object. Needs
``clang`` (with its BPF target) and the kernel's UAPI headers
(``linux-libc-dev``); no libbpf.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from pylvs.dataplane.kernel.tunbpf.states import render_header

__all__ = [
    "DEFAULT_CACHE",
    "SOURCE_DIR",
    "BuildError",
    "build",
    "cached",
    "compiler",
    "missing",
    "object_path",
]

SOURCE_DIR = Path(__file__).resolve().parent
DEFAULT_CACHE = Path("/run/pylvs/tunbpf")
HEADER = "tun_states.h"
CFLAGS = ("-O2", "-target", "bpf", "-Wall", "-Wno-unused-function", "-fno-stack-protector")
_TRIPLES = {
    "x86_64": "x86_64-linux-gnu",
    "aarch64": "aarch64-linux-gnu",
    "armv7l": "arm-linux-gnueabihf",
    "riscv64": "riscv64-linux-gnu",
    "ppc64le": "powerpc64le-linux-gnu",
}


class BuildError(RuntimeError):
    pass


def compiler() -> str | None:
    """clang, or a versioned one."""
    found = shutil.which("clang")
    if found:
        return found
    for v in range(21, 13, -1):
        found = shutil.which(f"clang-{v}")
        if found:
            return found
    return None


def _include_dirs() -> list[str]:
    """Debian keeps asm/types.h under the multiarch directory."""
    out = []
    triple = _TRIPLES.get(os.uname().machine)
    if triple and Path(f"/usr/include/{triple}/asm/types.h").exists():
        out.append(f"/usr/include/{triple}")
    return out


def _hash(program: str) -> str:
    h = hashlib.sha256()
    h.update((SOURCE_DIR / f"{program}.c").read_bytes())
    h.update(render_header().encode())
    h.update(" ".join(CFLAGS).encode())
    return h.hexdigest()[:16]


def object_path(program: str, cache_dir: Path = DEFAULT_CACHE) -> Path:
    return Path(cache_dir) / f"{program}-{_hash(program)}.o"


def cached(program: str, cache_dir: Path = DEFAULT_CACHE) -> bool:
    return object_path(program, cache_dir).is_file()


def missing(program: str = "tun_encap", cache_dir: Path = DEFAULT_CACHE) -> str:
    """ "" when the program's object is cached or can be compiled here."""
    if cached(program, cache_dir):
        return ""
    if compiler() is None:
        return (
            f"clang is not installed and no compiled {program} object is cached in "
            f"{cache_dir} (Debian: apt-get install clang)"
        )
    if not Path("/usr/include/linux/bpf.h").exists() or (
        not _include_dirs() and not Path("/usr/include/asm/types.h").exists()
    ):
        return "the kernel's UAPI headers are missing (Debian: apt-get install linux-libc-dev)"
    return ""


def build(program: str, cache_dir: Path = DEFAULT_CACHE) -> Path:
    """The program's object file, compiled now if not cached."""
    out = object_path(program, cache_dir)
    if out.is_file():
        return out
    cc = compiler()
    if cc is None:
        raise BuildError(missing(program, cache_dir))
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pylvs-tunbpf-") as tmp:
        (Path(tmp) / HEADER).write_text(render_header())
        obj = Path(tmp) / "out.o"
        cmd = [cc, *CFLAGS, f"-I{tmp}"]
        cmd += [f"-I{d}" for d in _include_dirs()]
        cmd += ["-c", str(SOURCE_DIR / f"{program}.c"), "-o", str(obj)]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise BuildError(f"compiling {program}.c failed:\n{p.stderr.strip()}")
        staged = out.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(obj, staged)
        try:
            os.replace(staged, out)
        finally:
            with contextlib.suppress(FileNotFoundError):
                staged.unlink()
    for old in out.parent.glob(f"{program}-*.o"):  # earlier source versions
        if old != out:
            with contextlib.suppress(OSError):
                old.unlink()
    return out
