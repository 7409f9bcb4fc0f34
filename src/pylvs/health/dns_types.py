"""The DNS record types a DNS_CHECK can ask for, by name (keepalived's
check_dns.c ``DNS_TYPE``): the configuration reader accepts these names for
``type``, the checker puts their codes in its query.  Pure, imports nothing."""

from __future__ import annotations

__all__ = ["DNS_TYPES"]

DNS_TYPES: dict[str, int] = {
    "A": 1,
    "NS": 2,
    "CNAME": 5,
    "SOA": 6,
    "MX": 15,
    "TXT": 16,
    "AAAA": 28,
    "RRSIG": 46,
    "DNSKEY": 48,
}
