"""``global_defs`` (keepalived/core/global_parser.c) and the top-level
one-line keywords. Every global_defs line is kept as written; the ones that
matter to the LVS side and the checkers are interpreted."""

from __future__ import annotations

from collections.abc import Callable

from pylvs.config.grammar import Block, Keyword, Stmt
from pylvs.config.kw_common import Handler, set_flag, set_true
from pylvs.config.numbers import TIMER_HZ, UINT_MAX
from pylvs.config.scripts import (
    default_script_user,
    parse_script,
    set_default_script_user,
    set_uid_gid,
)
from pylvs.config.state import FifoDraft, GlobalDraft, LoadState

__all__ = ["GLOBAL_DEFS", "TOP_LEVEL_ONE_LINERS"]

LVS_MAX_TIMEOUT = 86400 * 31


def _globals(state: LoadState) -> GlobalDraft:
    return state.globals


def _router_id(state: LoadState, stmt: Stmt) -> None:
    if len(stmt) < 2:
        state.error("routerid name missing - ignoring")
        return
    state.globals.router_id = stmt.words[1]


def _email(state: LoadState, stmt: Stmt) -> None:
    addrs = [w for line in stmt.values for w in line.words]
    if not addrs:
        state.reporter.where(stmt.end[0], stmt.end[1], stmt.keyword)
        state.error("Warning - empty notification_email block")
        return
    state.globals.notification_email.extend(addrs)


def _email_from(state: LoadState, stmt: Stmt) -> None:
    if len(stmt) < 2:
        state.error("emailfrom missing - ignoring")
        return
    if len(stmt) > 2:
        state.error(f"emailfrom - ignoring extra entries '{stmt.words[2]}' ...")
    state.globals.notification_email_from = stmt.words[1]


def _smtp_server(state: LoadState, stmt: Stmt) -> None:
    host = stmt.arg(1)
    port = stmt.words[2] if len(stmt) >= 3 else "25"
    value = state.nums.read_unsigned(port, 1, 65535, True)
    if value is None:
        state.error(f"Invalid smtp server {host} {port}")
        return
    state.globals.smtp_server = host
    state.globals.smtp_server_port = value


def _smtp_helo(state: LoadState, stmt: Stmt) -> None:
    if len(stmt) >= 2:
        state.globals.smtp_helo_name = stmt.words[1]


def _smtp_timeout(state: LoadState, stmt: Stmt) -> None:
    hi = UINT_MAX // TIMER_HZ
    value = state.nums.read_unsigned(stmt.arg(1), 0, hi, True)
    if value is None:
        state.error(f"smtp_connect_timeout '{stmt.words[1]}' must be in [0, {hi}] - ignoring")
        return
    if value == 0:
        state.error("smtp_conect_timeout must be greater than 0, setting to 1")
        value = 1
    state.globals.smtp_connect_timeout = value


def _flag(attr: str, message: str) -> Handler:
    return set_flag(_globals, attr, message)


def _set_true(attr: str) -> Handler:
    return set_true(_globals, attr)


def _script_user(state: LoadState, stmt: Stmt) -> None:
    if len(stmt) < 2:
        state.error("No script username specified")
        return
    state.globals.script_user = stmt.words[1]
    state.globals.script_group = stmt.words[2] if len(stmt) > 2 else None
    set_default_script_user(state, stmt.words[1], state.globals.script_group)


def _fifo(attr: str, prefix: str) -> Handler:
    def handler(state: LoadState, stmt: Stmt) -> None:
        fifo: FifoDraft = getattr(state.globals, attr)
        if len(stmt) < 2:
            state.error(f"No {prefix}notify_fifo name specified")
            return
        if fifo.path is not None:
            state.error(f"{prefix}notify_fifo already specified - ignoring {stmt.words[1]}")
            return
        if len(stmt) > 2:
            user, group = stmt.words[2], (stmt.words[3] if len(stmt) > 3 else None)
            if set_uid_gid(state, user, group):
                state.log(f"Invalid user/group for {prefix} fifo (null) - ignoring")
                return
            fifo.user, fifo.group = user, group
        elif default_script_user(state):
            state.log(f"Failed to set default user for {prefix} fifo (null) - ignoring")
            return
        fifo.path = stmt.words[1]

    return handler


