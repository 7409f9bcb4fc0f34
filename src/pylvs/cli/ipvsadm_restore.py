"""Entry point placeholder until the pylvsadm issue lands."""

from __future__ import annotations

import sys


def main() -> int:
    print("ipvsadm-restore: not yet: pylvsadm arrives with the ipvsadm drop-in", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
