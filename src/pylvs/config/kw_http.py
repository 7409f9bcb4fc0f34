"""``HTTP_GET`` and ``SSL_GET`` with their ``url`` blocks
(keepalived/check/check_http.c)."""

from __future__ import annotations

from pylvs.config.cnum import strtoul
from pylvs.config.grammar import Keyword, Stmt
from pylvs.config.kw_checker_base import (
    Handler,
    checker_block,
    conn_end,
    current_checker,
    dequeue_checker,
    flag_handler,
    queue_checker,
    set_string,
)
from pylvs.config.kw_common import draft_block, set_flag, set_true, set_unsigned, set_word
from pylvs.config.lexer import split_script_words
from pylvs.config.numbers import UINT_MAX
from pylvs.config.state import LoadState, UrlDraft

__all__ = ["HTTP_GET", "REGEX_OPTIONS", "SSL_GET"]

REGEX_OPTIONS = [
    "allow_empty_class",
    "alt_bsux",
    "auto_callout",
    "caseless",
    "dollar_endonly",
    "dotall",
    "dupnames",
    "extended",
    "firstline",
    "match_unset_backref",
    "multiline",
    "never_ucp",
    "never_utf",
    "no_auto_capture",
    "no_auto_possess",
    "no_dotstar_anchor",
    "no_start_optimize",
    "ucp",
    "ungreedy",
    "utf",
    "never_backslash_c",
    "alt_circumflex",
    "alt_verbnames",
    "use_offset_limit",
]


def _http(kind: str) -> Handler:
    def handler(state: LoadState, stmt: Stmt) -> None:
        draft = queue_checker(state, stmt, kind)
        draft.default_delay_before_retry = 3.0

    return handler


_nb_get_retry_value = set_unsigned(
    current_checker, "retry", 0, UINT_MAX, "Invalid nb_get_retry value '{}'"
)


def _nb_get_retry(state: LoadState, stmt: Stmt) -> None:
    state.error("nb_get_retry is deprecated - please use 'retry'")
    _nb_get_retry_value(state, stmt)


_http_virtualhost = set_word(
    current_checker, "virtualhost", "HTTP_GET virtualhost name missing", "virtualhost"
)


def _http_protocol(state: LoadState, stmt: Stmt) -> None:
    if len(stmt) < 2:
        state.error("Missing http_protocol version")
        return
    version = {"1.0": "1.0", "1.1": "1.1", "1.0C": "1.0C", "1.0c": "1.0C"}.get(stmt.words[1])
    if version is None:
        state.error(f"Invalid http_protocol version {stmt.words[1]}")
        return
    current_checker(state).http_protocol = version


def _sni_name(state: LoadState, stmt: Stmt) -> None:
    c = current_checker(state)
    if len(stmt) >= 2:
        c.sni_name = set_string(state, c.sni_name, stmt.words[1], "sni_name")
    elif c.sni_name is not None:
        state.error(f"sni_name already specified as {c.sni_name} - ignoring setting to default")
        return
    c.enable_sni = True


def _http_end(state: LoadState) -> None:
    if not current_checker(state).urls:
        state.error("HTTP/SSL_GET checker has no urls specified - ignoring")
        dequeue_checker(state)
        return
    conn_end(state)


def _url(state: LoadState, stmt: Stmt) -> None:
    state.url = UrlDraft()
    state.pending_regex_options = []


def _cur_url(state: LoadState) -> UrlDraft:
    assert state.url is not None
    return state.url


def _path(state: LoadState, stmt: Stmt) -> None:
    url = _cur_url(state)
    url.path = set_string(state, url.path, stmt.arg(1), "path")


def _digest(state: LoadState, stmt: Stmt) -> None:
    url = _cur_url(state)
    digest = stmt.arg(1)
    if url.digest is not None:
        state.error(f"Digest '{digest}' is a duplicate")
        return
    if len(digest) != 32:
        state.error(f"digest '{digest}' character length should be 32 rather than {len(digest)}")
        return
    out = []
    for i in range(15, -1, -1):
        pair = digest[2 * i : 2 * i + 2]
        conv = strtoul(pair, 16)
        if conv.end != 2:
            state.error(
                f"Unable to interpret hex digit in '{digest[: 2 * i + 2]}' at offset {2 * i}/{2 * i + 1}"
            )
            return
        out.append(conv.value & 0xFF)
    url.digest = bytes(reversed(out)).hex()


def _status_code(state: LoadState, stmt: Stmt) -> None:
    url = _cur_url(state)
    for word in stmt.words[1:]:
        conv = strtoul(word)
        lo = conv.value
        rest = word[conv.end :] if conv.end else word
        hi = lo
        if rest.startswith("-"):
            conv2 = strtoul(rest[1:])
            hi = conv2.value
            rest = rest[1:][conv2.end :] if conv2.end else rest[1:]
        if rest or not 100 <= lo <= 599 or not 100 <= hi <= 599 or lo > hi:
            state.error(f"Invalid HTTP_GET status code '{word}'")
            continue
        url.status_codes.update(range(lo, hi + 1))


