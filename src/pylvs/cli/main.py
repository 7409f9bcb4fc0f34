"""``pylvs``: the director daemon and its companions (design: Names)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pylvs import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pylvs", description="Linux Virtual Server in Python")
    parser.add_argument("--version", action="version", version=f"pylvs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from pylvs.cli import demo, lab, run, status

    demo.add_parser(sub)
    run.add_parser(sub)
    status.add_parsers(sub)
    lab.add_parser(sub)
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
