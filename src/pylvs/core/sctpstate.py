"""IPVS's SCTP state machine as data (ip_vs_proto_sctp.c; our reading is in
docs/kernel-notes-connections.md §6 because the behaviour reference omits the tables).

Events come from the packet's first chunk; tables are indexed
[direction][event][state] with the same three directions as TCP.
"""

from __future__ import annotations

__all__ = [
    "SCTP_ACTIVE",
    "SCTP_DEFAULT_TIMEOUTS",
    "SCTP_STATE_NAMES",
    "SCTP_TABLE",
    "sctp_event",
]

(NONE, INIT1, INIT, COOKIE_SENT, COOKIE_REPLIED, COOKIE_WAIT, COOKIE, COOKIE_ECHOED,
 ESTABLISHED, SHUTDOWN_SENT, SHUTDOWN_RECEIVED, SHUTDOWN_ACK_SENT, REJECTED, CLOSED) = range(14)  # fmt: skip

# Names as ipvsadm -Lc shows them.
SCTP_STATE_NAMES = (
    "NONE",
    "INIT1",
    "INIT",
    "C-SENT",
    "C-REPLIED",
    "C-WAIT",
    "COOKIE",
    "C-ECHOED",
    "ESTABLISHED",
    "S-SENT",
    "S-RECEIVED",
    "S-ACK-SENT",
    "REJECTED",
    "CLOSED",
)
SCTP_ACTIVE = frozenset({ESTABLISHED})
# NONE 2 s, INIT1 and REJECTED 4 s, ESTABLISHED 900 s, the rest 61 s (max RTO).
SCTP_DEFAULT_TIMEOUTS = (2, 4, 61, 61, 61, 61, 61, 61, 900, 61, 61, 61, 4, 61)

# Events.
EV_DATA, EV_INIT, EV_INIT_ACK, EV_COOKIE_ECHO, EV_COOKIE_ACK = 0, 1, 2, 3, 4
EV_SHUTDOWN, EV_SHUTDOWN_ACK, EV_SHUTDOWN_COMPLETE, EV_ERROR, EV_ABORT = 5, 6, 7, 8, 9

# Chunk types (RFC 9260 §3.2).
CHUNK_DATA, CHUNK_INIT, CHUNK_INIT_ACK, CHUNK_SACK = 0, 1, 2, 3
CHUNK_ABORT, CHUNK_SHUTDOWN, CHUNK_SHUTDOWN_ACK, CHUNK_ERROR = 6, 7, 8, 9
CHUNK_COOKIE_ECHO, CHUNK_COOKIE_ACK, CHUNK_SHUTDOWN_COMPLETE = 10, 11, 14

_CHUNK_EVENTS = {
    CHUNK_INIT: EV_INIT,
    CHUNK_INIT_ACK: EV_INIT_ACK,
    CHUNK_ABORT: EV_ABORT,
    CHUNK_SHUTDOWN: EV_SHUTDOWN,
    CHUNK_SHUTDOWN_ACK: EV_SHUTDOWN_ACK,
    CHUNK_ERROR: EV_ERROR,
    CHUNK_COOKIE_ECHO: EV_COOKIE_ECHO,
    CHUNK_COOKIE_ACK: EV_COOKIE_ACK,
    CHUNK_SHUTDOWN_COMPLETE: EV_SHUTDOWN_COMPLETE,
}


def sctp_event(first_chunk: int, second_chunk: int | None = None) -> int:
    """The event of a packet from its first chunk type (and the next one).

    A COOKIE_ECHO or COOKIE_ACK followed by an ABORT counts as ABORT; DATA,
    SACK, HEARTBEAT(-ACK), ECNE, CWR and every type from 15 up count as data.
    """
    if first_chunk in (CHUNK_COOKIE_ECHO, CHUNK_COOKIE_ACK) and second_chunk == CHUNK_ABORT:
        return EV_ABORT
    return _CHUNK_EVENTS.get(first_chunk, EV_DATA)


_ABBR = {
    "NO": NONE, "I1": INIT1, "IN": INIT, "CS": COOKIE_SENT, "CR": COOKIE_REPLIED,
    "CW": COOKIE_WAIT, "CO": COOKIE, "CE": COOKIE_ECHOED, "ES": ESTABLISHED,
    "SS": SHUTDOWN_SENT, "SR": SHUTDOWN_RECEIVED, "SA": SHUTDOWN_ACK_SENT,
    "RJ": REJECTED, "CL": CLOSED,
}  # fmt: skip

