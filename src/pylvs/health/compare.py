"""Is a checker of the new configuration the same as one of the old?

On reload keepalived carries a checker's state (up/down, retries, last
result) over to the new configuration only when the new real server has a
checker of the same kind that its per-kind ``compare`` function finds equal
(check/ipwrapper.c ``migrate_checkers``).  Those functions look at where and
how the checker connects and at what it checks, never at its timing:
changing ``delay_loop`` or ``retry`` keeps the state, changing the url or
the port starts afresh.

- TCP_CHECK, UDP_CHECK, PING_CHECK: the connection options only
  (``compare_conn_opts``: target, bind address and port, bind interface,
  connect timeout, fwmark);
- HTTP_GET, SSL_GET: those, every url (path, digest, status codes,
  virtualhost, regex and its options and offsets), the checker's
  virtualhost and ``sni_name``;
- SMTP_CHECK: those and ``helo_name``; DNS_CHECK: those, type and name;
- MISC_CHECK: ``misc_dynamic`` and the script (command and user);
- FILE_CHECK: never (keepalived has no compare for it: the file is read
  again).
"""

from __future__ import annotations

from pylvs.health.params import (
    CheckerParams,
    ConnectParams,
    DnsSpec,
    HttpSpec,
    MiscSpec,
    PingSpec,
    SmtpSpec,
    TcpSpec,
    UdpSpec,
    UrlParams,
)

__all__ = ["same_checker"]


def _same_conn(a: CheckerParams, ca: ConnectParams, b: CheckerParams, cb: ConnectParams) -> bool:
    return (
        ca.connect_ip == cb.connect_ip
        and ca.connect_port == cb.connect_port
        and ca.bindto == cb.bindto
        and (ca.bind_port if ca.bindto else None) == (cb.bind_port if cb.bindto else None)
        and ca.bind_if == cb.bind_if
        and ca.fwmark == cb.fwmark
        and a.connect_timeout == b.connect_timeout
    )


def _same_url(a: UrlParams, b: UrlParams) -> bool:
    if (a.path, a.digest, a.status_codes, a.virtualhost, a.regex) != (
        b.path,
        b.digest,
        b.status_codes,
        b.virtualhost,
        b.regex,
    ):
        return False
    if a.regex is None:
        return True
    return (a.regex_options, a.regex_no_match, a.regex_min_offset, a.regex_max_offset) == (
        b.regex_options,
        b.regex_no_match,
        b.regex_min_offset,
        b.regex_max_offset,
    )


def same_checker(old: CheckerParams, new: CheckerParams) -> bool:
    """keepalived's ``checker_funcs->compare`` for two checkers of one real
    server (same kind required)."""
    if old.kind != new.kind:
        return False
    a, b = old.spec, new.spec
    if isinstance(a, HttpSpec) and isinstance(b, HttpSpec):
        return (
            _same_conn(old, a.connect, new, b.connect)
            and len(a.urls) == len(b.urls)
            and a.virtualhost == b.virtualhost
            and a.sni_name == b.sni_name
            and all(_same_url(x, y) for x, y in zip(a.urls, b.urls, strict=True))
        )
    if isinstance(a, SmtpSpec) and isinstance(b, SmtpSpec):
        return a.helo_name == b.helo_name and _same_conn(old, a.connect, new, b.connect)
    if isinstance(a, DnsSpec) and isinstance(b, DnsSpec):
        return (
            _same_conn(old, a.connect, new, b.connect)
            and a.type == b.type
            and (a.name or ".") == (b.name or ".")
        )
    if isinstance(a, MiscSpec) and isinstance(b, MiscSpec):
        return a.dynamic == b.dynamic and a.script == b.script
    if isinstance(a, TcpSpec | UdpSpec | PingSpec) and isinstance(b, TcpSpec | UdpSpec | PingSpec):
        return _same_conn(old, a.connect, new, b.connect)
    return False  # FILE_CHECK
