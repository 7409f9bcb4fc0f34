"""The guide's Steps 3 to 5 and 9, as written, with pylvsadm for ipvsadm,
against a daemon on --dataplane none; listings compared with the guide's
(the guide lost its column spacing, so those compare word by word, and the
exact bytes are checked against ipvsadm's format)."""

from __future__ import annotations

from pathlib import Path

from conftest import DaemonProc, run_tool

GUIDE_STEP3 = """IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
-> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP 10.0.1.100:80 wrr
-> 10.0.1.11:80 Masq 3 0 0
-> 10.0.1.12:80 Masq 2 0 0
"""

EXACT_STEP3 = (
    "IP Virtual Server version 1.2.1 (size=4096)\n"
    "Prot LocalAddress:Port Scheduler Flags\n"
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
    "TCP  10.0.1.100:80 wrr\n"
    "  -> 10.0.1.11:80                 Masq    3      0          0         \n"
    "  -> 10.0.1.12:80                 Masq    2      0          0         \n"
)


def words(text: str) -> list[list[str]]:
    return [line.split() for line in text.splitlines()]


def ok(d: DaemonProc, *args: str) -> str:
    r = d.adm(*args)
    assert (r.rc, r.err) == (0, ""), (args, r)
    return r.out


def test_guide_steps_3_4_5_9(daemon: DaemonProc, tmp_path: Path) -> None:
    d = daemon
    # Step 3: NAT.
    ok(d, "-A", "-t", "10.0.1.100:80", "-s", "wrr")
    ok(d, "-a", "-t", "10.0.1.100:80", "-r", "10.0.1.11:80", "-m", "-w", "3")
    ok(d, "-a", "-t", "10.0.1.100:80", "-r", "10.0.1.12:80", "-m", "-w", "2")
    listing = ok(d, "-Ln")
    assert words(listing) == words(GUIDE_STEP3)
    assert listing == EXACT_STEP3
    # Step 4: DR.
    ok(d, "-C")
    ok(d, "-A", "-t", "10.0.1.100:80", "-s", "rr")
    ok(d, "-a", "-t", "10.0.1.100:80", "-r", "10.0.1.11:80", "-g", "-w", "1")
    ok(d, "-a", "-t", "10.0.1.100:80", "-r", "10.0.1.12:80", "-g", "-w", "1")
    assert words(ok(d, "-Ln"))[3:] == [
        ["TCP", "10.0.1.100:80", "rr"],
        ["->", "10.0.1.11:80", "Route", "1", "0", "0"],
        ["->", "10.0.1.12:80", "Route", "1", "0", "0"],
    ]
    # Step 5: manage real servers.
    ok(d, "-a", "-t", "10.0.1.100:80", "-r", "10.0.1.13:80", "-g", "-w", "1")
    ok(d, "-e", "-t", "10.0.1.100:80", "-r", "10.0.1.11:80", "-g", "-w", "5")
    ok(d, "-d", "-t", "10.0.1.100:80", "-r", "10.0.1.12:80")
    r = d.adm("-e", "-t", "10.0.1.100:80", "-r", "10.0.1.12:80", "-g", "-w", "0")
    assert (r.rc, r.err) == (255, "No such destination\n")  # it was just removed
    ok(d, "-a", "-t", "10.0.1.100:80", "-r", "10.0.1.12:80", "-g", "-w", "1")
    ok(d, "-e", "-t", "10.0.1.100:80", "-r", "10.0.1.12:80", "-g", "-w", "0")
    assert words(ok(d, "-Ln"))[3:] == [
        ["TCP", "10.0.1.100:80", "rr"],
        ["->", "10.0.1.11:80", "Route", "5", "0", "0"],
        ["->", "10.0.1.12:80", "Route", "0", "0", "0"],
        ["->", "10.0.1.13:80", "Route", "1", "0", "0"],
    ]
    saved = run_tool("pylvsadm-save", ["-n"], d.env)
    assert saved.rc == 0
    assert saved.out == (
        "-A -t 10.0.1.100:80 -s rr\n"
        "-a -t 10.0.1.100:80 -r 10.0.1.11:80 -g -w 5\n"
        "-a -t 10.0.1.100:80 -r 10.0.1.12:80 -g -w 0\n"
        "-a -t 10.0.1.100:80 -r 10.0.1.13:80 -g -w 1\n"
    )
    rules = tmp_path / "ipvsadm"
    rules.write_text(saved.out)
    ok(d, "-C")
    restored = run_tool("pylvsadm-restore", [], d.env, stdin=rules.read_text())
    assert (restored.rc, restored.err) == (0, "")
    assert run_tool("pylvsadm-save", ["-n"], d.env).out == saved.out
    # Step 9: persistence.
    ok(d, "-E", "-t", "10.0.1.100:80", "-s", "rr", "-p", "300")
    assert words(ok(d, "-Ln"))[3] == ["TCP", "10.0.1.100:80", "rr", "persistent", "300"]
    ok(d, "-E", "-t", "10.0.1.100:80", "-s", "rr", "-p", "300", "-M", "255.255.255.0")
    assert words(ok(d, "-Ln"))[3] == [
        "TCP", "10.0.1.100:80", "rr", "persistent", "300", "mask", "255.255.255.0",
    ]  # fmt: skip
    assert ok(d, "-Lnc") == (
        "IPVS connection entries\n"
        "pro expire state       source             virtual            destination\n"
    )
    # The reference command list.
    ok(d, "-A", "-u", "10.0.1.100:53", "-s", "rr")
    ok(d, "-a", "-t", "10.0.1.100:80", "-r", "10.0.1.14:80", "-i")
    ok(d, "-Ln", "--stats")
    ok(d, "-Ln", "--rate")
    ok(d, "-Z")
    ok(d, "-D", "-t", "10.0.1.100:80")
    ok(d, "-C")
    assert ok(d, "-Ln") == EXACT_STEP3.split("TCP ")[0]
