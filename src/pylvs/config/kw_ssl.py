"""The top-level ``SSL`` block: the TLS context of SSL_GET checkers
(keepalived/check/check_parser.c)."""

from __future__ import annotations

from pylvs.config.grammar import Block, Keyword, Stmt
from pylvs.config.kw_common import set_word
from pylvs.config.state import LoadState, SslDraft

__all__ = ["SSL"]


def _ssl(state: LoadState, stmt: Stmt) -> None:
    if state.ssl is not None:
        state.error("SSL context already specified - replacing")
    state.ssl = SslDraft()


def _cur_ssl(state: LoadState) -> SslDraft:
    assert state.ssl is not None
    return state.ssl


def _ssl_file(attr: str, what: str) -> Keyword[LoadState]:
    return Keyword(attr, set_word(_cur_ssl, attr, f"SSL {what} missing", "SSL"))


SSL: Keyword[LoadState] = Keyword(
    "SSL",
    _ssl,
    sub=Block.of(
        "SSL",
        [
            _ssl_file("password", "password"),
            _ssl_file("ca", "cafile"),
            _ssl_file("certificate", "certfile"),
            _ssl_file("key", "keyfile"),
        ],
        current=lambda s: s.ssl,
    ),
)
