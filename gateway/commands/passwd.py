"""``tokuden passwd``: hash an SMTP AUTH password for ``senders.NAME.auth``."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from gateway.passwords import hash_password


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "passwd", help="print a $scrypt$ hash of a password (read from the terminal or stdin)"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("tokuden: the two passwords differ", file=sys.stderr)
            return 2
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        print("tokuden: empty password", file=sys.stderr)
        return 2
    print(hash_password(password))
    return 0
