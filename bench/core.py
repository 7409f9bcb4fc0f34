"""Core performance: scheduler decisions per second and connection-table
operations at 1,000,000 entries. Not a test: prints figures (issue #2 targets:
every scheduler >= 200k decisions/s at 100 dests; rr, wrr, dh, sh >= 1M/s;
lc, wlc, sed, nq at 1,000 dests >= 100k/s; <= 300 bytes per entry at 1M).

    .venv/bin/python bench/core.py [--quick]
"""

from __future__ import annotations

import argparse
import gc
import platform
import sys
import time
import tracemalloc
from random import Random

from pylvs.core.addr import AF_INET, IPPROTO_TCP
from pylvs.core.conn import Conn, ConnTable, conn_key
from pylvs.core.ipvs import Ipvs
from pylvs.core.model import CONN_F_INACTIVE, CONN_F_MASQ, DestSpec, ServiceKey, ServiceSpec
from pylvs.core.ops import AddDest, AddService
from pylvs.core.sched import SCHEDULERS

VIP = 0x0A000164
LOAD_AWARE = {"lc", "wlc", "sed", "nq", "ovf", "twos", "lblc", "lblcr", "fo"}


def scheduler_rate(name: str, ndests: int, seconds: float) -> float:
    ipvs = Ipvs(Random(1))
    key = ServiceKey(AF_INET, IPPROTO_TCP, VIP, 80)
    ipvs.apply(AddService(ServiceSpec.make(key, name)), 0)
    rng = Random(2)
    for i in range(ndests):
        spec = DestSpec(AF_INET, 0x0A010000 + i + 1, 80, fwd=CONN_F_MASQ, weight=rng.randint(1, 10))
        ipvs.apply(AddDest(key, spec), 0)
    svc = ipvs.service(key)
    assert svc is not None and svc.sched is not None
    schedule = svc.sched.schedule
    clients = [rng.getrandbits(32) for _ in range(4096)]
    targets = [0xC0000000 + rng.getrandbits(12) for _ in range(4096)]
    bind = name in LOAD_AWARE
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while True:
        for i in range(4096):
            d = schedule(clients[i], 1024 + i, targets[i], 0.0)
            if bind and d is not None:
                # What binding a connection does to the load the scheduler sees.
                d.inactconns += 1
                if d.load_listener is not None:
                    d.load_listener.load_changed(d)
        n += 4096
        if time.perf_counter() >= deadline:
            break
    return n / (time.perf_counter() - start)


def conn_table(n: int) -> dict[str, float]:
    gc.collect()
    gc.disable()
    table = ConnTable()
    keys = [
        conn_key(AF_INET, IPPROTO_TCP, 0xC0000000 + (i >> 8), 1024 + (i & 0xFFF), VIP, 80)
        for i in range(n)
    ]
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    t0 = time.perf_counter()
    for i, k in enumerate(keys):
        c = Conn(k, None, 0x0A010001, 80, CONN_F_INACTIVE)
        c.timeout = 60 + (i & 63)
        table.conns[k] = c
        table.arm(c, 0.0)
    t1 = time.perf_counter()
    used = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    # Bytes per entry exclude the key ints (the caller owns them in this
    # loop) only if they are not referenced by the entry; they are, so count them.
    key_bytes = sum(sys.getsizeof(k) for k in keys[:1000]) / 1000
    get = table.conns.get
    t2 = time.perf_counter()
    hits = 0
    for k in keys:
        if get(k) is not None:
            hits += 1
    t3 = time.perf_counter()
    t4 = time.perf_counter()
    fired = table.due(200.0)
    t5 = time.perf_counter()
    assert hits == n and len(fired) == n
    gc.enable()
    return {
        "inserts/s": n / (t1 - t0),
        "lookups/s": n / (t3 - t2),
        "expiries/s": n / (t5 - t4),
        "bytes/entry": used / n + key_bytes,
    }


def new_flow_rate(name: str, seconds: float) -> float:
    """Whole-core cost of a new TCP flow: lookup, schedule, bind, state, timer."""
    ipvs = Ipvs(Random(1))
    key = ServiceKey(AF_INET, IPPROTO_TCP, VIP, 80)
    ipvs.apply(AddService(ServiceSpec.make(key, name)), 0)
    for i in range(10):
        ipvs.apply(AddDest(key, DestSpec(AF_INET, 0x0A010001 + i, 80, fwd=CONN_F_MASQ)), 0)
    process_in = ipvs.process_in
    n = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(2048):
            n += 1
            process_in(
                AF_INET, IPPROTO_TCP, 0xC0000000 + (n >> 16), n & 0xFFFF, VIP, 80, 0.0, 0x02, 60
            )
        ipvs.tick(n / 50_000)  # expiry keeps the table bounded
    return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="shorter runs, 100k entries")
    ap.add_argument("--seconds", type=float, default=0.6)
    args = ap.parse_args()
    secs = 0.15 if args.quick else args.seconds
    print(f"pylvs core bench — Python {platform.python_version()}, {platform.machine()}")
    print()
    print(f"{'scheduler':<9} {'2 dests':>12} {'100 dests':>12} {'1000 dests':>12}   decisions/s")
    for name in SCHEDULERS:
        rates = [scheduler_rate(name, n, secs) for n in (2, 100, 1000)]
        print(f"{name:<9} " + " ".join(f"{r:>12,.0f}" for r in rates))
    print()
    for name in ("rr", "wlc"):
        rate = new_flow_rate(name, secs * 3)
        print(
            f"new TCP flows through the core ({name}, 10 dests): {rate:,.0f}/s = {1e6 / rate:.1f} µs each"
        )
    print()
    n = 100_000 if args.quick else 1_000_000
    res = conn_table(n)
    print(f"connection table at {n:,} entries:")
    for k, v in res.items():
        print(f"  {k:<12} {v:>14,.0f}")


if __name__ == "__main__":
    main()
