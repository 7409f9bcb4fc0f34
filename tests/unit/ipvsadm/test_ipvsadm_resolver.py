"""The libc-backed resolver, on names every Debian machine has."""

from __future__ import annotations

import socket

import pytest

from pylvs.core.addr import AF_INET
from pylvs.ipvsadm.resolver import SocketResolver

r = SocketResolver()


def test_special_names_fail_like_libc() -> None:
    # Python maps these to 0.0.0.0 and 255.255.255.255; gethostbyname does not.
    assert r.host_by_name("") is None
    assert r.host_by_name("<broadcast>") is None
    assert r.host_by_name("a\0b") is None


def test_localhost() -> None:
    try:
        socket.gethostbyname_ex("localhost")
    except OSError:
        pytest.skip("no localhost entry")
    assert r.host_by_name("localhost") == 0x7F000001
    assert r.host_name(AF_INET, 0x7F000001) is not None


def test_services() -> None:
    try:
        socket.getservbyname("http", "tcp")
    except OSError:
        pytest.skip("no /etc/services")
    assert r.service_port("http", "tcp") == 80
    assert r.service_name(80, "tcp") == "http"
    assert r.service_port("no-such-service", "tcp") is None
    assert r.service_name(80, "sctp") in (None, "http")
    assert r.service_name(70000, "tcp") is None
