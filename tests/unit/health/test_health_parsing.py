"""The byte-level pieces of the checkers: HTTP response judging, DNS
queries, UDP hex patterns, SMTP status lines, track file numbers,
keepalived's command quoting."""

from __future__ import annotations

import hashlib
import struct

from pylvs.health.checkers.base import ProbeContext
from pylvs.health.checkers.dns import build_query
from pylvs.health.checkers.file import parse_strtol, read_track_file
from pylvs.health.checkers.http import build_request
from pylvs.health.checkers.http_response import (
    HttpResponse,
    compile_regex,
    extract_content_length,
    extract_status_code,
)
from pylvs.health.checkers.smtp import smtp_status
from pylvs.health.checkers.udp import FILLER, parse_hex, reply_matches
from pylvs.health.params import HttpSpec, UdpSpec, UrlParams
from pylvs.health.scripts import cmd_str


def judge(url: UrlParams, *chunks: bytes) -> tuple[bool, str, str, object]:
    r = HttpResponse(url, compile_regex(url))
    for chunk in chunks:
        r.feed(chunk)
    v = r.verdict()
    return v.ok, v.reason, v.success_msg, v.http_lengths


def test_status_code_extraction() -> None:
    assert extract_status_code(b"HTTP/1.0 200 OK\r\n") == 200
    assert extract_status_code(b"HTTP/1.1 404 \r\n") == 404
    assert extract_status_code(b"HTTP/1.0 200\r\n") == 0  # needs the space after
    assert extract_status_code(b"HTTP/1.0\r\n200 OK") == 0
    assert extract_status_code(b"HTTP/1.0 2x0 OK\r\n") == 0


def test_content_length_extraction() -> None:
    assert extract_content_length(b"HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\n") == 12
    assert extract_content_length(b"HTTP/1.0 200 OK\r\ncontent-length: 12\r\n\r\n") is None
    assert extract_content_length(b"Content-Length: 12x\r\n") is None
    assert extract_content_length(b"Content-Length: 7") == 7


def test_response_verdicts() -> None:
    body = b"hello world"
    digest = hashlib.md5(body).hexdigest()
    head = b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\n"
    assert judge(UrlParams("/"), head + body) == (True, "", "HTTP status code", (11, 11))
    assert judge(UrlParams("/", digest=digest), head[:10], head[10:] + body[:3], body[3:])[:3] == (
        True,
        "",
        "MD5 digest",
    )
    assert judge(UrlParams("/", digest="0" * 32), head + body)[1] == "MD5 digest error to"
    five = b"HTTP/1.0 503 Busy\r\n\r\n"
    assert judge(UrlParams("/"), five)[1] == "HTTP status code error to"
    assert judge(UrlParams("/", status_codes=frozenset({503})), five)[0]
    assert judge(UrlParams("/"), b"HTTP/1.0 200 OK\r\n")[1] == "Read, no data received from"
    assert judge(UrlParams("/"))[1] == "Read, no data received from"


def test_digest_covers_content_length_bytes_only() -> None:
    digest = hashlib.md5(b"abc").hexdigest()
    resp = b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabcdef"
    ok, _, _, lengths = judge(UrlParams("/", digest=digest), resp)
    assert ok and lengths == (3, 6)


def test_regex_options() -> None:
    resp = b"HTTP/1.0 200 OK\r\n\r\nStatus: GREEN\n"
    assert judge(UrlParams("/", regex="GREEN"), resp)[2] == "Regex match"
    assert judge(UrlParams("/", regex="green"), resp)[1] == "Regex match failed"
    assert judge(UrlParams("/", regex="green", regex_options=("caseless",)), resp)[0]
    assert judge(UrlParams("/", regex="RED", regex_no_match=True), resp)[0]
    assert not judge(UrlParams("/", regex="GREEN", regex_max_offset=5), resp)[0]
    assert not judge(UrlParams("/", regex="HTTP", regex_min_offset=1), resp)[0]