def _fifo_script(attr: str, prefix: str) -> Handler:
    def handler(state: LoadState, stmt: Stmt) -> None:
        fifo: FifoDraft = getattr(state.globals, attr)
        if len(stmt) < 2:
            state.error(f"No {prefix}notify_fifo_script specified")
            return
        if fifo.script is not None:
            state.error(f"{prefix}notify_fifo_script already specified - ignoring {stmt.words[1]}")
            return
        fifo.script = parse_script(stmt.raw, state, f"{prefix}notify_fifo")

    return handler


def _lvs_timeouts(state: LoadState, stmt: Stmt) -> None:
    words = stmt.words
    if len(words) < 3:
        state.error("lvs_timeouts requires at least one option")
        return
    i = 1
    while i < len(words):
        name = words[i]
        if name in ("tcp", "tcpfin", "udp"):
            if i == len(words) - 1:
                state.error(f"No value specified for lvs_timeout {name} - ignoring")
                i += 1
                continue
            value = state.nums.read_unsigned(words[i + 1], 0, LVS_MAX_TIMEOUT, False)
            if value is None:
                state.error(f"Invalid lvs_timeout {name} ({words[i + 1]}) - ignoring")
            else:
                state.globals.lvs_timeouts[name] = value
            i += 2
            continue
        state.error(f"Unknown option {name} specified for lvs_timeouts")
        i += 1


def _lvs_flush_on_stop(state: LoadState, stmt: Stmt) -> None:
    if len(stmt) == 1:
        state.globals.lvs_flush_on_stop = "FULL"
    elif stmt.words[1] == "VS":
        state.globals.lvs_flush_on_stop = "VS"
    else:
        state.error(f"Unknown lvs_flush_on_stop type {stmt.words[1]}")


_SYNCD_RANGES = {"id": (0, 255), "maxlen": (1, 65535 - 20 - 8), "port": (1, 65535), "ttl": (1, 255)}


def _lvs_syncd(state: LoadState, stmt: Stmt) -> None:
    g = state.globals
    words = stmt.words
    if g.lvs_syncd is not None:
        inst = g.lvs_syncd.get("inst") or ""
        state.error(
            f"lvs_sync_daemon has already been specified as {g.lvs_syncd['interface']} {inst} - ignoring"
        )
        return
    if len(words) < 2:
        state.error("lvs_sync_daemon requires interface")
        return
    if len(words[1]) >= 16:
        state.error(f"lvs_sync_daemon interface name '{words[1]}' too long - ignoring")
        return
    syncd: dict[str, str | int | None] = {"interface": words[1]}
    g.lvs_syncd = syncd
    i = 2
    while i < len(words):
        word = words[i]
        if word == "inst":
            if syncd.get("inst"):
                state.error(
                    f"lvs_sync_daemon vrrp instance has already been specified as {syncd['inst']} - ignoring"
                )
            else:
                syncd["inst"] = stmt.arg(i + 1)
            i += 2
            continue
        if word in _SYNCD_RANGES:
            if i == len(words) - 1:
                if word == "id":
                    state.error("No value specified for lvs_sync_daemon id, defaulting to vrid")
                else:
                    state.error(f"No value specified for lvs_sync_daemon {word} - ignoring")
                i += 1
                continue
            lo, hi = _SYNCD_RANGES[word]
            value = state.nums.read_unsigned(words[i + 1], lo, hi, False)
            if value is None:
                if word == "id":
                    state.error(f"Invalid syncid ({words[i + 1]}) - defaulting to vrid")
                else:
                    state.error(f"Invalid lvs_sync_daemon {word} ({words[i + 1]}) - ignoring")
            else:
                syncd[word] = value
            i += 2
            continue
        if word == "group":
            if i == len(words) - 1:
                state.error("No value specified for lvs_sync_daemon group - ignoring")
                i += 1
                continue
            syncd["group"] = words[i + 1]
            i += 2
            continue
        # Backward compatibility: lvs_sync_daemon IF VRRP_INSTANCE [SYNC_ID].
        if i == 2:
            syncd["inst"] = word
        elif i == 3:
            value = state.nums.read_unsigned(word, 0, 255, False)
            if value is None:
                state.error(f"Invalid syncid ({word}) - defaulting to vrid")
            else:
                state.error('Please use keyword "id" before lvs_sync_daemon SYNCID')
                syncd["id"] = value
        else:
            state.error(f"Unknown option {word} specified for lvs_sync_daemon")
        i += 1


