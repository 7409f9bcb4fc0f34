"""dh, sh and mh tables and lookups (behaviour reference §2.4, §2.5, §10;
further vectors from our reading of ip_vs_sh.c / ip_vs_dh.c / ip_vs_mh.c)."""

from __future__ import annotations

import hashlib

from builders import Lab, ip
from pylvs.core.model import SVC_F_SCHED1, SVC_F_SCHED2
from pylvs.core.sched.hashing import hash_32, hsiphash_u32
from pylvs.core.sched.mh import KEY1, KEY2, TAB_SIZE, MaglevHashing


def test_hash_32_vectors() -> None:
    cases = {
        "10.1.0.1": (174, 696),
        "10.1.0.2": (15, 63),
        "192.168.1.100": (89, 357),
        "172.16.0.5": (1, 5),
        "10.0.0.1": (39, 159),
    }
    for addr, (h8, h10) in cases.items():
        assert hash_32(ip(addr), 8) == h8
        assert hash_32(ip(addr), 10) == h10
    assert hash_32(0x20010DB9, 8) == 63
    assert hash_32(0xFE800001, 8) == 247


def test_hsiphash_reference_vectors() -> None:
    assert hsiphash_u32(0x0A000051, *KEY1) == 0x439C0CBE
    assert hsiphash_u32(0x0A000051, *KEY1) % 4093 == 3167
    assert hsiphash_u32(0x0A000051, *KEY2) % 4092 + 1 == 700
    assert hsiphash_u32(0x0A010001, *KEY1) == 0x37FCE844


def test_sh_table_and_lookups() -> None:
    lab = Lab("sh")
    lab.add("C", 2)
    lab.add("B", 1)
    lab.add("A", 3)
    sched = lab.svc.sched
    buckets = " ".join(lab.name_of(d) for d in sched.buckets[:16])  # type: ignore[union-attr]
    assert buckets == "A A A B C C A A A B C C A A A B"
    assert lab.pick("10.1.0.1") == "A"
    assert lab.pick("10.1.0.2") == "B"
    assert lab.pick("192.168.1.100") == "C"


def test_sh_port_and_fallback() -> None:
    lab = Lab("sh", flags=SVC_F_SCHED2)
    lab.add("C", 2)
    lab.add("B", 1)
    lab.add("A", 3)
    assert lab.pick("10.1.0.1", 40000) == "C"
    assert lab.pick("10.1.0.1", 40001) == "C"
    lab = Lab("sh")
    lab.add("C", 2)
    lab.add("B", 1)
    lab.add("A", 3)
    lab.edit("A", weight=0)
    buckets = " ".join(lab.name_of(d) for d in lab.svc.sched.buckets[:16])  # type: ignore[union-attr]
    assert buckets == "A B C C A B C C A B C C A B C C"
    assert lab.pick("10.1.0.7") == "-"
    lab.rebind("rr")
    lab.ipvs.apply(
        __import__("pylvs.core.ops", fromlist=["EditService"]).EditService(
            lab.svc.spec().with_(scheduler="sh", flags=SVC_F_SCHED1)
        ),
        0,
    )
    assert lab.pick("10.1.0.7") == "B"


def test_sh_reference_example() -> None:
    lab = Lab("sh")
    for name in "CBA":
        lab.add(name, 1)
    assert lab.pick("10.1.0.1") == "A"  # bucket 174 -> list element 174 mod 3 = 0


def test_dh_table() -> None:
    lab = Lab("dh")
    for name in "CBA":
        lab.add(name, 5)
    buckets = " ".join(lab.name_of(d) for d in lab.svc.sched.buckets[:16])  # type: ignore[union-attr]
    assert buckets == "A B C A B C A B C A B C A B C A"
    assert lab.pick(daddr="192.168.1.100") == "C"
    assert lab.pick(daddr="10.1.0.1") == "A"


def _mh_lab(*dests: tuple[str, str, int], flags: int = 0) -> Lab:
    lab = Lab("mh", flags=flags)
    for name, addr, w in dests:
        lab.add(name, w, addr=addr)
    return lab


def _table(lab: Lab) -> list[str]:
    sched = lab.svc.sched
    assert isinstance(sched, MaglevHashing)
    return [lab.name_of(d) for d in sched.lookup]


def test_mh_table() -> None:
    lab = _mh_lab(("D1", "10.0.0.1", 1), ("D2", "10.0.0.2", 1))
    table = _table(lab)
    assert " ".join(table[:20]) == ("D1 D2 D2 D2 D1 D1 D2 D2 D2 D1 D1 D2 D2 D1 D1 D2 D2 D2 D1 D1")
    assert table.count("D1") == 2046 and table.count("D2") == 2047
    digest = hashlib.sha256(",".join(table).encode()).hexdigest()
    assert digest.startswith("06ae2a2732b7e5a2")
    assert lab.pick("10.1.0.1") == "D1"
    assert lab.pick("10.1.0.2") == "D1"
    assert lab.pick("192.168.1.100") == "D2"


def test_mh_depends_on_list_order() -> None:
    lab = _mh_lab(("D2", "10.0.0.2", 1), ("D1", "10.0.0.1", 1))
    table = _table(lab)
    assert hashlib.sha256(",".join(table).encode()).hexdigest().startswith("5816a6107c770580")


def test_mh_port_weights_and_quiesce() -> None:
    lab = _mh_lab(("D1", "10.0.0.1", 1), ("D2", "10.0.0.2", 1), flags=SVC_F_SCHED2)
    assert lab.pick("10.1.0.1", 40000) == "D1"
    assert lab.pick("10.1.0.1", 40001) == "D2"
    lab = _mh_lab(("D1", "10.0.0.1", 1), ("D2", "10.0.0.2", 1))
    before = _table(lab)
    lab.edit("D1", weight=0)
    assert _table(lab) == before  # last_weight keeps its slots
    assert lab.pick("10.1.0.1") == "-"
    lab = _mh_lab(("D1", "10.0.0.1", 1), ("D2", "10.0.0.2", 1), flags=SVC_F_SCHED1)
    lab.edit("D1", weight=0)
    assert lab.pick("10.1.0.1") == "D2"
    lab = _mh_lab(("D1", "10.0.0.1", 2), ("D2", "10.0.0.2", 1))
    table = _table(lab)
    assert " ".join(table[:20]) == ("D1 D1 D2 D1 D1 D1 D2 D2 D1 D1 D1 D2 D2 D1 D1 D1 D2 D1 D1 D1")
    assert table.count("D1") == 2728 and table.count("D2") == 1365


def test_mh_dest_added_with_weight_zero_has_no_slots() -> None:
    lab = _mh_lab(("D1", "10.0.0.1", 1), ("D0", "10.0.0.9", 0))
    assert _table(lab).count("D0") == 0
    assert TAB_SIZE == 4093


def test_keyed_hasher_matches_reference_siphash() -> None:
    from random import Random

    from pylvs.core.sched.hashing import hsiphash_u32_keyed

    rng = Random(7)
    for key in (KEY1, KEY2, (1, 2), (2**64 - 1, 0)):
        keyed = hsiphash_u32_keyed(*key)
        for _ in range(500):
            v = rng.getrandbits(32)
            assert keyed(v) == hsiphash_u32(v, *key)
