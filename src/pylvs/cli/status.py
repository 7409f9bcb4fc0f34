"""``pylvs status`` and ``pylvs sysctl``: ask the running daemon."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pylvs.api.client import Client, ConnectError, RemoteError
from pylvs.runtime.paths import default_socket_path

__all__ = ["add_parsers", "sysctl_value"]


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("status", help="show what the running daemon is doing")
    p.add_argument("--json", action="store_true", help="raw JSON")
    p.add_argument("--socket", metavar="PATH")
    p.set_defaults(func=status)
    q = sub.add_parser("sysctl", help="show or set IPVS sysctls (e.g. expire_nodest_conn=1)")
    q.add_argument("settings", nargs="*", metavar="NAME[=VALUE]")
    q.add_argument("--socket", metavar="PATH")
    q.set_defaults(func=sysctl)


def sysctl_value(text: str) -> int | list[int]:
    """A sysctl value as given on a command line: an integer, or several
    separated by spaces; ValueError for anything else."""
    return [int(v) for v in text.split()] if " " in text.strip() else int(text)


def _client(args: argparse.Namespace) -> Client | None:
    path = args.socket or default_socket_path()
    try:
        return Client(path)
    except ConnectError as e:
        print(
            f"pylvs: no daemon answers at {path} ({e.strerror}); start one with 'pylvs run'",
            file=sys.stderr,
        )
        return None


def status(args: argparse.Namespace) -> int:
    client = _client(args)
    if client is None:
        return 2
    with client:
        info = client.call("get-info")
    info = {k: v for k, v in info.items() if k not in ("v", "id", "ok")}
    version = info.pop("version", 0)
    info["ipvs_version"] = f"{version >> 16}.{(version >> 8) & 0xFF}.{version & 0xFF}"
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
        return 0
    listeners: dict[str, str] = info.pop("listeners", {}) or {}
    for key in sorted(info):
        print(f"{key}: {_text(info[key])}")
    if listeners:
        print("listeners:")
        for name, state in sorted(listeners.items()):
            print(f"  {name}: {state}")
    return 0


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "-"
    return str(value)


def sysctl(args: argparse.Namespace) -> int:
    changes: dict[str, Any] = {}
    wanted: list[str] = []
    for item in args.settings:
        name, eq, value = item.partition("=")
        if not eq:
            wanted.append(name)
            continue
        try:
            changes[name] = sysctl_value(value)
        except ValueError:
            print(f"pylvs sysctl: {name}: {value!r} is not an integer", file=sys.stderr)
            return 2
    client = _client(args)
    if client is None:
        return 2
    with client:
        try:
            reply = (
                client.call("set-sysctl", sysctl=changes) if changes else client.call("get-sysctl")
            )
        except RemoteError as e:
            print(f"pylvs sysctl: {e.message}", file=sys.stderr)
            return 1
    values = reply["sysctl"]
    for name in wanted or sorted(values):
        if name not in values:
            print(f"pylvs sysctl: unknown sysctl {name!r}", file=sys.stderr)
            return 1
        value = values[name]
        shown = " ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        print(f"{name} = {shown}")
    return 0
