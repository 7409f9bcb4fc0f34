"""``pylvsadm``: a byte-exact emulation of ipvsadm 1.31 (ipvsadm-cli reference).

The modules here are pure: they turn an argv list into a :class:`Command`
(``argv``; its full parser, ``argv_full``, loads only for lines the fast path
leaves to it), a :class:`Command` into a core op (``command``), table views
into ipvsadm's text (``render``, ``save``) and restore input into argv lists
(``restore``). Name lookups go through an injected :class:`Resolver`
(``lookup``); ``resolver`` holds the libc-backed one, the only module here
that does I/O.
"""

from __future__ import annotations

from pylvs.ipvsadm.argv import PoptError, ProcessCrash, parse_argv
from pylvs.ipvsadm.command import Command, ListFormat, ListTarget, View, command_to_op
from pylvs.ipvsadm.lookup import NO_NAMES, Resolver, StaticResolver

__all__ = [
    "NO_NAMES",
    "Command",
    "ListFormat",
    "ListTarget",
    "PoptError",
    "ProcessCrash",
    "Resolver",
    "StaticResolver",
    "View",
    "command_to_op",
    "parse_argv",
]
