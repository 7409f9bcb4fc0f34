"""IPVS's TCP state machine as data (behaviour reference §4.2).

Three tables — INPUT (client to real server, NAT), OUTPUT (real server to
client, NAT) and INPUT-ONLY (client side of entries whose replies bypass the
director: DR, TUN, local) — each indexed by event (syn, fin, ack, rst) and
current state. A second set is used while the ``secure_tcp`` defence is on.
"""

from __future__ import annotations

__all__ = [
    "DIR_INPUT",
    "DIR_INPUT_ONLY",
    "DIR_OUTPUT",
    "EV_ACK",
    "EV_FIN",
    "EV_NONE",
    "EV_RST",
    "EV_SYN",
    "SECURE_TABLE",
    "STATE_NAMES",
    "TABLE",
    "TCP_ACTIVE",
    "TCP_DEFAULT_TIMEOUTS",
    "TCP_S",
    "tcp_event",
]

# States, in the kernel's order.
NONE, ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT, TIME_WAIT = 0, 1, 2, 3, 4, 5
CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN, SYNACK = 6, 7, 8, 9, 10
STATE_NAMES = (
    "NONE",
    "ESTABLISHED",
    "SYN_SENT",
    "SYN_RECV",
    "FIN_WAIT",
    "TIME_WAIT",
    "CLOSE",
    "CLOSE_WAIT",
    "LAST_ACK",
    "LISTEN",
    "SYNACK",
)
TCP_S = {name: i for i, name in enumerate(STATE_NAMES)}

# A connection is "active" (counted in ActiveConn) in these states (§4.4).
TCP_ACTIVE = frozenset({ESTABLISHED, SYN_SENT, SYN_RECV, SYNACK})

# Default per-state timeouts in seconds (§4.2).
TCP_DEFAULT_TIMEOUTS = (2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120)

# Table offsets (directions) and event indexes.
DIR_INPUT = 0
DIR_OUTPUT = 1
DIR_INPUT_ONLY = 2
EV_SYN, EV_FIN, EV_ACK, EV_RST = 0, 1, 2, 3
EV_NONE = -1  # a segment with none of the four flags: the entry goes to CLOSE

_ABBR = {
    "NO": NONE,
    "ES": ESTABLISHED,
    "SS": SYN_SENT,
    "SR": SYN_RECV,
    "FW": FIN_WAIT,
    "TW": TIME_WAIT,
    "CL": CLOSE,
    "CW": CLOSE_WAIT,
    "LA": LAST_ACK,
    "LI": LISTEN,
    "SA": SYNACK,
}

#              NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA
_NORMAL = """
INPUT
  syn          SR  ES  ES  SR  SR  SR  SR  SR  SR  SR  SR
  fin          CL  CW  SS  TW  TW  TW  CL  CW  LA  LI  TW
  ack          ES  ES  SS  ES  FW  TW  CL  CW  CL  LI  ES
  rst          CL  CL  CL  SR  CL  CL  CL  CL  LA  LI  SR
OUTPUT
  syn          SS  ES  SS  SR  SS  SS  SS  SS  SS  LI  SR
  fin          TW  FW  SS  TW  FW  TW  CL  TW  LA  LI  TW
  ack          ES  ES  SS  ES  FW  TW  CL  CW  LA  ES  ES
  rst          CL  CL  SS  CL  CL  TW  CL  CL  CL  CL  CL
INPUT-ONLY
  syn          SR  ES  ES  SR  SR  SR  SR  SR  SR  SR  SR
  fin          CL  FW  SS  TW  FW  TW  CL  CW  LA  LI  TW
  ack          ES  ES  SS  ES  FW  TW  CL  CW  CL  LI  ES
  rst          CL  CL  CL  SR  CL  CL  CL  CL  LA  LI  CL
"""

_SECURE = """
INPUT
  syn          SR  ES  ES  SR  SR  SR  SR  SR  SR  SR  SA
  fin          CL  CW  SS  TW  TW  TW  CL  CW  LA  LI  SA
  ack          ES  ES  SS  SR  FW  TW  CL  CW  CL  LI  SA
  rst          CL  CL  CL  SR  CL  CL  CL  CL  LA  LI  CL
OUTPUT
  syn          SS  ES  SS  SA  SS  SS  SS  SS  SS  LI  SA
  fin          TW  FW  SS  TW  FW  TW  CL  TW  LA  LI  TW
  ack          ES  ES  SS  ES  FW  TW  CL  CW  LA  ES  ES
  rst          CL  CL  SS  CL  CL  TW  CL  CL  CL  CL  CL
INPUT-ONLY
  syn          SA  ES  ES  SR  SA  SA  SA  SA  SA  SA  SA
  fin          CL  FW  SS  TW  FW  TW  CL  CW  LA  LI  TW
  ack          ES  ES  SS  ES  FW  TW  CL  CW  CL  LI  ES
  rst          CL  CL  CL  SR  CL  CL  CL  CL  LA  LI  CL
"""

Table = tuple[tuple[tuple[int, ...], ...], ...]


def _parse(text: str) -> Table:
    """[direction][event][state] -> next state."""
    directions: list[list[tuple[int, ...]]] = []
    for line in text.strip().splitlines():
        words = line.split()
        if len(words) == 1:
            directions.append([])
        else:
            directions[-1].append(tuple(_ABBR[w] for w in words[1:]))
    return tuple(tuple(rows) for rows in directions)


TABLE: Table = _parse(_NORMAL)
SECURE_TABLE: Table = _parse(_SECURE)

# TCP header flag bits.
FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10


def tcp_event(flags: int) -> int:
    """The event of a segment: RST > SYN > FIN > ACK, else EV_NONE."""
    if flags & RST:
        return EV_RST
    if flags & SYN:
        return EV_SYN
    if flags & FIN:
        return EV_FIN
    if flags & ACK:
        return EV_ACK
    return EV_NONE
