"""The top-level ``SSL`` block: the TLS context of SSL_GET checkers
(keepalived/check/check_parser.c)."""

from __future__ import annotations

from pylvs.config.grammar import Block, Keyword, Stmt
from pylvs.config.kw_common import set_string
from pylvs.config.state import LoadState, SslDraft

__all__ = ["SSL"]


def _ssl(state: LoadState, stmt: Stmt) -> None:
    if state.ssl is not None:
        state.error("SSL context already specified - replacing")
    state.ssl = SslDraft()


def _ssl_file(attr: str, what: str) -> Keyword[LoadState]:
    def handler(state: LoadState, stmt: Stmt) -> None:
        assert state.ssl is not None
        if len(stmt) < 2:
            state.error(f"SSL {what} missing")
            return
        old = getattr(state.ssl, attr)
        setattr(state.ssl, attr, set_string(state, old, stmt.words[1], "SSL"))

    name = {"password": "password", "ca": "ca", "certificate": "certificate", "key": "key"}[attr]
    return Keyword(name, handler)


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
