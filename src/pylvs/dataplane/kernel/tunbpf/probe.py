"""Can the TUN fast path run here? One sentence if not."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

from pylvs.dataplane.kernel.tunbpf import bpfsys, build

__all__ = ["probe"]

# r0 = TC_ACT_OK (0); exit
_TRIVIAL = struct.pack("<BBhi", 0xB7, 0, 0, 0) + struct.pack("<BBhi", 0x95, 0, 0, 0)
_NEEDED = ("CONFIG_BPF_SYSCALL", "CONFIG_NET_CLS_BPF", "CONFIG_NET_SCH_INGRESS")


def _kernel_config() -> dict[str, str] | None:
    try:
        with gzip.open("/proc/config.gz", "rt") as f:
            text = f.read()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        if sep and name.startswith("CONFIG_"):
            out[name] = value
    return out


def probe(cache_dir: str | Path = build.DEFAULT_CACHE) -> str:
    """ "" when the fast path can run: root, the program compiled or
    compilable (clang and the UAPI headers, or a cached object), a kernel with
    cls_bpf and clsact that loads a tc program; else what is missing."""
    if os.geteuid() != 0:
        return "the TUN fast path needs root (CAP_BPF and CAP_NET_ADMIN)"
    why = build.missing("tun_encap", Path(cache_dir))
    if why:
        return why
    config = _kernel_config()
    if config is not None:
        absent = [name for name in _NEEDED if config.get(name) not in ("y", "m")]
        if absent:
            return f"the kernel lacks {', '.join(absent)} (tc-bpf)"
    try:
        fd = bpfsys.prog_load(_TRIVIAL, "Apache-2.0", "pylvs_probe")
    except OSError as e:
        return f"the kernel refused a tc BPF program ({e})"
    os.close(fd)
    return ""