def _startup_shutdown(which: str) -> Handler:
    def handler(state: LoadState, stmt: Stmt) -> None:
        attr = f"{which}_script"
        if getattr(state.globals, attr) is not None:
            state.error(f"{which} script already specified")
            return
        if len(stmt) < 2:
            state.error(f"{which} script missing")
            return
        script = parse_script(stmt.raw, state, which)
        if script is None:
            state.error(f"Invalid {which} script")
            return
        setattr(state.globals, attr, script)
        if not getattr(state.globals, f"{attr}_timeout"):
            setattr(state.globals, f"{attr}_timeout", 10)

    return handler


def _startup_shutdown_timeout(which: str) -> Handler:
    def handler(state: LoadState, stmt: Stmt) -> None:
        if len(stmt) < 2:
            state.error(f"{which}_script_timeout requires value")
            return
        value = state.nums.read_unsigned(stmt.words[1], 1, 1000, True)
        if value is None:
            state.error(f"{which}_script_timeout '{stmt.words[1]}' must be in [1, 1000] - ignoring")
            return
        setattr(state.globals, f"{which}_script_timeout", value)

    return handler


def _include_check(state: LoadState, stmt: Stmt) -> None:
    state.lines.include_check_set(list(stmt.words))


_INTERPRETED: dict[str, Handler] = {
    "router_id": _router_id,
    "notification_email_from": _email_from,
    "smtp_server": _smtp_server,
    "smtp_helo_name": _smtp_helo,
    "smtp_connect_timeout": _smtp_timeout,
    "smtp_alert": _flag("smtp_alert", "Invalid value '{}' for global smtp_alert specified"),
    "smtp_alert_vrrp": _flag(
        "smtp_alert_vrrp", "Invalid value '{}' for global smtp_alert_vrrp specified"
    ),
    "smtp_alert_checker": _flag(
        "smtp_alert_checker", "Invalid value '{}' for global smtp_alert_checker specified"
    ),
    "checker_log_all_failures": _flag(
        "checker_log_all_failures", "Invalid value for checker_log_all_failures specified"
    ),
    "rs_init_notifies": _flag(
        "rs_init_notifies", "Invalid value '{}' for global rs_init_notifies specified"
    ),
    "no_checker_emails": _flag(
        "no_checker_emails", "Invalid value '{}' for global no_checker_emails specified"
    ),
    "no_email_faults": _set_true("no_email_faults"),
    "script_user": _script_user,
    "enable_script_security": _set_true("enable_script_security"),
    "notify_fifo": _fifo("notify_fifo", ""),
    "notify_fifo_script": _fifo_script("notify_fifo", ""),
    "vrrp_notify_fifo": _fifo("vrrp_notify_fifo", "vrrp_"),
    "vrrp_notify_fifo_script": _fifo_script("vrrp_notify_fifo", "vrrp_"),
    "lvs_notify_fifo": _fifo("lvs_notify_fifo", "lvs_"),
    "lvs_notify_fifo_script": _fifo_script("lvs_notify_fifo", "lvs_"),
    "lvs_timeouts": _lvs_timeouts,
    "lvs_flush": _set_true("lvs_flush"),
    "lvs_flush_on_stop": _lvs_flush_on_stop,
    "lvs_flush_onstop": _lvs_flush_on_stop,  # deprecated name
    "lvs_sync_daemon": _lvs_syncd,
    "startup_script": _startup_shutdown("startup"),
    "startup_script_timeout": _startup_shutdown_timeout("startup"),
    "shutdown_script": _startup_shutdown("shutdown"),
    "shutdown_script_timeout": _startup_shutdown_timeout("shutdown"),
    "include_check": _include_check,
}

