"""How HTTP_GET/SSL_GET judge a response (check_http.c + lib/html.c).

The response is read to end of stream.  A url passes when the header block
ended (CRLF CRLF seen), the status code is in its set, the MD5 of the body
(the first Content-Length bytes when there is one) equals ``digest`` and the
regex matches (or, with ``regex_no_match``, does not).  As keepalived does,
the regex runs over the stream from its first byte, headers included.
"""

from __future__ import annotations

import hashlib
import re

from pylvs.health.params import UrlParams
from pylvs.health.result import ProbeResult

__all__ = ["HttpResponse", "compile_regex", "extract_content_length", "extract_status_code"]

_REGEX_FLAGS = {
    "caseless": re.IGNORECASE,
    "multiline": re.MULTILINE,
    "dotall": re.DOTALL,
    "extended": re.VERBOSE,
}
#: how much of a response is kept for the regex (keepalived streams it)
REGEX_KEEP = 1 << 20
_HEADER_MAX = 1 << 16
_STRTOUL_SPACE = b" \t\n\v\f\r"


def compile_regex(url: UrlParams) -> re.Pattern[bytes] | None:
    if url.regex is None:
        return None
    flags = 0
    for option in url.regex_options:
        flags |= _REGEX_FLAGS.get(option, 0)
    return re.compile(url.regex.encode(), flags)


def extract_status_code(buf: bytes) -> int:
    """lib/html.c extract_status_code: the three digits after the first
    space of the status line, which must be followed by a space; 0 if not."""
    space = buf.find(b" ")
    cr = buf.find(b"\r")
    if space < 0 or (0 <= cr < space):
        return 0
    i = space + 1
    if i + 3 >= len(buf) or buf[i] == 0x20 or buf[i + 3] != 0x20:
        return 0
    digits = buf[i : i + 3]
    return int(digits) if digits.isdigit() else 0


def extract_content_length(buf: bytes) -> int | None:
    """lib/html.c extract_content_length: the number after the first
    ``Content-Length:`` (case-sensitive), which must end the line."""
    at = buf.find(b"Content-Length:")
    if at < 0:
        return None
    i = at + len(b"Content-Length:")
    n = len(buf)
    while i < n and buf[i] in _STRTOUL_SPACE:
        i += 1
    j = i
    while j < n and 0x30 <= buf[j] <= 0x39:
        j += 1
    if j < n and buf[j] not in (0x0D, 0x0A):
        return None
    return int(buf[i:j]) if j > i else 0


class HttpResponse:
    """Fed the bytes of one response as they arrive, judged at the end."""

    __slots__ = ("_digest", "_head", "_md5", "_regex", "_stream", "_url", "content_len",
                 "extracted", "rx_bytes", "status")  # fmt: skip

    def __init__(self, url: UrlParams, regex: re.Pattern[bytes] | None) -> None:
        self._url = url
        self._regex = regex
        self._digest = url.digest.lower() if url.digest else None
        self._md5 = hashlib.md5(usedforsecurity=False) if self._digest else None
        self._head = b""
        self._stream: list[bytes] | None = [] if regex is not None else None
        self.extracted = False
        self.status = 0
        self.content_len: int | None = None
        self.rx_bytes = 0

    def feed(self, data: bytes) -> None:
        if self._stream is not None and sum(map(len, self._stream)) < REGEX_KEEP:
            self._stream.append(data)
        if not self.extracted:
            head = self._head + data
            end = head.find(b"\r\n\r\n")
            if end < 0:
                self._head = head[-_HEADER_MAX:]
                return
            self.extracted = True
            self._head = b""
            self.status = extract_status_code(head)
            self.content_len = extract_content_length(head)
            data = head[end + 4 :]
        self._body(data)

    def _body(self, data: bytes) -> None:
        if self._md5 is not None and data:
            if self.content_len is None:
                self._md5.update(data)
            elif self.content_len > self.rx_bytes:
                self._md5.update(data[: self.content_len - self.rx_bytes])
        self.rx_bytes += len(data)

    def verdict(self) -> ProbeResult:
        """http_handle_response()."""
        if not self.extracted:
            return ProbeResult(ok=False, reason="Read, no data received from")
        if self.status not in self._url.status_codes:
            return ProbeResult(ok=False, reason="HTTP status code error to")
        lengths = (self.content_len, self.rx_bytes)
        msg = "HTTP status code"
        if self._md5 is not None:
            if self._md5.hexdigest() != self._digest:
                return ProbeResult(ok=False, reason="MD5 digest error to", http_lengths=lengths)
            msg = "MD5 digest"
        if self._regex is not None and self._stream is not None:
            if self._regex_matched() == self._url.regex_no_match:
                return ProbeResult(ok=False, reason="Regex match failed", http_lengths=lengths)
            msg = "Regex match"
        return ProbeResult(ok=True, success_msg=msg, http_lengths=lengths)

    def _regex_matched(self) -> bool:
        assert self._regex is not None and self._stream is not None
        stream = b"".join(self._stream)
        found = self._regex.search(stream, self._url.regex_min_offset)
        if found is None:
            return False
        limit = self._url.regex_max_offset
        return limit is None or found.start() <= limit
