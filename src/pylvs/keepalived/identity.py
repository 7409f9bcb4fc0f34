"""Who is who across a reload: the keys that name virtual and real servers.

A reload keeps the state of whatever is "the same" in the old and the new
configuration.  keepalived decides that with ``vs_iseq`` and ``rs_iseq``
(check/ipwrapper.c, include/ipwrapper.h):

- a virtual server given by address is the same when family, protocol,
  address and port are; one given by fwmark when family and mark are; one
  using a group when the group name and its place among the virtual servers
  of that group are (keepalived prints that place as the port: ``[G]:0``);
- a real server (and a sorry server) is the same when its address and port
  are, whatever its weight or forwarding method.

These keys are the ``id`` fields of the health engine's parameters, so the
engine's table actions and its reload both speak of servers by them.  Two
blocks with the same key in one file (keepalived would fail the second IPVS
add) are told apart by their order (the last field).  Checkers need no key:
within a real server they are matched by kind and content
(:func:`pylvs.health.compare.same_checker`).
"""

from __future__ import annotations

from pylvs.config.model import RealServer, SorryServer, VirtualServer

__all__ = ["RsKey", "VsKey", "rs_key", "sorry_key", "vs_key", "vs_keys"]

#: ("addr", af, protocol, addr, port, n) | ("fwmark", af, mark, n) | ("group", name, index, n)
VsKey = tuple[object, ...]
#: ("rs", af, addr, port) | ("sorry", af, addr, port)
RsKey = tuple[str, int, int, int]


def _base(vs: VirtualServer) -> tuple[object, ...]:
    if vs.kind == "group":
        return ("group", vs.group, vs.group_index)
    if vs.kind == "fwmark":
        return ("fwmark", vs.af, vs.fwmark)
    return ("addr", vs.af, vs.protocol, vs.addr, vs.port)


def vs_key(vs: VirtualServer, occurrence: int = 0) -> VsKey:
    return (*_base(vs), occurrence)


def vs_keys(virtual_servers: tuple[VirtualServer, ...]) -> list[VsKey]:
    """The key of each virtual server, in order (duplicates numbered)."""
    seen: dict[tuple[object, ...], int] = {}
    keys = []
    for vs in virtual_servers:
        base = _base(vs)
        n = seen.get(base, 0)
        seen[base] = n + 1
        keys.append((*base, n))
    return keys


def rs_key(rs: RealServer) -> RsKey:
    return ("rs", rs.af, rs.addr, rs.port)


def sorry_key(ss: SorryServer) -> RsKey:
    return ("sorry", ss.af, ss.addr, ss.port)
