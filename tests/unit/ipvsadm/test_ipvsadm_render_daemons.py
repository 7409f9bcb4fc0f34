"""``-L --daemon`` rendering of what old kernels report (reference §2.11).

pylvs's core always reports maxlen, group, port and ttl, so the golden cases
(which run against it) cannot show the old-kernel form; the renderer must
still print it as ipvsadm does.
"""

from __future__ import annotations

from pylvs.core.info import SyncDaemonInfo
from pylvs.ipvsadm.render import render_daemons


def test_old_kernel_reports_no_maxlen_group_port_ttl() -> None:
    old = SyncDaemonInfo("master", "eth0", 0, 0, "", 0, 0)
    assert render_daemons([old]) == "master sync daemon (mcast=eth0, syncid=0)\n"


def test_master_first_and_fields_only_when_reported() -> None:
    backup = SyncDaemonInfo("backup", "eth1", 7, 0, "ff02::1", 0, 2)
    master = SyncDaemonInfo("master", "lo", 5, 1472, "", 8848, 0)
    assert render_daemons([backup, master]) == (
        "master sync daemon (mcast=lo, syncid=5, maxlen=1472, port=8848)\n"
        "backup sync daemon (mcast=eth1, syncid=7, group=ff02::1, ttl=2)\n"
    )


def test_no_daemon_prints_nothing() -> None:
    assert render_daemons([]) == ""
