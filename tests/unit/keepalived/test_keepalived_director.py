"""The director on a bare core (no data plane, no probe reaching anything in
the test's time): start, reloads of mangled files, stop. Whatever the file
says, a reload never raises, and afterwards the table is exactly what the
health engine believes it made (or, when refused, what it was)."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from pathlib import Path

import pytest

from pylvs.core.diff import snapshot
from pylvs.core.ipvs import Ipvs
from pylvs.keepalived.director import KeepalivedDirector, KeepalivedOptions

BASE = """global_defs {
  router_id TEST
}
virtual_server 192.0.2.1 80 {
  delay_loop 30
  lb_algo wrr
  lb_kind NAT
  protocol TCP
  quorum 2
  sorry_server 192.0.2.99 80
  real_server 192.0.2.11 80 {
    weight 2
    TCP_CHECK {
      connect_timeout 1
    }
  }
  real_server 192.0.2.12 8080 {
    weight 1
    inhibit_on_failure
    HTTP_GET {
      url {
        path /health
      }
    }
  }
}
virtual_server_group G {
  192.0.2.20-22 443
}
virtual_server group G {
  delay_loop 30
  lb_algo rr
  lb_kind DR
  protocol TCP
  real_server 192.0.2.13 443 {
    TCP_CHECK {
      alpha
    }
  }
}
"""


def mangle(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    for _ in range(rng.randint(1, 3)):
        what = rng.randrange(6)
        i = rng.randrange(len(lines))
        if what == 0:
            return text[: rng.randrange(len(text))]
        if what == 1:
            del lines[i]
        elif what == 2:
            lines.insert(i, lines[rng.randrange(len(lines))])
        elif what == 3:
            lines[i] = lines[i] + rng.choice([" {", " }", ' "', " weight", " 99999999999"])
        elif what == 4:
            lines[i] = lines[i].replace("192.0.2.1", "192.0.2.7")
        else:
            lines[i] = lines[i].replace("weight 2", f"weight {rng.randrange(0, 5)}")
        if not lines:
            return ""
    return "\n".join(lines) + "\n"


def owned(director: KeepalivedDirector) -> dict[object, object]:
    keys = director.servers.keys()
    return {k: v for k, v in snapshot(director.ipvs.table).items() if k in keys}


def test_reloads_of_mangled_files_never_raise_and_keep_the_table_true(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.CRITICAL, logger="pylvs")
    conf = tmp_path / "keepalived.conf"
    conf.write_text(BASE)
    rng = random.Random(7)

    async def main() -> tuple[int, int]:
        ipvs = Ipvs()
        d = KeepalivedDirector(ipvs, time.monotonic, KeepalivedOptions(str(conf)))
        await d.start()
        # 192.0.2.13 is alpha: out until checked; the rest in
        assert len(ipvs.table) == 4
        refused = accepted = 0
        for n in range(40):
            before = snapshot(ipvs.table)
            conf.write_text(mangle(BASE, rng) if n % 4 else BASE)
            ok = await d.reload()
            assert d.runner is not None and d.runner.policy is not None
            if ok:
                accepted += 1
                assert owned(d) == d.servers.table(d.runner.policy.table())
            else:
                refused += 1
                assert snapshot(ipvs.table) == before
        await d.stop()
        assert len(ipvs.table) == 0  # everything released
        return refused, accepted

    refused, accepted = asyncio.run(asyncio.wait_for(main(), 60))
    assert refused and accepted  # both paths were taken


def test_foreign_services_are_left_alone(tmp_path: Path) -> None:
    from pylvs.core.addr import AF_INET, parse_addr
    from pylvs.core.model import ServiceKey, ServiceSpec
    from pylvs.core.ops import AddService

    conf = tmp_path / "keepalived.conf"
    conf.write_text(BASE)
    foreign = ServiceKey(AF_INET, 6, parse_addr("198.51.100.1")[1], 80)

    async def main() -> None:
        ipvs = Ipvs()
        ipvs.apply(AddService(ServiceSpec(foreign)), 0.0)
        d = KeepalivedDirector(ipvs, time.monotonic, KeepalivedOptions(str(conf)))
        await d.start()
        conf.write_text("")  # an empty file: everything of ours goes
        assert await d.reload()
        assert [svc.key for svc in ipvs.table] == [foreign]
        await d.stop()
        assert [svc.key for svc in ipvs.table] == [foreign]

    asyncio.run(asyncio.wait_for(main(), 30))


@pytest.mark.parametrize("flag", ["dont_release_ipvs"])
def test_dont_release_ipvs_keeps_the_table_at_stop(tmp_path: Path, flag: str) -> None:
    conf = tmp_path / "keepalived.conf"
    conf.write_text(BASE)

    async def main() -> int:
        ipvs = Ipvs()
        d = KeepalivedDirector(ipvs, time.monotonic, KeepalivedOptions(str(conf), **{flag: True}))
        await d.start()
        await d.stop()
        return len(ipvs.table)

    assert asyncio.run(asyncio.wait_for(main(), 30)) == 4
