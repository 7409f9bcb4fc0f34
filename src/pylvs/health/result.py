"""What a probe reports back to the engine.

The checker does the I/O and says what happened in keepalived's own words;
the engine (policy.py) decides what that means for the state, the logs and
the next probe, exactly as each keepalived checker's epilog does.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ProbeResult"]


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """One probe's outcome.

    ``reason`` is the failure phrase keepalived logs for that checker kind:
      - TCP_CHECK: ``"timeout"`` or ``"failed"`` (``""`` when the connect was
        refused at once, which keepalived does not log);
      - UDP_CHECK: ``"failed"`` or ``"mismatch"`` (``""``: send failed);
      - PING_CHECK: ``"timeout"`` or ``"failed"``;
      - HTTP_GET/SSL_GET: the debug message, e.g. ``"Timeout connecting"``,
        ``"HTTP status code error to"``, ``"MD5 digest error to"``;
      - SMTP_CHECK: the message after ``"SMTP_CHECK "``, e.g.
        ``"Bad greeting banner from server [10.0.0.2]:25"``;
      - DNS_CHECK: the message after ``"DNS_CHECK ([rs]) "``, e.g.
        ``"read timeout from socket"``.
    ``logs`` are lines logged as they are, whatever the state (keepalived's
    unconditional lines such as ``"Got ICMP packet with type 0x3"``).
    ``reschedule``: the probe could not even start (socket or bind error);
    keepalived logs ``logs`` and tries again after delay_loop, state unchanged.
    """

    ok: bool
    reason: str = ""
    logs: tuple[str, ...] = ()
    reschedule: bool = False
    #: HTTP/SSL: "HTTP status code", "MD5 digest" or "Regex match" on success.
    success_msg: str = "HTTP status code"
    #: HTTP/SSL: (Content-Length or None, body bytes received), once the
    #: status code passed; None when the response never got that far.
    http_lengths: tuple[int | None, int] | None = None
    #: MISC: exit status, None when the script was killed by a signal.
    exit_status: int | None = None
    #: MISC: the terminating signal.
    signal: int | None = None
    #: MISC: the script outlived misc_timeout and was killed.
    timed_out: bool = False
    #: MISC with misc_dynamic: the weight an exit status of 2..255 asks for.
    weight: int | None = None
    #: FILE: the integer read from the file; None = unreadable number (ignored).
    file_value: int | None = None

    @classmethod
    def rescheduled(cls, *logs: str) -> ProbeResult:
        """The probe could not even start (socket or bind error): ``logs``
        are logged and the check runs again after delay_loop."""
        return cls(ok=False, reschedule=True, logs=logs)
