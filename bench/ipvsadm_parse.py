"""Micro-benchmark of the ipvsadm emulation (pylvs.ipvsadm) on a big table.

Not a test: prints figures. The table is the project's target, 10,000 TCP
services with 10 real servers each (110,000 restore lines), in the shapes
``ipvsadm-save -n`` writes::

    -A -t 10.100.0.1:80 -s wlc
    -a -t 10.100.0.1:80 -r 192.168.3.1:80 -m -w 1

Figures (best of a few rounds, per line unless said otherwise):

* split   -- ``split_restore_input`` of the whole restore text, and
  ``iter_restore_lines`` over its physical lines;
* parse   -- ``parse_argv`` on each restore line (service and server lines);
* render  -- ``render_table`` (``-Ln``) and ``render_save`` (``-S -n``) of the
  table, per real-server line (the service lines are included in the time);
* sort    -- ``sort_services`` of the 10,000 services, in table order and
  shuffled;
* import  -- ``import pylvs.ipvsadm.argv`` in a fresh interpreter (what a
  table change needs), and for reference the whole ``pylvs.cli.ipvsadm``,
  as ``python -X importtime`` reports it (best of several runs).

Run: ``.venv/bin/python bench/ipvsadm_parse.py [--services N] [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from pylvs.core.addr import AF_INET, IPPROTO_TCP  # noqa: E402
from pylvs.core.info import DestInfo, ServiceInfo  # noqa: E402
from pylvs.core.model import CONN_F_MASQ, DestSpec, ServiceKey, ServiceSpec  # noqa: E402
from pylvs.core.stats import StatsView  # noqa: E402
from pylvs.ipvsadm.argv import parse_argv  # noqa: E402
from pylvs.ipvsadm.command import ListFormat  # noqa: E402
from pylvs.ipvsadm.lookup import NO_NAMES  # noqa: E402
from pylvs.ipvsadm.render import render_table  # noqa: E402
from pylvs.ipvsadm.restore import iter_restore_lines, split_restore_input  # noqa: E402
from pylvs.ipvsadm.save import render_save  # noqa: E402
from pylvs.ipvsadm.sort import sort_services  # noqa: E402

DESTS_PER_SERVICE = 10
ZERO = StatsView(0, 0, 0, 0, 0, 0, 0, 0, 0, 0)


def vip(i: int) -> str:
    return f"10.100.{i >> 8}.{i & 255}"


def rip(i: int, j: int) -> str:
    n = i * DESTS_PER_SERVICE + j
    return f"192.168.{(n >> 8) & 255}.{n & 255}"


def restore_text(n: int) -> str:
    lines = []
    for i in range(1, n + 1):
        lines.append(f"-A -t {vip(i)}:80 -s wlc\n")
        for j in range(DESTS_PER_SERVICE):
            lines.append(f"-a -t {vip(i)}:80 -r {rip(i, j)}:80 -m -w 1\n")
    return "".join(lines)


def ip4(text: str) -> int:
    a, b, c, d = (int(x) for x in text.split("."))
    return a << 24 | b << 16 | c << 8 | d


def table(n: int) -> list[ServiceInfo]:
    """The table as the daemon lists it: services in insertion order,
    servers newest first."""
    out = []
    for i in range(1, n + 1):
        key = ServiceKey(AF_INET, IPPROTO_TCP, ip4(vip(i)), 80)
        dests = [
            DestInfo(DestSpec(AF_INET, ip4(rip(i, j)), 80, fwd=CONN_F_MASQ), 0, 0, 0, ZERO)
            for j in range(DESTS_PER_SERVICE)
        ]
        out.append(ServiceInfo(ServiceSpec(key, "wlc"), ZERO, tuple(reversed(dests))))
    return out


def best(fn: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def import_ms(module: str, runs: int) -> float:
    """The cumulative import time of ``module`` in a fresh interpreter (ms)."""
    results = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT / "src")},
        )
        last = proc.stderr.strip().splitlines()[-1]
        results.append(int(last.split("|")[1]) / 1000)
    return min(results)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--services", type=int, default=10_000)
    ap.add_argument("--quick", action="store_true", help="one round each")
    opts = ap.parse_args()
    n = opts.services
    rounds = 1 if opts.quick else 3
    nlines = n * (1 + DESTS_PER_SERVICE)
    ndests = n * DESTS_PER_SERVICE
    print(f"table: {n} services x {DESTS_PER_SERVICE} servers = {nlines} restore lines")

    text = restore_text(n)
    physical = text.splitlines(keepends=True)

    # Splitting first, with only its input in memory (as in a restore).
    t = best(lambda: split_restore_input(text), rounds)
    print(f"split   {t / nlines * 1e6:7.2f} us/line   ({t:.3f} s, split_restore_input)")
    t = best(lambda: list(iter_restore_lines(physical)), rounds)
    print(f"        {t / nlines * 1e6:7.2f} us/line   ({t:.3f} s, iter_restore_lines)")

    argvs = split_restore_input(text)
    assert len(argvs) == nlines
    svc_lines = [a for a in argvs if a[0] == "-A"]
    dest_lines = [a for a in argvs if a[0] == "-a"]

    def parse(lines: list[list[str]]) -> Callable[[], None]:
        def run() -> None:
            for args in lines:
                parse_argv("ipvsadm", args, NO_NAMES, reading_stdin=True)

        return run

    t = best(parse(argvs), rounds)
    print(f"parse   {t / nlines * 1e6:7.2f} us/line   ({t:.3f} s for all lines)")
    t = best(parse(svc_lines), rounds)
    print(f"  -A    {t / len(svc_lines) * 1e6:7.2f} us/line")
    t = best(parse(dest_lines), rounds)
    print(f"  -a    {t / len(dest_lines) * 1e6:7.2f} us/line")
    del argvs, svc_lines, dest_lines

    services = table(n)
    numeric = ListFormat(numeric=True)
    out = render_table(services, numeric)
    assert out.count("\n") == 3 + nlines
    t = best(lambda: render_table(services, numeric), rounds)
    print(f"render  {t / ndests * 1e6:7.2f} us/server line ({t:.3f} s, render_table -Ln)")
    t = best(lambda: render_save(services, numeric), rounds)
    print(f"        {t / ndests * 1e6:7.2f} us/server line ({t:.3f} s, render_save -S -n)")

    t = best(lambda: sort_services(services), rounds)
    print(f"sort    {t * 1e3:7.2f} ms for {n} services in table order")
    shuffled = list(services)
    random.Random(1).shuffle(shuffled)
    t = best(lambda: sort_services(shuffled), rounds)
    print(f"        {t * 1e3:7.2f} ms for {n} services shuffled")

    runs = 3 if opts.quick else 15
    print(f"import  {import_ms('pylvs.ipvsadm.argv', runs):7.2f} ms pylvs.ipvsadm.argv")
    print(f"        {import_ms('pylvs.ipvsadm.render', runs):7.2f} ms pylvs.ipvsadm.render")
    print(f"        {import_ms('pylvs.cli.ipvsadm', runs):7.2f} ms pylvs.cli.ipvsadm (whole CLI)")


if __name__ == "__main__":
    main()
