"""Queueing to userspace on kernels without nft's ``queue`` expression.

This kernel has no NFT_QUEUE, but nft_compat runs the xtables NFQUEUE target
inside nftables (what iptables-nft does). nft's own syntax cannot create it,
so this module adds the one rule ``[xt target NFQUEUE num N]`` to a chain of
our table with a hand-built nfnetlink batch (dataplane-notes §2)."""

from __future__ import annotations

import errno
import os
import socket
import struct

from pylvs.dataplane.kernel.nlattr import (
    NLA_F_NESTED,
    NLMSG_ERROR,
    error_code,
    messages,
    nfnl_message,
    nla,
)

__all__ = ["add_xt_queue_rule"]

NETLINK_NETFILTER = 12
NFNL_SUBSYS_NFTABLES = 10
NFNL_MSG_BATCH_BEGIN = 0x10
NFNL_MSG_BATCH_END = 0x11
NFT_MSG_NEWRULE = 6
NLM_F_REQUEST, NLM_F_ACK, NLM_F_CREATE, NLM_F_APPEND = 0x1, 0x4, 0x400, 0x800
# netfilter families (uapi netfilter.h)
NFPROTO_INET = 1
# attribute numbers (uapi nf_tables.h)
NFTA_RULE_TABLE, NFTA_RULE_CHAIN, NFTA_RULE_EXPRESSIONS = 1, 2, 4
NFTA_LIST_ELEM = 1
NFTA_EXPR_NAME, NFTA_EXPR_DATA = 1, 2
NFTA_TARGET_NAME, NFTA_TARGET_REV, NFTA_TARGET_INFO = 1, 2, 3
XT_NFQUEUE_REV = 3  # struct xt_NFQ_info_v3 {u16 queuenum, queues_total, flags}


def build_batch(table: str, chain: str, queue: int) -> bytes:
    info = struct.pack("=HHH", queue, 1, 0) + b"\0\0"  # padded to XT_ALIGN (8)
    target = (
        nla(NFTA_TARGET_NAME, b"NFQUEUE\0")
        + nla(NFTA_TARGET_REV, struct.pack("!I", XT_NFQUEUE_REV))
        + nla(NFTA_TARGET_INFO, info)
    )
    expr = nla(NFTA_EXPR_NAME, b"target\0") + nla(NFTA_EXPR_DATA | NLA_F_NESTED, target)
    attrs = (
        nla(NFTA_RULE_TABLE, table.encode() + b"\0")
        + nla(NFTA_RULE_CHAIN, chain.encode() + b"\0")
        + nla(NFTA_RULE_EXPRESSIONS | NLA_F_NESTED, nla(NFTA_LIST_ELEM | NLA_F_NESTED, expr))
    )
    flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK
    return (
        nfnl_message(NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, 1, 0, b"", NFNL_SUBSYS_NFTABLES)
        + nfnl_message((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE, flags, 2, NFPROTO_INET, attrs)
        + nfnl_message(NFNL_MSG_BATCH_END, NLM_F_REQUEST, 3, 0, b"", NFNL_SUBSYS_NFTABLES)
    )


def add_xt_queue_rule(table: str, chain: str, queue: int) -> None:
    """Append ``queue num QUEUE`` (xtables NFQUEUE) to ``inet TABLE CHAIN``."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER) as s:
        s.bind((0, 0))
        s.settimeout(5)
        s.send(build_batch(table, chain, queue))
        while True:
            data = s.recv(65536)
            for kind, _flags, seq, start, _end in messages(data):
                if kind == NLMSG_ERROR and seq == 2:
                    err = error_code(data, start)
                    if err:
                        raise OSError(err, f"cannot add the NFQUEUE rule: {os.strerror(err)}")
                    return
            if not data:
                raise OSError(errno.EIO, "no answer from nftables")
