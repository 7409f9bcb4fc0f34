"""The checkers, by keepalived block name.

``REGISTRY[kind](checker_params, context)`` builds the object whose
``probe(url)`` coroutine runs one check.
"""

from __future__ import annotations

from pylvs.health.checkers.base import Checker, CheckerFactory, ProbeContext
from pylvs.health.checkers.dns import DnsChecker
from pylvs.health.checkers.file import FileChecker
from pylvs.health.checkers.http import HttpChecker
from pylvs.health.checkers.misc import MiscChecker
from pylvs.health.checkers.ping import PingChecker
from pylvs.health.checkers.smtp import SmtpChecker
from pylvs.health.checkers.tcp import TcpChecker
from pylvs.health.checkers.udp import UdpChecker
from pylvs.health.params import CheckerParams

__all__ = ["REGISTRY", "Checker", "CheckerFactory", "ProbeContext", "build_checker"]

REGISTRY: dict[str, CheckerFactory] = {
    "HTTP_GET": HttpChecker,
    "SSL_GET": HttpChecker,
    "TCP_CHECK": TcpChecker,
    "SMTP_CHECK": SmtpChecker,
    "DNS_CHECK": DnsChecker,
    "UDP_CHECK": UdpChecker,
    "PING_CHECK": PingChecker,
    "MISC_CHECK": MiscChecker,
    "FILE_CHECK": FileChecker,
}


def build_checker(params: CheckerParams, ctx: ProbeContext) -> Checker:
    return REGISTRY[params.kind](params, ctx)
