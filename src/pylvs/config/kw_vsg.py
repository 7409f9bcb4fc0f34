"""``virtual_server_group``: addresses, last-octet ranges, full ranges,
CIDR blocks and firewall marks (keepalived/check/check_parser.c
``vsg_handler``, check_data.c ``alloc_vsg_entry``, lib/utils.c ``inet_stor``)."""

from __future__ import annotations

from pylvs.config.cnum import strtoul
from pylvs.config.diagnostics import Level
from pylvs.config.grammar import Keyword, Stmt, ValueLine
from pylvs.config.inet import nonzero_port, stosockaddr
from pylvs.config.model import GroupEntry
from pylvs.config.numbers import UINT_MAX
from pylvs.config.state import LoadState, VsgDraft
from pylvs.core.addr import AF_INET, AF_INET6, addr_bits

__all__ = ["VIRTUAL_SERVER_GROUP"]


def _vsg(state: LoadState, stmt: Stmt) -> None:
    vsg = VsgDraft(stmt.arg(1), stmt.file, stmt.line)
    for value in stmt.values:
        state.reporter.where(value.file, value.line, stmt.keyword)
        _vsg_entry(state, vsg, value)
    state.reporter.where(stmt.end[0], stmt.end[1], stmt.keyword)
    if not vsg.entries and not vsg.fwmarks:
        state.error(f"virtual server group {vsg.name} has no entries - removing")
        return
    if vsg.have_ipv4 and vsg.have_ipv6 and vsg.fwmark_no_family:
        state.error(
            f"virtual server group {vsg.name} cannot have IPv4, IPv6 and fwmark without family - removing"
        )
        return
    state.vsgs.append(vsg)


def _vsg_entry(state: LoadState, vsg: VsgDraft, value: ValueLine) -> None:
    words = value.words
    addr_str = words[0]
    if addr_str == "fwmark":
        if len(words) < 2:
            state.reporter.report(
                Level.MISSING_PARAMETER,
                "*** Configuration line starting `fwmark` is missing a parameter "
                "after keyword `fwmark` at word position 2",
            )
            return
        mark = state.nums.read_unsigned(words[1], 0, UINT_MAX, True)
        if mark is None:
            state.error(f"({vsg.name}): fwmark '{words[1]}' must be in [0, {UINT_MAX}] - ignoring")
            return
        af = 0
        if len(words) > 2:
            if words[2] == "inet":
                af = AF_INET
                vsg.have_ipv4 = True
            elif words[2] == "inet6":
                af = AF_INET6
                vsg.have_ipv6 = True
            else:
                state.error(f"({vsg.name}): fwmark '{mark}' family {words[2]} unknown - ignoring")
                return
        else:
            vsg.fwmark_no_family = True
        vsg.fwmarks.append(GroupEntry(value.file, value.line, "fwmark", af, fwmark=mark))
        return
    port_str = nonzero_port(words[1]) if len(words) >= 2 else None
    parsed = stosockaddr(addr_str, port_str, state.nums)
    if parsed is None:
        slash = "/" if port_str else ""
        state.error(
            f"Invalid virtual server group IP address {addr_str} "
            f"{'/port' if port_str else ''}{slash}{port_str or ''} - skipping"
        )
        return
    af, start, port = parsed
    bits = addr_bits(af)
    end = start
    if "/" in addr_str:
        mask_text = addr_str[addr_str.index("/") + 1 :]
        if not mask_text.isdigit() or not 0 < int(mask_text) <= bits:
            state.error(f"Invalid netmask - {addr_str} - skipping")
            return
        host = (1 << (bits - int(mask_text))) - 1
        if start & host:
            state.error(f"Address mask bits not empty - {addr_str} - skipping")
            return
        end = start | host
    elif "-" in addr_str:
        tail = addr_str[addr_str.index("-") + 1 :]
        if (af == AF_INET and "." in tail) or (af == AF_INET6 and ":" in tail):
            parsed_end = stosockaddr(tail, port_str, state.nums)
            if parsed_end is None:
                state.error(f"Invalid range end {addr_str} - skipping")
                return
            if parsed_end[0] != af:
                state.error(f"Range address families do not match {addr_str} - skipping")
                return
            end = parsed_end[1]
            if end < start:
                state.error(
                    f"Address range end is less than address range start - {addr_str} - skipping"
                )
                return
        else:
            range_end = _last_part_range(state, addr_str, tail, af)
            if range_end is None:
                return
            if af == AF_INET:
                end = (start & ~0xFF) | range_end
                first = start & 0xFF
            else:
                end = (start & ~0xFFFF) | range_end
                first = start & 0xFFFF
            if first >= range_end:
                state.error(
                    f"Address range end is not greater than address range start - {addr_str} - skipping"
                )
                return
    vsg.entries.append(GroupEntry(value.file, value.line, "addr", af, start, end, port))
    if af == AF_INET:
        vsg.have_ipv4 = True
    else:
        vsg.have_ipv6 = True


def _last_part_range(state: LoadState, addr: str, tail: str, af: int) -> int | None:
    """``inet_stor``: the end of a last-octet (IPv6: last 16 bits) range."""
    conv = strtoul(tail, 16 if af == AF_INET6 else 10)
    rest = tail[conv.end :] if conv.end else tail
    warn = "" if state.nums.config_test else "WARNING - "
    if rest:
        state.reporter.report(
            Level.INVALID_NUMBER,
            f"{warn}Virtual server group range '{addr}' has extra characters at end '{rest}'",
        )
        return None if state.nums.config_test else conv.value
    if conv.erange or conv.value > (0xFFFF if af == AF_INET6 else 255):
        state.reporter.report(
            Level.INVALID_NUMBER, f"Virtual server group range '{addr}' end '{tail}' too large"
        )
        return None
    return conv.value


VIRTUAL_SERVER_GROUP: Keyword[LoadState] = Keyword(
    "virtual_server_group", _vsg, values=True, value_args=1, value_label="(null)"
)
