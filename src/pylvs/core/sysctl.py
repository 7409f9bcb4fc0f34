"""The IPVS sysctls that change decisions (behaviour reference §8)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["Sysctl"]


@dataclass(slots=True)
class Sysctl:
    expire_nodest_conn: int = 0
    expire_quiescent_template: int = 0
    conn_reuse_mode: int = 1
    sloppy_tcp: int = 0
    sloppy_sctp: int = 0
    # 0 off, 1 auto (off here: no memory pressure signal), 2 auto and active, 3 always on.
    secure_tcp: int = 0
    cache_bypass: int = 0
    run_estimation: int = 1
    lblc_expiration: int = 24 * 60 * 60
    lblcr_expiration: int = 24 * 60 * 60
    sync_threshold: tuple[int, int] = (3, 50)
    sync_persist_mode: int = 0
    sync_version: int = 1
    # TUN: copy the inner DF to the outer header and send "fragmentation
    # needed" for too-big DF packets (1, default); 0: never DF (§6.5).
    pmtu_disc: int = 1
    # pylvs extension, not an IPVS sysctl: packets of an entry whose real
    # server was deleted keep flowing (uncounted) until the entry ends, so a
    # deletion drains like a weight-0 edit. 0 gives the kernel's behaviour:
    # such packets are silently dropped (expire_nodest_conn = 1 still wins).
    keep_nodest_conn: int = 1

    @property
    def secure_tcp_active(self) -> bool:
        return self.secure_tcp >= 2

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def update(self, values: dict[str, Any]) -> None:
        """Set several values at once, all or nothing (like writing
        /proc/sys/net/ipv4/vs/NAME); raises KeyError/ValueError naming the
        bad one."""
        known = {f.name: f for f in fields(self)}
        checked: dict[str, Any] = {}
        for name, value in values.items():
            if name not in known:
                raise KeyError(f"unknown sysctl {name!r}")
            current = getattr(self, name)
            if isinstance(current, tuple):
                if not (
                    isinstance(value, list | tuple)
                    and len(value) == len(current)
                    and all(type(v) is int and v >= 0 for v in value)
                ):
                    raise ValueError(f"sysctl {name!r}: expected {len(current)} integers >= 0")
                checked[name] = tuple(value)
            elif type(value) is not int or value < 0:
                raise ValueError(f"sysctl {name!r}: expected an integer >= 0")
            else:
                checked[name] = value
        for name, value in checked.items():
            setattr(self, name, value)
