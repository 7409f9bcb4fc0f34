"""libnftables through ctypes: run nft commands in-process (no fork per
change) and read the ruleset back as JSON."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
from typing import Any

__all__ = ["Nft", "NftError", "nft_available"]

NFT_CTX_DEFAULT = 0
NFT_CTX_OUTPUT_JSON = 1 << 4
NFT_CTX_OUTPUT_HANDLE = 1 << 3


class NftError(RuntimeError):
    """nft refused a command; the message is nft's."""


def _load() -> ctypes.CDLL:
    name = ctypes.util.find_library("nftables") or "libnftables.so.1"
    lib = ctypes.CDLL(name)
    lib.nft_ctx_new.restype = ctypes.c_void_p
    lib.nft_ctx_new.argtypes = [ctypes.c_uint32]
    lib.nft_ctx_free.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_output_set_flags.argtypes = [ctypes.c_void_p, ctypes.c_uint]
    lib.nft_ctx_buffer_output.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_buffer_error.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_get_output_buffer.restype = ctypes.c_char_p
    lib.nft_ctx_get_output_buffer.argtypes = [ctypes.c_void_p]
    lib.nft_ctx_get_error_buffer.restype = ctypes.c_char_p
    lib.nft_ctx_get_error_buffer.argtypes = [ctypes.c_void_p]
    lib.nft_run_cmd_from_buffer.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.nft_run_cmd_from_buffer.restype = ctypes.c_int
    return lib


def nft_available() -> str:
    """ "" when libnftables can be loaded, else why not."""
    try:
        _load()
    except OSError as e:
        return f"libnftables is not installed ({e}); install the nftables package"
    return ""


class Nft:
    """One libnftables context. Commands are nft's own syntax; ``list_json``
    reads back with ``-j``."""

    def __init__(self) -> None:
        self._lib = _load()
        self._ctx = self._lib.nft_ctx_new(NFT_CTX_DEFAULT)
        self._lib.nft_ctx_buffer_output(self._ctx)
        self._lib.nft_ctx_buffer_error(self._ctx)

    def close(self) -> None:
        if self._ctx:
            self._lib.nft_ctx_free(self._ctx)
            self._ctx = None

    def run(self, commands: str) -> str:
        """Run commands atomically (one transaction); raise NftError."""
        self._lib.nft_ctx_output_set_flags(self._ctx, 0)
        rc = self._lib.nft_run_cmd_from_buffer(self._ctx, commands.encode())
        out = (self._lib.nft_ctx_get_output_buffer(self._ctx) or b"").decode()
        err = (self._lib.nft_ctx_get_error_buffer(self._ctx) or b"").decode()
        if rc != 0:
            raise NftError(err.strip() or f"nft failed ({rc})")
        return out

    def list_json(self, what: str) -> list[dict[str, Any]]:
        """``nft -j list WHAT``: the objects, metainfo left out."""
        self._lib.nft_ctx_output_set_flags(self._ctx, NFT_CTX_OUTPUT_JSON)
        rc = self._lib.nft_run_cmd_from_buffer(self._ctx, f"list {what}".encode())
        out = (self._lib.nft_ctx_get_output_buffer(self._ctx) or b"").decode()
        err = (self._lib.nft_ctx_get_error_buffer(self._ctx) or b"").decode()
        self._lib.nft_ctx_output_set_flags(self._ctx, 0)
        if rc != 0:
            raise NftError(err.strip() or f"nft list {what} failed ({rc})")
        data = json.loads(out) if out.strip() else {"nftables": []}
        return [x for x in data.get("nftables", []) if "metainfo" not in x]