# Every keyword of init_global_keywords() in keepalived master (all build options).
_KEPT = [
    "process_names",
    "process_name",
    "vrrp_process_name",
    "checker_process_name",
    "lvs_process_name",
    "bfd_process_name",
    "use_symlink_paths",
    "set_supplementary_groups",
    "max_auto_priority",
    "min_auto_priority_delay",
    "dynamic_interfaces",
    "default_interface",
    "disable_local_igmp",
    "v3_checksum_as_v2",
    "vrrp_mcast_group4",
    "vrrp_mcast_group6",
    "vrrp_garp_master_delay",
    "vrrp_garp_master_repeat",
    "vrrp_garp_master_refresh",
    "vrrp_garp_master_refresh_repeat",
    "vrrp_garp_lower_prio_delay",
    "vrrp_garp_lower_prio_repeat",
    "vrrp_down_timer_adverts",
    "vrrp_garp_interval",
    "vrrp_gna_interval",
    "vrrp_min_garp",
    "vrrp_garp_extra_if",
    "vrrp_vmac_garp_intvl",
    "vrrp_lower_prio_no_advert",
    "vrrp_higher_prio_send_advert",
    "vrrp_version",
    "vrrp_iptables",
    "vrrp_ipsets",
    "nftables",
    "nftables_priority",
    "nftables_ifindex",
    "vrrp_check_unicast_src",
    "vrrp_skip_check_adv_addr",
    "vrrp_strict",
    "vrrp_priority",
    "vrrp_no_swap",
    "vrrp_rt_priority",
    "vrrp_cpu_affinity",
    "vrrp_rlimit_rttime",
    "vrrp_rlimit_rtime",
    "nftables_ipvs",
    "nftables_ipvs_priority",
    "nftables_ipvs_start_fwmark",
    "nftables_counters",
    "vrrp_notify_priority_changes",
    "fifo_write_vrrp_states_on_reload",
    "checker_priority",
    "checker_no_swap",
    "checker_rt_priority",
    "checker_cpu_affinity",
    "checker_rlimit_rttime",
    "checker_rlimit_rtime",
    "bfd_priority",
    "bfd_no_swap",
    "bfd_rt_priority",
    "bfd_cpu_affinity",
    "bfd_rlimit_rttime",
    "bfd_rlimit_rtime",
    "snmp_socket",
    "enable_traps",
    "enable_snmp_vrrp",
    "enable_snmp_keepalived",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "enable_snmp_checker",
    "snmp_vs_stats_update_interval",
    "snmp_rs_stats_update_interval",
    "enable_dbus",
    "dbus_service_name",
    "dbus_no_interface_name",
    "vrrp_netlink_cmd_rcv_bufs",
    "vrrp_netlink_cmd_rcv_bufs_force",
    "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force",
    "process_monitor_rcv_bufs",
    "process_monitor_rcv_bufs_force",
    "lvs_netlink_cmd_rcv_bufs",
    "lvs_netlink_cmd_rcv_bufs_force",
    "lvs_netlink_monitor_rcv_bufs",
    "lvs_netlink_monitor_rcv_bufs_force",
    "vrrp_rx_bufs_policy",
    "vrrp_rx_bufs_multiplier",
    "vrrp_startup_delay",
    "vrrp_delay_after_boot",
    "log_unknown_vrids",
    "vrrp_owner_ignore_adverts",
    "vmac_prefix",
    "vmac_addr_prefix",
    "umask",
    "random_seed",
    "reload_check_config",
    "reload_time_file",
    "reload_repeat",
    "reload_file",
    "config_save_dir",
    "tmp_config_directory",
    "data_use_instance",
    "json_version",
    "iproute_usr_dir",
    "iproute_etc_dir",
    "state_dump_file",
    "stats_dump_file",
    "json_dump_file",
]


def _recording(handler: Handler | None) -> Callable[[LoadState, Stmt], bool | None]:
    def run(state: LoadState, stmt: Stmt) -> bool | None:
        state.globals.statements.append(stmt.node())
        if handler is not None:
            handler(state, stmt)
        return None

    return run


def _keywords() -> list[Keyword[LoadState]]:
    out = [Keyword[LoadState](name, _recording(h)) for name, h in _INTERPRETED.items()]
    out.append(Keyword[LoadState]("notification_email", _recording(_email), values=True))
    out.extend(Keyword[LoadState](name, _recording(None)) for name in _KEPT)
    quoted = {"startup_script", "shutdown_script", "notify_fifo_script"}
    quoted |= {"vrrp_notify_fifo_script", "lvs_notify_fifo_script"}
    return [Keyword(k.name, k.handler, values=k.values, quoted=k.name in quoted) for k in out]


GLOBAL_DEFS: Keyword[LoadState] = Keyword(
    "global_defs", None, sub=Block.of("global_defs", _keywords())
)


def _top_level(state: LoadState, stmt: Stmt) -> bool | None:
    state.globals.top_level.append(stmt.node())
    return None


TOP_LEVEL_ONE_LINERS: list[Keyword[LoadState]] = [
    Keyword(name, _top_level)
    for name in (
        "linkbeat_use_polling",
        "net_namespace",
        "net_namespace_ipvs",
        "namespace_with_ipsets",
        "use_pid_dir",
        "instance",
        "child_wait_time",
    )
]
