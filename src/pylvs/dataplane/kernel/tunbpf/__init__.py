"""TUN at kernel speed: a tc-bpf program that encapsulates a bound flow's
packets exactly as IPVS's IPIP transmit does (behaviour reference §6.5).

``probe()`` says whether it can run here; :class:`TunFastPath` compiles,
loads and attaches it and is the daemon's handle on its real servers,
flows, state sweep and counters (fastpath.py). One idea per module:

- tun_encap.c  the director's program; tun_decap.c a real server's (tests, labs)
- states.py    IPVS's INPUT-ONLY state tables packed for the program; timeouts
- records.py   the byte layouts of the map entries
- elfobj.py    reading clang's object file
- build.py     compiling it once per source version (clang, no libbpf)
- bpfsys.py    the bpf() system call via ctypes
- loader.py    creating or adopting the maps, loading the program
- tcnl.py      tc over rtnetlink (clsact, cls_bpf direct-action filters)
- attach.py    attaching to devices without disturbing anyone else's tc
"""

from __future__ import annotations

from pylvs.dataplane.kernel.tunbpf.fastpath import Sweep, TunFastPath, TunFlow
from pylvs.dataplane.kernel.tunbpf.probe import probe

__all__ = ["Sweep", "TunFastPath", "TunFlow", "probe"]
