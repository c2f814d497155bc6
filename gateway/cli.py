"""The ``tokuden`` command: one sub-command per module under gateway.commands."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gateway import __version__
from gateway.commands import bench, check, consent, dkim, dnscheck, passwd, serve
from gateway.config import ConfigError

EXIT_OK = 0
EXIT_FOUND = 1  # check: something would be blocked
EXIT_USAGE = 2  # bad input or usage


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokuden", description="Compliance gateway for Japanese commercial e-mail."
    )
    parser.add_argument("--version", action="version", version=f"tokuden {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (serve, check, consent, passwd, dkim, dnscheck, bench):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except ConfigError as exc:
        print(f"tokuden: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