def test_request_bytes() -> None:
    ctx = ProbeContext("10.0.0.2", 8080, "[10.0.0.2]:tcp:8080", "[10.0.0.10]:tcp:80")
    url = UrlParams("/health")
    assert build_request(HttpSpec((url,)), url, ctx, ("10.0.0.2", 8080)) == (
        b"GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.2:8080\r\n\r\n"
    )
    spec = HttpSpec((url,), http_protocol="1.1", virtualhost="www.example")
    assert build_request(spec, url, ctx, ("10.0.0.2", 8080)) == (
        b"GET /health HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\n"
        b"Host: www.example\r\n\r\n"
    )
    spec = HttpSpec((url,), http_protocol="1.0C")
    assert b"HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\n" in build_request(
        spec, url, ctx, ("10.0.0.2", 80)
    )
    assert b"Host: [::1]:80\r\n" in build_request(HttpSpec((url,)), url, ctx, ("::1", 80))


def test_host_precedence() -> None:
    ctx = ProbeContext(
        "10.0.0.2", 80, "rs", "vs", rs_virtualhost="rs.example", vs_virtualhost="vs.example"
    )
    addr = ("10.0.0.2", 80)
    plain = UrlParams("/")
    assert b"Host: rs.example\r" in build_request(HttpSpec((plain,)), plain, ctx, addr)
    spec = HttpSpec((plain,), virtualhost="chk.example")
    assert b"Host: chk.example\r" in build_request(spec, plain, ctx, addr)
    own = UrlParams("/", virtualhost="url.example")
    assert b"Host: url.example\r" in build_request(spec, own, ctx, addr)
    ctx_vs = ProbeContext("10.0.0.2", 80, "rs", "vs", vs_virtualhost="vs.example")
    assert b"Host: vs.example\r" in build_request(HttpSpec((plain,)), plain, ctx_vs, addr)


def test_dns_query_bytes() -> None:
    q = build_query(0x1234, "", 6)
    assert q == struct.pack("!HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + b"\x00" + b"\x00\x06\x00\x01"
    assert build_query(1, ".", 6) == q[:0] + struct.pack("!H", 1) + q[2:]
    q = build_query(7, "example.com.", 1)
    assert q[12:] == b"\x07example\x03com\x00\x00\x01\x00\x01"
    assert build_query(7, "example.com", 1) == q


def test_udp_hex_and_reply_matching() -> None:
    assert parse_hex("0a0B ff") == (b"\x0a\x0b\xff", b"\x00\x00\x00")
    assert parse_hex("1 2")[0] == b"\x01\x02"
    data, mask = parse_hex("AB XX cx", wildcards=True)
    assert (data, mask) == (b"\xab\x00\xc0", b"\x00\xff\x0f")
    spec = UdpSpec(require_reply=True, reply="AB XX cx", min_reply_length=2, max_reply_length=8)
    assert reply_matches(b"\xab\x55\xc7\x00", spec, data, mask)
    assert not reply_matches(b"\xab\x55\xd7", spec, data, mask)
    assert not reply_matches(b"\xab", spec, data, mask)  # shorter than min
    assert reply_matches(b"\xab\x01", spec, data, mask)  # compares the shorter
    assert len(FILLER) == 32 and FILLER.startswith(b"keepalived check - keepalived")


def test_smtp_status_lines() -> None:
    assert smtp_status(b"220 mail.example ESMTP\r") == 220
    assert smtp_status(b"220") == 220
    assert smtp_status(b"220-multi\r") == -1
    assert smtp_status(b"220\r") == -1  # keepalived only cuts the \n
    assert smtp_status(b"25") == -1


def test_track_file_numbers(tmp_path: object) -> None:
    assert parse_strtol(b"  42\n") == 42
    assert parse_strtol(b"-7") == -7
    assert parse_strtol(b"0x1f") == 31
    assert parse_strtol(b"010") == 8
    assert parse_strtol(b"junk") == 0
    assert parse_strtol(b"12abc") == 12
    from pathlib import Path

    path = Path(str(tmp_path)) / "state"
    assert read_track_file(str(path)) == (0, ())
    path.write_text("5\n")
    assert read_track_file(str(path)) == (5, ())
    path.write_text("99999999999")
    value, logs = read_track_file(str(path))
    assert value is None and logs == (f"Invalid number 99999999999 read from {path} - ignoring",)


def test_cmd_str_quotes_like_keepalived() -> None:
    assert cmd_str(("/bin/check", "a b", "it's")) == "'/bin/check' 'a b' 'it'\\''s'"
    assert cmd_str(("</etc/ready",)) == "</etc/ready"
