"""The top level of keepalived.conf: which blocks exist, and which of them
pylvs keeps as data for now (VRRP, static addresses/routes/rules, BFD)."""

from __future__ import annotations

from pylvs.config.grammar import Block, Keyword, Stmt
from pylvs.config.kw_global import GLOBAL_DEFS, TOP_LEVEL_ONE_LINERS
from pylvs.config.kw_lvs import VIRTUAL_SERVER
from pylvs.config.kw_ssl import SSL
from pylvs.config.kw_trackfile import TRACK_FILE, VRRP_TRACK_FILE
from pylvs.config.kw_vsg import VIRTUAL_SERVER_GROUP
from pylvs.config.state import LoadState

__all__ = ["BFD_BLOCKS", "ROOT", "VRRP_BLOCKS"]

# keepalived/vrrp/vrrp_parser.c top-level keywords (kept as data).
VRRP_BLOCKS = (
    "track_group",
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "vrrp_sync_group",
    "garp_group",
    "linkbeat_interfaces",
    "vrrp_instance",
    "vrrp_script",
    "vrrp_track_process",
    "interface_up_down_delays",
)
BFD_BLOCKS = ("bfd_instance",)


def _keep_vrrp(state: LoadState, stmt: Stmt) -> None:
    state.vrrp.append(stmt.node())


def _keep_bfd(state: LoadState, stmt: Stmt) -> None:
    state.bfd.append(stmt.node())


ROOT: Block[LoadState] = Block.of(
    "",
    [
        *TOP_LEVEL_ONE_LINERS,
        GLOBAL_DEFS,
        *(Keyword(name, _keep_vrrp, generic=True) for name in VRRP_BLOCKS),
        *(Keyword(name, _keep_bfd, generic=True) for name in BFD_BLOCKS),
        SSL,
        VIRTUAL_SERVER_GROUP,
        VIRTUAL_SERVER,
        TRACK_FILE,
        VRRP_TRACK_FILE,
    ],
)
