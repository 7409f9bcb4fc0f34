"""``pylvs``: the director daemon and its companions (design: Names)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pylvs import __version__


def _demo(args: argparse.Namespace) -> int:
    from pylvs.cli.demo_core import run

    return run()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pylvs", description="Linux Virtual Server in Python")
    parser.add_argument("--version", action="version", version=f"pylvs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo = sub.add_parser("demo", help="walk through the guide's NAT table")
    demo.add_argument("--once", action="store_true", help="run the walk-through and exit")
    demo.set_defaults(func=_demo)
    from pylvs.cli import run

    run.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    result: int = func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
