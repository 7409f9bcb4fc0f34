"""Decoding nftables counters from a GETOBJ dump (nftobj.py)."""

from __future__ import annotations

import struct

from pylvs.dataplane.kernel import nftobj
from pylvs.dataplane.kernel.nlattr import nla


def _obj(name: str, pkts: int, nbytes: int) -> bytes:
    data = nla(nftobj.NFTA_COUNTER_BYTES, struct.pack("!Q", nbytes))
    data += nla(nftobj.NFTA_COUNTER_PACKETS, struct.pack("!Q", pkts))
    body = struct.pack("=BBH", 1, 0, 0)
    body += nla(nftobj.NFTA_OBJ_TABLE, b"pylvs\0")
    body += nla(nftobj.NFTA_OBJ_NAME, name.encode() + b"\0")
    body += nla(nftobj.NFTA_OBJ_DATA | 0x8000, data)
    kind = (nftobj.NFNL_SUBSYS_NFTABLES << 8) | nftobj.NFT_MSG_NEWOBJ
    return struct.pack("=IHHII", 16 + len(body), kind, 2, 1, 0) + body


def test_counters_and_done() -> None:
    out: dict[str, tuple[int, int]] = {}
    buf = _obj("d1i", 5, 700) + _obj("r12c", 2**40, 0)
    assert not nftobj.decode_counters(buf, out)
    assert out == {"d1i": (5, 700), "r12c": (2**40, 0)}
    done = struct.pack("=IHHII", 20, nftobj.NLMSG_DONE, 2, 1, 0) + b"\0" * 4
    assert nftobj.decode_counters(done, out)


def test_request_names_table_and_type() -> None:
    req = nftobj.dump_request(9, nftobj.NFPROTO_NETDEV, "pylvs")
    size, kind, flags, seq, _ = struct.unpack_from("=IHHII", req)
    assert size == len(req) and seq == 9 and flags == 0x301
    assert kind == (10 << 8) | 19
    assert req[16] == nftobj.NFPROTO_NETDEV and b"pylvs\0" in req