#              NO  I1  IN  CS  CR  CW  CO  CE  ES  SS  SR  SA  RJ  CL
_TABLES = """
INPUT
  d            ES  I1  IN  CS  CR  CW  CO  CE  ES  SS  SR  SA  RJ  CL
  i            I1  IN  IN  CS  CR  CW  CO  CE  ES  SS  SR  SA  IN  IN
  i_a          CW  CW  CW  CS  CR  CO  CO  CE  ES  SS  SR  SA  RJ  CL
  c_e          CR  IN  IN  CR  CR  CW  CO  CE  ES  SS  SR  SA  RJ  CL
  c_a          ES  I1  IN  CS  CR  CW  CO  ES  ES  SS  SR  SA  RJ  CL
  s            SR  I1  IN  CS  CR  CW  CO  CE  SR  SS  SR  SA  RJ  CL
  s_a          CL  IN  IN  CS  CR  CW  CO  CE  ES  CL  SR  CL  RJ  CL
  s_c          CL  CL  CL  CS  CR  CW  CO  CE  ES  SS  SR  CL  RJ  CL
  err          CL  I1  IN  CS  CR  CW  CO  CL  ES  SS  SR  SA  RJ  CL
  ab           CL  CL  CL  CL  CL  RJ  CL  CL  CL  CL  CL  CL  CL  CL
OUTPUT
  d            ES  I1  IN  CS  CR  CW  CO  CE  ES  SS  SR  SA  RJ  CL
  i            CW  CW  CW  CW  CW  CW  CW  CW  ES  CW  CW  CW  CW  CW
  i_a          CS  CS  CS  CS  CR  CW  CO  CE  ES  SS  SR  SA  RJ  CL
  c_e          CE  CE  CE  CE  CE  CE  CE  CE  ES  SS  SR  SA  RJ  CL
  c_a          ES  ES  ES  ES  ES  ES  ES  ES  ES  SS  SR  SA  RJ  CL
  s            SS  SS  SS  SS  SS  SS  SS  SS  SS  SS  SR  SA  RJ  CL
  s_a          SA  SA  SA  SA  SA  CW  CO  CE  ES  SA  SA  SA  RJ  CL
  s_c          CL  I1  IN  CS  CR  CW  CO  CE  ES  SS  SR  SA  RJ  CL
  err          CL  CL  CL  CL  CL  CW  CO  CE  ES  SS  SR  SA  RJ  CL
  ab           CL  RJ  CL  CL  CL  CL  CL  CL  CL  CL  CL  CL  CL  CL
INPUT-ONLY
  d            ES  I1  IN  CS  CR  ES  CO  CE  ES  SS  SR  SA  RJ  CL
  i            I1  IN  IN  IN  IN  IN  CO  CE  ES  SS  SR  SA  IN  IN
  i_a          CE  CE  CE  CE  CE  CE  CO  CE  ES  SS  SR  SA  RJ  CL
  c_e          ES  ES  ES  ES  ES  ES  CO  CE  ES  SS  SR  SA  RJ  CL
  c_a          ES  I1  IN  ES  ES  CW  ES  ES  ES  SS  SR  SA  RJ  CL
  s            SR  I1  IN  CS  CR  CW  CO  CE  SR  SS  SR  SA  RJ  CL
  s_a          CL  IN  IN  CS  CR  CW  CO  CE  CL  CL  SR  CL  RJ  CL
  s_c          CL  CL  CL  CL  CL  CW  CO  CE  ES  SS  CL  CL  RJ  CL
  err          CL  I1  IN  CS  CR  CW  CO  CE  ES  SS  SR  SA  RJ  CL
  ab           CL  CL  CL  CL  CL  RJ  CL  CL  CL  CL  CL  CL  CL  CL
"""


def _parse(text: str) -> tuple[tuple[tuple[int, ...], ...], ...]:
    directions: list[list[tuple[int, ...]]] = []
    for line in text.strip().splitlines():
        words = line.split()
        if len(words) == 1:
            directions.append([])
        else:
            directions[-1].append(tuple(_ABBR[w] for w in words[1:]))
    return tuple(tuple(rows) for rows in directions)


SCTP_TABLE = _parse(_TABLES)
