"""IPIP decapsulation at kernel speed on a real server (tun_decap.c).

For test beds and labs whose real servers run on a kernel without the ipip
module: ``TunDecap(["eth0"])`` strips the outer header of every IPIP packet
arriving on those devices, so the inner packet (to the VIP the real server
holds on ``lo``) is delivered as a real server's ``tunl0`` would deliver
it. Call it from inside the real server's network namespace.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pylvs.dataplane.kernel.tunbpf import build, loader
from pylvs.dataplane.kernel.tunbpf.attach import Attacher

__all__ = ["TunDecap"]

PROGRAM = "tun_decap"
PROGRAM_NAME = "pylvs_decap"
DEFAULT_PRIO = 0x4C57


class TunDecap:
    def __init__(
        self,
        devices: Sequence[str],
        *,
        cache_dir: str | Path = build.DEFAULT_CACHE,
        prio: int = DEFAULT_PRIO,
    ) -> None:
        obj = build.build(PROGRAM, Path(cache_dir))
        self._loaded = loader.load(obj, PROGRAM_NAME)
        self._attacher = Attacher(PROGRAM_NAME, prio, 1)
        try:
            for dev in devices:
                self._attacher.attach(dev, self._loaded.prog_fd)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        self._attacher.detach_all()
        self._loaded.close()
