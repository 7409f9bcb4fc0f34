"""rr and wrr sequences, as the kernel produces them (behaviour reference §2.4,
§10; further vectors from our reading of ip_vs_rr.c / ip_vs_wrr.c)."""

from __future__ import annotations

from builders import Lab
from pylvs.core.model import DEST_F_OVERLOAD


def built_by_adds(sched: str, *weights: tuple[str, int]) -> Lab:
    lab = Lab(sched)
    for name, w in weights:
        lab.add(name, w)
    return lab


def bound_to_populated(sched: str, *list_order: tuple[str, int]) -> Lab:
    """Dests added under another scheduler, then `-E -s sched`."""
    lab = Lab("lc")
    for name, w in reversed(list_order):
        lab.add(name, w)
    lab.rebind(sched)
    return lab


def test_list_order_is_newest_first() -> None:
    lab = built_by_adds("rr", ("A", 1), ("B", 1), ("C", 1))
    assert lab.order() == "C B A"


def test_wrr_reference_examples() -> None:
    assert bound_to_populated("wrr", ("A", 3), ("B", 2)).picks(10) == "A A B A B A A B A B"
    assert built_by_adds("wrr", ("B", 2), ("A", 3)).picks(12) == "A B A A B A B A A B A B"
    lab = built_by_adds("wrr", ("C", 2), ("B", 4), ("A", 6))
    assert lab.picks(14) == "A B C A A B A B C A A B A B"
    assert bound_to_populated("wrr", ("A", 4), ("B", 3), ("C", 2)).picks(9) == "A A B A B C A B C"


def test_wrr_432_both_list_orders() -> None:
    lab = built_by_adds("wrr", ("A", 4), ("B", 3), ("C", 2))
    assert lab.picks(20) == "C B A A B A C B A C B A A B A C B A C B"
    lab = bound_to_populated("wrr", ("C", 2), ("B", 3), ("A", 4))
    assert lab.picks(20) == "A B A C B A C B A A B A C B A C B A A B"
    lab = built_by_adds("wrr", ("C", 2), ("B", 3), ("A", 4))
    assert lab.picks(20) == "A B C A A B A B C A B C A A B A B C A B"
    lab = bound_to_populated("wrr", ("A", 4), ("B", 3), ("C", 2))
    assert lab.picks(20) == "A A B A B C A B C A A B A B C A B C A A"


def test_wrr_gcd() -> None:
    assert bound_to_populated("wrr", ("A", 6), ("B", 4)).picks(10) == "A A B A B A A B A B"
    assert built_by_adds("wrr", ("B", 4), ("A", 6)).picks(10) == "A B A A B A B A A B"


def test_wrr_all_overloaded_resets_to_head() -> None:
    lab = bound_to_populated("wrr", ("A", 4), ("B", 3), ("C", 2))
    assert lab.picks(3) == "A A B"
    for d in lab.svc.dests:
        d.flags |= DEST_F_OVERLOAD
    assert lab.pick() == "-"
    sched = lab.svc.sched
    assert sched is not None
    assert sched.last_error == "no destination available: all destinations are overloaded"
    for d in lab.svc.dests:
        d.flags &= ~DEST_F_OVERLOAD
    assert lab.picks(9) == "A A B A B C A B C"


def test_wrr_one_overloaded() -> None:
    lab = bound_to_populated("wrr", ("A", 4), ("B", 3), ("C", 2))
    lab.dest("C").flags |= DEST_F_OVERLOAD
    assert lab.picks(14) == "A A B A B A B A A B A B A B"


def test_wrr_edit_mid_stream() -> None:
    lab = bound_to_populated("wrr", ("A", 4), ("B", 3), ("C", 2))
    assert lab.picks(4) == "A A B A"
    lab.edit("B", weight=1)
    assert lab.picks(14) == "A C A B C A A A C A B C A A"


def test_wrr_same_scheduler_edit_keeps_state() -> None:
    lab = bound_to_populated("wrr", ("A", 4), ("B", 3), ("C", 2))
    assert lab.picks(3) == "A A B"
    lab.rebind("wrr")  # same scheduler: nothing is re-initialised
    assert lab.picks(6) == "A B C A B C"


def test_wrr_weight_zero_never_chosen_and_all_zero_is_no_dest() -> None:
    lab = built_by_adds("wrr", ("A", 0), ("B", 2))
    assert set(lab.picks(10).split()) == {"B"}
    lab.edit("B", weight=0)
    assert lab.pick() == "-"


def test_rr_pointer_rules() -> None:
    lab = built_by_adds("rr", ("C", 1), ("B", 1), ("A", 1))
    assert lab.picks(4) == "A B C A"
    lab.add("D", 1)
    assert lab.order() == "D A B C"
    assert lab.picks(5) == "B C D A B"
    lab.delete("B")
    assert lab.picks(4) == "C D A C"
    lab.edit("D", weight=0)
    assert lab.picks(4) == "A C A C"
    for d in lab.svc.dests:
        d.flags |= DEST_F_OVERLOAD
    assert lab.pick() == "-"
    for d in lab.svc.dests:
        d.flags &= ~DEST_F_OVERLOAD
    assert lab.pick() == "A"  # the pointer stayed at C


def test_guide_wrr_3_2_split() -> None:
    # The guide's Step 3: web1 weight 3, web2 weight 2 -> 60 % / 40 %.
    lab = built_by_adds("wrr", ("web1", 3), ("web2", 2))
    seq = lab.picks(1000).split()
    assert seq.count("web1") == 600 and seq.count("web2") == 400
