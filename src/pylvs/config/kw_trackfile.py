"""Top-level ``track_file`` blocks (alias ``vrrp_track_file``;
keepalived/trackers/track_file.c), used by FILE_CHECK and VRRP tracking.
They must come before the FILE_CHECK that names them."""

from __future__ import annotations

from pylvs.config.grammar import Block, Keyword, Stmt
from pylvs.config.kw_common import draft_block
from pylvs.config.numbers import INT_MAX
from pylvs.config.state import LoadState, TrackFileDraft

__all__ = ["TRACK_FILE", "VRRP_TRACK_FILE"]


def _track_file(state: LoadState, stmt: Stmt) -> None:
    state.track_file = TrackFileDraft(stmt.arg(1), stmt.file, stmt.line)


def _vrrp_track_file(state: LoadState, stmt: Stmt) -> None:
    state.log('"vrrp_track_file" is deprecated, please use "track_file"')
    _track_file(state, stmt)


def _cur(state: LoadState) -> TrackFileDraft:
    assert state.track_file is not None
    return state.track_file


def _file(state: LoadState, stmt: Stmt) -> None:
    tf = _cur(state)
    if len(stmt) < 2:
        state.error("track file file name missing")
        return
    if tf.path is not None:
        state.error(f"File already set for track file {tf.name} - ignoring {stmt.words[1]}")
        return
    tf.path = stmt.words[1]


def _weight(state: LoadState, stmt: Stmt) -> None:
    tf = _cur(state)
    if len(stmt) < 2:
        state.error(f"No weight specified for track file {tf.name} - ignoring")
        return
    if tf.weight != 1:
        state.error(f"Weight already set for track file {tf.name} - ignoring {stmt.words[1]}")
        return
    value = state.nums.read_int(stmt.words[1], -254, 254, True)
    if value is None:
        state.error(
            f"Weight ({stmt.words[1]}) for track_file {tf.name} must be between "
            "[-254..254] inclusive. Ignoring..."
        )
        value = 1
    tf.weight = value
    if len(stmt) >= 3:
        if stmt.words[2] == "reverse":
            tf.reverse = True
        else:
            state.error(f"track_file {tf.name} unknown weight option {stmt.words[2]}")


def _init_file(state: LoadState, stmt: Stmt) -> None:
    tf = _cur(state)
    tf.init = 0
    for word in stmt.words[1:]:
        w = word.lstrip(" \t\f\n\r\v")
        if w[:1].isdigit() or w[:1] == "-":
            value = state.nums.read_int(word, -INT_MAX - 1, INT_MAX, False)
            if value is None:
                state.error(f"Track file {tf.name} init value {w} is invalid")
                value = 0
            elif not -254 <= value <= 254:
                state.error(
                    f"Track file {tf.name} init value {value} is outside sensible range [-254, 254]"
                )
            tf.init = value
        elif w == "overwrite":
            tf.overwrite = True
        else:
            state.error(f"Unknown track file init option {w}")


def _end(state: LoadState) -> None:
    tf = _cur(state)
    if tf.path is None:
        state.error(f"No file set for track_file {tf.name} - ignoring")
        return
    state.track_files.append(tf)


def _block() -> Block[LoadState]:
    return draft_block(
        "track_file",
        [Keyword("file", _file), Keyword("weight", _weight), Keyword("init_file", _init_file)],
        "track_file",
    )


TRACK_FILE: Keyword[LoadState] = Keyword("track_file", _track_file, sub=_block(), end=_end)
VRRP_TRACK_FILE: Keyword[LoadState] = Keyword(
    "vrrp_track_file", _vrrp_track_file, sub=_block(), end=_end
)
