"""``keepalived -t``: output and exit status; the dump; loading real files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pylvs.config import (
    LoadOptions,
    MemoryReader,
    StaticAccounts,
    config_test,
    dump,
    load,
    load_text,
)
from pylvs.config.osreader import OsAccounts, OsReader

MAIN = "/etc/keepalived/keepalived.conf"
GOOD = """virtual_server 10.0.0.1 80 {
    protocol TCP
    lb_algo rr
    lb_kind NAT
    real_server 10.0.0.2 80 {
        MISC_CHECK { misc_path /usr/bin/check }
    }
}
"""


def run(text: str, **reader_kw: object) -> tuple[int, list[str]]:
    out: list[str] = []
    reader = MemoryReader({MAIN: text}, **reader_kw)  # type: ignore[arg-type]
    status = config_test(MAIN, reader, out=out.append)
    return status, out


def test_clean_config() -> None:
    assert run(GOOD) == (0, [])


def test_errors_give_5_and_are_printed() -> None:
    status, out = run(GOOD.replace("lb_algo rr", "lb_algo nope"))
    assert status == 5
    assert out == [
        f"({MAIN}: Line 3) Invalid lvs_scheduler 'nope' - ignoring",
        f"({MAIN}: Line 1) Virtual server [10.0.0.1]:tcp:80: no scheduler set, setting default 'wlc'",
    ]


def test_found_scripts_without_script_security_give_6() -> None:
    status, out = run(GOOD, executables=["/usr/bin/check"])
    assert status == 6
    assert out == [
        f"({MAIN}: Line 6) SECURITY VIOLATION - check scripts are being executed "
        "but script_security not enabled."
    ]
    secure = "global_defs {\n enable_script_security\n}\n" + GOOD
    assert run(secure, executables=["/usr/bin/check"]) == (0, [])


def test_security_wins_over_errors() -> None:
    # keepalived keeps the numerically highest status.
    status, _ = run(GOOD.replace("lb_algo rr", "lb_algo nope"), executables=["/usr/bin/check"])
    assert status == 6


def test_missing_file_and_failed_include() -> None:
    assert config_test("/nope.conf", MemoryReader({})) == 4
    assert run("includer /etc/keepalived/missing/*.conf\n")[0] == 0
    assert run("includew /etc/keepalived/missing/*.conf\n")[0] == 6
    assert run("includem /etc/keepalived/missing.conf\n" + GOOD)[0] == 6


def test_missing_parameter_gives_2() -> None:
    assert run(GOOD.replace("lb_algo rr", "lb_algo"))[0] == 2


def test_config_test_is_stricter_on_numbers() -> None:
    text = GOOD.replace("lb_algo rr", "lb_algo rr\n    delay_loop 5x")
    daemon = load_text(text, options=LoadOptions())
    assert daemon.config.virtual_servers[0].delay_loop == 0.000005
    assert daemon.diagnostics[0].message == "WARNING - invalid number '5x'"
    status, out = run(text)
    assert status == 5 and out[0].endswith("invalid number '5x'")


def test_script_users_are_checked_with_accounts() -> None:
    text = GOOD.replace("misc_path /usr/bin/check", "misc_path /usr/bin/check\n user ghost")
    accounts = StaticAccounts({"root": (0, 0)})
    result = load(MAIN, MemoryReader({MAIN: text}), LoadOptions(accounts=accounts))
    assert [d.message for d in result.diagnostics] == [
        "Script user 'ghost' does not exist",
        "Failed to set uid/gid for misc checker script '/usr/bin/check' - removing",
    ]
    assert result.config.virtual_servers[0].real_servers[0].checkers == ()


def test_dump_is_stable_and_complete() -> None:
    config = load_text(GOOD).config
    text = dump(config)
    assert text == dump(load_text(GOOD).config)
    assert "virtual_server [10.0.0.1]:tcp:80 (/etc/keepalived/keepalived.conf:1)" in text
    assert "misc_path /usr/bin/check timeout 60 dynamic no" in text


def test_load_real_files(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "keepalived.conf").write_text("include conf.d/*.conf\n")
    (tmp_path / "conf.d" / "vs.conf").write_text(GOOD)
    result = load(str(tmp_path / "keepalived.conf"), OsReader())
    assert result.diagnostics == ()
    assert result.config.files == (
        str(tmp_path / "keepalived.conf"),
        str(tmp_path / "conf.d" / "vs.conf"),
    )
    # Relative names start from the reader's working directory.
    assert OsReader().cwd()


def test_os_accounts() -> None:
    accounts = OsAccounts()
    assert accounts.user("root") == (0, 0)
    assert accounts.user("no-such-user-here") is None
    assert accounts.group("root") == 0


@pytest.mark.parametrize("path", ["keepalived.conf", "./keepalived.conf"])
def test_relative_main_file(path: str) -> None:
    reader = MemoryReader({"/srv/keepalived.conf": GOOD})
    assert load(path, reader, LoadOptions(cwd="/srv")).status == 0
