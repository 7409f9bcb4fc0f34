"""``lb_kind``/``lvs_method`` of a virtual, real or sorry server, with the
tunnel options (keepalived/check/check_parser.c ``svr_forwarding_handler``)."""

from __future__ import annotations

from pylvs.config.grammar import Stmt
from pylvs.config.model import Forwarding
from pylvs.config.state import LoadState

__all__ = ["svr_forwarding"]


def svr_forwarding(
    state: LoadState, current: Forwarding | None, stmt: Stmt, s_type: str
) -> Forwarding | None:
    """``svr_forwarding_handler``: the new forwarding of a virtual, real or
    sorry server (unchanged tunnel options on error, as keepalived)."""
    method = stmt.arg(1)
    if method not in ("NAT", "DR", "TUN"):
        state.error(f"PARSER : unknown [{method}] routing method for {s_type} server.")
        return current
    base = current or Forwarding()
    kept = Forwarding(method, base.tun_type, base.tun_port, base.tun_csum)
    tun_type, port, csum = "ipip", 0, "nocsum"
    words = stmt.words
    i = 2
    while i < len(words):
        word = words[i]
        if word == "type":
            if i + 1 == len(words):
                state.error(f"Missing tunnel type for {s_type} server.")
                return kept
            if words[i + 1] not in ("ipip", "gue", "gre"):
                state.error(f"Unknown tunnel type {words[i + 1]} for {s_type} server.")
                return kept
            tun_type = words[i + 1]
            i += 2
            continue
        if word == "port":
            if i + 1 == len(words):
                state.error(f"Missing port for {s_type} server gue tunnel.")
                return kept
            value = state.nums.read_unsigned(words[i + 1], 1, 65535, False)
            if value is None:
                state.error(f"Invalid gue tunnel port {words[i + 1]} for {s_type} server.")
                return kept
            port = value
            i += 2
            continue
        if word in ("nocsum", "csum", "remcsum"):
            csum = word
        else:
            state.error(f"Invalid tunnel option {word} for {s_type} server.")
            return kept
        i += 1
    if (tun_type == "gue") != (port != 0):
        state.error("gue tunnels require port, otherwise cannot have port.")
        return kept
    if tun_type == "ipip" and csum != "nocsum":
        state.error("ipip tunnels do not support checksum option.")
        return kept
    if tun_type == "gre" and csum == "remcsum":
        state.error("gre tunnels do not support remote checksum option.")
        return kept
    return Forwarding(method, tun_type, port, csum)
