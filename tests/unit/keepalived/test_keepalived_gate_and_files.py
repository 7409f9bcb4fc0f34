"""Which errors stop a start or a reload; --signum; the SIGUSR1 file and
where it goes; keepalived's command line on ``pylvs run``."""

from __future__ import annotations

import signal

import pytest

from pylvs.cli.main import build_parser
from pylvs.cli.run import keepalived_mode
from pylvs.config import load_text
from pylvs.config.loader import load
from pylvs.config.source import MemoryReader
from pylvs.health.policy import HealthPolicy
from pylvs.keepalived.adapter import adapt
from pylvs.keepalived.dumps import check_data, dump_path, stats_text
from pylvs.keepalived.gate import reload_blockers, start_refusal, wants_checked_reload
from pylvs.keepalived.signums import signum
from pylvs.runtime.logsetup import parse_facility

GOOD = """virtual_server 10.0.0.1 80 {
  lb_algo rr
  lb_kind NAT
  protocol TCP
  real_server 10.0.0.2 80 {
    weight 2
    TCP_CHECK {
      connect_timeout 1
    }
  }
}
"""


def test_a_clean_file_starts_and_reloads() -> None:
    result = load_text(GOOD)
    assert start_refusal(result) is None
    assert reload_blockers(result) == ()


def test_missing_file_refuses_start_with_keepalived_status_6() -> None:
    result = load("/etc/keepalived/nowhere.conf", MemoryReader({}))
    refused = start_refusal(result)
    assert refused is not None and refused[0] == 6
    assert reload_blockers(result)


def test_required_include_missing_refuses() -> None:
    result = load_text("includem /etc/keepalived/missing.conf\n" + GOOD)
    assert start_refusal(result) is not None
    assert reload_blockers(result)


def test_missing_parameter_refuses_start_with_status_2() -> None:
    result = load_text(GOOD.replace("weight 2", "weight"))
    refused = start_refusal(result)
    assert refused is not None and refused[0] == 2
    assert reload_blockers(result)


@pytest.mark.parametrize(
    "broken",
    [
        GOOD[: GOOD.rindex("}")],  # a missing '}'
        GOOD + "}\n",  # an extra '}'
        GOOD.replace("weight 2", 'weight 2\n    notify_up "/bin/up arg'),  # unmatched quote
    ],
)
def test_structural_errors_block_a_reload_but_not_a_start(broken: str) -> None:
    result = load_text(broken)
    assert start_refusal(result) is None  # keepalived starts with what it read
    assert reload_blockers(result)


def test_errors_keepalived_reloads_with_do_not_block() -> None:
    result = load_text(GOOD.replace("weight 2", "weight 2\n    frobnicate yes"))
    assert result.status != 0  # keepalived -t would complain
    assert reload_blockers(result) == ()
    result = load_text(GOOD.replace("protocol TCP", ""))  # defaults to UDP, with an error
    assert reload_blockers(result) == ()


def test_reload_check_config_makes_every_error_block() -> None:
    strict = load_text("global_defs {\n reload_check_config\n}\n" + GOOD)
    assert wants_checked_reload(strict.config)
    unknown = load_text(GOOD.replace("weight 2", "weight 2\n    frobnicate yes"))
    assert reload_blockers(unknown, checked=True)
    assert reload_blockers(load_text(GOOD), checked=True) == ()


def test_signums_are_keepalived_s() -> None:
    assert signum("STOP") == signal.SIGTERM == 15
    assert signum("RELOAD") == signal.SIGHUP == 1
    assert signum("DATA") == signal.SIGUSR1
    assert signum("STATS") == signal.SIGUSR2
    assert signum("STATS_CLEAR") == signal.SIGRTMAX - 1
    assert signum("JSON") == signal.SIGRTMIN + 2
    assert signum("TDUMP") is None
    assert signum("reload") is None  # keepalived compares exactly


def test_dump_file_names() -> None:
    assert dump_path("/tmp", None, "_check") == "/tmp/keepalived_check.data"
    assert dump_path("/var/tmp", None, "_check") == "/var/tmp/keepalived_check.data"
    assert dump_path("/tmp", "/run/ka/state.txt", "_check") == "/run/ka/state_check.txt"
    assert dump_path("/tmp", "/run/ka/", "_check") == "/run/ka/keepalived_check.data"
    assert dump_path("/tmp", "mine.dump", "") == "/tmp/mine.dump"
    assert dump_path("/tmp", "noext", "_check") == "/tmp/noext_check"


def test_check_data_has_keepalived_s_sections_and_live_state() -> None:
    config = load_text("global_defs {\n router_id DIR\n}\n" + GOOD).config
    before = check_data(config, None)
    assert before.startswith("------< Global definitions >------\n")
    assert " Router ID = DIR\n" in before
    assert "------< LVS Topology >------\n System is compiled with LVS v1.2.1\n" in before
    assert " VS VIP = 10.0.0.1, VPORT = 80\n" in before
    a = adapt(config)
    policy = HealthPolicy(a.params, random=lambda: 0.0)
    policy.start(0.0)
    text = check_data(config, policy)
    assert "   RIP = 10.0.0.2, RPORT = 80, WEIGHT = 2 EFF WEIGHT = 2\n" in text
    assert "   alive = 1\n   num failed checkers = 0\n   RS set = 1\n" in text
    assert "   quorum_state_up = 1\n" in text
    assert "------< Health checkers >------\n [10.0.0.1]:tcp:80 -> [10.0.0.2]:tcp:80\n" in text
    assert "   Keepalive method = TCP_CHECK\n" in text
    assert stats_text() == ""


def parse(*argv: str):  # type: ignore[no-untyped-def]
    return build_parser().parse_args(["run", *argv])


def test_keepalived_command_line() -> None:
    args = parse("-nlDf", "/etc/k.conf")
    assert (args.dont_fork, args.log_console, args.log_detail, args.use_file) == (
        True,
        True,
        1,
        "/etc/k.conf",
    )
    assert keepalived_mode(args)
    args = parse("--use-file=/x.conf", "-DD", "-I", "-p", "/run/p.pid", "-S", "local3")
    assert (args.log_detail, args.dont_release_ipvs, args.pid, args.log_facility) == (
        2,
        True,
        "/run/p.pid",
        "local3",
    )
    assert parse("-t").config_test == ""
    assert parse("-t/tmp/log").config_test == "/tmp/log"
    assert parse("--config-test=/tmp/log", "-f", "x").config_test == "/tmp/log"
    assert not keepalived_mode(parse("--dataplane", "none"))
    assert keepalived_mode(parse("-C"))
    assert parse("--signum=RELOAD").signum == "RELOAD"


def test_log_facilities() -> None:
    assert parse_facility("0") == parse_facility("local0") == 16
    assert parse_facility("7") == 23
    assert parse_facility("daemon") == 3 and parse_facility("user") == 1
    assert parse_facility("8") is None and parse_facility("kern") is None