_url_virtualhost = set_word(
    _cur_url, "virtualhost", "Missing HTTP_GET virtualhost name", "url virtualhost"
)


def _regex(state: LoadState, stmt: Stmt) -> None:
    res = split_script_words(stmt.raw, True)
    if res.words is None or len(res.words) != 2:
        state.error("regex missing or too many fields")
        return
    if state.pending_regex is not None:
        state.error(
            f"Duplicate regex specified - replacing {state.pending_regex} with {stmt.arg(1)}"
        )
    state.pending_regex = res.words[1]


def _regex_options(state: LoadState, stmt: Stmt) -> None:
    for word in stmt.words[1:]:
        if word in REGEX_OPTIONS and word not in state.pending_regex_options:
            state.pending_regex_options.append(word)


def _regex_offset(which: str) -> Handler:
    def handler(state: LoadState, stmt: Stmt) -> None:
        value = 0
        if len(stmt) != 2:
            state.log(f"Missing or too may options for regex_{which}_offset")
        else:
            conv = strtoul(stmt.words[1])
            if conv.end != len(stmt.words[1]) and stmt.words[1]:
                state.log(f"Invalid regex_{which}_offset {stmt.words[1]} specified")
            else:
                value = conv.value
        url = _cur_url(state)
        if which == "min":
            url.regex_min_offset = value
        else:
            url.regex_max_offset = value + 1  # one beyond the last acceptable offset

    return handler


def _regex_stack(state: LoadState, stmt: Stmt) -> None:
    if len(stmt) != 3:
        state.log("regex_stack requires start and max values")
        return
    start, end = strtoul(stmt.words[1]), strtoul(stmt.words[2])
    if start.end != len(stmt.words[1]):
        state.log("regex_stack invalid start value")
        return
    if end.end != len(stmt.words[2]):
        state.log("regex_stack invalid max value")
        return
    if start.value > end.value:
        state.log("regex stack start cannot exceed max value")
        return
    _cur_url(state).regex_use_stack = True


def _url_end(state: LoadState) -> None:
    url = _cur_url(state)
    if url.path is None:
        state.error("HTTP/SSL_GET checker url has no path - ignoring")
        return
    if not url.status_codes:
        url.status_codes.update(range(200, 300))
    if state.pending_regex is not None:
        url.regex = state.pending_regex
        url.regex_options = list(state.pending_regex_options)
        state.pending_regex = None
    elif (
        state.pending_regex_options
        or url.regex_no_match
        or url.regex_min_offset
        or url.regex_max_offset
        or url.regex_use_stack
    ):
        state.log("regex parameters specified without regex")
        url.regex_no_match = False
        url.regex_min_offset = url.regex_max_offset = 0
        url.regex_use_stack = False
    state.pending_regex_options = []
    if url.regex_max_offset and url.regex_min_offset >= url.regex_max_offset:
        state.log(
            f"regex min offset {url.regex_min_offset} > regex_max_offset "
            f"{url.regex_max_offset - 1} - ignoring"
        )
        url.regex_min_offset = url.regex_max_offset = 0
    current_checker(state).urls.append(url)


def _http_keyword(kind: str) -> Keyword[LoadState]:
    ssl = kind == "SSL_GET"
    url_keywords: list[Keyword[LoadState]] = [
        Keyword("path", _path),
        Keyword("digest", _digest),
        Keyword("status_code", _status_code),
        Keyword("virtualhost", _url_virtualhost),
        Keyword("regex", _regex),
        Keyword("regex_no_match", set_true(_cur_url, "regex_no_match")),
        Keyword("regex_options", _regex_options),
        Keyword("regex_min_offset", _regex_offset("min")),
        Keyword("regex_max_offset", _regex_offset("max")),
        Keyword("regex_stack", _regex_stack),
    ]
    if ssl:
        url_keywords.append(
            Keyword(
                "tls_compliant",
                set_flag(_cur_url, "tls_compliant", "Invalid tls_compliant option {}"),
            )
        )
    url_block = draft_block("url", url_keywords, "url")
    extra: list[Keyword[LoadState]] = [
        Keyword("nb_get_retry", _nb_get_retry),
        Keyword("virtualhost", _http_virtualhost),
        Keyword("http_protocol", _http_protocol),
        Keyword("enable_sni", flag_handler("enable_sni", "Invalid enable_sni parameter {}")),
        Keyword("sni_name", _sni_name),
        Keyword(
            "fast_recovery", flag_handler("fast_recovery", "Invalid fast_recovery parameter {}")
        ),
    ]
    if ssl:
        extra.append(
            Keyword(
                "tls_compliant", flag_handler("tls_compliant", "Invalid tls_compliant option {}")
            )
        )
    extra.append(Keyword("url", _url, sub=url_block, end=_url_end))
    return Keyword(kind, _http(kind), sub=checker_block(kind, extra), end=_http_end)


HTTP_GET = _http_keyword("HTTP_GET")
SSL_GET = _http_keyword("SSL_GET")
